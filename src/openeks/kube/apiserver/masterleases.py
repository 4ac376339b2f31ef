"""The `default/kubernetes` Endpoints when several API servers share one store.

As upstream's lease endpoint reconciler: every API server renews a lease under
`/masterleases/<ip>:<port>` (raw store keys, no API object) every `interval` seconds and
then sets the Endpoints' addresses to the API servers whose lease was renewed within
`ttl`. Pods reaching the `kubernetes` Service (its cluster IP) therefore only go to live
API servers: a server that stops cleanly removes its lease and itself at once, one that
dies (its zone lost) drops out after `ttl`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson

from openeks.kube.api.errors import ApiError
from openeks.kube.apiserver.registry import Registry, WriteOptions
from openeks.store import ConflictError, KeyExistsError, NotFoundError, Store, StoreError

log = logging.getLogger(__name__)

Obj = dict[str, Any]
PREFIX = "/masterleases/"
MANAGER = WriteOptions(field_manager="openeks-apiserver")


class LeaseEndpointReconciler:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        ip: str,
        port: int,
        interval: float = 5.0,
        ttl: float = 15.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.ip = ip
        self.port = port
        self.interval = interval
        self.ttl = ttl

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.ip}:{self.port}"

    async def run(self) -> None:
        while True:
            try:
                await self.renew()
                await self.reconcile()
            except (StoreError, ApiError) as e:
                log.warning("kubernetes endpoints: %s", e)
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Leave: drop our lease and our address (best effort)."""
        with contextlib.suppress(StoreError, ApiError):
            with contextlib.suppress(NotFoundError):
                await self.store.delete(self.key)
            await self.reconcile()

    async def renew(self) -> None:
        value = orjson.dumps({"ip": self.ip, "port": self.port, "renewed": time.time()})
        for _ in range(5):
            current = await self.store.get(self.key)
            try:
                if current is None:
                    await self.store.create(self.key, value)
                else:
                    await self.store.update(self.key, value, current.mod_revision)
                return
            except (KeyExistsError, ConflictError, NotFoundError):
                continue

    async def live(self) -> list[tuple[str, int]]:
        page = await self.store.list(PREFIX, limit=100)
        now = time.time()
        found = []
        for kv in page.items:
            lease = orjson.loads(kv.value)
            if now - float(lease["renewed"]) <= self.ttl:
                found.append((str(lease["ip"]), int(lease["port"])))
        return sorted(found)

    async def reconcile(self) -> None:
        servers = await self.live()
        if not servers:
            return
        ports = {port for _, port in servers}
        # Endpoints subsets share one port list: group the servers by port.
        subsets = [
            {
                "addresses": [{"ip": ip} for ip, p in servers if p == port],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
            }
            for port in sorted(ports)
        ]
        endpoints = self.registry.for_storage("core/endpoints")

        async def change(obj: Obj) -> Obj:
            obj["subsets"] = subsets
            return obj

        current = await endpoints.get("default", "kubernetes")
        if current.get("subsets") != subsets:
            await endpoints.update("default", "kubernetes", change, MANAGER)
