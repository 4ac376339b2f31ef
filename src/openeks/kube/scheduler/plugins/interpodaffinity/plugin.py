"""The InterPodAffinity plugin: arguments, extension points and queueing hints.

Arguments as upstream's InterPodAffinityArgs: `hardPodAffinityWeight` (0..100, default
1) and `ignorePreferredTermsOfExistingPods` (default false).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from openeks.kube.scheduler.framework.registry import int_arg
from openeks.kube.scheduler.framework.status import SKIP, Status
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names
from openeks.kube.scheduler.plugins.interpodaffinity import filtering, scoring

_PREFILTER_KEY = "PreFilter" + names.INTER_POD_AFFINITY
_PRESCORE_KEY = "PreScore" + names.INTER_POD_AFFINITY


class InterPodAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    NAME = names.INTER_POD_AFFINITY
    has_normalize = True

    def __init__(self, handle: Handle, args: Mapping[str, Any] | None = None) -> None:
        super().__init__(handle, args)
        args = args or {}
        self.hard_weight = int_arg(args, "hardPodAffinityWeight", 1, 0, 100)
        self.ignore_existing_preferred = bool(args.get("ignorePreferredTermsOfExistingPods"))

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(ASSIGNED_POD, Action.ADD | Action.DELETE | Action.UPDATE_POD_LABEL)
            ),
            ClusterEventWithHint(ClusterEvent(NODE, Action.ADD | Action.UPDATE_NODE_LABEL)),
        ]

    # -- filter ----------------------------------------------------------------------------
    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        if (
            not pod.required_affinity
            and not pod.required_anti_affinity
            and not self.handle.snapshot.have_pods_with_required_anti_affinity()
        ):
            return None, SKIP
        pre = filtering.compute(pod, self.handle.snapshot, self.handle.listers)
        if (
            not pre.existing_anti_affinity
            and not pre.affinity_terms
            and not pre.anti_affinity_terms
        ):
            return None, SKIP
        state.write(_PREFILTER_KEY, pre)
        return None, None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        pre = state.get(_PREFILTER_KEY)
        if pre is None:
            pre = filtering.compute(pod, self.handle.snapshot, self.handle.listers)
            state.write(_PREFILTER_KEY, pre)
        return filtering.filter_node(pre, node)

    # -- score -----------------------------------------------------------------------------
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        if (
            not pod.preferred_affinity
            and not pod.preferred_anti_affinity
            and not self.handle.snapshot.have_pods_with_affinity()
        ):
            return SKIP
        scores = scoring.compute(
            pod,
            self.handle.snapshot,
            self.handle.listers,
            self.hard_weight,
            self.ignore_existing_preferred,
        )
        if scores is None:
            return SKIP
        state.write(_PRESCORE_KEY, scores)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        scores = state.get(_PRESCORE_KEY)
        if scores is None:
            scores = (
                scoring.compute(
                    pod,
                    self.handle.snapshot,
                    self.handle.listers,
                    self.hard_weight,
                    self.ignore_existing_preferred,
                )
                or {}
            )
        return scoring.score_node(scores, node)

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], scores: list[int]
    ) -> None:
        scoring.normalize(scores)
