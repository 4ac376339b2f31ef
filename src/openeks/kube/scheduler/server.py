"""The kube-scheduler: configuration and the process-level wiring.

`Scheduler(SchedulerConfig).run()` campaigns for the `kube-system/kube-scheduler` Lease
(unless `leader_elect` is off) and, while leading, runs the scheduler: shared informers
for pods, nodes and the objects plugins consult; the cache and the queue fed by them;
the default profile's framework; the scheduling loop with asynchronous binding; and the
background loops (back-off flushes, assumed-pod expiry, event and status writes).
Losing the lease or being cancelled stops all of it; `run` returns only by cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from openeks.kube.client import Client, ClientConfig, InformerFactory, LeaderElector
from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.eventhandlers import EventHandlers, InformerListers
from openeks.kube.scheduler.framework.interface import Handle
from openeks.kube.scheduler.framework.profile import DEFAULT_SCHEDULER, Profile, default_profile
from openeks.kube.scheduler.framework.runtime import Framework
from openeks.kube.scheduler.framework.types import PodInfo
from openeks.kube.scheduler.plugins.registry import in_tree_registry
from openeks.kube.scheduler.queue import SchedulingQueue
from openeks.kube.scheduler.reporting import Reporter
from openeks.kube.scheduler.schedule_one import SchedulingLoop, Stats

log = logging.getLogger(__name__)

LEASE_NAME = "kube-scheduler"


@dataclass
class SchedulerConfig:
    """Settings of one kube-scheduler process."""

    client: ClientConfig
    leader_elect: bool = True
    identity: str = ""
    """This replica's name in the Lease; default hostname + random suffix."""
    scheduler_name: str = DEFAULT_SCHEDULER
    """Pods whose spec.schedulerName is this are ours; others are left alone."""
    percentage_of_nodes_to_score: int = 0
    """0: adaptive, as upstream (50% minus 1% per 125 nodes, at least 5%, at least 100)."""
    bind_concurrency: int = 64
    """Binding requests in flight at once."""
    record_scheduled_events: bool = True
    """Emit a `Scheduled` Event per bound pod (dropped under backlog, like client-go)."""
    assumed_pod_ttl: float = 30.0
    """How long an assumed pod may wait for the informer's confirmation after binding."""


class Scheduler:
    def __init__(self, config: SchedulerConfig) -> None:
        self.config = config
        connections = max(32, config.bind_concurrency + 16)
        self.client = Client(
            replace(config.client, user_agent="kube-scheduler/openeks"), connections=connections
        )
        self.identity = config.identity or f"{socket.gethostname()}_{uuid.uuid4()}"
        self.loop: SchedulingLoop | None = None
        self.cache: Cache | None = None
        self.queue: SchedulingQueue | None = None
        self.elector: LeaderElector | None = None
        self.reporter: Reporter | None = None
        self.on_bound: Callable[[PodInfo, str], None] | None = None
        """Called after each successful bind (benchmarks, tests)."""

    @property
    def stats(self) -> Stats:
        return self.loop.stats if self.loop is not None else Stats()

    def profile(self) -> Profile:
        profile = default_profile(self.config.scheduler_name)
        profile.percentage_of_nodes_to_score = self.config.percentage_of_nodes_to_score or None
        return profile

    async def run(self) -> None:
        try:
            if self.config.leader_elect:
                self.elector = LeaderElector(self.client, LEASE_NAME, self.identity)
                await self.elector.run(self._lead)
            else:
                await self._lead()
        finally:
            await self.client.close()

    async def _lead(self) -> None:
        informers = InformerFactory(self.client)
        cache = self.cache = Cache(assumed_ttl=self.config.assumed_pod_ttl)
        handle = Handle(cache, InformerListers(informers), self.client)
        framework = Framework(self.profile(), in_tree_registry(), handle)
        queue = self.queue = SchedulingQueue(framework)
        pods, _ = EventHandlers(cache, queue, self.config.scheduler_name).register(informers)
        reporter = self.reporter = Reporter(self.client, self.config.scheduler_name)
        self.loop = SchedulingLoop(
            framework,
            cache,
            queue,
            reporter,
            pods.get,
            bind_concurrency=self.config.bind_concurrency,
            record_scheduled=self.config.record_scheduled_events,
            on_bound=self.on_bound,
        )
        informers.start()
        tasks: list[asyncio.Task[None]] = []
        try:
            await informers.wait_synced(timeout=None)
            log.info("scheduler %s: caches synced, %d nodes", self.identity, cache.num_nodes)
            reporter.start()
            tasks = [
                asyncio.create_task(queue.run(), name="scheduler-queue"),
                asyncio.create_task(self._expire_assumed(cache), name="scheduler-assumed"),
            ]
            await self.loop.run()
        finally:
            queue.close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await reporter.stop()
            await informers.stop()

    async def _expire_assumed(self, cache: Cache, every: float = 1.0) -> None:
        while True:
            await asyncio.sleep(every)
            for uid in cache.cleanup_expired():
                log.warning("assumed pod %s expired without confirmation", uid)
