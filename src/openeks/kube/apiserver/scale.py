"""The `scale` subresource: a workload seen as an autoscaling/v1 Scale, and back."""

from __future__ import annotations

from typing import Any

from openeks.kube.api import errors
from openeks.kube.api.labels import from_label_selector
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver.registry import Mutator

Obj = dict[str, Any]


def scale_of(obj: Obj, info: ResourceInfo) -> Obj:
    m = obj["metadata"]
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    selector = spec.get("selector")
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
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": {"replicas": status.get("replicas", 0)},
    }
    if selector is not None:
        scale["status"]["selector"] = str(from_label_selector(selector))
    return scale


def setter(wanted: Obj, info: ResourceInfo, name: str) -> Mutator:
    """A mutator that sets spec.replicas from a Scale, honouring its resourceVersion."""
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

    async def mutate(obj: Obj) -> Obj:
        obj.setdefault("spec", {})["replicas"] = replicas
        if rv:
            obj["metadata"]["resourceVersion"] = rv
        return obj

    return mutate
