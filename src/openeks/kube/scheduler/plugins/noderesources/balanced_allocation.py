"""NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would be used evenly.

Score = (1 - std of the requested/allocatable fractions) * 100 over plain requests
(upstream uses `useRequested` here), fractions capped at 1. A pod that requests nothing
is skipped (upstream since 1.32: scoring best-effort pods by balance piles them up).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openeks.kube.scheduler.framework import resources as res
from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.interface import Handle, PreScorePlugin, ScorePlugin
from openeks.kube.scheduler.framework.registry import ArgsError
from openeks.kube.scheduler.framework.status import SKIP, Status
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names
from openeks.kube.scheduler.plugins.noderesources.resource_allocation import (
    AllocationScorer,
    balanced,
)

_PRESCORE_KEY = "PreScore" + names.NODE_RESOURCES_BALANCED_ALLOCATION


class BalancedAllocation(PreScorePlugin, ScorePlugin):
    NAME = names.NODE_RESOURCES_BALANCED_ALLOCATION

    def __init__(self, handle: Handle, args: Mapping[str, Any] | None = None) -> None:
        super().__init__(handle, args)
        raw = (args or {}).get("resources") or [{"name": res.CPU}, {"name": res.MEMORY}]
        resources = [(r.get("name", ""), int(r.get("weight", 1))) for r in raw]
        for i, (_, weight) in enumerate(resources):
            if weight != 1:
                raise ArgsError(f"resources[{i}].weight: Invalid value: {weight}: must be 1")
        self.scorer = AllocationScorer(resources, balanced, use_requested=True)

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        vector = self.scorer.request_vector(pod)
        if not any(vector):
            return SKIP
        state.write(_PRESCORE_KEY, vector)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        vector = state.get(_PRESCORE_KEY) or self.scorer.request_vector(pod)
        return self.scorer.score(node, vector)

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        vector = state.get(_PRESCORE_KEY) or self.scorer.request_vector(pod)
        return self.scorer.score_nodes(nodes, vector)
