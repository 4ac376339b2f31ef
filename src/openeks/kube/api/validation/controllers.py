"""What the workload controllers' validation shares: selectors, templates, rollouts.

A selector must be present, valid and non-empty and match the pod template's labels
(`` `selector` does not match template `labels` ``); templates must restart `Always`;
rolling-update bounds are ints or percentages (`intstr.IntOrString`), printed unquoted
as upstream prints them.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import formats, labels
from openeks.kube.api.fielderrors import (
    FieldError,
    GoValue,
    Path,
    forbidden,
    go_map,
    invalid,
    not_supported,
    required,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.meta import (
    label_selector_value,
    validate_label_selector,
    validate_nonnegative,
)
from openeks.kube.api.validation.pod import validate_pod_template_spec

Obj = dict[str, Any]


def template_labels_value(template: Obj) -> GoValue:
    raw = a.d(a.d(template, "metadata"), "labels")
    if raw is None:
        return GoValue("map[string]string(nil)")
    return GoValue(go_map(a.string_map(a.d(template, "metadata"), "labels"), "string"))


def selector_matches_template(
    selector: labels.Selector, template: Obj, path: Path
) -> list[FieldError]:
    template_labels = a.string_map(a.d(template, "metadata"), "labels")
    if not selector.empty and not selector.matches(template_labels):
        return [
            invalid(
                path.child("metadata", "labels"),
                template_labels_value(template),
                "`selector` does not match template `labels`",
            )
        ]
    return []


def restart_always(template: Obj, path: Path, kind: str) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = a.d0(template, "spec")
    restart = a.s(spec, "restartPolicy")
    if restart != "Always":
        errs.append(not_supported(path.child("spec", "restartPolicy"), restart, ["Always"]))
    if a.has(spec, "activeDeadlineSeconds"):
        errs.append(
            forbidden(
                path.child("spec", "activeDeadlineSeconds"),
                f"activeDeadlineSeconds in {kind} is not Supported",
            )
        )
    return errs


def checked_selector(
    spec: Obj, path: Path, kind: str
) -> tuple[labels.Selector | None, list[FieldError]]:
    """Required, valid and non-empty selector; returns it converted when it converts."""
    errs: list[FieldError] = []
    raw = a.d(spec, "selector")
    if raw is None:
        errs.append(required(path.child("selector")))
    else:
        errs.extend(validate_label_selector(raw, path.child("selector")))
        if not a.d0(raw, "matchLabels") and not a.items(raw, "matchExpressions"):
            errs.append(
                invalid(
                    path.child("selector"),
                    label_selector_value(raw),
                    f"empty selector is invalid for {kind}",
                )
            )
    try:
        return labels.from_label_selector(raw), errs
    except labels.SelectorError:
        return None, errs


def rs_template(
    spec: Obj, selector: labels.Selector | None, path: Path, kind: str
) -> list[FieldError]:
    """ValidatePodTemplateSpecForReplicaSet."""
    raw = a.d(spec, "selector")
    template = a.d(spec, "template")
    if selector is None:
        return [
            invalid(path.child("selector"), label_selector_value(raw), "invalid label selector")
        ]
    if template is None:
        return [required(path.child("template"))]
    errs = selector_matches_template(selector, template, path.child("template"))
    errs.extend(validate_pod_template_spec(template, path.child("template")))
    errs.extend(restart_always(template, path.child("template"), kind))
    return errs


# -- int-or-percent --------------------------------------------------------------------------


def int_or_percent_value(value: Any) -> int:
    """getIntOrPercentValue: the percent number, else IntValue() (Atoi of a string)."""
    if isinstance(value, str):
        if not formats.is_valid_percent(value):
            return int(value[:-1])
        try:
            return int(value, 10)
        except ValueError:
            return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def intstr_value(value: Any) -> GoValue:
    """intstr.IntOrString prints through its String(): `25%` or `1`, unquoted."""
    return GoValue(str(value) if isinstance(value, str | int) else "0")


def validate_int_or_percent(value: Any, path: Path) -> list[FieldError]:
    if isinstance(value, str):
        return [invalid(path, intstr_value(value), m) for m in formats.is_valid_percent(value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return validate_nonnegative(value, path)
    return [invalid(path, intstr_value(value), "must be an integer or percentage (e.g '5%%')")]


def not_more_than_100_percent(value: Any, path: Path) -> list[FieldError]:
    if isinstance(value, str) and not formats.is_valid_percent(value) and int(value[:-1]) > 100:
        return [invalid(path, intstr_value(value), "must not be greater than 100%")]
    return []
