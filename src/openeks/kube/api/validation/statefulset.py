"""StatefulSet validation, as `ValidateStatefulSetSpec` and `ValidateStatefulSetUpdate`.

Upstream validates only the template's labels and annotations (its pod spec is checked
when pods are created); on update only replicas, ordinals, template, updateStrategy,
persistentVolumeClaimRetentionPolicy and minReadySeconds may change.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api.fielderrors import (
    FieldError,
    Path,
    forbidden,
    invalid,
    not_supported,
    required,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.controllers import (
    checked_selector,
    int_or_percent_value,
    intstr_value,
    not_more_than_100_percent,
    restart_always,
    selector_matches_template,
    validate_int_or_percent,
)
from openeks.kube.api.validation.meta import (
    label_selector_value,
    validate_annotations,
    validate_labels,
    validate_nonnegative,
)

Obj = dict[str, Any]


# -- spec -----------------------------------------------------------------------------


def _validate_stateful_set_strategy(strategy: Obj, path: Path) -> list[FieldError]:
    kind = a.s(strategy, "type")
    rolling = a.d(strategy, "rollingUpdate")
    if kind == "":
        return [required(path)]
    if kind == "OnDelete":
        if rolling is not None:
            return [
                invalid(
                    path.child("rollingUpdate"),
                    rolling,
                    "only allowed for updateStrategy 'RollingUpdate'",
                )
            ]
        return []
    if kind != "RollingUpdate":
        return [invalid(path, strategy, "must be 'RollingUpdate' or 'OnDelete'")]
    if rolling is None:
        return []
    rolling_path = path.child("rollingUpdate")
    errs = validate_nonnegative(a.i0(rolling, "partition"), rolling_path.child("partition"))
    if rolling.get("maxUnavailable") is not None:
        unavailable = rolling["maxUnavailable"]
        unavailable_path = rolling_path.child("maxUnavailable")
        errs.extend(validate_int_or_percent(unavailable, unavailable_path))
        if int_or_percent_value(unavailable) == 0:
            errs.append(invalid(unavailable_path, intstr_value(unavailable), "cannot be 0"))
        errs.extend(not_more_than_100_percent(unavailable, unavailable_path))
    return errs


def validate_stateful_set_spec(spec: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    policy = a.s(spec, "podManagementPolicy")
    if not policy:
        errs.append(required(path.child("podManagementPolicy")))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(
            invalid(
                path.child("podManagementPolicy"), policy, "must be 'OrderedReady' or 'Parallel'"
            )
        )
    errs.extend(
        _validate_stateful_set_strategy(a.d0(spec, "updateStrategy"), path.child("updateStrategy"))
    )
    retention = a.d(spec, "persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        retention_path = path.child("persistentVolumeClaimRetentionPolicy")
        for key in ("whenDeleted", "whenScaled"):
            value = a.s(retention, key)
            if value not in ("Retain", "Delete"):
                errs.append(not_supported(retention_path.child(key), value, ["Retain", "Delete"]))
    errs.extend(validate_nonnegative(a.i0(spec, "replicas"), path.child("replicas")))
    errs.extend(validate_nonnegative(a.i0(spec, "minReadySeconds"), path.child("minReadySeconds")))
    ordinals = a.d(spec, "ordinals")
    if ordinals is not None:
        errs.extend(validate_nonnegative(a.i0(ordinals, "start"), path.child("ordinals.start")))
    selector, selector_errs = checked_selector(spec, path, "statefulset")
    errs.extend(selector_errs)
    template = a.d0(spec, "template")
    if selector is None:
        errs.append(
            invalid(path.child("selector"), label_selector_value(a.d(spec, "selector")), "")
        )
    else:
        template_path = path.child("template")
        errs.extend(selector_matches_template(selector, template, template_path))
        meta = a.d0(template, "metadata")
        errs.extend(validate_labels(a.string_map(meta, "labels"), template_path.child("labels")))
        errs.extend(
            validate_annotations(
                a.string_map(meta, "annotations"), template_path.child("annotations")
            )
        )
    errs.extend(restart_always(template, path.child("template"), "StatefulSet"))
    return errs


_SS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def stateful_set_update(spec: Obj, old_spec: Obj) -> list[FieldError]:
    fixed = {k: v for k, v in spec.items() if k not in _SS_MUTABLE}
    old_fixed = {k: v for k, v in old_spec.items() if k not in _SS_MUTABLE}
    if fixed != old_fixed:
        return [
            forbidden(
                Path("spec"),
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                "'minReadySeconds' are forbidden",
            )
        ]
    return []
