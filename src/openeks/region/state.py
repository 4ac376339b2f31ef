"""The region's desired state: JSON documents in a revisioned store.

Every region resource (clusters, updates, access entries, IAM users and keys, VPCs,
...) is a document at `/region/<kind>/<name>` in an `openeks.store` backend (sqlite by
default, etcd for HA), written with compare-and-swap. `mutate` is the read-modify-write
loop every API operation uses, so concurrent requests never lose each other's changes;
`watch` feeds the region controllers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from openeks.store import ConflictError, EventType, KeyExistsError, NotFoundError, Store

Doc = dict[str, Any]
PREFIX = "/region/"


class Exists(Exception):
    pass


class Missing(Exception):
    pass


@dataclass(frozen=True)
class Record:
    name: str
    value: Doc
    revision: int


def _key(kind: str, name: str) -> str:
    return f"{PREFIX}{kind}/{name}"


class RegionState:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, kind: str, name: str) -> Record | None:
        kv = await self.store.get(_key(kind, name))
        if kv is None:
            return None
        return Record(name, orjson.loads(kv.value), kv.mod_revision)

    async def list(self, kind: str, prefix: str = "") -> list[Record]:
        base = f"{PREFIX}{kind}/"
        out: list[Record] = []
        start = ""
        while True:
            page = await self.store.list(base + prefix, limit=1000, start_after=start)
            out += [
                Record(kv.key[len(base) :], orjson.loads(kv.value), kv.mod_revision)
                for kv in page.items
            ]
            if not page.more:
                return out
            start = page.items[-1].key

    async def create(self, kind: str, name: str, value: Doc) -> Record:
        try:
            kv = await self.store.create(_key(kind, name), orjson.dumps(value))
        except KeyExistsError:
            raise Exists(f"{kind}/{name}") from None
        return Record(name, value, kv.mod_revision)

    async def put(self, kind: str, name: str, value: Doc) -> Record:
        """Create or overwrite, whatever is there."""
        while True:
            current = await self.get(kind, name)
            try:
                if current is None:
                    return await self.create(kind, name, value)
                kv = await self.store.update(
                    _key(kind, name), orjson.dumps(value), current.revision
                )
                return Record(name, value, kv.mod_revision)
            except (Exists, ConflictError, NotFoundError):
                continue

    async def mutate(
        self, kind: str, name: str, change: Callable[[Doc], Awaitable[Doc | None] | Doc | None]
    ) -> Record:
        """Apply `change` to the current document until it sticks; `change` returning
        None deletes it. Raises `Missing` if there is no such document."""
        while True:
            current = await self.get(kind, name)
            if current is None:
                raise Missing(f"{kind}/{name}")
            result = change(orjson.loads(orjson.dumps(current.value)))
            if hasattr(result, "__await__"):
                result = await result  # type: ignore[misc]
            try:
                if result is None:
                    await self.store.delete(_key(kind, name), current.revision)
                    return current
                kv = await self.store.update(
                    _key(kind, name), orjson.dumps(result), current.revision
                )
                return Record(name, result, kv.mod_revision)
            except ConflictError:
                continue
            except NotFoundError:
                raise Missing(f"{kind}/{name}") from None

    async def delete(self, kind: str, name: str) -> None:
        try:
            await self.store.delete(_key(kind, name))
        except NotFoundError:
            raise Missing(f"{kind}/{name}") from None

    async def watch(self, kind: str) -> AsyncIterator[tuple[str, str, Doc | None]]:
        """(event, name, document) for `kind` from now on; event is PUT or DELETE."""
        base = f"{PREFIX}{kind}/"
        revision = await self.store.current_revision()
        async for batch in self.store.watch(base, revision + 1):
            for event in batch:
                name = event.kv.key[len(base) :]
                if event.type is EventType.DELETE:
                    yield "DELETE", name, None
                else:
                    yield "PUT", name, orjson.loads(event.kv.value)
