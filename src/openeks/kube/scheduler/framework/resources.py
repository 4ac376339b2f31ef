"""Resource arithmetic in integers: what a pod requests and what a node offers.

A port of `resourcehelper.PodRequests` as the scheduler calls it: the sum of the
containers' requests, raised to the largest init-container "use" (a regular init
container runs alongside the restartable ones started before it; restartable "sidecar"
init containers add to the total), overridden by pod-level `spec.resources`, plus
`spec.overhead`. `non_missing=True` gives scoring's view: a container that omits a cpu or
memory request counts as 100m / 200Mi (upstream's DefaultMilliCPURequest and
DefaultMemoryRequest).

CPU is kept in millicores and everything else in units, as upstream's `Resource` does;
quantity strings repeat endlessly ("100m", "128Mi"), so their parse is cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openeks.kube.api.validation import quantity

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"

DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

_NATIVE = (CPU, MEMORY, EPHEMERAL_STORAGE, PODS, "storage")
_POD_LEVEL = (CPU, MEMORY)
_PARSED: dict[tuple[str, Any], int] = {}

Requests = dict[str, int]


def is_scalar(name: str) -> bool:
    """Extended, hugepages and attachable-volumes resources (upstream's IsScalarResourceName)."""
    if name in _NATIVE:
        return False
    return "/" in name or name.startswith(("hugepages-", "attachable-volumes-"))


def value_of(name: str, raw: Any) -> int:
    """A quantity as the scheduler counts it: millicores for cpu, rounded-up units else."""
    key = ((name == CPU and CPU) or "", raw)
    cached = _PARSED.get(key)
    if cached is not None:
        return cached
    try:
        q = quantity.parse(raw)
    except (ValueError, TypeError):
        value = 0
    else:
        value = q.milli_value if name == CPU else -(-q.value.numerator // q.value.denominator)
    if len(_PARSED) < 65536:
        _PARSED[key] = value
    return value


def resource_list(raw: Mapping[str, Any] | None) -> Requests:
    """A ResourceList (`{"cpu": "500m"}`) in integers; unknown names are kept (scalars)."""
    if not raw:
        return {}
    return {name: value_of(name, v) for name, v in raw.items()}


def _add(into: Requests, other: Mapping[str, int]) -> None:
    for name, v in other.items():
        into[name] = into.get(name, 0) + v


def _max(into: Requests, other: Mapping[str, int]) -> None:
    for name, v in other.items():
        into[name] = max(into.get(name, 0), v)


def _container_requests(container: Mapping[str, Any], non_missing: bool) -> Requests:
    reqs = resource_list((container.get("resources") or {}).get("requests"))
    if non_missing:
        reqs.setdefault(CPU, DEFAULT_MILLI_CPU_REQUEST)
        reqs.setdefault(MEMORY, DEFAULT_MEMORY_REQUEST)
    return reqs


def pod_requests(pod: Mapping[str, Any], non_missing: bool = False) -> Requests:
    """upstream's `resourcehelper.PodRequests` (with NonMissingContainerRequests if asked)."""
    spec = pod.get("spec") or {}
    reqs: Requests = {}
    for c in spec.get("containers") or ():
        _add(reqs, _container_requests(c, non_missing))
    sidecars: Requests = {}
    init_use: Requests = {}
    for c in spec.get("initContainers") or ():
        creqs = _container_requests(c, non_missing)
        if c.get("restartPolicy") == "Always":
            _add(reqs, creqs)
            _add(sidecars, creqs)
            use = dict(sidecars)
        else:
            use = dict(creqs)
            _add(use, sidecars)
        _max(init_use, use)
    _max(reqs, init_use)
    pod_level = (spec.get("resources") or {}).get("requests")
    if pod_level:
        for name, raw in pod_level.items():
            if name in _POD_LEVEL or name.startswith("hugepages-"):
                reqs[name] = value_of(name, raw)
    overhead = spec.get("overhead")
    if overhead:
        _add(reqs, resource_list(overhead))
    return reqs


def allocatable(node: Mapping[str, Any]) -> Requests:
    status = node.get("status") or {}
    return resource_list(status.get("allocatable") or status.get("capacity"))
