"""Join decisions shared by the instances of one role, for a few seconds.

Deciding whether an instance may join means mapping its role through the cluster's
access entries or its aws-auth ConfigMap, and the latter is a read from the cluster's
API server. A node group of a thousand instances would make a thousand identical reads
at once, so positive answers are shared: the first instance of a (cluster, role) asks,
concurrent ones wait for that answer, and later ones reuse it for `ttl` seconds (as
aws-iam-authenticator answers from its informer's copy of the ConfigMap). Only the
node mapping is shared — `system:node:<private DNS name>` in its groups, with the
instance's own name put in — and refusals are never kept, so a mapping added later is
seen on the next try.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Identity = tuple[str, list[str]]
Authorize = Callable[[str, str, str], Awaitable[Identity | None]]

NODE_USER = "system:node:"


class JoinCache:
    def __init__(self, authorize: Authorize, ttl: float = 10.0) -> None:
        self.authorize = authorize
        self.ttl = ttl
        self._groups: dict[tuple[str, str], tuple[float, list[str]]] = {}
        self._asking: dict[tuple[str, str], asyncio.Future[list[str] | None]] = {}

    async def __call__(self, cluster: str, caller: str, node_name: str) -> Identity | None:
        """What `authorize(cluster, caller, node_name)` answers, shared per role."""
        key = (cluster, caller.rsplit("/", 1)[0])  # the assumed role, without its session
        kept = self._groups.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return NODE_USER + node_name, list(kept[1])
        asking = self._asking.get(key)
        if asking is not None:
            groups = await asyncio.shield(asking)
            if groups is not None:
                return NODE_USER + node_name, list(groups)
            return await self.authorize(cluster, caller, node_name)
        return await self._ask(key, cluster, caller, node_name)

    async def _ask(
        self, key: tuple[str, str], cluster: str, caller: str, node_name: str
    ) -> Identity | None:
        future: asyncio.Future[list[str] | None] = asyncio.get_running_loop().create_future()
        self._asking[key] = future
        groups: list[str] | None = None
        try:
            found = await self.authorize(cluster, caller, node_name)
            if found is not None and found[0] == NODE_USER + node_name:
                groups = list(found[1])
                self._groups[key] = (time.monotonic() + self.ttl, groups)
            return found
        finally:
            future.set_result(groups)
            del self._asking[key]
