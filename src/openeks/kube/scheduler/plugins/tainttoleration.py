"""TaintToleration: NoSchedule/NoExecute taints filter, PreferNoSchedule taints score.

Filter: the first NoSchedule or NoExecute taint of the node that the pod does not
tolerate rejects it ("node(s) had untolerated taint(s)", upstream's wording since 1.34).
Score: the number of PreferNoSchedule taints not tolerated by the pod's tolerations
that have effect PreferNoSchedule or none, normalised in reverse (fewer is better).
When no candidate node has a PreferNoSchedule taint every node would get the same
score, so PreScore skips the plugin for that cycle.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.events import NODE, Action, ClusterEvent, ClusterEventWithHint
from openeks.kube.scheduler.framework.interface import (
    FilterPlugin,
    PreScorePlugin,
    ScorePlugin,
    default_normalize,
)
from openeks.kube.scheduler.framework.status import SKIP, Status, unresolvable
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names
from openeks.kube.scheduler.plugins.helper.taints import find_untolerated, tolerated

ERR_REASON = "node(s) had untolerated taint(s)"
_PRESCORE_KEY = "PreScore" + names.TAINT_TOLERATION


def _now_tolerated(pod: PodInfo, old: Any, new: Any) -> bool:
    if new is None:
        return False
    hard = [
        t
        for t in (new.get("spec") or {}).get("taints") or ()
        if t.get("effect") in ("NoSchedule", "NoExecute")
    ]
    return find_untolerated(hard, pod.tolerations) is None


class TaintToleration(FilterPlugin, PreScorePlugin, ScorePlugin):
    NAME = names.TAINT_TOLERATION
    has_normalize = True

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(NODE, Action.ADD | Action.UPDATE_NODE_TAINT), _now_tolerated
            )
        ]

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.hard_taints or find_untolerated(node.hard_taints, pod.tolerations) is None:
            return None
        return unresolvable(ERR_REASON)

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], failed: dict[str, Status]
    ) -> list[NodeInfo]:
        if not self.handle.snapshot.any_hard_taints():
            return nodes
        passed = [n for n in nodes if not n.hard_taints]
        if len(passed) == len(nodes):
            return passed
        return super().filter_nodes(state, pod, nodes, failed)

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        if not self.handle.snapshot.any_soft_taints() or not any(n.soft_taints for n in nodes):
            return SKIP
        prefer = [t for t in pod.tolerations if t.get("effect", "") in ("", "PreferNoSchedule")]
        state.write(_PRESCORE_KEY, prefer)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        prefer = state.get(_PRESCORE_KEY)
        if prefer is None:
            prefer = [t for t in pod.tolerations if t.get("effect", "") in ("", "PreferNoSchedule")]
        return sum(1 for taint in node.soft_taints if not tolerated(taint, prefer))

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], scores: list[int]
    ) -> None:
        default_normalize(scores, reverse=True)
