"""Informer handlers: pods and nodes into the cache and the queue, events into moves.

Pods: an assigned pod (spec.nodeName set) belongs to the cache; an unassigned pod whose
`spec.schedulerName` is this profile's, not terminating and not finished, belongs to the
queue; pods of other schedulers are ignored. The bind's own update (unassigned →
assigned) confirms the assumed pod and takes it out of the queue. Nodes go to the cache.
Every change that may make a parked pod schedulable is turned into a cluster event for
the queue (node added, node labels/taints/allocatable changed, assigned pod added,
deleted or relabelled, ...), as upstream's `addAllEventHandlers`.

Listers for Services, ReplicaSets, StatefulSets and Namespaces (this API server serves no
ReplicationControllers)
(default spreading, namespace selectors) read the same shared informers.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.client import Informer, InformerFactory
from openeks.kube.client.resources import (
    NAMESPACES,
    NODES,
    PODS,
    REPLICASETS,
    SERVICES,
    STATEFULSETS,
)
from openeks.kube.scheduler.cache import Cache, is_terminal
from openeks.kube.scheduler.framework import events as ev
from openeks.kube.scheduler.queue import SchedulingQueue

Obj = dict[str, Any]
POD_FIELD_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"


def _namespace_index(obj: Obj) -> list[str]:
    return [(obj.get("metadata") or {}).get("namespace", "")]


def _assigned(pod: Obj) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))


def _uid(pod: Obj) -> str:
    m = pod.get("metadata") or {}
    return str(m.get("uid") or f"{m.get('namespace', '')}/{m.get('name', '')}")


class InformerListers:
    """`Listers` over shared informers."""

    def __init__(self, informers: InformerFactory) -> None:
        self.svc = informers.get(SERVICES)
        self.svc.add_index("namespace", _namespace_index)
        self.rs = informers.get(REPLICASETS)
        self.sts = informers.get(STATEFULSETS)
        self.ns = informers.get(NAMESPACES)

    def services(self, namespace: str) -> list[Obj]:
        return self.svc.by_index("namespace", namespace)

    def controller(self, namespace: str, kind: str, name: str) -> Obj | None:
        informer = {"ReplicaSet": self.rs, "StatefulSet": self.sts}.get(kind)
        return informer.get(f"{namespace}/{name}") if informer is not None else None

    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        obj = self.ns.get(namespace)
        if obj is None:
            return None
        return dict((obj.get("metadata") or {}).get("labels") or {})

    def namespaces(self) -> list[tuple[str, dict[str, str]]]:
        return [
            (o["metadata"]["name"], (o["metadata"].get("labels") or {})) for o in self.ns.list()
        ]


class EventHandlers:
    def __init__(self, cache: Cache, queue: SchedulingQueue, scheduler_name: str) -> None:
        self.cache = cache
        self.queue = queue
        self.scheduler_name = scheduler_name

    def register(self, informers: InformerFactory) -> tuple[Informer, Informer]:
        pods = informers.get(PODS, field_selector=POD_FIELD_SELECTOR)
        nodes = informers.get(NODES)
        nodes.on(add=self.node_added, update=self.node_updated, delete=self.node_deleted)
        pods.on(add=self.pod_added, update=self.pod_updated, delete=self.pod_deleted)
        return pods, nodes

    def responsible(self, pod: Obj) -> bool:
        spec = pod.get("spec") or {}
        return (spec.get("schedulerName") or "default-scheduler") == self.scheduler_name

    # -- nodes -----------------------------------------------------------------------------
    def node_added(self, node: Obj) -> None:
        self.cache.add_node(node)
        self.queue.on_event(ev.NODE_ADD, None, node)

    def node_updated(self, old: Obj, new: Obj) -> None:
        self.cache.update_node(new)
        for event in ev.node_changes(old, new):
            self.queue.on_event(event, old, new)

    def node_deleted(self, node: Obj) -> None:
        self.cache.remove_node(node["metadata"]["name"])
        self.queue.on_event(ev.ClusterEvent(ev.NODE, ev.Action.DELETE, "NodeDelete"), node, None)

    # -- pods ------------------------------------------------------------------------------
    def pod_added(self, pod: Obj) -> None:
        if _assigned(pod):
            self.cache.add_pod(pod)
            self.queue.on_event(ev.ASSIGNED_POD_ADD, None, pod)
        elif self._wants(pod):
            self.queue.add(pod)

    def pod_updated(self, old: Obj, new: Obj) -> None:
        uid = _uid(new)
        if _assigned(new):
            if not _assigned(old):
                self.queue.delete(uid)
            if is_terminal(new):
                self.pod_deleted(new)
                return
            self.cache.update_pod(new)
            events = (
                ev.pod_changes(old, new, ev.ASSIGNED_POD)
                if _assigned(old)
                else [ev.ASSIGNED_POD_ADD]
            )
            for event in events:
                self.queue.on_event(event, old, new)
            return
        if not self.responsible(new):
            return
        if not self._wants(new):
            self.queue.delete(uid)
            return
        if self.cache.is_assumed(uid):
            return
        self.queue.update(new)

    def pod_deleted(self, pod: Obj) -> None:
        uid = _uid(pod)
        if _assigned(pod):
            self.cache.remove_pod(uid)
            self.queue.on_event(ev.ASSIGNED_POD_DELETE, pod, None)
        else:
            self.queue.delete(uid)

    def _wants(self, pod: Obj) -> bool:
        m = pod.get("metadata") or {}
        return self.responsible(pod) and not m.get("deletionTimestamp") and not is_terminal(pod)
