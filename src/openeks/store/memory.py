"""In-memory backend for unit tests: the same contract as sqlite and etcd, no durability.

History is an append-only list of events (index = revision - 1 - offset), which makes
snapshot reads and watches from old revisions simple; compaction drops its head.
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
from collections.abc import AsyncIterator

from openeks.store.base import (
    CompactedError,
    ConflictError,
    Event,
    EventType,
    FutureRevisionError,
    KeyExistsError,
    KeyValue,
    ListResult,
    NotFoundError,
    Store,
    UnavailableError,
)


class MemoryStore(Store):
    def __init__(self) -> None:
        self._live: dict[str, KeyValue] = {}
        self._keys: list[str] = []  # sorted live keys
        self._history: list[Event] = []
        self._revision = 0
        self._compacted = 0
        self._changed = asyncio.Condition()
        self._closed = False

    async def get(self, key: str) -> KeyValue | None:
        return self._live.get(key)

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult:
        self._check_open()
        if revision and revision < self._revision:
            snapshot = self._snapshot(revision)
            keys = sorted(k for k in snapshot if k.startswith(prefix))
        else:
            if revision > self._revision:
                raise FutureRevisionError(revision, self._revision)
            snapshot = self._live
            start = bisect.bisect_left(self._keys, prefix)
            keys = []
            for k in self._keys[start:]:
                if not k.startswith(prefix):
                    break
                keys.append(k)
            revision = self._revision
        if start_after:
            keys = keys[bisect.bisect_right(keys, start_after) :]
        more = bool(limit) and len(keys) > limit
        page = keys[:limit] if limit else keys
        remaining = len(keys) - len(page)
        return ListResult([snapshot[k] for k in page], revision, more, remaining)

    def _snapshot(self, revision: int) -> dict[str, KeyValue]:
        if revision <= self._compacted:
            raise CompactedError(revision, self._compacted)
        state = dict(self._live)
        for event in reversed(self._history):
            if event.revision <= revision:
                break
            if event.prev is None:
                state.pop(event.kv.key, None)
            else:
                state[event.kv.key] = event.prev
        return state

    async def create(self, key: str, value: bytes) -> KeyValue:
        self._check_open()
        if key in self._live:
            raise KeyExistsError(key)
        rev = self._revision + 1
        kv = KeyValue(key, value, rev, rev)
        await self._commit(Event(EventType.PUT, kv, None))
        return kv

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        self._check_open()
        current = self._live.get(key)
        if current is None:
            raise NotFoundError(key)
        if current.mod_revision != expected_revision:
            raise ConflictError(key, current)
        kv = KeyValue(key, value, current.create_revision, self._revision + 1)
        await self._commit(Event(EventType.PUT, kv, current))
        return kv

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        self._check_open()
        current = self._live.get(key)
        if current is None:
            raise NotFoundError(key)
        if expected_revision and current.mod_revision != expected_revision:
            raise ConflictError(key, current)
        kv = KeyValue(key, current.value, current.create_revision, self._revision + 1)
        await self._commit(Event(EventType.DELETE, kv, current))
        return kv

    async def _commit(self, event: Event) -> None:
        self._revision = event.revision
        key = event.kv.key
        if event.type is EventType.DELETE:
            del self._live[key]
            del self._keys[bisect.bisect_left(self._keys, key)]
        else:
            if event.prev is None:
                bisect.insort(self._keys, key)
            self._live[key] = event.kv
        self._history.append(event)
        async with self._changed:
            self._changed.notify_all()

    async def watch(self, prefix: str, start_revision: int) -> AsyncIterator[builtins.list[Event]]:
        self._check_open()
        if start_revision and start_revision <= self._compacted:
            raise CompactedError(start_revision, self._compacted)
        position = start_revision or self._revision + 1
        while not self._closed:
            batch = [
                e for e in self._history[self._index_of(position) :] if e.kv.key.startswith(prefix)
            ]
            position = max(position, self._revision + 1)  # a future start waits for it
            if batch:
                yield batch
            async with self._changed:
                if self._revision < position and not self._closed:
                    await self._changed.wait()

    def _index_of(self, revision: int) -> int:
        first = self._history[0].revision if self._history else self._revision + 1
        return max(0, revision - first)

    async def compact(self, revision: int) -> None:
        if revision <= self._compacted:
            raise CompactedError(revision, self._compacted)
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)
        self._history = self._history[self._index_of(revision) :]
        self._compacted = revision - 1

    async def current_revision(self) -> int:
        return self._revision

    async def compacted_revision(self) -> int:
        return self._compacted

    async def close(self) -> None:
        self._closed = True
        async with self._changed:
            self._changed.notify_all()

    def _check_open(self) -> None:
        if self._closed:
            raise UnavailableError("store is closed")
