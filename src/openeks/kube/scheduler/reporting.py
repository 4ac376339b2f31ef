"""Telling the cluster what happened: Events and the pod's `PodScheduled` condition.

Writes go through a bounded background sink so a scheduling cycle never waits on the
API server: `FailedScheduling` warnings and `PodScheduled=False` status patches for pods
that fit nowhere, `Scheduled` events for bound pods. Like client-go's event
broadcaster, the sink drops events when its backlog is full rather than slowing the
scheduler down; condition updates are never dropped. A condition already saying the
same thing is not written again (upstream's `updatePod` / `UpdatePodCondition`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, EventRecorder
from openeks.kube.client.resources import PODS

log = logging.getLogger(__name__)

Obj = dict[str, Any]
NOTE_LENGTH_LIMIT = 1024
Job = Callable[[], Awaitable[None]]


def truncate(message: str) -> str:
    """upstream's truncateMessage: events carry at most 1024 characters."""
    if len(message) <= NOTE_LENGTH_LIMIT:
        return message
    suffix = " ..."
    return message[: NOTE_LENGTH_LIMIT - len(suffix)] + suffix


def condition_changed(pod: Obj, status: str, reason: str, message: str) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "PodScheduled":
            return (c.get("status"), c.get("reason", ""), c.get("message", "")) != (
                status,
                reason,
                message,
            )
    return True


class Reporter:
    """Two background lanes: events (one writer, bounded, drops when full — like
    client-go's broadcaster, whose single sink goroutine sends one event at a time) and
    status updates (a few writers, never dropped)."""

    def __init__(
        self, client: Client, component: str, status_workers: int = 2, backlog: int = 1000
    ) -> None:
        self.client = client
        self.recorder = EventRecorder(client, component)
        self.backlog = backlog
        self._events: asyncio.Queue[Job] = asyncio.Queue()
        self._status: asyncio.Queue[Job] = asyncio.Queue()
        self._status_workers = status_workers
        self._tasks: list[asyncio.Task[None]] = []
        self.dropped = 0

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(self._events))]
        self._tasks += [
            asyncio.create_task(self._work(self._status)) for _ in range(self._status_workers)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def drain(self) -> None:
        """Wait until every queued write has been attempted (for tests)."""
        await self._events.join()
        await self._status.join()

    def _submit_event(self, job: Job) -> None:
        if self._events.qsize() >= self.backlog:
            self.dropped += 1
            return
        self._events.put_nowait(job)

    @staticmethod
    async def _work(queue: asyncio.Queue[Job]) -> None:
        while True:
            job = await queue.get()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.debug("scheduler report failed: %s", e)
            finally:
                queue.task_done()

    # -- what gets reported ----------------------------------------------------------------
    def event(self, pod: Obj, type_: str, reason: str, message: str) -> None:
        ref = {"kind": "Pod", "apiVersion": "v1", **pod}
        self._submit_event(lambda: self.recorder.event(ref, type_, reason, truncate(message)))

    def failed(self, pod: Obj, reason: str, message: str) -> None:
        """FailedScheduling event + PodScheduled=False condition."""
        self.event(pod, "Warning", "FailedScheduling", message)
        if condition_changed(pod, "False", reason, message):
            self._status.put_nowait(lambda: self._patch_condition(pod, reason, message))

    async def _patch_condition(self, pod: Obj, reason: str, message: str) -> None:
        m = pod.get("metadata") or {}
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": meta.rfc3339(meta.now()),
            "reason": reason,
            "message": message,
        }
        for c in (pod.get("status") or {}).get("conditions") or ():
            if c.get("type") == "PodScheduled" and c.get("status") == "False":
                condition["lastTransitionTime"] = c.get("lastTransitionTime")
        patch = {
            "metadata": {"uid": m.get("uid")},
            "status": {"conditions": [condition]},
        }
        try:
            await self.client.patch(
                PODS,
                m.get("name", ""),
                patch,
                m.get("namespace", ""),
                patch_type="strategic",
                subresource="status",
            )
        except ApiError as e:
            if e.code not in (404, 409):
                raise
