"""NodeName: a pod that names a node (`spec.nodeName`) fits only that node."""

from __future__ import annotations

from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.events import NODE, Action, ClusterEvent, ClusterEventWithHint
from openeks.kube.scheduler.framework.interface import FilterPlugin
from openeks.kube.scheduler.framework.status import Status, unresolvable
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names

ERR_REASON = "node(s) didn't match the requested node name"


class NodeName(FilterPlugin):
    NAME = names.NODE_NAME

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [ClusterEventWithHint(ClusterEvent(NODE, Action.ADD))]

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not pod.node_name or pod.node_name == node.name:
            return None
        return unresolvable(ERR_REASON)

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], failed: dict[str, Status]
    ) -> list[NodeInfo]:
        if not pod.node_name:
            return nodes
        return super().filter_nodes(state, pod, nodes, failed)
