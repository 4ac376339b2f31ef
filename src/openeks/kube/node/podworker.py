"""Pod workers: one task per pod UID, running that pod's syncs one after another.

As upstream's podWorkers: updates for one pod are never handled concurrently (a sync
sees the latest pod object when it starts; updates during a sync trigger one more),
different pods proceed in parallel. Handlers from the pod informer only hand the pod
over and wake the worker.

Admission happens here, synchronously and in the order pods arrive, so two pods can
never both take the last free slot. Restart safety lives here too: checkpoints of pods
still bound to the node are adopted by their new workers; those of pods that are gone
are cleaned up, and sandboxes no checkpoint mentions are stopped.

Container exits reach workers two ways: runtimes that push events (the simulated one)
call `container_changed`; for the others `poll_runtime` plays upstream's PLEG, reading
the state of running containers every second and waking the workers whose containers
stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from openeks.kube.node.admission import admit
from openeks.kube.node.context import AgentContext
from openeks.kube.node.podstate import PodState, load_checkpoints
from openeks.kube.node.podsync import PodSync
from openeks.kube.node.runtime.base import RuntimeFailure, State

log = logging.getLogger(__name__)

Obj = dict[str, Any]
ERROR_RETRY = 1.0
GONE_MEMORY = 10000
STOP_TIMEOUT = 5.0


def _uid(pod: Obj) -> str:
    return str(pod["metadata"]["uid"])


_VOLATILE_META = ("resourceVersion", "managedFields")


def _differs(old: Obj, new: Obj) -> bool:
    """upstream podsDifferSemantically: status and bookkeeping changes do not count."""

    def shape(p: Obj) -> tuple[Any, Any]:
        m = {k: v for k, v in (p.get("metadata") or {}).items() if k not in _VOLATILE_META}
        return m, p.get("spec")

    return shape(old) != shape(new)


def _terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class PodWorker:
    def __init__(self, sync: PodSync, on_done: Callable[[str], None] = lambda uid: None) -> None:
        self.sync = sync
        self.on_done = on_done
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        sync.wake = self.wake

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"pod-{self.sync.state.name}")

    def wake(self) -> None:
        self._event.set()

    def update(self, pod: Obj) -> None:
        """Take the newest pod; sync again only if more than its status changed."""
        before = self.sync.pod
        self.sync.update(pod)
        if _differs(before, pod):
            self.wake()

    def remove(self) -> None:
        self.sync.removed = True
        self.wake()

    async def run(self) -> None:
        while not self.sync.done and not self._stopping:
            self._event.clear()
            try:
                delay = await self.sync.sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pod %s: sync failed", self.sync.state.name)
                delay = ERROR_RETRY
            if self.sync.done or self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), delay)
        if self.sync.done:
            self.on_done(self.sync.state.uid)

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Let a running sync finish (up to `timeout`), then stop; containers keep running."""
        self._stopping = True
        self.wake()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class PodWorkers:
    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx
        self.workers: dict[str, PodWorker] = {}
        self._checkpoints: dict[str, PodState] = {}
        self._gone: OrderedDict[str, None] = OrderedDict()
        """UIDs whose pods were torn down here and must not start again."""

    # -- restart safety ------------------------------------------------------------------
    def load_checkpoints(self) -> None:
        self._checkpoints = load_checkpoints(self.ctx.pods_dir)

    async def cleanup_orphans(self) -> None:
        """After the first pod list: forget checkpoints whose pods are gone, stop strays."""
        for uid, state in list(self._checkpoints.items()):
            del self._checkpoints[uid]
            pod = {"metadata": {"uid": uid, "name": state.name, "namespace": state.namespace}}
            sync = PodSync(self.ctx, pod, state)
            sync.removed = True
            await sync.cleanup()
        known = {w.sync.state.sandbox.id for w in self.workers.values() if w.sync.state.sandbox}
        try:
            sandboxes = await self.ctx.runtime.list_sandboxes()
        except (RuntimeFailure, OSError):
            return
        for sandbox in sandboxes:
            if sandbox.id not in known:
                with contextlib.suppress(RuntimeFailure, OSError):
                    await self.ctx.runtime.stop_sandbox(sandbox)

    # -- informer handlers ---------------------------------------------------------------
    def on_pod(self, pod: Obj) -> None:
        uid = _uid(pod)
        if uid in self._gone:
            return
        worker = self.workers.get(uid)
        if worker is not None:
            worker.update(pod)
            return
        state = self._checkpoints.pop(uid, None)
        if state is None and _terminal(pod):
            return  # finished before we saw it (or under an earlier agent): nothing to run
        m = pod["metadata"]
        adopted = state is not None
        if state is None:
            state = PodState(uid=uid, namespace=m.get("namespace", ""), name=m["name"])
        sync = PodSync(self.ctx, pod, state)
        if not adopted and not m.get("deletionTimestamp"):
            sync.rejection = admit(pod, self._admitted(), self.ctx.allocatable)
            if sync.rejection is not None:
                reason, message = sync.rejection
                self.ctx.event(pod, "Warning", reason, message.removeprefix("Pod was rejected: "))
        worker = PodWorker(sync, self._finished)
        self.workers[uid] = worker
        worker.start()

    def on_pod_update(self, old: Obj, new: Obj) -> None:
        self.on_pod(new)

    def on_pod_delete(self, pod: Obj) -> None:
        uid = _uid(pod)
        worker = self.workers.get(uid)
        if worker is not None:
            worker.sync.update(pod)
            worker.remove()
        self._gone.pop(uid, None)

    def _finished(self, uid: str) -> None:
        self.workers.pop(uid, None)
        self._gone[uid] = None
        while len(self._gone) > GONE_MEMORY:
            self._gone.popitem(last=False)

    def _admitted(self) -> list[Obj]:
        return [
            w.sync.pod
            for w in self.workers.values()
            if w.sync.rejection is None and not w.sync.state.terminal and not w.sync.done
        ]

    # -- runtime events ------------------------------------------------------------------
    def container_changed(self, container_id: str) -> None:
        for worker in self.workers.values():
            if container_id in worker.sync.container_ids():
                worker.wake()
                return

    async def poll_runtime(self, interval: float) -> None:
        """PLEG: wake workers whose running containers the runtime no longer runs."""
        while True:
            await asyncio.sleep(interval)
            for worker in list(self.workers.values()):
                for record in list(worker.sync.state.containers.values()):
                    if not record.running:
                        continue
                    try:
                        current = await self.ctx.runtime.container_status(record.id)
                    except (RuntimeFailure, OSError):
                        worker.wake()
                        break
                    if current.state is not State.RUNNING:
                        worker.wake()
                        break

    async def stop(self) -> None:
        await asyncio.gather(*(w.stop() for w in self.workers.values()))
