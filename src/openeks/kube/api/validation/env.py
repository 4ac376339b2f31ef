"""Environment variables of a container: names, `valueFrom` sources and `envFrom`.

Names follow RelaxedEnvironmentVariableValidation (GA since 1.34: printable ASCII other
than '='); a `valueFrom` needs exactly one source and no literal value; downward API
field paths are converted and checked as `podshelper.ConvertDownwardAPIFieldLabel` does.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import FieldError, Path, invalid, not_supported, required
from openeks.kube.api.validation import access as a

Obj = dict[str, Any]

_ENV_FIELD_PATHS = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
]
_CONTAINER_RESOURCE_FIELDS = [
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
]


# -- env vars -------------------------------------------------------------------------------------


def validate_env(env: list[Obj], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for idx, var in enumerate(env):
        item = path.index(idx)
        name = a.s(var, "name")
        if not name:
            errs.append(required(item.child("name")))
        else:
            errs.extend(
                invalid(item.child("name"), name, msg)
                for msg in formats.is_relaxed_env_var_name(name)
            )
        errs.extend(_validate_env_value_from(var, item.child("valueFrom")))
    return errs


def _validate_env_value_from(var: Obj, path: Path) -> list[FieldError]:
    source = a.d(var, "valueFrom")
    if source is None:
        return []
    errs: list[FieldError] = []
    sources = 0
    field_ref = a.d(source, "fieldRef")
    if field_ref is not None:
        sources += 1
        errs.extend(validate_object_field_selector(field_ref, path.child("fieldRef")))
    resource_ref = a.d(source, "resourceFieldRef")
    if resource_ref is not None:
        sources += 1
        resource = a.s(resource_ref, "resource")
        if not resource:
            errs.append(required(path.child("resourceFieldRef", "resource")))
        elif resource not in _CONTAINER_RESOURCE_FIELDS and not resource.startswith(
            ("requests.hugepages-", "limits.hugepages-")
        ):
            errs.append(
                not_supported(
                    path.child("resourceFieldRef", "resource"),
                    resource,
                    _CONTAINER_RESOURCE_FIELDS,
                )
            )
    for key in ("configMapKeyRef", "secretKeyRef"):
        selector = a.d(source, key)
        if selector is not None:
            sources += 1
            errs.extend(_validate_key_selector(selector, path.child(key)))
    if sources == 0:
        errs.append(
            invalid(
                path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` "
                "or `secretKeyRef`",
            )
        )
    elif a.s(var, "value"):
        errs.append(invalid(path, "", "may not be specified when `value` is not empty"))
    elif sources > 1:
        errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs


_CONVERTIBLE_FIELD_PATHS = {
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
}


def _split_subscript(field_path: str) -> tuple[str, str] | None:
    """fieldpath.SplitMaybeSubscriptedPath: `metadata.labels['app']`."""
    if not field_path.endswith("']") or "['" not in field_path:
        return None
    base, _, rest = field_path.partition("['")
    return base, rest[:-2]


def _convert_downward_field_path(api_version: str, field_path: str) -> str:
    """podshelper.ConvertDownwardAPIFieldLabel; raises ValueError with upstream's text."""
    if api_version != "v1":
        raise ValueError(f"unsupported pod version: {api_version}")
    split = _split_subscript(field_path)
    if split is not None:
        if split[0] in ("metadata.annotations", "metadata.labels"):
            return field_path
        raise ValueError(f"field label does not support subscript: {field_path}")
    if field_path == "spec.host":
        return "spec.nodeName"
    if field_path not in _CONVERTIBLE_FIELD_PATHS:
        raise ValueError(f"field label not supported: {field_path}")
    return field_path


def validate_object_field_selector(
    ref: Obj, path: Path, expressions: list[str] = _ENV_FIELD_PATHS
) -> list[FieldError]:
    api_version = a.s(ref, "apiVersion")
    if not api_version:
        return [required(path.child("apiVersion"))]
    field_path = a.s(ref, "fieldPath")
    if not field_path:
        return [required(path.child("fieldPath"))]
    try:
        internal = _convert_downward_field_path(api_version, field_path)
    except ValueError as err:
        return [invalid(path.child("fieldPath"), field_path, f"error converting fieldPath: {err}")]
    split = _split_subscript(internal)
    if split is not None:
        base, subscript = split
        if base == "metadata.annotations":
            key = subscript.lower()
            return [invalid(path, key, m) for m in formats.is_qualified_name(key)]
        if base == "metadata.labels":
            return [invalid(path, subscript, m) for m in formats.is_qualified_name(subscript)]
        return [invalid(path, base, "does not support subscript")]
    if internal not in expressions:
        return [not_supported(path.child("fieldPath"), internal, sorted(expressions))]
    return []


def _validate_key_selector(selector: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    name = a.s(selector, "name")
    errs.extend(invalid(path.child("name"), name, m) for m in formats.name_is_dns_subdomain(name))
    key = a.s(selector, "key")
    if not key:
        errs.append(required(path.child("key")))
    else:
        errs.extend(invalid(path.child("key"), key, m) for m in formats.is_config_map_key(key))
    return errs


def validate_env_from(sources: list[Obj], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for idx, source in enumerate(sources):
        item = path.index(idx)
        prefix = a.s(source, "prefix")
        if prefix:
            errs.extend(
                invalid(item.child("prefix"), prefix, msg)
                for msg in formats.is_relaxed_env_var_name(prefix)
            )
        count = 0
        for key in ("configMapRef", "secretRef"):
            ref = a.d(source, key)
            if ref is None:
                continue
            count += 1
            name = a.s(ref, "name")
            if not name:
                errs.append(required(item.child(key, "name")))
            else:
                errs.extend(
                    invalid(item.child(key, "name"), name, msg)
                    for msg in formats.name_is_dns_subdomain(name, True)
                )
        if count == 0:
            errs.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs
