"""Questions about pods that several controllers ask, answered as upstream's podutil does.

Ready (the Ready condition is True), active (neither terminal nor being deleted),
terminating, which pods to delete first when scaling down (`controller.ActivePods`),
when a pod finished, and owner references (`metav1.GetControllerOf`).
"""

from __future__ import annotations

import datetime
from typing import Any

from openeks.kube.api import meta

Obj = dict[str, Any]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

NAMESPACE_INDEX = "namespace"
"""client-go's NamespaceIndex: informers list one namespace without scanning them all."""


def namespace_index(obj: Obj) -> list[str]:
    return [(obj.get("metadata") or {}).get("namespace", "")]


NODE_INDEX = "spec.nodeName"
"""Pods by the node they are bound to."""


def node_index(pod: Obj) -> list[str]:
    node = (pod.get("spec") or {}).get("nodeName")
    return [node] if node else []


def status(pod: Obj) -> Obj:
    return pod.get("status") or {}


def phase(pod: Obj) -> str:
    return str(status(pod).get("phase") or "")


def condition(pod: Obj, type_: str) -> Obj | None:
    for c in status(pod).get("conditions") or ():
        if c.get("type") == type_:
            return dict(c)
    return None


def is_ready(pod: Obj) -> bool:
    c = condition(pod, "Ready")
    return c is not None and c.get("status") == "True"


def is_terminal(pod: Obj) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def is_deleting(pod: Obj) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def is_active(pod: Obj) -> bool:
    """controller.IsPodActive: not Succeeded/Failed and not being deleted."""
    return not is_terminal(pod) and not is_deleting(pod)


def is_terminating(pod: Obj) -> bool:
    """Counted by controller.CountTerminatingPods: being deleted, not yet terminal."""
    return is_deleting(pod) and not is_terminal(pod)


def time_of(value: str | None) -> datetime.datetime:
    return meta.parse_time(value) if value else _EPOCH


def controller_of(obj: Obj) -> Obj | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return dict(ref)
    return None


def controller_ref(owner: Obj, kind: str, api_version: str) -> Obj:
    """metav1.NewControllerRef: controller and blockOwnerDeletion set."""
    m = owner["metadata"]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": m["name"],
        "uid": m["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_controlled_by(obj: Obj, owner_uid: str) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == owner_uid


def _restarts(pod: Obj) -> int:
    return sum(int(c.get("restartCount") or 0) for c in status(pod).get("containerStatuses") or ())


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_rank(pod: Obj) -> tuple[Any, ...]:
    """Sort key: pods upstream's ActivePods puts first are the cheapest to delete."""
    ready = condition(pod, "Ready")
    ready_since = time_of(ready.get("lastTransitionTime")) if ready and is_ready(pod) else _EPOCH
    created = time_of((pod.get("metadata") or {}).get("creationTimestamp"))
    return (
        bool((pod.get("spec") or {}).get("nodeName")),
        _PHASE_RANK.get(phase(pod), 3),
        is_ready(pod),
        -ready_since.timestamp(),
        -_restarts(pod),
        -created.timestamp(),
    )


def finished_time(pod: Obj) -> datetime.datetime:
    """When a pod finished: last container exit, Ready=False, deletion, else creation."""
    latest: datetime.datetime | None = None
    statuses = status(pod).get("containerStatuses") or ()
    for c in statuses:
        finished = ((c.get("state") or {}).get("terminated") or {}).get("finishedAt")
        if not finished:
            latest = None
            break
        t = meta.parse_time(finished)
        latest = t if latest is None or t > latest else latest
    if latest is not None:
        return latest
    ready = condition(pod, "Ready")
    if ready and ready.get("status") == "False" and ready.get("lastTransitionTime"):
        return meta.parse_time(ready["lastTransitionTime"])
    m = pod.get("metadata") or {}
    if m.get("deletionTimestamp"):
        grace = int(m.get("deletionGracePeriodSeconds") or 0)
        return meta.parse_time(m["deletionTimestamp"]) - datetime.timedelta(seconds=grace)
    return time_of(m.get("creationTimestamp"))


def set_condition(pod: Obj, cond: Obj, now: datetime.datetime) -> bool:
    """podutil.UpdatePodCondition: replace or add; lastTransitionTime moves on a status
    change. Returns whether anything changed."""
    conditions = pod.setdefault("status", {}).setdefault("conditions", [])
    for i, old in enumerate(conditions):
        if old.get("type") != cond["type"]:
            continue
        new = {**old, **cond}
        if old.get("status") != new.get("status") or not new.get("lastTransitionTime"):
            new["lastTransitionTime"] = meta.rfc3339(now)
        if new == old:
            return False
        conditions[i] = new
        return True
    conditions.append({**cond, "lastTransitionTime": meta.rfc3339(now)})
    return True
