"""The scheduling queue: activeQ, backoffQ and the unschedulable pool, as upstream's
PriorityQueue.

- activeQ: a heap ordered by the QueueSort plugin (priority, then age); `pop` waits on it.
- backoffQ: pods whose last attempt failed wait `1s * 2^(attempts-1)` (capped at 10 s)
  before going back to activeQ; scheduler errors always go through here.
- unschedulable pool: pods no node fits wait for a cluster event that one of the plugins
  that rejected them registered for (and whose queueing hint agrees); they then move to
  backoffQ or activeQ depending on whether their backoff has run out. Anything parked
  longer than `max_unschedulable` (55 s, checked every 5 s) is flushed back regardless, so
  no parked pod waits more than a minute for another attempt. Pods a PreEnqueue
  plugin rejects (scheduling gates) wait here until an update lets them in.

Scheduling cycles run synchronously between `pop` and `requeue`, so no event can slip in
between a pod's attempt and its parking; upstream's in-flight event tracking is not needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.scheduler.framework.events import ClusterEvent, ClusterEventWithHint
from openeks.kube.scheduler.framework.runtime import Framework
from openeks.kube.scheduler.framework.types import PodInfo

log = logging.getLogger(__name__)

Obj = dict[str, Any]
SortKey = Callable[[PodInfo, int], tuple[Any, ...]]


@dataclass(eq=False)
class QueuedPodInfo:
    pod: PodInfo
    timestamp: float
    initial_attempt: float | None = None
    attempts: int = 0
    unschedulable_plugins: set[str] = field(default_factory=set)
    gated: bool = False
    seq: int = 0

    @property
    def uid(self) -> str:
        return self.pod.uid


_IGNORED_META = ("resourceVersion", "generation", "managedFields", "finalizers")


def pod_updated(old: Obj, new: Obj) -> bool:
    """upstream's isPodUpdated: anything but status, resourceVersion and bookkeeping."""

    def strip(pod: Obj) -> tuple[Any, Any]:
        m = {k: v for k, v in (pod.get("metadata") or {}).items() if k not in _IGNORED_META}
        return m, pod.get("spec")

    return strip(old) != strip(new)


def default_sort_key(pod: PodInfo, seq: int) -> tuple[Any, ...]:
    return (-pod.priority, pod.created, seq)


class SchedulingQueue:
    def __init__(
        self,
        framework: Framework,
        clock: Callable[[], float] = time.monotonic,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
        max_unschedulable: float = 55.0,
    ) -> None:
        self.framework = framework
        self.clock = clock
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable = max_unschedulable
        sorter = framework.plugin("PrioritySort")
        self.sort_key: SortKey = getattr(sorter, "sort_key", default_sort_key)
        self.interest: dict[str, list[ClusterEventWithHint]] = {
            p.NAME: p.events_to_register() for p in framework.plugins
        }
        self._seq = itertools.count()
        self._active_heap: list[tuple[Any, ...]] = []
        self._active: dict[str, QueuedPodInfo] = {}
        self._backoff_heap: list[tuple[float, int, str]] = []
        self._backoff: dict[str, QueuedPodInfo] = {}
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._in_flight: dict[str, QueuedPodInfo] = {}
        self._wakeup = asyncio.Event()
        self._closed = False

    # -- sizes (for tests and metrics) -----------------------------------------------------
    def pending(self) -> dict[str, int]:
        return {
            "active": len(self._active),
            "backoff": len(self._backoff),
            "unschedulable": len(self._unschedulable),
        }

    def where(self, uid: str) -> str:
        for name, pool in (
            ("active", self._active),
            ("backoff", self._backoff),
            ("unschedulable", self._unschedulable),
            ("in-flight", self._in_flight),
        ):
            if uid in pool:
                return name
        return ""

    # -- adding ----------------------------------------------------------------------------
    def add(self, pod: Obj) -> None:
        """A new unscheduled pod from the informer."""
        info = PodInfo(pod)
        if self.where(info.uid):
            self.update(pod)
            return
        self._admit(QueuedPodInfo(info, self.clock()))

    def _admit(self, qpi: QueuedPodInfo) -> None:
        """To activeQ, unless a PreEnqueue plugin holds it back (then the pool, gated)."""
        status = self.framework.run_pre_enqueue(qpi.pod)
        if status is not None:
            qpi.gated = True
            qpi.unschedulable_plugins = {status.plugin}
            self._unschedulable[qpi.uid] = qpi
            return
        qpi.gated = False
        self._push_active(qpi)

    def _push_active(self, qpi: QueuedPodInfo) -> None:
        qpi.seq = next(self._seq)
        self._active[qpi.uid] = qpi
        heapq.heappush(self._active_heap, (*self.sort_key(qpi.pod, qpi.seq), qpi.seq, qpi.uid))
        self._wakeup.set()

    def _push_backoff(self, qpi: QueuedPodInfo) -> None:
        qpi.seq = next(self._seq)
        self._backoff[qpi.uid] = qpi
        heapq.heappush(self._backoff_heap, (self.backoff_expiry(qpi), qpi.seq, qpi.uid))

    def update(self, pod: Obj) -> None:
        """An unscheduled pod changed: refresh it where it waits; wake it if parked."""
        info = PodInfo(pod)
        uid = info.uid
        for pool in (self._active, self._backoff, self._in_flight):
            if uid in pool:
                pool[uid].pod = info
                return
        qpi = self._unschedulable.get(uid)
        if qpi is None:
            self.add(pod)
            return
        changed = pod_updated(qpi.pod.pod, pod)
        qpi.pod = info
        if not changed:
            return
        del self._unschedulable[uid]
        if qpi.gated:
            self._admit(qpi)
        elif self.backoff_expiry(qpi) > self.clock():
            self._push_backoff(qpi)
        else:
            self._push_active(qpi)

    def delete(self, uid: str) -> None:
        for pool in (self._active, self._backoff, self._unschedulable, self._in_flight):
            pool.pop(uid, None)

    # -- popping ---------------------------------------------------------------------------
    async def pop(self) -> QueuedPodInfo:
        while True:
            qpi = self.pop_nowait()
            if qpi is not None:
                return qpi
            if self._closed:
                raise asyncio.CancelledError
            self._wakeup.clear()
            await self._wakeup.wait()

    def pop_nowait(self) -> QueuedPodInfo | None:
        heap = self._active_heap
        while heap:
            entry = heapq.heappop(heap)
            seq, uid = entry[-2], entry[-1]
            qpi = self._active.get(uid)
            if qpi is None or qpi.seq != seq:
                continue
            del self._active[uid]
            qpi.attempts += 1
            if qpi.initial_attempt is None:
                qpi.initial_attempt = self.clock()
            self._in_flight[uid] = qpi
            return qpi
        return None

    def done(self, uid: str) -> None:
        """The pod's scheduling cycle is over and it was placed (or dropped)."""
        self._in_flight.pop(uid, None)

    def requeue(self, qpi: QueuedPodInfo, rejected_by: set[str], error: bool) -> None:
        """After a failed attempt: backoffQ for errors, the pool for "fits nowhere".

        The caller has checked that the pod still exists and is still unassigned."""
        self._in_flight.pop(qpi.uid, None)
        qpi.timestamp = self.clock()
        qpi.unschedulable_plugins = set(rejected_by)
        if error:
            self._push_backoff(qpi)
        else:
            self._unschedulable[qpi.uid] = qpi

    def backoff_expiry(self, qpi: QueuedPodInfo) -> float:
        if qpi.attempts == 0:
            return qpi.timestamp
        duration = self.initial_backoff
        for _ in range(1, qpi.attempts):
            if duration > self.max_backoff - duration:
                return qpi.timestamp + self.max_backoff
            duration += duration
        return qpi.timestamp + duration

    # -- moving on events ------------------------------------------------------------------
    def on_event(self, event: ClusterEvent, old: Obj | None, new: Obj | None) -> int:
        """Move the parked pods this event may help; returns how many moved."""
        if not self._unschedulable:
            return 0
        moving = [
            qpi
            for qpi in self._unschedulable.values()
            if not qpi.gated and self._may_help(qpi, event, old, new)
        ]
        for qpi in moving:
            self._move(qpi)
        return len(moving)

    def _may_help(
        self, qpi: QueuedPodInfo, event: ClusterEvent, old: Obj | None, new: Obj | None
    ) -> bool:
        if event.resource == "*" or not qpi.unschedulable_plugins:
            return True
        for plugin in qpi.unschedulable_plugins:
            for reg in self.interest.get(plugin, ()):
                if not reg.event.matches(event):
                    continue
                if reg.hint is None:
                    return True
                try:
                    if reg.hint(qpi.pod, old, new):
                        return True
                except Exception:
                    log.exception("queueing hint of %s failed", plugin)
                    return True
        return False

    def _move(self, qpi: QueuedPodInfo) -> None:
        self._unschedulable.pop(qpi.uid, None)
        if self.backoff_expiry(qpi) > self.clock():
            self._push_backoff(qpi)
        else:
            self._push_active(qpi)

    def flush_backoff_completed(self) -> int:
        now = self.clock()
        moved = 0
        heap = self._backoff_heap
        while heap and heap[0][0] <= now:
            _, seq, uid = heapq.heappop(heap)
            qpi = self._backoff.get(uid)
            if qpi is None or qpi.seq != seq:
                continue
            del self._backoff[uid]
            self._push_active(qpi)
            moved += 1
        return moved

    def flush_unschedulable_leftover(self) -> int:
        now = self.clock()
        stale = [
            qpi
            for qpi in self._unschedulable.values()
            if not qpi.gated and now - qpi.timestamp > self.max_unschedulable
        ]
        for qpi in stale:
            self._move(qpi)
        return len(stale)

    async def run(self, tick: float = 1.0, leftover_every: float = 5.0) -> None:
        """Background flushes: backoffQ every second, stale unschedulable pods regularly."""
        last_leftover = self.clock()
        try:
            while True:
                await asyncio.sleep(tick)
                self.flush_backoff_completed()
                if self.clock() - last_leftover >= leftover_every:
                    last_leftover = self.clock()
                    self.flush_unschedulable_leftover()
        finally:
            self.close()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()


async def cancel_quietly(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
