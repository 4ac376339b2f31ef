"""Workload controllers: Deployment, ReplicaSet, StatefulSet, DaemonSet, ReplicationController.

Ports `pkg/apis/apps/validation` and `ValidateReplicationController`: a selector that is
required, valid and non-empty and matches the template's labels
("`selector` does not match template `labels`"), non-negative counts, rolling update
bounds (maxUnavailable and maxSurge not both 0, percentages at most 100%), template
restart policy `Always`, and, on update, the immutable selector of apps/v1 (enforced by
upstream's strategies) and the StatefulSet spec fields that may not change.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import formats, labels
from openeks.kube.api.fielderrors import (
    FieldError,
    GoValue,
    Path,
    forbidden,
    go_quote,
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
    rs_template,
    selector_matches_template,
    template_labels_value,
    validate_int_or_percent,
)
from openeks.kube.api.validation.meta import (
    FIELD_IMMUTABLE,
    label_selector_value,
    validate_label_selector,
    validate_nonnegative,
    validate_object_meta,
    validate_object_meta_update,
)
from openeks.kube.api.validation.pod import validate_pod_template_spec
from openeks.kube.api.validation.statefulset import stateful_set_update, validate_stateful_set_spec

Obj = dict[str, Any]


# -- Deployment and ReplicaSet ----------------------------------------------------------------


def _validate_deployment_strategy(strategy: Obj, path: Path) -> list[FieldError]:
    kind = a.s(strategy, "type")
    rolling = a.d(strategy, "rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            return [
                forbidden(
                    path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            ]
        return []
    if kind == "RollingUpdate":
        if rolling is None:
            return [
                required(path.child("rollingUpdate"), "this should be defaulted and never be nil")
            ]
        rolling_path = path.child("rollingUpdate")
        unavailable, surge = rolling.get("maxUnavailable", 0), rolling.get("maxSurge", 0)
        errs = validate_int_or_percent(unavailable, rolling_path.child("maxUnavailable"))
        errs.extend(validate_int_or_percent(surge, rolling_path.child("maxSurge")))
        if int_or_percent_value(unavailable) == 0 and int_or_percent_value(surge) == 0:
            errs.append(
                invalid(
                    rolling_path.child("maxUnavailable"),
                    intstr_value(unavailable),
                    "may not be 0 when `maxSurge` is 0",
                )
            )
        errs.extend(not_more_than_100_percent(unavailable, rolling_path.child("maxUnavailable")))
        return errs
    shown = _strategy_value("DeploymentStrategy", "RollingUpdateDeployment", kind, rolling)
    return [not_supported(path, shown, ["Recreate", "RollingUpdate"])]


def _strategy_value(struct: str, rolling_struct: str, kind: str, rolling: Obj | None) -> GoValue:
    """`%#v` of an apps strategy struct (a set rollingUpdate pointer prints an address)."""
    pointer = (
        f"(*apps.{rolling_struct})(nil)"
        if rolling is None
        else f"(*apps.{rolling_struct})(0xc000000000)"
    )
    return GoValue(f"apps.{struct}{{Type:{go_quote(kind)}, RollingUpdate:{pointer}}}")


def validate_deployment_spec(spec: Obj, path: Path) -> list[FieldError]:
    errs = validate_nonnegative(a.i0(spec, "replicas"), path.child("replicas"))
    selector, selector_errs = checked_selector(spec, path, "deployment")
    errs.extend(selector_errs)
    errs.extend(rs_template(spec, selector, path, "ReplicaSet"))
    errs.extend(_validate_deployment_strategy(a.d0(spec, "strategy"), path.child("strategy")))
    min_ready = a.i0(spec, "minReadySeconds")
    errs.extend(validate_nonnegative(min_ready, path.child("minReadySeconds")))
    history = a.i(spec, "revisionHistoryLimit")
    if history is not None:
        errs.extend(validate_nonnegative(history, path.child("revisionHistoryLimit")))
    deadline = a.i(spec, "progressDeadlineSeconds")
    if deadline is not None:
        errs.extend(validate_nonnegative(deadline, path.child("progressDeadlineSeconds")))
        if deadline <= min_ready:
            errs.append(
                invalid(
                    path.child("progressDeadlineSeconds"),
                    deadline,
                    "must be greater than minReadySeconds",
                )
            )
    return errs


def validate_replica_set_spec(spec: Obj, path: Path) -> list[FieldError]:
    errs = validate_nonnegative(a.i0(spec, "replicas"), path.child("replicas"))
    errs.extend(validate_nonnegative(a.i0(spec, "minReadySeconds"), path.child("minReadySeconds")))
    selector, selector_errs = checked_selector(spec, path, "deployment")  # sic: upstream's wording
    errs.extend(selector_errs)
    errs.extend(rs_template(spec, selector, path, "ReplicaSet"))
    return errs


# -- DaemonSet -------------------------------------------------------------------------------


def _validate_daemon_set_strategy(strategy: Obj, path: Path) -> list[FieldError]:
    kind = a.s(strategy, "type")
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        shown = _strategy_value(
            "DaemonSetUpdateStrategy",
            "RollingUpdateDaemonSet",
            kind,
            a.d(strategy, "rollingUpdate"),
        )
        return [not_supported(path, shown, ["RollingUpdate", "OnDelete"])]
    rolling = a.d(strategy, "rollingUpdate")
    if rolling is None:
        return [required(path.child("rollingUpdate"))]
    rolling_path = path.child("rollingUpdate")
    unavailable, surge = rolling.get("maxUnavailable", 0), rolling.get("maxSurge", 0)
    errs = validate_int_or_percent(unavailable, rolling_path.child("maxUnavailable"))
    errs.extend(validate_int_or_percent(surge, rolling_path.child("maxSurge")))
    errs.extend(not_more_than_100_percent(unavailable, rolling_path.child("maxUnavailable")))
    errs.extend(not_more_than_100_percent(surge, rolling_path.child("maxSurge")))
    has_unavailable = int_or_percent_value(unavailable) != 0
    has_surge = int_or_percent_value(surge) != 0
    if has_unavailable and has_surge:
        errs.append(
            invalid(
                rolling_path.child("maxSurge"),
                intstr_value(surge),
                "may not be set when maxUnavailable is non-zero",
            )
        )
    elif not has_unavailable and not has_surge:
        errs.append(
            required(rolling_path.child("maxUnavailable"), "cannot be 0 when maxSurge is 0")
        )
    return errs


def validate_daemon_set_spec(spec: Obj, path: Path) -> list[FieldError]:
    raw = a.d(spec, "selector")
    errs = validate_label_selector(raw, path.child("selector"))
    template = a.d0(spec, "template")
    try:
        selector: labels.Selector | None = labels.from_label_selector(raw)
    except labels.SelectorError:
        selector = None
    template_labels = a.string_map(a.d(template, "metadata"), "labels")
    if selector is not None and not selector.matches(template_labels):
        errs.append(
            invalid(
                path.child("template", "metadata", "labels"),
                template_labels_value(template),
                "`selector` does not match template `labels`",
            )
        )
    if raw is not None and not a.d0(raw, "matchLabels") and not a.items(raw, "matchExpressions"):
        errs.append(
            invalid(
                path.child("selector"),
                label_selector_value(raw),
                "empty selector is invalid for daemonset",
            )
        )
    errs.extend(validate_pod_template_spec(template, path.child("template")))
    errs.extend(restart_always(template, path.child("template"), "DaemonSet"))
    errs.extend(validate_nonnegative(a.i0(spec, "minReadySeconds"), path.child("minReadySeconds")))
    errs.extend(
        _validate_daemon_set_strategy(a.d0(spec, "updateStrategy"), path.child("updateStrategy"))
    )
    history = a.i(spec, "revisionHistoryLimit")
    if history is not None:
        errs.extend(validate_nonnegative(history, path.child("revisionHistoryLimit")))
    return errs


# -- ReplicationController -------------------------------------------------------------------


def validate_replication_controller_spec(spec: Obj, path: Path) -> list[FieldError]:
    errs = validate_nonnegative(a.i0(spec, "minReadySeconds"), path.child("minReadySeconds"))
    selector_map = a.string_map(spec, "selector")
    if not selector_map:
        errs.append(required(path.child("selector")))
    errs.extend(validate_nonnegative(a.i0(spec, "replicas"), path.child("replicas")))
    template = a.d(spec, "template")
    template_path = path.child("template")
    if template is None:
        errs.append(required(template_path))
        return errs
    selector = labels.from_set(selector_map)
    errs.extend(selector_matches_template(selector, template, template_path))
    errs.extend(validate_pod_template_spec(template, template_path))
    errs.extend(restart_always(template, template_path, "ReplicationController"))
    return errs


# -- kinds -----------------------------------------------------------------------------------

_SPEC_VALIDATORS = {
    "Deployment": validate_deployment_spec,
    "ReplicaSet": validate_replica_set_spec,
    "DaemonSet": validate_daemon_set_spec,
    "StatefulSet": validate_stateful_set_spec,
    "ReplicationController": validate_replication_controller_spec,
}


def validate_workload(kind: str, obj: Obj, old: Obj | None) -> list[FieldError]:
    meta = a.d0(obj, "metadata")
    spec = a.d0(obj, "spec")
    name_fn = formats.name_is_dns_label if kind == "StatefulSet" else formats.name_is_dns_subdomain
    if old is None:
        errs = validate_object_meta(meta, True, name_fn)
    else:
        errs = validate_object_meta_update(meta, a.d0(old, "metadata"))
    errs.extend(_SPEC_VALIDATORS[kind](spec, Path("spec")))
    if old is None:
        return errs
    old_spec = a.d0(old, "spec")
    if kind == "StatefulSet":
        errs.extend(stateful_set_update(spec, old_spec))
    elif kind in ("Deployment", "ReplicaSet", "DaemonSet") and spec.get("selector") != old_spec.get(
        "selector"
    ):
        errs.append(
            invalid(
                Path("spec", "selector"),
                label_selector_value(a.d(spec, "selector")),
                FIELD_IMMUTABLE,
            )
        )
    return errs
