"""Heartbeats: the node Lease and the node status, as kubelet sends them.

The Lease `kube-node-lease/<node>` (holder = node name, owned by the Node so it goes
with it) is renewed every quarter of its duration: 10 s for the 40 s default. Renewal is
an update of the cached object, with a fresh GET on conflict, as upstream's lease
controller does. The first renewal waits a random part of `start_jitter`, so a thousand
simulated nodes started together do not renew in lockstep.

Node status is computed every `status_interval` and posted when it differs from what
the API holds, or when `status_report_interval` passed since the last post (upstream's
nodeStatusUpdateFrequency / nodeStatusReportFrequency split: with leases, the status
carries news, the lease carries liveness).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import LEASES, NODES
from openeks.kube.client.rest import Client

log = logging.getLogger(__name__)

Obj = dict[str, Any]
LEASE_NAMESPACE = "kube-node-lease"


class LeaseKeeper:
    def __init__(
        self,
        client: Client,
        node_name: str,
        node_uid: str,
        duration: int = 40,
        jitter: float = 0.0,
    ) -> None:
        self.client = client
        self.node_name = node_name
        self.node_uid = node_uid
        self.duration = duration
        self.jitter = jitter
        self.lease: Obj | None = None
        self.renewals = 0

    @property
    def interval(self) -> float:
        return self.duration / 4

    def _new_lease(self, now: str) -> Obj:
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.node_name,
                "namespace": LEASE_NAMESPACE,
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "name": self.node_name,
                        "uid": self.node_uid,
                    }
                ],
            },
            "spec": {
                "holderIdentity": self.node_name,
                "leaseDurationSeconds": self.duration,
                "renewTime": now,
            },
        }

    async def renew(self) -> None:
        """One renewal: update the lease we hold, create it, or re-read it on conflict."""
        now = meta.rfc3339_micro(meta.now())
        if self.lease is None:
            try:
                self.lease = await self.client.get(LEASES, self.node_name, LEASE_NAMESPACE)
            except ApiError as e:
                if e.code != 404:
                    raise
                self.lease = await self.client.create(LEASES, self._new_lease(now))
                self.renewals += 1
                return
        lease = meta.deep_copy(self.lease)
        spec = lease.setdefault("spec", {})
        spec["holderIdentity"] = self.node_name
        spec["leaseDurationSeconds"] = self.duration
        spec["renewTime"] = now
        if not lease["metadata"].get("ownerReferences") and self.node_uid:
            lease["metadata"]["ownerReferences"] = self._new_lease(now)["metadata"][
                "ownerReferences"
            ]
        try:
            self.lease = await self.client.update(LEASES, lease)
        except ApiError as e:
            self.lease = None
            if e.code not in (404, 409):
                raise
            await self.renew()
            return
        self.renewals += 1

    async def run(self) -> None:
        if self.jitter:
            await asyncio.sleep(random.random() * self.jitter)
        while True:
            try:
                await self.renew()
                delay = self.interval
            except ApiError as e:
                log.info("node %s: lease renewal failed: %s", self.node_name, e)
                delay = min(self.interval, 1.0)
            await asyncio.sleep(delay)


def covers(theirs: Any, ours: Any) -> bool:
    """Whether `theirs` holds everything in `ours` (extra fields on their side are fine)."""
    if isinstance(ours, dict):
        return isinstance(theirs, dict) and all(covers(theirs.get(k), v) for k, v in ours.items())
    if isinstance(ours, list):
        return (
            isinstance(theirs, list)
            and len(theirs) == len(ours)
            and all(covers(t, o) for t, o in zip(theirs, ours, strict=True))
        )
    return bool(theirs == ours)


def _without_heartbeats(status: Obj) -> Obj:
    out = dict(status)
    out["conditions"] = [
        {k: v for k, v in c.items() if k != "lastHeartbeatTime"}
        for c in status.get("conditions") or ()
    ]
    return out


class NodeStatusReporter:
    """Posts node status when it differs from the API's, or the report interval passed.

    `current()` gives the Node status the API holds (from a watch), so a change made by
    someone else — the node lifecycle controller marking us Unknown — is undone at the
    next tick; `poke()` brings that tick forward.
    """

    def __init__(
        self,
        client: Client,
        node_name: str,
        build: Callable[[Obj | None], Obj],
        interval: float = 10.0,
        report_interval: float = 300.0,
        jitter: float = 0.0,
        current: Callable[[], Obj | None] | None = None,
    ) -> None:
        self.client = client
        self.node_name = node_name
        self.build = build
        self.interval = interval
        self.report_interval = report_interval
        self.jitter = jitter
        self.current = current
        self.last: Obj | None = None
        self.last_at = 0.0
        self.posts = 0
        self._poked = asyncio.Event()

    def poke(self) -> None:
        self._poked.set()

    async def tick(self, force: bool = False) -> bool:
        """Post the status if due; True if posted."""
        api = self.current() if self.current is not None else None
        base = api if api is not None else self.last
        status = self.build(base)
        due = time.monotonic() - self.last_at >= self.report_interval
        unchanged = base is not None and covers(
            _without_heartbeats(base), _without_heartbeats(status)
        )
        if not force and not due and unchanged:
            return False
        await self.client.patch(NODES, self.node_name, {"status": status}, subresource="status")
        self.last, self.last_at = status, time.monotonic()
        self.posts += 1
        return True

    async def run(self) -> None:
        if self.jitter:
            await asyncio.sleep(random.random() * self.jitter)
        while True:
            self._poked.clear()
            try:
                await self.tick()
            except ApiError as e:
                log.info("node %s: status update failed: %s", self.node_name, e)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poked.wait(), self.interval)
