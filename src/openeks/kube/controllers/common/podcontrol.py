"""Creating, deleting and patching a controller's pods, with upstream's events.

`RealPodControl`'s behaviour: `SuccessfulCreate` / `FailedCreate` and
`SuccessfulDelete` / `FailedDelete` events on the owner, and creation in "slow start"
batches (1, 2, 4, ...) that stop at the first batch with a failure, so a quota or
admission error costs one request rather than hundreds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, EventRecorder
from openeks.kube.client.resources import PODS

Obj = dict[str, Any]


def namespace_terminating(e: ApiError) -> bool:
    return any(c.type == "NamespaceTerminating" for c in e.causes)


class PodControl:
    def __init__(self, client: Client, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder

    async def create(self, owner: Obj, body: Obj) -> Obj | None:
        """Create one pod; None (and an event) on failure."""
        try:
            pod: Obj = await self.client.create(PODS, body, owner["metadata"]["namespace"])
        except ApiError as e:
            if not namespace_terminating(e):
                await self.recorder.event(
                    owner, "Warning", "FailedCreate", f"Error creating: {e.message}"
                )
            return None
        await self.recorder.event(
            owner, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}"
        )
        return pod

    async def create_slow_start(
        self, owner: Obj, bodies: list[Obj], failed: Callable[[], None]
    ) -> int:
        """Create pods in doubling batches; `failed()` is called for every pod not created
        (failed or skipped). Returns how many were created."""
        created = 0
        batch = 1
        pending = list(bodies)
        while pending:
            now, pending = pending[:batch], pending[batch:]
            results = await asyncio.gather(*(self.create(owner, b) for b in now))
            ok = sum(1 for r in results if r is not None)
            created += ok
            for _ in range(len(now) - ok):
                failed()
            if ok < len(now):
                for _ in pending:
                    failed()
                break
            batch *= 2
        return created

    async def delete(self, owner: Obj, pod: Obj) -> bool:
        """Delete a pod; True if it is gone or going."""
        m = pod["metadata"]
        try:
            await self.client.delete(PODS, m["name"], m["namespace"])
        except ApiError as e:
            if e.code == 404:
                return True
            await self.recorder.event(
                owner, "Warning", "FailedDelete", f"Error deleting: {e.message}"
            )
            return False
        await self.recorder.event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {m['name']}")
        return True

    async def patch(self, pod: Obj, patch: Obj) -> bool:
        """Strategic-merge-patch a pod; False if it no longer exists."""
        m = pod["metadata"]
        try:
            await self.client.patch(PODS, m["name"], patch, m["namespace"], patch_type="strategic")
        except ApiError as e:
            if e.code == 404:
                return False
            raise
        return True
