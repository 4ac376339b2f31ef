"""The watch cache: one store watch feeds an in-memory copy of every object.

Upstream's API server keeps, per resource, the current objects and a ring buffer of
recent events, filled by one etcd watch; lists and watches are served from memory so a
hundred watchers cost one store watch. We do the same with one twist: a single watch on
the whole `/registry/` prefix feeds every resource's cache. Since every revision of a
cluster's store is a `/registry/` write, the dispatcher's revision is exactly the store's
once it has caught up, which makes "consistent list from cache" (wait until the cache has
seen the store's current revision, then read memory) simple and exact.

Objects handed out are shared; callers copy before mutating.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from openeks.store import CompactedError, Event, EventType, KeyValue, Store, StoreError

log = logging.getLogger(__name__)

REGISTRY = "/registry/"

Obj = dict[str, Any]
Decoder = Callable[[KeyValue], Obj]
Filter = Callable[[Obj], bool]


@dataclass(slots=True)
class CacheEvent:
    type: str  # ADDED, MODIFIED, DELETED
    key: str
    obj: Obj
    prev: Obj | None
    revision: int


@dataclass(eq=False)
class Watcher:
    """One client watch: a bounded queue the cache pushes matching events into."""

    key_prefix: str
    matches: Filter
    queue: asyncio.Queue[CacheEvent | None] = field(default_factory=lambda: asyncio.Queue(10000))
    closed: bool = False

    def offer(self, event: CacheEvent) -> None:
        if self.closed:
            return
        if not event.key.startswith(self.key_prefix):
            return
        now_matches = event.type != "DELETED" and self.matches(event.obj)
        was_matching = event.prev is not None and self.matches(event.prev)
        if event.type == "DELETED":
            if not self.matches(event.obj):
                return
            out = event
        elif now_matches and was_matching:
            out = event
        elif now_matches:
            out = CacheEvent("ADDED", event.key, event.obj, None, event.revision)
        elif was_matching:
            out = CacheEvent("DELETED", event.key, event.obj, event.prev, event.revision)
        else:
            return
        try:
            self.queue.put_nowait(out)
        except asyncio.QueueFull:
            log.warning("watcher on %s too slow; closing it", self.key_prefix)
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)


class ResourceCache:
    """Current objects and recent events of one storage prefix."""

    def __init__(self, prefix: str, decode: Decoder, capacity: int = 50_000) -> None:
        self.prefix = prefix
        self.decode = decode
        self.objects: dict[str, Obj] = {}
        self.events: deque[CacheEvent] = deque(maxlen=capacity)
        self.watchers: set[Watcher] = set()
        self.oldest = 0
        """Events with revision > oldest are all in `events` (0 = since the beginning)."""
        self.changes = 0
        """Counts applied events: a cheap "has anything changed" for derived caches."""
        self._buffer: list[Event] | None = None

    def load(self, items: Iterable[KeyValue], revision: int) -> None:
        self.objects = {kv.key: self.decode(kv) for kv in items}
        self.oldest = revision

    def apply(self, event: Event) -> None:
        if self._buffer is not None:
            self._buffer.append(event)
            return
        self.changes += 1
        key = event.kv.key
        prev = self.objects.get(key)
        if event.type is EventType.DELETE:
            if prev is None:
                return
            del self.objects[key]
            obj = dict(prev)
            obj["metadata"] = {**prev["metadata"], "resourceVersion": str(event.revision)}
            cached = CacheEvent("DELETED", key, obj, prev, event.revision)
        else:
            obj = self.decode(event.kv)
            self.objects[key] = obj
            cached = CacheEvent("MODIFIED" if prev else "ADDED", key, obj, prev, event.revision)
        if len(self.events) == self.events.maxlen and self.events:
            self.oldest = self.events[0].revision
        self.events.append(cached)
        for watcher in list(self.watchers):
            watcher.offer(cached)
            if watcher.closed:
                self.watchers.discard(watcher)

    def forget_before(self, revision: int) -> None:
        """Drop events older than `revision` (the store compacted them away)."""
        while self.events and self.events[0].revision < revision:
            self.events.popleft()
        self.oldest = max(self.oldest, revision - 1)

    def since(self, revision: int) -> list[CacheEvent] | None:
        """Events after `revision`, or None if they are no longer buffered."""
        if revision < self.oldest:
            return None
        out = []
        for event in reversed(self.events):
            if event.revision <= revision:
                break
            out.append(event)
        out.reverse()
        return out

    def items(self, key_prefix: str) -> list[Obj]:
        if key_prefix == self.prefix:
            return [self.objects[k] for k in sorted(self.objects)]
        return [self.objects[k] for k in sorted(self.objects) if k.startswith(key_prefix)]


class WatchCache:
    """The dispatcher: one `/registry/` watch routed to per-prefix `ResourceCache`s."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.revision = 0
        self._caches: dict[str, ResourceCache] = {}
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.started_at = time.monotonic()

    async def start(self, resources: dict[str, Decoder]) -> None:
        """Load every prefix at one revision, then follow the store from there."""
        for prefix, decode in resources.items():
            self._caches[prefix] = ResourceCache(prefix, decode)
        revision = await self.store.current_revision()
        await self._load_all(revision)
        self.revision = revision
        self._task = asyncio.create_task(self._follow(), name="watch-cache")
        self._ready.set()

    async def _load_all(self, revision: int) -> None:
        by_prefix: dict[str, list[KeyValue]] = {p: [] for p in self._caches}
        start_after = ""
        while True:
            page = await self.store.list(
                REGISTRY, revision=revision, limit=5000, start_after=start_after
            )
            for kv in page.items:
                cache = self._route(kv.key)
                if cache is not None:
                    by_prefix[cache.prefix].append(kv)
            if not page.more:
                break
            start_after = page.items[-1].key
        for prefix, items in by_prefix.items():
            self._caches[prefix].load(items, revision)

    async def add(self, prefix: str, decode: Decoder) -> ResourceCache:
        """Start caching a new prefix (a CRD) while the dispatcher runs."""
        existing = self._caches.get(prefix)
        if existing is not None:
            return existing
        cache = ResourceCache(prefix, decode)
        cache._buffer = []
        self._caches[prefix] = cache
        revision = self.revision
        items: list[KeyValue] = []
        start_after = ""
        while True:
            page = await self.store.list(
                prefix, revision=revision, limit=5000, start_after=start_after
            )
            items.extend(page.items)
            if not page.more:
                break
            start_after = page.items[-1].key
        cache.load(items, revision)
        buffered, cache._buffer = cache._buffer, None
        for event in buffered:
            if event.revision > revision:
                cache.apply(event)
        return cache

    def remove(self, prefix: str) -> None:
        cache = self._caches.pop(prefix, None)
        if cache is not None:
            for watcher in cache.watchers:
                watcher.close()

    def compacted(self, revision: int) -> None:
        """The store forgot history before `revision`: so do the caches."""
        for cache in self._caches.values():
            cache.forget_before(revision)

    def cache(self, prefix: str) -> ResourceCache:
        return self._caches[prefix]

    def _route(self, key: str) -> ResourceCache | None:
        # Keys are /registry/<group>/<resource>/...: the prefix is the first three parts.
        parts = key.split("/", 4)
        if len(parts) < 4:
            return None
        return self._caches.get("/".join(parts[:4]) + "/")

    async def _follow(self) -> None:
        while True:
            try:
                async for batch in self.store.watch(REGISTRY, self.revision + 1):
                    for event in batch:
                        cache = self._route(event.kv.key)
                        if cache is not None:
                            cache.apply(event)
                    self.revision = batch[-1].revision
                    async with self._progress:
                        self._progress.notify_all()
                return
            except CompactedError:
                log.error("watch cache fell behind compaction; reloading")
                revision = await self.store.current_revision()
                await self._load_all(revision)
                self.revision = revision
            except StoreError as e:
                log.warning("watch cache lost the store (%s); retrying", e)
                await asyncio.sleep(0.5)

    async def wait_for(self, revision: int, timeout: float = 3.0) -> bool:
        """Wait until the cache has seen `revision`; False on timeout."""
        if self.revision >= revision:
            return True
        deadline = time.monotonic() + timeout
        async with self._progress:
            while self.revision < revision:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._progress.wait(), left)
        return True

    async def sync(self, timeout: float = 3.0) -> bool:
        """Wait until the cache is as new as the store is now (a consistent read)."""
        return await self.wait_for(await self.store.current_revision(), timeout)

    def subscribe(self, prefix: str, key_prefix: str, matches: Filter) -> Watcher:
        watcher = Watcher(key_prefix, matches)
        self._caches[prefix].watchers.add(watcher)
        return watcher

    def unsubscribe(self, prefix: str, watcher: Watcher) -> None:
        watcher.closed = True
        cache = self._caches.get(prefix)
        if cache is not None:
            cache.watchers.discard(watcher)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for cache in self._caches.values():
            for watcher in list(cache.watchers):
                watcher.close()

    async def store_events(self, prefix: str, after: int) -> AsyncIterator[list[Event]]:
        """Direct store watch for a client resuming from before the cache's window."""
        async for batch in self.store.watch(prefix, after + 1):
            yield batch
