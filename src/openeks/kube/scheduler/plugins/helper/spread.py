"""The selector of a pod's "siblings" for default spreading (upstream's DefaultSelector).

Merges the selectors of Services selecting the pod, then adds the selector of the pod's
controlling ReplicationController, ReplicaSet or StatefulSet (found by its controller
ownerReference, and only if that object exists).
"""

from __future__ import annotations

from openeks.kube.api import labels as labelsel
from openeks.kube.scheduler.framework.interface import Listers
from openeks.kube.scheduler.framework.types import PodInfo

_CONTROLLERS = {
    ("v1", "ReplicationController"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
}


def default_selector(pod: PodInfo, listers: Listers) -> labelsel.Selector:
    merged: dict[str, str] = {}
    for svc in listers.services(pod.namespace):
        sel = (svc.get("spec") or {}).get("selector") or {}
        if sel and labelsel.from_set(sel).matches(pod.labels):
            merged.update(sel)
    selector = labelsel.from_set(merged)
    owner = next(
        (
            o
            for o in (pod.pod.get("metadata") or {}).get("ownerReferences") or ()
            if o.get("controller")
        ),
        None,
    )
    if owner is None or (owner.get("apiVersion"), owner.get("kind")) not in _CONTROLLERS:
        return selector
    obj = listers.controller(pod.namespace, owner["kind"], owner.get("name", ""))
    if obj is None:
        return selector
    spec = obj.get("spec") or {}
    if owner["kind"] == "ReplicationController":
        merged.update(spec.get("selector") or {})
        return labelsel.from_set(merged)
    try:
        other = labelsel.from_label_selector(spec.get("selector"))
    except labelsel.SelectorError:
        return selector
    if other.nothing:
        return selector
    return selector.add(*other.requirements)
