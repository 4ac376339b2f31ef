"""Cluster events and queueing hints: what may make an unschedulable pod schedulable.

Upstream's scheduling queue parks a pod that no node fits until an event arrives that
one of the plugins that rejected it cares about ("a node was added", "a pod on a node
was deleted", "a node's taints changed"), optionally refined by a hint function that
looks at the old and new object. The types here are that vocabulary; `node_changes` and
`pod_changes` turn an informer update into the specific actions plugins register for.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openeks.kube.scheduler.framework.types import PodInfo

Obj = dict[str, Any]

# Resources an event can be about.
NODE = "Node"
ASSIGNED_POD = "AssignedPod"
UNSCHEDULED_POD = "UnscheduledPod"
WILDCARD = "*"


class Action(enum.IntFlag):
    ADD = 1
    DELETE = 2
    UPDATE_NODE_ALLOCATABLE = 4
    UPDATE_NODE_LABEL = 8
    UPDATE_NODE_TAINT = 16
    UPDATE_NODE_CONDITION = 32
    UPDATE_NODE_ANNOTATION = 64
    UPDATE_POD_LABEL = 128
    UPDATE_POD_SCALE_DOWN = 256
    UPDATE_POD_TOLERATIONS = 512
    UPDATE_POD_SCHEDULING_GATES_ELIMINATED = 1024
    UPDATE_POD_GENERATED_RESOURCE_CLAIM = 2048
    UPDATE_OTHER = 4096

    UPDATE = (
        UPDATE_NODE_ALLOCATABLE
        | UPDATE_NODE_LABEL
        | UPDATE_NODE_TAINT
        | UPDATE_NODE_CONDITION
        | UPDATE_NODE_ANNOTATION
        | UPDATE_POD_LABEL
        | UPDATE_POD_SCALE_DOWN
        | UPDATE_POD_TOLERATIONS
        | UPDATE_POD_SCHEDULING_GATES_ELIMINATED
        | UPDATE_POD_GENERATED_RESOURCE_CLAIM
        | UPDATE_OTHER
    )
    ALL = ADD | DELETE | UPDATE


@dataclass(frozen=True)
class ClusterEvent:
    resource: str
    action: Action
    label: str = ""

    def matches(self, other: ClusterEvent) -> bool:
        """Does this registered interest cover the event `other` that happened?"""
        if self.resource != WILDCARD and self.resource != other.resource:
            return False
        return bool(self.action & other.action)


# hint(pod, old, new) -> True to queue the pod, False to leave it parked.
QueueingHintFn = Callable[["PodInfo", "Obj | None", "Obj | None"], bool]


@dataclass(frozen=True)
class ClusterEventWithHint:
    event: ClusterEvent
    hint: QueueingHintFn | None = None


NODE_ADD = ClusterEvent(NODE, Action.ADD, "NodeAdd")
ASSIGNED_POD_DELETE = ClusterEvent(ASSIGNED_POD, Action.DELETE, "AssignedPodDelete")
ASSIGNED_POD_ADD = ClusterEvent(ASSIGNED_POD, Action.ADD, "AssignedPodAdd")
FORCE_ACTIVATE = ClusterEvent(WILDCARD, Action.ALL, "ForceActivate")
UNSCHEDULABLE_TIMEOUT = ClusterEvent(WILDCARD, Action.ALL, "UnschedulableTimeout")


def node_changes(old: Obj, new: Obj) -> list[ClusterEvent]:
    """The node-update events between two versions (NodeSchedulingPropertiesChange)."""
    events = []
    o_status, n_status = old.get("status") or {}, new.get("status") or {}
    o_spec, n_spec = old.get("spec") or {}, new.get("spec") or {}
    o_meta, n_meta = old.get("metadata") or {}, new.get("metadata") or {}
    if o_spec.get("unschedulable") != n_spec.get("unschedulable"):
        events.append(ClusterEvent(NODE, Action.UPDATE_NODE_TAINT, "NodeSpecUnschedulableChange"))
    if o_status.get("allocatable") != n_status.get("allocatable"):
        events.append(ClusterEvent(NODE, Action.UPDATE_NODE_ALLOCATABLE, "NodeAllocatableChange"))
    if o_meta.get("labels") != n_meta.get("labels"):
        events.append(ClusterEvent(NODE, Action.UPDATE_NODE_LABEL, "NodeLabelChange"))
    if o_spec.get("taints") != n_spec.get("taints"):
        events.append(ClusterEvent(NODE, Action.UPDATE_NODE_TAINT, "NodeTaintChange"))
    if _conditions(o_status) != _conditions(n_status):
        events.append(ClusterEvent(NODE, Action.UPDATE_NODE_CONDITION, "NodeConditionChange"))
    if o_meta.get("annotations") != n_meta.get("annotations"):
        events.append(ClusterEvent(NODE, Action.UPDATE_NODE_ANNOTATION, "NodeAnnotationChange"))
    return events


def _conditions(status: Obj) -> dict[str, str]:
    return {c.get("type", ""): c.get("status", "") for c in status.get("conditions") or ()}


def pod_changes(old: Obj, new: Obj, resource: str) -> list[ClusterEvent]:
    """Pod-update events (label change, scale down, toleration change, gates removed)."""
    from openeks.kube.scheduler.framework import resources as res

    events = []
    o_meta, n_meta = old.get("metadata") or {}, new.get("metadata") or {}
    o_spec, n_spec = old.get("spec") or {}, new.get("spec") or {}
    if o_meta.get("labels") != n_meta.get("labels"):
        events.append(ClusterEvent(resource, Action.UPDATE_POD_LABEL, "PodLabelChange"))
    if o_spec.get("tolerations") != n_spec.get("tolerations"):
        events.append(ClusterEvent(resource, Action.UPDATE_POD_TOLERATIONS, "PodTolerationChange"))
    if o_spec.get("schedulingGates") and not n_spec.get("schedulingGates"):
        events.append(
            ClusterEvent(
                resource,
                Action.UPDATE_POD_SCHEDULING_GATES_ELIMINATED,
                "PodSchedulingGateEliminatedChange",
            )
        )
    o_req, n_req = res.pod_requests(old), res.pod_requests(new)
    if any(n_req.get(k, 0) < v for k, v in o_req.items()):
        events.append(ClusterEvent(resource, Action.UPDATE_POD_SCALE_DOWN, "PodRequestScaledDown"))
    if not events:
        events.append(ClusterEvent(resource, Action.UPDATE_OTHER, "PodUpdate"))
    return events
