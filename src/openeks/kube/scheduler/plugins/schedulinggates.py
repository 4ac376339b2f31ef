"""SchedulingGates: a pod with `spec.schedulingGates` is not scheduled until they are gone."""

from __future__ import annotations

from openeks.kube.scheduler.framework.events import (
    UNSCHEDULED_POD,
    Action,
    ClusterEvent,
    ClusterEventWithHint,
)
from openeks.kube.scheduler.framework.interface import PreEnqueuePlugin
from openeks.kube.scheduler.framework.status import Status, unresolvable
from openeks.kube.scheduler.framework.types import PodInfo
from openeks.kube.scheduler.plugins import names


class SchedulingGates(PreEnqueuePlugin):
    NAME = names.SCHEDULING_GATES

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(UNSCHEDULED_POD, Action.UPDATE_POD_SCHEDULING_GATES_ELIMINATED)
            )
        ]

    def pre_enqueue(self, pod: PodInfo) -> Status | None:
        gates = pod.spec.get("schedulingGates") or []
        if not gates:
            return None
        listed = " ".join(g.get("name", "") for g in gates)
        return unresolvable(f"waiting for scheduling gates: [{listed}]")
