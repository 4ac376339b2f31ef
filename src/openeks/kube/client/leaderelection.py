"""Leader election on a coordination.k8s.io/v1 Lease, with client-go's timings.

Candidates race to write themselves into the Lease's `holderIdentity` using the
resourceVersion for compare-and-swap. The holder renews every `retry_period`; a
candidate may take over once `renewTime + leaseDurationSeconds` has passed. A leader
that cannot renew within `renew_deadline` stops leading (its `lead` task is cancelled)
and goes back to campaigning.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import LEASES
from openeks.kube.client.rest import Client

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class LeaderElector:
    def __init__(
        self,
        client: Client,
        name: str,
        identity: str,
        namespace: str = "kube-system",
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
    ) -> None:
        self.client = client
        self.name = name
        self.identity = identity
        self.namespace = namespace
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.leading = asyncio.Event()

    async def run(self, lead: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Campaign forever; run `lead()` while leader, cancel it when leadership is lost."""
        while True:
            while not await self._try():
                await asyncio.sleep(self.retry_period)
            log.info("%s: %s is the leader", self.name, self.identity)
            self.leading.set()
            task: asyncio.Task[None] = asyncio.create_task(lead())
            try:
                await self._keep(task)
            finally:
                self.leading.clear()
                if task.done() and not task.cancelled() and task.exception() is not None:
                    log.error("%s: the leader's work failed", self.name, exc_info=task.exception())
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _keep(self, task: asyncio.Task[None]) -> None:
        last = asyncio.get_running_loop().time()
        while not task.done():
            await asyncio.sleep(self.retry_period)
            if await self._try():
                last = asyncio.get_running_loop().time()
            elif asyncio.get_running_loop().time() - last > self.renew_deadline:
                log.warning("%s: %s lost the lease", self.name, self.identity)
                return

    async def _try(self) -> bool:
        now = meta.now()
        stamp = meta.rfc3339_micro(now)
        try:
            lease = await self.client.get(LEASES, self.name, self.namespace)
        except ApiError as e:
            if e.code != 404:
                return False
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(stamp, stamp, 0),
            }
            try:
                await self.client.create(LEASES, body)
            except ApiError:
                return False
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        if holder and holder != self.identity and not self._expired(spec, now):
            return False
        transitions = int(spec.get("leaseTransitions") or 0)
        acquired = spec.get("acquireTime") or stamp
        if holder != self.identity:
            transitions += 1
            acquired = stamp
        lease["spec"] = self._spec(acquired, stamp, transitions)
        try:
            await self.client.update(LEASES, lease)
        except ApiError:
            return False
        return True

    def _spec(self, acquired: str, renewed: str, transitions: int) -> Obj:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_duration),
            "acquireTime": acquired,
            "renewTime": renewed,
            "leaseTransitions": transitions,
        }

    def _expired(self, spec: Obj, now: datetime.datetime) -> bool:
        renewed = spec.get("renewTime")
        if not renewed:
            return True
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        return meta.parse_time(renewed) + datetime.timedelta(seconds=duration) < now
