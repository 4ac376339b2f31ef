"""Pod admission on the node: does a newly bound pod fit what is left? (pure)

kubelet re-checks what the scheduler checked, because a pod may be bound by hand or by a
scheduler with a stale view. We check what its resource predicate checks: the pod count
against allocatable `pods`, and CPU and memory requests against allocatable minus the
requests of the pods already admitted. A pod that does not fit is rejected: phase
Failed, reason `OutOf<resource>`, message `Pod was rejected: Node didn't have enough
resource: cpu, requested: 500, used: 1800, capacity: 1930` — kubelet's words (CPU in
millicores, memory in bytes).

A pod's request is upstream's effective request: the larger of the sum over its app
containers (and sidecars) and the largest single init container.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api.validation.quantity import parse as parse_quantity

Obj = dict[str, Any]
RESOURCES = ("cpu", "memory")


def _amount(resource: str, value: Any) -> int:
    q = parse_quantity(value)
    return q.milli_value if resource == "cpu" else int(q.value)


def _requests(container: Obj) -> dict[str, int]:
    req = (container.get("resources") or {}).get("requests") or {}
    return {r: _amount(r, req[r]) for r in RESOURCES if r in req}


def pod_requests(pod: Obj) -> dict[str, int]:
    """Effective CPU (millicores) and memory (bytes) requests of a pod."""
    spec = pod.get("spec") or {}
    total = dict.fromkeys(RESOURCES, 0)
    sidecars = dict.fromkeys(RESOURCES, 0)
    init_peak = dict.fromkeys(RESOURCES, 0)
    for c in spec.get("initContainers") or ():
        req = _requests(c)
        for r in RESOURCES:
            if c.get("restartPolicy") == "Always":
                sidecars[r] += req.get(r, 0)
            else:
                init_peak[r] = max(init_peak[r], sidecars[r] + req.get(r, 0))
    for c in spec.get("containers") or ():
        for r, v in _requests(c).items():
            total[r] += v
    overhead = spec.get("overhead") or {}
    return {
        r: max(total[r] + sidecars[r], init_peak[r])
        + (_amount(r, overhead[r]) if r in overhead else 0)
        for r in RESOURCES
    }


def allocatable_amounts(allocatable: dict[str, str]) -> dict[str, int]:
    out = {r: _amount(r, allocatable[r]) for r in RESOURCES if r in allocatable}
    out["pods"] = int(allocatable.get("pods", "110"))
    return out


def admit(pod: Obj, admitted: list[Obj], allocatable: dict[str, str]) -> tuple[str, str] | None:
    """None when the pod fits next to `admitted`, else (reason, message) to reject it."""
    capacity = allocatable_amounts(allocatable)
    if len(admitted) + 1 > capacity["pods"]:
        return _reject("pods", 1, len(admitted), capacity["pods"])
    wanted = pod_requests(pod)
    used = dict.fromkeys(RESOURCES, 0)
    for other in admitted:
        for r, v in pod_requests(other).items():
            used[r] += v
    for r in RESOURCES:
        if wanted[r] and r in capacity and used[r] + wanted[r] > capacity[r]:
            return _reject(r, wanted[r], used[r], capacity[r])
    return None


def _reject(resource: str, requested: int, used: int, capacity: int) -> tuple[str, str]:
    return (
        f"OutOf{resource}",
        f"Pod was rejected: Node didn't have enough resource: {resource}, "
        f"requested: {requested}, used: {used}, capacity: {capacity}",
    )
