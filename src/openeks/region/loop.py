"""The loop every region controller runs: reconcile each document of one kind.

Like a Kubernetes controller, over the region state: a store watch on the kind marks
names dirty, a sweep every `interval` seconds visits every name (so nothing is missed
when the watch breaks, and slow convergence such as "wait until the nodes are Ready"
is retried), and each name has at most one reconcile running at a time. A reconcile is
idempotent: it re-reads the document and does what is left to do. Errors are logged and
the name is visited again at the next sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from openeks.region.state import Missing, RegionState

log = logging.getLogger(__name__)


class RecordLoop:
    def __init__(
        self,
        state: RegionState,
        kind: str,
        reconcile: Callable[[str], Awaitable[None]],
        interval: float = 3.0,
    ) -> None:
        self.state = state
        self.kind = kind
        self.reconcile = reconcile
        self.interval = interval
        self._running: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._again: set[str] = set()
        self._wake = asyncio.Event()

    def poke(self, name: str) -> None:
        """Visit `name` soon (something it depends on changed)."""
        self._dirty.add(name)
        self._wake.set()

    async def run(self) -> None:
        watcher = asyncio.create_task(self._watch())
        try:
            while True:
                for name in list(self._dirty):
                    self._dirty.discard(name)
                    self._start(name, changed=True)
                for record in await self.state.list(self.kind):
                    self._start(record.name)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
        finally:
            watcher.cancel()
            for task in self._running.values():
                task.cancel()
            await asyncio.gather(watcher, *self._running.values(), return_exceptions=True)

    async def _watch(self) -> None:
        while True:
            try:
                async for _event, name, _doc in self.state.watch(self.kind):
                    self.poke(name)
            except Exception as e:  # the store went away; the periodic sweep still runs
                log.warning("%s watch ended: %s", self.kind, e)
                await asyncio.sleep(1)

    def _start(self, name: str, changed: bool = False) -> None:
        task = self._running.get(name)
        if task is not None and not task.done():
            if changed:  # changed while being reconciled: go again once this round ends
                self._again.add(name)
            return
        self._running[name] = asyncio.create_task(self._safely(name), name=f"{self.kind}-{name}")

    async def _safely(self, name: str) -> None:
        try:
            await self.reconcile(name)
        except Missing:
            pass
        except Exception:
            log.exception("reconciling %s %s", self.kind, name)
        finally:
            if name in self._again:
                self._again.discard(name)
                self.poke(name)
