"""What every controller is made of: shared informers in, a work queue, a reconcile.

A controller registers informer handlers in `setup()` that only compute keys and
enqueue them; `reconcile(key)` re-reads the object from the informer cache, returns
quietly if it is gone, copies before mutating, writes through the client, and is
idempotent. Failures are requeued with back-off by the shared runtime; `Requeue(delay)`
asks for another look later without counting as a failure.
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass

from openeks.kube.client import Client, EventRecorder, InformerFactory
from openeks.runtime import WorkQueue, run_workers

log = logging.getLogger(__name__)


@dataclass
class ControllerContext:
    client: Client
    informers: InformerFactory
    recorder: EventRecorder


class Controller(abc.ABC):
    name: str = "controller"
    workers: int = 4

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.informers = ctx.informers
        self.recorder = ctx.recorder
        self.queue = WorkQueue(self.name)

    @abc.abstractmethod
    def setup(self) -> None:
        """Get informers from the factory and register handlers that enqueue keys."""

    @abc.abstractmethod
    async def reconcile(self, key: str) -> None:
        """Bring the object named by `key` to its desired state."""

    async def run(self) -> None:
        await run_workers(self.name, self.queue, self.reconcile, self.workers)

    def enqueue(self, key: str) -> None:
        self.queue.add(key)
