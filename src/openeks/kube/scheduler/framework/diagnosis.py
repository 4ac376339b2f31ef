"""Why a pod fits nowhere: per-node statuses and upstream's `FitError` message.

The message is what users read in `kubectl describe pod` and what tools parse, so it is
built exactly as upstream's `FitError.Error()`: "0/N nodes are available:", then either
the PreFilter message or a histogram of filter reasons ("3 Insufficient cpu" — count,
space, reason; entries sorted as strings and joined with ", "), then a period, then the
PostFilter message ("preemption: 0/N nodes are available: ...").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from openeks.kube.scheduler.framework.status import Code, Status

NO_NODE_AVAILABLE = "0/{} nodes are available"
NO_NODES = "no nodes available to schedule pods"


class NodeToStatus:
    """Statuses of nodes a pod does not fit; nodes not listed share `absent`."""

    def __init__(
        self, statuses: dict[str, Status] | None = None, absent: Status | None = None
    ) -> None:
        self.statuses: dict[str, Status] = statuses if statuses is not None else {}
        self.absent = absent or Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    def get(self, node_name: str) -> Status:
        return self.statuses.get(node_name) or self.absent

    def set(self, node_name: str, status: Status) -> None:
        self.statuses[node_name] = status

    def __len__(self) -> int:
        return len(self.statuses)

    def __iter__(self) -> Iterator[tuple[str, Status]]:
        return iter(self.statuses.items())


@dataclass
class Diagnosis:
    node_to_status: NodeToStatus = field(default_factory=NodeToStatus)
    unschedulable_plugins: set[str] = field(default_factory=set)
    pending_plugins: set[str] = field(default_factory=set)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""

    def add_plugin_status(self, status: Status) -> None:
        if not status.plugin:
            return
        if status.is_rejected():
            self.unschedulable_plugins.add(status.plugin)
        if status.code == Code.PENDING:
            self.pending_plugins.add(status.plugin)


def reason_histogram(node_to_status: NodeToStatus, num_all_nodes: int) -> list[str]:
    counts: dict[str, int] = {}
    for _, status in node_to_status:
        for reason in status.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    missing = num_all_nodes - len(node_to_status)
    if missing > 0:
        for reason in node_to_status.absent.reasons:
            counts[reason] = counts.get(reason, 0) + missing
    return sorted(f"{n} {reason}" for reason, n in counts.items())


@dataclass
class FitError(Exception):
    pod_key: str
    num_all_nodes: int
    diagnosis: Diagnosis

    def __str__(self) -> str:
        return self.message()

    def message(self) -> str:
        msg = NO_NODE_AVAILABLE.format(self.num_all_nodes) + ":"
        d = self.diagnosis
        if d.pre_filter_msg:
            msg += f" {d.pre_filter_msg}."
        else:
            histogram = reason_histogram(d.node_to_status, self.num_all_nodes)
            if histogram:
                msg += " " + ", ".join(histogram) + "."
        if d.post_filter_msg:
            msg += " " + d.post_filter_msg
        return msg
