"""Pod predicates and orderings the workload controllers share (`pkg/api/v1/pod`,
`pkg/controller/controller_utils.go`).

A pod is *ready* when its `Ready` condition is `True`, *available* when it has been
ready for at least `minReadySeconds` (measured from the condition's
`lastTransitionTime`), *active* while it is neither terminal nor being deleted.

`rank_for_deletion` is upstream's `ActivePodsWithRanks` ordering with the feature gates
a 1.37 cluster runs with (PodDeletionCost, LogarithmicScaleDown): the pods a controller
should delete first come first: unassigned before assigned, Pending before Unknown
before Running, not ready before ready, lower `controller.kubernetes.io/pod-deletion-cost`
first, more co-located siblings first, then the most recently ready, most restarted,
and most recently created, with time compared in powers-of-two buckets so similar ages
tie and the UID breaks the tie pseudo-randomly.

`pod_from_template` is `GetPodFromTemplate`: what a ReplicaSet, StatefulSet or DaemonSet
sends to create a pod.
"""

from __future__ import annotations

import datetime
import functools
import math
from collections.abc import Iterable
from typing import Any

from openeks.kube.api import meta

Obj = dict[str, Any]

DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


# -- predicates ------------------------------------------------------------------------------
def ready_condition(pod: Obj) -> Obj | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition
    return None


def is_ready(pod: Obj) -> bool:
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def is_available(pod: Obj, min_ready_seconds: int, now: datetime.datetime) -> bool:
    """Ready for at least `min_ready_seconds` (upstream's `IsPodAvailable`)."""
    if not is_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = parse_time((ready_condition(pod) or {}).get("lastTransitionTime"))
    if since is None:
        return False
    return since + datetime.timedelta(seconds=min_ready_seconds) < now


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_terminal(pod: Obj) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def is_terminating(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def is_active(pod: Obj) -> bool:
    """Neither finished nor being deleted (upstream's `IsPodActive`)."""
    return not is_terminal(pod) and not is_terminating(pod)


def node_name(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def parse_time(value: object) -> datetime.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return meta.parse_time(value)
    except ValueError:
        return None


def created_at(obj: Obj) -> datetime.datetime | None:
    return parse_time((obj.get("metadata") or {}).get("creationTimestamp"))


def ready_since(pod: Obj) -> datetime.datetime | None:
    if not is_ready(pod):
        return None
    return parse_time((ready_condition(pod) or {}).get("lastTransitionTime"))


def max_container_restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def deletion_cost(pod: Obj) -> int:
    """The pod-deletion-cost annotation as an int32; absent or invalid counts as 0."""
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(DELETION_COST_ANNOTATION)
    if value is None:
        return 0
    try:
        cost = int(str(value), 10)
    except ValueError:
        return 0
    return cost if _INT32_MIN <= cost <= _INT32_MAX else 0


# -- deletion ranking ------------------------------------------------------------------------
def _after_or_zero(t1: datetime.datetime | None, t2: datetime.datetime | None) -> bool:
    """t1 after t2, a missing time counting as after any other."""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _log_rank(t: datetime.datetime, now: datetime.datetime) -> int:
    nanos = (now - t) / datetime.timedelta(microseconds=1) * 1000
    return int(math.log2(nanos)) if nanos > 0 else -1


def _newer_first(
    p1: Obj, p2: Obj, t1: datetime.datetime | None, t2: datetime.datetime | None, now: Any
) -> bool:
    if now is None or t1 is None or t2 is None:
        return _after_or_zero(t1, t2)
    diff = _log_rank(t1, now) - _log_rank(t2, now)
    if diff == 0:
        return _uid(p1) < _uid(p2)
    return diff < 0


def _uid(pod: Obj) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")


def deletion_less(p1: Obj, r1: int, p2: Obj, r2: int, now: datetime.datetime | None) -> bool:
    """True when p1 (with rank r1) should be deleted before p2 (upstream's `Less`)."""
    n1, n2 = node_name(p1), node_name(p2)
    if n1 != n2 and (not n1 or not n2):
        return not n1
    o1, o2 = _PHASE_ORDINAL.get(phase(p1), 0), _PHASE_ORDINAL.get(phase(p2), 0)
    if o1 != o2:
        return o1 < o2
    if is_ready(p1) != is_ready(p2):
        return not is_ready(p1)
    c1, c2 = deletion_cost(p1), deletion_cost(p2)
    if c1 != c2:
        return c1 < c2
    if r1 != r2:
        return r1 > r2
    if is_ready(p1) and is_ready(p2):
        t1, t2 = ready_since(p1), ready_since(p2)
        if t1 != t2:
            return _newer_first(p1, p2, t1, t2, now)
    m1, m2 = max_container_restarts(p1), max_container_restarts(p2)
    if m1 != m2:
        return m1 > m2
    t1, t2 = created_at(p1), created_at(p2)
    if t1 != t2:
        return _newer_first(p1, p2, t1, t2, now)
    return False


def rank_for_deletion(
    pods: list[Obj], related: Iterable[Obj], now: datetime.datetime | None = None
) -> list[Obj]:
    """`pods` sorted so the ones to delete first come first.

    Each pod's rank is the number of active `related` pods (the controller's, or all of a
    Deployment's ReplicaSets') on its node: crowded nodes are relieved first.
    """
    on_node: dict[str, int] = {}
    for pod in related:
        if is_active(pod):
            on_node[node_name(pod)] = on_node.get(node_name(pod), 0) + 1
    ranked = [(pod, on_node.get(node_name(pod), 0)) for pod in pods]

    def compare(a: tuple[Obj, int], b: tuple[Obj, int]) -> int:
        if deletion_less(a[0], a[1], b[0], b[1], now):
            return -1
        if deletion_less(b[0], b[1], a[0], a[1], now):
            return 1
        return 0

    return [pod for pod, _ in sorted(ranked, key=functools.cmp_to_key(compare))]


def pods_to_delete(
    pods: list[Obj], related: Iterable[Obj], count: int, now: datetime.datetime | None = None
) -> list[Obj]:
    """The `count` pods upstream's `getPodsToDelete` picks (no sort when all go)."""
    if count < len(pods):
        pods = rank_for_deletion(pods, related, now)
    return pods[:count]


# -- creation --------------------------------------------------------------------------------
def pods_prefix(controller_name: str) -> str:
    """`<name>-` as generateName, unless that would not make a valid name."""
    prefix = controller_name + "-"
    return prefix if len(prefix) <= 253 else controller_name


def pod_from_template(template: Obj, parent: Obj, controller_ref: Obj | None) -> Obj:
    """A new pod (no name, generateName `<parent>-`) from a pod template."""
    template_meta = template.get("metadata") or {}
    metadata: Obj = {"generateName": pods_prefix(meta.name_of(parent))}
    for key in ("labels", "annotations"):
        if template_meta.get(key):
            metadata[key] = dict(template_meta[key])
    if template_meta.get("finalizers"):
        metadata["finalizers"] = list(template_meta["finalizers"])
    if controller_ref is not None:
        metadata["ownerReferences"] = [dict(controller_ref)]
    namespace = meta.namespace_of(parent)
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": meta.deep_copy(template.get("spec") or {}),
    }
