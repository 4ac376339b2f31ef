"""NodePorts: a pod's hostPorts must be free on the node (same protocol and port, and the
same host IP or either side bound to 0.0.0.0)."""

from __future__ import annotations

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
    PreFilterPlugin,
    PreFilterResult,
)
from openeks.kube.scheduler.framework.status import SKIP, Status, unschedulable
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names

ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
ANY_IP = "0.0.0.0"


def conflicts(wanted: list[tuple[str, str, int]], used: dict[tuple[str, str, int], Any]) -> bool:
    for ip, proto, port in wanted:
        for uip, uproto, uport in used:
            if port == uport and proto == uproto and (ip == uip or ANY_IP in (ip, uip)):
                return True
    return False


class NodePorts(PreFilterPlugin, FilterPlugin):
    NAME = names.NODE_PORTS

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(ClusterEvent(ASSIGNED_POD, Action.DELETE)),
            ClusterEventWithHint(ClusterEvent(NODE, Action.ADD)),
        ]

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        if not pod.host_ports:
            return None, SKIP
        return None, None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if pod.host_ports and node.used_ports and conflicts(pod.host_ports, node.used_ports):
            return unschedulable(ERR_REASON)
        return None
