"""Object metadata and label selector validation, as `apimachinery/pkg/api/validation`.

Ports `ValidateObjectMeta` (name or generateName, namespace presence and format, labels,
annotations and their 256 KiB budget, owner references, finalizers, generation),
`ValidateObjectMetaUpdate` (resourceVersion present, name/namespace/uid/creation and
deletion times immutable, generation not decremented) and `metav1/validation`'s label and
label selector checks. Name rules differ per kind, so callers pass the name function.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import (
    FieldError,
    GoValue,
    Path,
    forbidden,
    go_map,
    go_quote,
    invalid,
    required,
    too_long,
)
from openeks.kube.api.validation import access as a

Obj = dict[str, Any]
NameFn = Callable[[str, bool], list[str]]

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
FIELD_IMMUTABLE = "field is immutable"
IS_NEGATIVE = "must be greater than or equal to 0"
_STANDARD_FINALIZERS = {
    "kubernetes",
    "orphan",
    "foregroundDeletion",
    "customresourcecleanup.apiextensions.k8s.io",
}
_BANNED_OWNERS = {("", "v1", "Event")}


def validate_nonnegative(value: int, path: Path) -> list[FieldError]:
    return [invalid(path, value, IS_NEGATIVE)] if value < 0 else []


# -- labels and annotations ------------------------------------------------------------------


def validate_label_name(name: str, path: Path) -> list[FieldError]:
    return [invalid(path, name, msg) for msg in formats.is_qualified_name(name)]


def validate_labels(labels: Mapping[str, Any], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in sorted(labels):
        errs.extend(validate_label_name(key, path))
        value = labels[key] if isinstance(labels[key], str) else ""
        errs.extend(invalid(path, value, msg) for msg in formats.is_label_value(value))
    return errs


def validate_annotations(annotations: Mapping[str, Any], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    total = 0
    for key in sorted(annotations):
        errs.extend(invalid(path, key, msg) for msg in formats.is_qualified_name(key.lower()))
        value = annotations[key] if isinstance(annotations[key], str) else ""
        total += len(key.encode()) + len(value.encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


# -- label selectors (metav1/validation) ---------------------------------------------------------


def validate_label_selector(
    selector: Obj | None, path: Path, allow_invalid_label_value: bool = False
) -> list[FieldError]:
    if selector is None:
        return []
    errs = validate_labels(a.string_map(selector, "matchLabels"), path.child("matchLabels"))
    for idx, expr in enumerate(a.items(selector, "matchExpressions")):
        errs.extend(
            _validate_selector_requirement(
                expr, path.child("matchExpressions").index(idx), allow_invalid_label_value
            )
        )
    return errs


def _validate_selector_requirement(
    expr: Obj, path: Path, allow_invalid_label_value: bool
) -> list[FieldError]:
    errs: list[FieldError] = []
    operator = a.s(expr, "operator")
    values = a.strings(expr, "values")
    if operator in ("In", "NotIn"):
        if not values:
            errs.append(
                required(
                    path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"
                )
            )
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errs.append(
                forbidden(
                    path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
    else:
        errs.append(invalid(path.child("operator"), operator, "not a valid selector operator"))
    errs.extend(validate_label_name(a.s(expr, "key"), path.child("key")))
    if not allow_invalid_label_value:
        for idx, value in enumerate(values):
            errs.extend(
                invalid(path.child("values").index(idx), value, msg)
                for msg in formats.is_label_value(value)
            )
    return errs


def label_selector_value(selector: Obj | None) -> GoValue:
    """How upstream prints a `*metav1.LabelSelector` bad value (`v1.LabelSelector{...}`)."""
    if selector is None:
        return GoValue("null")
    labels = selector.get("matchLabels")
    labels_text = (
        go_map(a.string_map(selector, "matchLabels"), "string")
        if isinstance(labels, dict)
        else "map[string]string(nil)"
    )
    expressions = a.items(selector, "matchExpressions")
    if expressions:
        parts = []
        for expr in expressions:
            values = a.strings(expr, "values")
            shown = (
                "[]string{" + ", ".join(go_quote(v) for v in values) + "}"
                if values
                else "[]string(nil)"
            )
            parts.append(
                f"v1.LabelSelectorRequirement{{Key:{go_quote(a.s(expr, 'key'))}, "
                f"Operator:{go_quote(a.s(expr, 'operator'))}, Values:{shown}}}"
            )
        exprs_text = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        exprs_text = "[]v1.LabelSelectorRequirement(nil)"
    return GoValue(f"v1.LabelSelector{{MatchLabels:{labels_text}, MatchExpressions:{exprs_text}}}")


# -- object meta -----------------------------------------------------------------------------


def validate_object_meta(
    meta: Obj, namespaced: bool | None, name_fn: NameFn, path: Path | None = None
) -> list[FieldError]:
    """ValidateObjectMeta (core flavour: finalizer names are checked too).

    `namespaced` None means the scope is unknown and the namespace is not checked."""
    path = path or Path("metadata")
    errs: list[FieldError] = []
    generate_name = a.s(meta, "generateName")
    if generate_name:
        errs.extend(
            invalid(path.child("generateName"), generate_name, msg)
            for msg in name_fn(generate_name, True)
        )
    name = a.s(meta, "name")
    if not name:
        errs.append(required(path.child("name"), "name or generateName is required"))
    else:
        errs.extend(invalid(path.child("name"), name, msg) for msg in name_fn(name, False))
    errs.extend(_validate_common(meta, namespaced, path))
    errs.extend(_kube_finalizer_names(meta, path))
    return errs


def _validate_common(meta: Obj, namespaced: bool | None, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    namespace = a.s(meta, "namespace")
    if namespaced is True:
        if not namespace:
            errs.append(required(path.child("namespace")))
        else:
            errs.extend(
                invalid(path.child("namespace"), namespace, msg)
                for msg in formats.name_is_dns_label(namespace)
            )
    elif namespaced is False and namespace:
        errs.append(forbidden(path.child("namespace"), "not allowed on this type"))
    errs.extend(validate_nonnegative(a.i0(meta, "generation"), path.child("generation")))
    errs.extend(validate_labels(a.string_map(meta, "labels"), path.child("labels")))
    errs.extend(validate_annotations(a.string_map(meta, "annotations"), path.child("annotations")))
    errs.extend(_validate_owner_references(a.items(meta, "ownerReferences"), path))
    errs.extend(_validate_finalizers(a.strings(meta, "finalizers"), path.child("finalizers")))
    return errs


def _validate_owner_references(refs: list[Obj], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    field = path.child("ownerReferences")
    first_controller = ""
    for ref in refs:
        api_version, kind = a.s(ref, "apiVersion"), a.s(ref, "kind")
        group, _, version = api_version.rpartition("/")
        if not version:
            errs.append(
                invalid(field.child("apiVersion"), api_version, "version must not be empty")
            )
        if not kind:
            errs.append(invalid(field.child("kind"), kind, "must not be empty"))
        if not a.s(ref, "name"):
            errs.append(invalid(field.child("name"), "", "must not be empty"))
        if not a.s(ref, "uid"):
            errs.append(invalid(field.child("uid"), "", "must not be empty"))
        if (group, version, kind) in _BANNED_OWNERS:
            banned = f"/{version}, Kind={kind}"
            errs.append(invalid(field, ref, f"{banned} is disallowed from being an owner"))
        if a.b(ref, "controller"):
            current = f"{kind}/{a.s(ref, 'name')}"
            if first_controller:
                errs.append(
                    invalid(
                        field,
                        refs,
                        'Only one reference can have Controller set to true. Found "true" '
                        f"in references for {first_controller} and {current}",
                    )
                )
            else:
                first_controller = current
    return errs


def _validate_finalizers(finalizers: list[str], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for name in finalizers:
        errs.extend(invalid(path, name, msg) for msg in formats.is_qualified_name(name))
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        errs.append(
            invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set")
        )
    return errs


def validate_kube_finalizer_name(name: str, path: Path) -> list[FieldError]:
    if "/" not in name and name not in _STANDARD_FINALIZERS:
        return [
            invalid(
                path, name, "name is neither a standard finalizer name nor is it fully qualified"
            )
        ]
    return []


def _kube_finalizer_names(meta: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for idx, name in enumerate(a.strings(meta, "finalizers")):
        errs.extend(validate_kube_finalizer_name(name, path.child("finalizers").index(idx)))
    return errs


def validate_object_meta_update(new: Obj, old: Obj, path: Path | None = None) -> list[FieldError]:
    """ValidateObjectMetaUpdate (core flavour).

    As upstream, it expects the server to have copied the stored resourceVersion into an
    unconditional update before validating."""
    path = path or Path("metadata")
    errs: list[FieldError] = []
    if a.has(old, "deletionTimestamp"):
        added = sorted(set(a.strings(new, "finalizers")) - set(a.strings(old, "finalizers")))
        if added:
            found = "[]string{" + ", ".join(go_quote(f) for f in added) + "}"
            errs.append(
                forbidden(
                    path.child("finalizers"),
                    "no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers {found}",
                )
            )
    if not a.s(new, "resourceVersion"):
        errs.append(invalid(path.child("resourceVersion"), "", "must be specified for an update"))
    if a.i0(new, "generation") < a.i0(old, "generation"):
        errs.append(
            invalid(path.child("generation"), a.i0(new, "generation"), "must not be decremented")
        )
    for key in ("name", "namespace", "uid"):
        if a.s(new, key) != a.s(old, key):
            errs.append(invalid(path.child(key), a.s(new, key), FIELD_IMMUTABLE))
    for key in ("creationTimestamp", "deletionTimestamp"):
        if new.get(key) != old.get(key):
            errs.append(invalid(path.child(key), _go_time(new.get(key), key), FIELD_IMMUTABLE))
    if new.get("deletionGracePeriodSeconds") != old.get("deletionGracePeriodSeconds"):
        errs.append(
            invalid(
                path.child("deletionGracePeriodSeconds"),
                new.get("deletionGracePeriodSeconds"),
                FIELD_IMMUTABLE,
            )
        )
    errs.extend(validate_labels(a.string_map(new, "labels"), path.child("labels")))
    errs.extend(validate_annotations(a.string_map(new, "annotations"), path.child("annotations")))
    errs.extend(_validate_owner_references(a.items(new, "ownerReferences"), path))
    errs.extend(_validate_finalizers(a.strings(new, "finalizers"), path.child("finalizers")))
    errs.extend(_kube_finalizer_names(new, path))
    return errs


def _go_time(value: Any, key: str) -> Any:
    """metav1.Time prints with Go's time.String(): `2024-05-01 10:00:00 +0000 UTC`."""
    if not isinstance(value, str) or not value:
        # A zero creationTimestamp is a value, a missing deletionTimestamp a nil pointer.
        return GoValue("0001-01-01 00:00:00 +0000 UTC") if key == "creationTimestamp" else None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    parsed = parsed.astimezone(datetime.UTC)
    text = parsed.strftime("%Y-%m-%d %H:%M:%S")
    if parsed.microsecond:
        text += f".{parsed.microsecond:06d}".rstrip("0")
    return GoValue(f"{text} +0000 UTC")
