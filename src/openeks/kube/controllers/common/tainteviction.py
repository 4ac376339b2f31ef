"""Taint-based eviction: pods leave nodes whose NoExecute taints they stop tolerating.

Upstream's taint eviction controller, run by the node lifecycle controller. A pod on a
node with NoExecute taints is deleted at once if some taint is not tolerated at all,
after the shortest `tolerationSeconds` of the tolerations that matched if all are
tolerated for a while, and never if one tolerates forever. The wait starts when the
controller first sees the pod under those taints; a scheduled eviction is cancelled
(with a `TaintManagerEviction` "Cancelling deletion" event) when the taints go. An
eviction records `TaintManagerEviction` "Marking for deletion Pod ns/name", sets the
pod's `DisruptionTarget` condition (`DeletionByTaintManager`), and deletes the pod.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, EventRecorder, Informer, key_of
from openeks.kube.client.resources import PODS
from openeks.kube.controllers.common import pods as podutil
from openeks.kube.controllers.common import taints
from openeks.runtime import WorkQueue, run_workers

log = logging.getLogger(__name__)

Obj = dict[str, Any]
NODE_INDEX = podutil.NODE_INDEX
pod_node = podutil.node_index


class TaintEvictor:
    def __init__(
        self,
        client: Client,
        recorder: EventRecorder,
        nodes: Informer,
        pods: Informer,
        now: Callable[[], datetime.datetime],
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.nodes = nodes
        self.pods = pods
        self.now = now
        self.queue = WorkQueue("taint-eviction")
        self.scheduled: dict[str, tuple[datetime.datetime, datetime.datetime]] = {}
        """pod key → (when first seen under the taints, when to evict)."""
        self._pending: set[asyncio.Task[None]] = set()

    async def run(self, workers: int = 4) -> None:
        await run_workers("taint-eviction", self.queue, self._fire, workers)

    # -- events --------------------------------------------------------------------------
    def pod_updated(self, old: Obj | None, pod: Obj) -> None:
        if (
            old is not None
            and (old.get("spec") or {}).get("tolerations")
            == (pod.get("spec") or {}).get("tolerations")
            and pod_node(old) == pod_node(pod)
        ):
            return
        self.process(pod)

    def pod_deleted(self, pod: Obj) -> None:
        self._cancel(key_of(pod), pod)

    def node_updated(self, old: Obj | None, node: Obj) -> None:
        if old is not None and taints.no_execute_taints(old) == taints.no_execute_taints(node):
            return
        for pod in self.pods.by_index(NODE_INDEX, node["metadata"]["name"]):
            self.process(pod, node)

    def process(self, pod: Obj, node: Obj | None = None) -> None:
        key = key_of(pod)
        names = pod_node(pod)
        node = node or (self.nodes.get(names[0]) if names else None)
        if node is None:
            return
        no_execute = taints.no_execute_taints(node)
        if not no_execute:
            self._cancel(key, pod)
            return
        tolerated, used = taints.matching_tolerations(
            no_execute, (pod.get("spec") or {}).get("tolerations") or []
        )
        now = self.now()
        if not tolerated:
            self._cancel(key, pod)
            self._schedule(key, now, now)
            return
        seconds = taints.min_toleration_seconds(used)
        if seconds is None:
            self._cancel(key, pod)
            return
        if key in self.scheduled:
            return
        self._schedule(key, now, now + datetime.timedelta(seconds=seconds))

    # -- scheduling ----------------------------------------------------------------------
    def _schedule(self, key: str, created: datetime.datetime, at: datetime.datetime) -> None:
        self.scheduled[key] = (created, at)
        self.queue.add_after(key, (at - self.now()).total_seconds())

    def _cancel(self, key: str, pod: Obj) -> None:
        if self.scheduled.pop(key, None) is None:
            return
        self.queue.forget(key)
        self._event(pod, f"Cancelling deletion of Pod {key}")

    def _event(self, pod: Obj, message: str) -> None:
        """Record from a synchronous informer handler without blocking it."""
        task = asyncio.get_running_loop().create_task(
            self.recorder.event(pod, "Normal", "TaintManagerEviction", message)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _fire(self, key: str) -> None:
        entry = self.scheduled.get(key)
        if entry is None:
            return
        left = (entry[1] - self.now()).total_seconds()
        if left > 0:
            self.queue.add_after(key, left)
            return
        del self.scheduled[key]
        pod = self.pods.get(key)
        if pod is None or podutil.is_deleting(pod):
            return
        await self.recorder.event(
            pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {key}"
        )
        try:
            await self._evict(pod)
        except ApiError:
            self.scheduled.setdefault(key, (entry[0], self.now()))
            raise

    async def _evict(self, pod: Obj) -> None:
        m = pod["metadata"]
        try:
            fresh: Obj = await self.client.get(PODS, m["name"], m["namespace"])
            cond = {
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "DeletionByTaintManager",
                "message": "Taint manager: deleting due to NoExecute taint",
            }
            if podutil.set_condition(fresh, cond, meta.now()):
                await self.client.update_status(PODS, fresh)
            await self.client.delete(PODS, m["name"], m["namespace"])
        except ApiError as e:
            if e.code != 404:
                raise
