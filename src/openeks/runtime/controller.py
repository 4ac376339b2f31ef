"""The worker loop: take a key, reconcile it, requeue with back-off when it fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from openeks.runtime.workqueue import ShutDown, WorkQueue

log = logging.getLogger(__name__)

Reconcile = Callable[[str], Awaitable[None]]


class Requeue(Exception):
    """Not an error: look at this key again after `delay` seconds."""

    def __init__(self, delay: float = 0.0, why: str = "") -> None:
        super().__init__(why or f"requeue after {delay}s")
        self.delay = delay


async def _worker(name: str, queue: WorkQueue, reconcile: Reconcile, max_retries: int) -> None:
    while True:
        try:
            key = await queue.get()
        except ShutDown:
            return
        try:
            await reconcile(key)
        except Requeue as r:
            queue.forget(key)
            queue.add_after(key, r.delay)
        except asyncio.CancelledError:
            queue.done(key)
            raise
        except Exception as e:
            if queue.failures(key) < max_retries:
                log.info("%s: %s failed (%s); retrying", name, key, e)
                queue.add_rate_limited(key)
            else:
                log.warning("%s: dropping %s after %d retries: %s", name, key, max_retries, e)
                queue.forget(key)
        else:
            queue.forget(key)
        queue.done(key)


async def run_workers(
    name: str, queue: WorkQueue, reconcile: Reconcile, workers: int = 4, max_retries: int = 15
) -> None:
    """Run `workers` concurrent workers until the queue shuts down or this is cancelled."""
    tasks = [
        asyncio.create_task(_worker(name, queue, reconcile, max_retries)) for _ in range(workers)
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
