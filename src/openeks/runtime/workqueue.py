"""A rate-limited work queue with client-go's semantics.

- A key added several times before a worker takes it is processed once (dirty set).
- A key is never processed by two workers at once: added while in flight, it is queued
  again when the worker calls `done` (processing set).
- `add_rate_limited` waits 5 ms * 2^failures (capped at `max_delay`) before re-adding;
  `forget` resets the failure count after a success.
- `add_after` schedules a key for later (periodic requeues, time-based conditions).
"""

from __future__ import annotations

import asyncio
from collections import deque


class ShutDown(Exception):
    """The queue is shut down; workers should return."""


class WorkQueue:
    def __init__(self, name: str = "", base_delay: float = 0.005, max_delay: float = 300.0) -> None:
        self.name = name
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._queue: deque[str] = deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._failures: dict[str, int] = {}
        self._waiting: dict[str, asyncio.TimerHandle] = {}
        self._wakeup = asyncio.Event()
        self._shutdown = False

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: str) -> None:
        if self._shutdown or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._notify()

    def add_after(self, key: str, delay: float) -> None:
        if self._shutdown:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        existing = self._waiting.get(key)
        when = loop.time() + delay
        if existing is not None:
            if existing.when() <= when:
                return
            existing.cancel()
        self._waiting[key] = loop.call_at(when, self._fire, key)

    def _fire(self, key: str) -> None:
        self._waiting.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: str) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self.add_after(key, min(self.base_delay * (2**failures), self.max_delay))

    def failures(self, key: str) -> int:
        return self._failures.get(key, 0)

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    async def get(self) -> str:
        while not self._queue:
            if self._shutdown:
                raise ShutDown
            self._wakeup.clear()
            await self._wakeup.wait()
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._notify()

    def shutdown(self) -> None:
        self._shutdown = True
        for handle in self._waiting.values():
            handle.cancel()
        self._waiting.clear()
        self._notify()

    def _notify(self) -> None:
        self._wakeup.set()
