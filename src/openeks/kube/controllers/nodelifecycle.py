"""The node lifecycle controller: notices dead kubelets, taints their nodes, evicts.

Every `monitor_period` (5 s) one pass over the node and lease caches
(`common.nodehealth`) marks nodes whose kubelet has gone quiet for `grace_period`
(40 s) as Unknown ("Kubelet stopped posting node status."); on that transition it
records a `NodeNotReady` event and marks the node's pods NotReady, as upstream does.
Each node's controller-owned taints follow its conditions (`common.taints`):
`node.kubernetes.io/unreachable` (Ready Unknown) or `not-ready` (Ready False) with
effects NoSchedule and NoExecute, the pressure / network / unschedulable NoSchedule
taints, all removed when the node recovers. Pods on a NoExecute-tainted node are
evicted when their tolerations run out (`common.tainteviction`).

Not ported: per-zone states and rate limits (upstream taints at most 0.1 node/s per
zone, and stops evicting in a zone whose nodes are all down); here every overdue node
is tainted on the next pass.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import EventRecorder
from openeks.kube.client.resources import LEASES, NODES, PODS
from openeks.kube.controllers.base import Controller, ControllerContext
from openeks.kube.controllers.common import nodehealth, taints
from openeks.kube.controllers.common import pods as podutil
from openeks.kube.controllers.common.tainteviction import NODE_INDEX, TaintEvictor, pod_node

log = logging.getLogger(__name__)

Obj = dict[str, Any]
LEASE_NAMESPACE = "kube-node-lease"


class NodeLifecycleController(Controller):
    name = "nodelifecycle"
    workers = 4
    monitor_period = 5.0
    grace_period = 40.0
    """node-monitor-grace-period: silence after which a node is Unknown."""
    startup_grace_period = 60.0
    """For a node that never posted a Ready condition."""

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.recorder = EventRecorder(self.client, "node-controller")  # upstream's event source
        self.now: Callable[[], datetime.datetime] = meta.now
        self.health: dict[str, nodehealth.Health] = {}

    def setup(self) -> None:
        self.nodes = self.informers.get(NODES)
        self.leases = self.informers.get(LEASES, namespace=LEASE_NAMESPACE)
        self.pods = self.informers.get(PODS)
        self.pods.add_index(NODE_INDEX, pod_node)
        self.evictor = TaintEvictor(
            self.client,
            EventRecorder(self.client, "taint-eviction-controller"),
            self.nodes,
            self.pods,
            lambda: self.now(),
        )
        self.nodes.on(add=self._node_added, update=self._node_updated, delete=self._node_deleted)
        self.pods.on(
            add=lambda p: self.evictor.pod_updated(None, p),
            update=self.evictor.pod_updated,
            delete=self.evictor.pod_deleted,
        )

    def _node_added(self, node: Obj) -> None:
        self.enqueue(node["metadata"]["name"])
        self.evictor.node_updated(None, node)

    def _node_updated(self, old: Obj, node: Obj) -> None:
        self.enqueue(node["metadata"]["name"])
        self.evictor.node_updated(old, node)

    def _node_deleted(self, node: Obj) -> None:
        self.health.pop(node["metadata"]["name"], None)

    async def run(self) -> None:
        await asyncio.gather(super().run(), self.evictor.run(), self._monitor_loop())

    # -- health --------------------------------------------------------------------------
    async def _monitor_loop(self) -> None:
        while True:
            try:
                await self.monitor_once()
            except Exception:
                log.exception("node lifecycle: monitor pass failed")
            await asyncio.sleep(self.monitor_period)

    async def monitor_once(self) -> None:
        """One pass over all nodes: update health records, mark overdue nodes Unknown."""
        now = self.now()
        for node in self.nodes.list():
            name = node["metadata"]["name"]
            lease = self.leases.get(f"{LEASE_NAMESPACE}/{name}")
            health = nodehealth.observe(self.health.get(name), node, lease, now)
            self.health[name] = health
            conditions = nodehealth.stale_conditions(
                node, health, now, self.grace_period, self.startup_grace_period
            )
            if conditions is not None:
                await self._mark_unknown(node, conditions)

    async def _mark_unknown(self, node: Obj, conditions: list[Obj]) -> None:
        was_ready = taints.condition_status(node, "Ready") == "True"
        new = meta.deep_copy(node)
        new.setdefault("status", {})["conditions"] = conditions
        try:
            await self.client.update_status(NODES, new)
        except ApiError as e:
            log.info("node lifecycle: could not update node %s: %s", node["metadata"]["name"], e)
            return
        if was_ready:
            name = node["metadata"]["name"]
            await self.recorder.event(
                node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady"
            )
            await self._mark_pods_not_ready(name)

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        for pod in self.pods.by_index(NODE_INDEX, node_name):
            ready = podutil.condition(pod, "Ready")
            if ready is None or ready.get("status") == "False":
                continue
            new = meta.deep_copy(pod)
            podutil.set_condition(new, {"type": "Ready", "status": "False"}, self.now())
            try:
                await self.client.update_status(PODS, new)
            except ApiError as e:
                if e.code != 404:
                    log.info(
                        "node lifecycle: could not mark pod %s not ready: %s",
                        pod["metadata"]["name"],
                        e,
                    )
                continue
            await self.recorder.event(pod, "Warning", "NodeNotReady", "Node is not ready")

    # -- taints --------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        node = self.nodes.get(key)
        if node is None:
            return
        wanted = taints.reconcile_taints(node, meta.rfc3339(self.now()))
        if wanted is None:
            return
        patch = {
            "metadata": {"resourceVersion": node["metadata"]["resourceVersion"]},
            "spec": {"taints": wanted or None},
        }
        try:
            await self.client.patch(NODES, key, patch)
        except ApiError as e:
            if e.code == 404:
                return
            if e.code == 409:  # the cache is behind; the update event brings us back
                return
            raise
