"""NodeUnschedulable: cordoned nodes (`spec.unschedulable`) take only pods that tolerate
the `node.kubernetes.io/unschedulable:NoSchedule` taint."""

from __future__ import annotations

from typing import Any

from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.events import NODE, Action, ClusterEvent, ClusterEventWithHint
from openeks.kube.scheduler.framework.interface import FilterPlugin
from openeks.kube.scheduler.framework.status import Status, unresolvable
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names
from openeks.kube.scheduler.plugins.helper.taints import tolerated

ERR_REASON = "node(s) were unschedulable"
TAINT_UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def _node_became_schedulable(pod: PodInfo, old: Any, new: Any) -> bool:
    if new is None:
        return False
    return not (new.get("spec") or {}).get("unschedulable")


class NodeUnschedulable(FilterPlugin):
    NAME = names.NODE_UNSCHEDULABLE

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(NODE, Action.ADD | Action.UPDATE_NODE_TAINT),
                _node_became_schedulable,
            )
        ]

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.unschedulable or tolerated(TAINT_UNSCHEDULABLE, pod.tolerations):
            return None
        return unresolvable(ERR_REASON)

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], failed: dict[str, Status]
    ) -> list[NodeInfo]:
        if not self.handle.snapshot.any_unschedulable():
            return nodes
        if pod.tolerations and tolerated(TAINT_UNSCHEDULABLE, pod.tolerations):
            return nodes
        passed = [n for n in nodes if not n.unschedulable]
        if len(passed) != len(nodes):
            st = unresolvable(ERR_REASON).with_plugin(self.NAME)
            for n in nodes:
                if n.unschedulable:
                    failed[n.name] = st
        return passed
