"""Container resource requirements, as upstream's `validateResourceRequirements`.

Resource names must be standard (`cpu`, `memory`, `ephemeral-storage`, `hugepages-*`) or
fully qualified extended resources; quantities must parse and be non-negative, extended
resources whole numbers; requests may not exceed limits, and resources that cannot be
overcommitted (extended resources, hugepages) need requests equal to limits.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import FieldError, GoValue, Path, forbidden, invalid, required
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation import quantity

Obj = dict[str, Any]

_STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
_STANDARD_RESOURCES = _STANDARD_CONTAINER_RESOURCES | {
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "requests.storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
}


# -- names and quantities ------------------------------------------------------------------


def is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def is_overcommit_allowed(name: str) -> bool:
    return is_native_resource(name) and not is_hugepages(name)


def is_extended_resource_name(name: str) -> bool:
    if is_native_resource(name) or name.startswith("requests."):
        return False
    return not formats.is_qualified_name("requests." + name)


def _validate_container_resource_name(name: str, path: Path) -> list[FieldError]:
    errs = [invalid(path, name, msg) for msg in formats.is_qualified_name(name)]
    if errs:
        return errs
    if "/" not in name:
        if name not in _STANDARD_RESOURCES and not is_hugepages(name):
            errs.append(invalid(path, name, "must be a standard resource type or fully qualified"))
        if name not in _STANDARD_CONTAINER_RESOURCES and not is_hugepages(name):
            errs.append(invalid(path, name, "must be a standard resource for containers"))
    elif not is_native_resource(name) and not is_extended_resource_name(name):
        errs.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errs


def parse_quantities(
    values: dict[str, Any], path: Path
) -> tuple[dict[str, quantity.Quantity], list[FieldError]]:
    parsed: dict[str, quantity.Quantity] = {}
    errs: list[FieldError] = []
    for name in sorted(values):
        raw = values[name]
        try:
            parsed[name] = quantity.parse(raw if isinstance(raw, str | int | float) else "")
        except ValueError as err:
            errs.append(invalid(path.key(name), raw, str(err)))
    return parsed, errs


def validate_quantity_value(name: str, value: quantity.Quantity, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    if value.value < 0:
        errs.append(invalid(path, str(value), "must be greater than or equal to 0"))
    if is_extended_resource_name(name) and value.milli_value % 1000 != 0:
        errs.append(invalid(path, GoValue(str(value)), "must be an integer"))
    return errs


def validate_resource_requirements(resources: Obj | None, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    limit_path, request_path = path.child("limits"), path.child("requests")
    limits, limit_errs = parse_quantities(a.d0(resources, "limits"), limit_path)
    requests, request_errs = parse_quantities(a.d0(resources, "requests"), request_path)
    errs.extend(limit_errs)
    has_compute = has_hugepages = False
    for name, value in limits.items():
        errs.extend(_validate_container_resource_name(name, limit_path.key(name)))
        errs.extend(validate_quantity_value(name, value, limit_path.key(name)))
        has_compute |= name in ("cpu", "memory")
        has_hugepages |= is_hugepages(name)
    errs.extend(request_errs)
    for name, value in requests.items():
        errs.extend(_validate_container_resource_name(name, request_path.key(name)))
        errs.extend(validate_quantity_value(name, value, request_path.key(name)))
        limit = limits.get(name)
        if limit is not None:
            if value.cmp(limit) != 0 and not is_overcommit_allowed(name):
                errs.append(
                    invalid(request_path, str(value), f"must be equal to {name} limit of {limit}")
                )
            elif value.cmp(limit) > 0:
                errs.append(
                    invalid(
                        request_path,
                        str(value),
                        f"must be less than or equal to {name} limit of {limit}",
                    )
                )
        elif not is_overcommit_allowed(name):
            errs.append(required(limit_path, "Limit must be set for non overcommitable resources"))
        has_compute |= name in ("cpu", "memory")
        has_hugepages |= is_hugepages(name)
    if has_hugepages and not has_compute:
        errs.append(forbidden(path, "HugePages require cpu or memory"))
    return errs
