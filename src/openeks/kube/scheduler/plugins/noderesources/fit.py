"""NodeResourcesFit: does the pod's request fit what the node has left; score by strategy.

Filter is upstream's `fitsRequest`: one more pod must fit `pods` allocatable ("Too many
pods"), and each requested resource (cpu, memory, ephemeral-storage, extended) must fit
allocatable minus what the node's pods already request ("Insufficient cpu"). A request
larger than the node's whole allocatable makes the status UnschedulableAndUnresolvable
(1.34+): no preemption can help there. Requests follow `resourcehelper.PodRequests`
(init containers' maximum, sidecars, pod-level resources, overhead).

Score is the configured strategy (LeastAllocated by default: cpu and memory, weight 1
each; MostAllocated also available) over non-zero requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.scheduler.framework import resources as res
from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.events import (
    ASSIGNED_POD,
    NODE,
    Action,
    ClusterEvent,
    ClusterEventWithHint,
)
from openeks.kube.scheduler.framework.interface import (
    FilterPlugin,
    Handle,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
)
from openeks.kube.scheduler.framework.registry import ArgsError
from openeks.kube.scheduler.framework.status import Code, Status
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names
from openeks.kube.scheduler.plugins.noderesources.resource_allocation import (
    AllocationScorer,
    least_requested,
    most_requested,
)

_PREFILTER_KEY = "PreFilter" + names.NODE_RESOURCES_FIT
_PRESCORE_KEY = "PreScore" + names.NODE_RESOURCES_FIT
_NEVER = -(1 << 62)
STRATEGIES = {"LeastAllocated": least_requested, "MostAllocated": most_requested}
DEFAULT_RESOURCES = [(res.CPU, 1), (res.MEMORY, 1)]


@dataclass
class Request:
    cpu: int
    memory: int
    ephemeral: int
    scalars: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.cpu or self.memory or self.ephemeral or self.scalars)


def insufficient(req: Request, node: NodeInfo) -> tuple[list[str], bool]:
    """Reasons the request does not fit, and whether any is unresolvable."""
    reasons: list[str] = []
    unresolvable = False
    if len(node.pods) + 1 > node.alloc_pods:
        reasons.append("Too many pods")
    if req.empty:
        return reasons, unresolvable
    for want, free, alloc, name in (
        (req.cpu, node.free_cpu, node.alloc_cpu, res.CPU),
        (req.memory, node.free_memory, node.alloc_memory, res.MEMORY),
        (req.ephemeral, node.free_ephemeral, node.alloc_ephemeral, res.EPHEMERAL_STORAGE),
    ):
        if want > 0 and want > free:
            reasons.append(f"Insufficient {name}")
            unresolvable = unresolvable or want > alloc
    for name, want in req.scalars.items():
        if want == 0:
            continue
        alloc = node.alloc_scalars.get(name, 0)
        if want > alloc - node.req_scalars.get(name, 0):
            reasons.append(f"Insufficient {name}")
            unresolvable = unresolvable or want > alloc
    return reasons, unresolvable


def _fits_new_node(pod: PodInfo, old: Any, new: Any) -> bool:
    """Queueing hint: the added/updated node could hold the pod, and gained capacity."""
    if new is None:
        return False
    req = Request(pod.cpu, pod.memory, pod.ephemeral, dict(pod.scalars))
    reasons, _ = insufficient(req, NodeInfo(new))
    if reasons:
        return False
    if old is None:
        return True
    before, after = res.allocatable(old), res.allocatable(new)
    if after.get(res.PODS, 0) > before.get(res.PODS, 0):
        return True
    return any(v > 0 and after.get(k, 0) > before.get(k, 0) for k, v in pod.requests.items())


class Fit(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    NAME = names.NODE_RESOURCES_FIT

    def __init__(self, handle: Handle, args: Mapping[str, Any] | None = None) -> None:
        super().__init__(handle, args)
        args = args or {}
        self.ignored = set(args.get("ignoredResources") or [])
        self.ignored_groups = set(args.get("ignoredResourceGroups") or [])
        for group in self.ignored_groups:
            if "/" in group:
                raise ArgsError(
                    f"ignoredResourceGroups: Invalid value: {group!r}: "
                    "resource group name can't contain '/'"
                )
        strategy = args.get("scoringStrategy") or {}
        kind = strategy.get("type", "LeastAllocated")
        if kind not in STRATEGIES:
            raise ArgsError(
                f'scoringStrategy.type: Unsupported value: "{kind}": supported values: '
                '"LeastAllocated", "MostAllocated"'
            )
        resources = [
            (r.get("name", ""), int(r.get("weight", 1))) for r in strategy.get("resources") or ()
        ] or DEFAULT_RESOURCES
        for i, (_, weight) in enumerate(resources):
            if not 1 <= weight <= 100:
                raise ArgsError(
                    f"scoringStrategy.resources[{i}].weight: Invalid value: {weight}: "
                    "resource weight of cpu should be in the range of 1-100"
                )
        self.scorer = AllocationScorer(resources, STRATEGIES[kind], use_requested=False)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(ASSIGNED_POD, Action.DELETE | Action.UPDATE_POD_SCALE_DOWN)
            ),
            ClusterEventWithHint(
                ClusterEvent(NODE, Action.ADD | Action.UPDATE_NODE_ALLOCATABLE), _fits_new_node
            ),
        ]

    # -- filter ----------------------------------------------------------------------------
    def _request(self, pod: PodInfo) -> Request:
        scalars = {
            k: v
            for k, v in pod.scalars.items()
            if k not in self.ignored and k.split("/", 1)[0] not in self.ignored_groups
        }
        return Request(pod.cpu, pod.memory, pod.ephemeral, scalars)

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        state.write(_PREFILTER_KEY, self._request(pod))
        return None, None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        req = state.get(_PREFILTER_KEY) or self._request(pod)
        reasons, unresolvable = insufficient(req, node)
        if not reasons:
            return None
        code = Code.UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
        return Status(code, *reasons)

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], failed: dict[str, Status]
    ) -> list[NodeInfo]:
        req: Request = state.get(_PREFILTER_KEY) or self._request(pod)
        if req.scalars:
            return super().filter_nodes(state, pod, nodes, failed)
        cpu = req.cpu if req.cpu > 0 else _NEVER
        mem = req.memory if req.memory > 0 else _NEVER
        eph = req.ephemeral if req.ephemeral > 0 else _NEVER
        passed = [
            n
            for n in nodes
            if n.free_pods > 0
            and n.free_cpu >= cpu
            and n.free_memory >= mem
            and n.free_ephemeral >= eph
        ]
        if len(passed) == len(nodes):
            return passed
        return super().filter_nodes(state, pod, nodes, failed)

    # -- score -----------------------------------------------------------------------------
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        state.write(_PRESCORE_KEY, self.scorer.request_vector(pod))
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        vector = state.get(_PRESCORE_KEY) or self.scorer.request_vector(pod)
        return self.scorer.score(node, vector)

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        vector = state.get(_PRESCORE_KEY) or self.scorer.request_vector(pod)
        return self.scorer.score_nodes(nodes, vector)
