"""One pod through the scheduler: the scheduling cycle, then the binding cycle.

The scheduling cycle (`schedule_one`) is synchronous: filter, score, pick a host,
assume the pod onto it in the cache. The binding cycle runs as its own task, so the
next pod is scheduled while this one's `pods/binding` POST is in flight — upstream's
async binding, and what makes throughput track the API server's write rate rather than
its latency. A failed bind forgets the assumption and sends the pod back with back-off.

A pod that fits nowhere runs PostFilter (preemption's explanation), is parked in the
queue, and gets a `FailedScheduling` event and a `PodScheduled=False` condition with
upstream's message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.diagnosis import NO_NODES, FitError
from openeks.kube.scheduler.framework.runtime import Framework, FrameworkError, select_host
from openeks.kube.scheduler.framework.status import error, ok
from openeks.kube.scheduler.framework.types import PodInfo
from openeks.kube.scheduler.queue import QueuedPodInfo, SchedulingQueue
from openeks.kube.scheduler.reporting import Reporter

log = logging.getLogger(__name__)

Obj = dict[str, Any]
PodLookup = Callable[[str], "Obj | None"]


class NoNodesAvailable(Exception):
    pass


def schedule_pod(fw: Framework, cache: Cache, state: CycleState, pod: PodInfo) -> str:
    """Pick a node for `pod` (upstream's schedulePod); raises FitError or NoNodesAvailable."""
    if cache.num_nodes == 0:
        raise NoNodesAvailable(NO_NODES)
    feasible, diagnosis = fw.find_feasible(state, pod, cache.nodes())
    if not feasible:
        raise FitError(pod.key, cache.num_nodes, diagnosis)
    if len(feasible) == 1:
        return feasible[0].name
    totals = fw.score(state, pod, feasible)
    return select_host(feasible, totals).name


@dataclass
class Stats:
    attempts: int = 0
    scheduled: int = 0
    bound: int = 0
    unschedulable: int = 0
    errors: int = 0


class SchedulingLoop:
    def __init__(
        self,
        framework: Framework,
        cache: Cache,
        queue: SchedulingQueue,
        reporter: Reporter | None,
        lookup: PodLookup,
        bind_concurrency: int = 64,
        record_scheduled: bool = True,
        on_bound: Callable[[PodInfo, str], None] | None = None,
    ) -> None:
        self.fw = framework
        self.cache = cache
        self.queue = queue
        self.reporter = reporter
        self.lookup = lookup
        self.record_scheduled = record_scheduled
        self.on_bound = on_bound
        self.stats = Stats()
        self._slots = asyncio.Semaphore(bind_concurrency)
        self._binds: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        try:
            while True:
                qpi = await self.queue.pop()
                try:
                    self.schedule_one(qpi)
                except Exception:
                    # A bug must not stop the scheduler: retry this pod with back-off.
                    log.exception("scheduling %s failed", qpi.pod.key)
                    self.stats.errors += 1
                    self.cache.forget(qpi.pod.uid)
                    self.queue.requeue(qpi, set(), error=True)
                await asyncio.sleep(0)
        finally:
            for task in list(self._binds):
                task.cancel()
            if self._binds:
                await asyncio.gather(*self._binds, return_exceptions=True)

    async def wait_binds(self) -> None:
        while self._binds:
            await asyncio.gather(*list(self._binds), return_exceptions=True)

    # -- scheduling cycle ------------------------------------------------------------------
    def schedule_one(self, qpi: QueuedPodInfo) -> None:
        pod = qpi.pod
        if pod.terminating or self.cache.is_assumed(pod.uid):
            self.queue.done(pod.uid)
            return
        self.stats.attempts += 1
        state = CycleState()
        try:
            host = schedule_pod(self.fw, self.cache, state, pod)
        except FitError as fit:
            self._unschedulable(qpi, state, fit)
            return
        except NoNodesAvailable:
            self.stats.unschedulable += 1
            self.queue.requeue(qpi, set(), error=False)
            self._report(pod, "Unschedulable", NO_NODES)
            return
        except FrameworkError as e:
            self.stats.errors += 1
            self.queue.requeue(qpi, set(), error=True)
            self._report(pod, "SchedulerError", str(e))
            return
        assumed = self.cache.assume(pod, host)
        self.queue.done(pod.uid)
        self.stats.scheduled += 1
        task = asyncio.create_task(self._bind(state, assumed, host, qpi))
        self._binds.add(task)
        task.add_done_callback(self._binds.discard)

    def _unschedulable(self, qpi: QueuedPodInfo, state: CycleState, fit: FitError) -> None:
        self.stats.unschedulable += 1
        d = fit.diagnosis
        if self.fw.post_filter_plugins:
            st = self.fw.run_post_filter(state, qpi.pod, d.node_to_status)
            d.post_filter_msg = st.message
        self.queue.requeue(qpi, d.unschedulable_plugins | d.pending_plugins, error=False)
        self._report(qpi.pod, "Unschedulable", fit.message())

    def _report(self, pod: PodInfo, reason: str, message: str) -> None:
        log.debug("unable to schedule %s: %s", pod.key, message)
        if self.reporter is not None:
            self.reporter.failed(pod.pod, reason, message)

    # -- binding cycle ---------------------------------------------------------------------
    async def _bind(self, state: CycleState, pod: PodInfo, host: str, qpi: QueuedPodInfo) -> None:
        async with self._slots:
            try:
                st = await self.fw.run_bind(state, pod, host)
            except Exception as e:
                log.exception("binding %s to %s failed", pod.key, host)
                st = error(f"{type(e).__name__}: {e}")
        if ok(st):
            self.cache.finish_binding(pod.uid)
            self.stats.bound += 1
            if self.on_bound is not None:
                self.on_bound(pod, host)
            if self.record_scheduled and self.reporter is not None:
                self.reporter.event(
                    pod.pod,
                    "Normal",
                    "Scheduled",
                    f"Successfully assigned {pod.namespace}/{pod.name} to {host}",
                )
            return
        assert st is not None
        self.stats.errors += 1
        self.cache.forget(pod.uid)
        current = self.lookup(pod.key)
        if current is None:
            return
        fresh = PodInfo(current)
        if fresh.uid != pod.uid or fresh.node_name or fresh.terminating:
            return
        qpi.pod = fresh
        self.queue.requeue(qpi, set(), error=True)
        plugin = st.plugin or "DefaultBinder"
        self._report(fresh, "SchedulerError", f'running Bind plugin "{plugin}": {st.message}')
