"""The `scale` subresource: a workload seen as an autoscaling/v1 Scale, and back.

Built-in workloads keep replicas at `.spec.replicas` / `.status.replicas` and a label
selector object at `.spec.selector`; custom resources say where theirs are in the CRD
(`specReplicasPath`, `statusReplicasPath`, `labelSelectorPath`, the latter a string).
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import errors
from openeks.kube.api.labels import from_label_selector
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver.registry import Mutator

Obj = dict[str, Any]

_BUILTIN = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}


def _paths(info: ResourceInfo) -> Obj:
    custom = info.extra.get("scale")
    return custom if isinstance(custom, dict) else _BUILTIN


def _get(obj: Obj, path: str) -> Any:
    value: Any = obj
    for part in path.strip(".").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _set(obj: Obj, path: str, value: Any) -> None:
    parts = path.strip(".").split(".")
    target = obj
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _selector(obj: Obj, info: ResourceInfo) -> str | None:
    custom = info.extra.get("scale")
    if isinstance(custom, dict):
        path = custom.get("labelSelectorPath")
        value = _get(obj, path) if path else None
        return value if isinstance(value, str) else None
    selector = (obj.get("spec") or {}).get("selector")
    return None if selector is None else str(from_label_selector(selector))


def scale_of(obj: Obj, info: ResourceInfo) -> Obj:
    m = obj["metadata"]
    paths = _paths(info)
    scale: Obj = {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"],
            "namespace": m.get("namespace", ""),
            "uid": m.get("uid", ""),
            "resourceVersion": m.get("resourceVersion", ""),
            "creationTimestamp": m.get("creationTimestamp"),
        },
        "spec": {"replicas": _get(obj, paths["specReplicasPath"]) or 0},
        "status": {"replicas": _get(obj, paths.get("statusReplicasPath") or "") or 0},
    }
    selector = _selector(obj, info)
    if selector is not None:
        scale["status"]["selector"] = selector
    return scale


def setter(wanted: Obj, info: ResourceInfo, name: str) -> Mutator:
    """A mutator that sets the replicas from a Scale, honouring its resourceVersion."""
    replicas = (wanted.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or replicas < 0:
        raise errors.invalid(
            "Scale",
            "autoscaling",
            name,
            [
                errors.Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                    "spec.replicas",
                )
            ],
        )
    rv = (wanted.get("metadata") or {}).get("resourceVersion", "")
    wanted_name = (wanted.get("metadata") or {}).get("name")
    if wanted_name and wanted_name != name:
        raise errors.bad_request(
            f"the name of the object ({wanted_name}) does not match the name on the URL ({name})"
        )
    path = _paths(info)["specReplicasPath"]

    async def mutate(obj: Obj) -> Obj:
        _set(obj, path, replicas)
        if rv:
            obj["metadata"]["resourceVersion"] = rv
        return obj

    return mutate
