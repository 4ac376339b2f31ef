"""The storage contract (see `openeks.store.base`), run against every backend.

Revisions are only compared relative to each other: the etcd backend shares one
cluster across the session, and etcd starts counting at 1 before any write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from openeks.store import (
    CompactedError,
    ConflictError,
    Event,
    EventType,
    FutureRevisionError,
    KeyExistsError,
    KeyValue,
    NotFoundError,
    Store,
)

if TYPE_CHECKING:
    from tests.store.conftest import Backend


async def collect(
    store: Store, prefix: str, start: int, count: int, timeout: float = 10.0
) -> list[Event]:
    """The first `count` events of a watch (fails the test after `timeout`)."""
    events: list[Event] = []
    stream = store.watch(prefix, start)
    try:
        async with asyncio.timeout(timeout):
            async for batch in stream:
                events.extend(batch)
                if len(events) >= count:
                    break
    finally:
        await aclose(stream)
    return events


async def aclose(stream: AsyncIterator[list[Event]]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()


# -- single-key operations ------------------------------------------------------------


async def test_get_returns_none_for_a_missing_key(store: Store, ns: str) -> None:
    assert await store.get(ns + "missing") is None


async def test_create_assigns_the_next_revision_and_get_reads_it_back(
    store: Store, ns: str
) -> None:
    before = await store.current_revision()
    kv = await store.create(ns + "a", b"one")
    assert kv == KeyValue(ns + "a", b"one", before + 1, before + 1)
    assert await store.current_revision() == before + 1
    assert await store.get(ns + "a") == kv


async def test_create_fails_when_the_key_exists(store: Store, ns: str) -> None:
    await store.create(ns + "a", b"one")
    with pytest.raises(KeyExistsError):
        await store.create(ns + "a", b"two")
    assert (await store.get(ns + "a")) is not None
    assert (await store.get(ns + "a")).value == b"one"  # type: ignore[union-attr]


async def test_create_after_delete_starts_a_new_generation(store: Store, ns: str) -> None:
    first = await store.create(ns + "a", b"one")
    await store.delete(ns + "a")
    second = await store.create(ns + "a", b"two")
    assert second.create_revision == second.mod_revision > first.create_revision


async def test_update_with_the_current_revision_replaces_the_value(store: Store, ns: str) -> None:
    created = await store.create(ns + "a", b"one")
    updated = await store.update(ns + "a", b"two", created.mod_revision)
    assert updated == KeyValue(ns + "a", b"two", created.create_revision, created.mod_revision + 1)
    assert await store.get(ns + "a") == updated


async def test_update_with_a_stale_revision_raises_conflict_carrying_the_current_value(
    store: Store, ns: str
) -> None:
    created = await store.create(ns + "a", b"one")
    current = await store.update(ns + "a", b"two", created.mod_revision)
    with pytest.raises(ConflictError) as caught:
        await store.update(ns + "a", b"three", created.mod_revision)
    assert caught.value.current == current
    assert await store.get(ns + "a") == current


async def test_update_of_a_missing_key_raises_not_found(store: Store, ns: str) -> None:
    with pytest.raises(NotFoundError):
        await store.update(ns + "missing", b"x", 1)
    with pytest.raises(NotFoundError):
        await store.update(ns + "missing", b"x", 0)
    assert await store.get(ns + "missing") is None


async def test_delete_returns_the_last_value_at_the_deletion_revision(
    store: Store, ns: str
) -> None:
    created = await store.create(ns + "a", b"one")
    deleted = await store.delete(ns + "a", created.mod_revision)
    assert deleted == KeyValue(ns + "a", b"one", created.create_revision, created.mod_revision + 1)
    assert await store.get(ns + "a") is None
    assert await store.current_revision() == deleted.mod_revision


async def test_delete_checks_the_expected_revision_unless_it_is_zero(store: Store, ns: str) -> None:
    created = await store.create(ns + "a", b"one")
    updated = await store.update(ns + "a", b"two", created.mod_revision)
    with pytest.raises(ConflictError) as caught:
        await store.delete(ns + "a", created.mod_revision)
    assert caught.value.current == updated
    deleted = await store.delete(ns + "a", 0)
    assert deleted.value == b"two"


async def test_delete_of_a_missing_key_raises_not_found(store: Store, ns: str) -> None:
    with pytest.raises(NotFoundError):
        await store.delete(ns + "missing")
    with pytest.raises(NotFoundError):
        await store.delete(ns + "missing", 5)


async def test_failed_writes_do_not_use_up_revisions(store: Store, ns: str) -> None:
    created = await store.create(ns + "a", b"one")
    for attempt in (
        store.create(ns + "a", b"x"),
        store.update(ns + "a", b"x", created.mod_revision + 100),
        store.update(ns + "missing", b"x", 1),
        store.delete(ns + "missing"),
    ):
        with pytest.raises((KeyExistsError, ConflictError, NotFoundError)):
            await attempt
    assert await store.current_revision() == created.mod_revision
    nxt = await store.create(ns + "b", b"")
    assert nxt.mod_revision == created.mod_revision + 1


# -- list ---------------------------------------------------------------------------------


async def test_list_returns_the_keys_under_the_prefix_sorted(store: Store, ns: str) -> None:
    for key in ("a/3", "a/1", "ab", "a/2", "b/1"):
        await store.create(ns + key, key.encode())
    await store.delete(ns + "a/3")
    result = await store.list(ns + "a/")
    assert [kv.key for kv in result.items] == [ns + "a/1", ns + "a/2"]
    assert [kv.value for kv in result.items] == [b"a/1", b"a/2"]
    assert result.revision == await store.current_revision()
    assert (result.more, result.count) == (False, 0)
    assert await store.list(ns + "nothing/") == (await store.list(ns + "nothing/"))
    assert (await store.list(ns + "nothing/")).items == []


async def test_list_pages_with_limit_and_start_after(store: Store, ns: str) -> None:
    keys = [f"{ns}k{i:02d}" for i in range(7)]
    for key in reversed(keys):
        await store.create(key, b"")
    first = await store.list(ns, limit=3)
    assert [kv.key for kv in first.items] == keys[:3]
    assert (first.more, first.count) == (True, 4)
    await store.create(ns + "k99", b"")  # after the first page: not in a paged snapshot
    seen = [kv.key for kv in first.items]
    page = first
    while page.more:
        page = await store.list(
            ns, revision=first.revision, limit=3, start_after=page.items[-1].key
        )
        assert page.revision == first.revision
        seen.extend(kv.key for kv in page.items)
    assert seen == keys
    tail = await store.list(ns, start_after=keys[4])
    assert [kv.key for kv in tail.items] == [*keys[5:], ns + "k99"]
    assert (tail.more, tail.count) == (False, 0)
    exact = await store.list(ns, limit=8)
    assert (len(exact.items), exact.more, exact.count) == (8, False, 0)


async def test_list_at_an_old_revision_reads_a_snapshot(store: Store, ns: str) -> None:
    a = await store.create(ns + "a", b"a1")
    b = await store.create(ns + "b", b"b1")
    snapshot = await store.current_revision()
    await store.update(ns + "a", b"a2", a.mod_revision)
    await store.delete(ns + "b", b.mod_revision)
    await store.create(ns + "c", b"c1")
    old = await store.list(ns, revision=snapshot)
    assert old.revision == snapshot
    assert old.items == [a, b]
    older = await store.list(ns, revision=a.mod_revision)
    assert older.items == [a]
    now = await store.list(ns)
    assert [(kv.key, kv.value) for kv in now.items] == [(ns + "a", b"a2"), (ns + "c", b"c1")]


async def test_list_at_a_future_revision_raises(store: Store, ns: str) -> None:
    await store.create(ns + "a", b"")
    with pytest.raises(FutureRevisionError):
        await store.list(ns, revision=await store.current_revision() + 10)


# -- watch --------------------------------------------------------------------------------


async def test_watch_from_an_old_revision_replays_history_in_order(store: Store, ns: str) -> None:
    a = await store.create(ns + "a", b"1")
    await store.create(ns + "other/x", b"")  # different prefix below: not delivered
    a2 = await store.update(ns + "a", b"2", a.mod_revision)
    gone = await store.delete(ns + "a")
    events = await collect(store, ns + "a", a.mod_revision, 3)
    assert [e.type for e in events] == [EventType.PUT, EventType.PUT, EventType.DELETE]
    assert [e.revision for e in events] == [a.mod_revision, a2.mod_revision, gone.mod_revision]
    assert events[0].created and events[0].prev is None
    assert events[1].kv == a2 and events[1].prev == a
    assert events[2].kv == gone and events[2].prev == a2
    later = await collect(store, ns + "a", a2.mod_revision, 2)
    assert [e.revision for e in later] == [a2.mod_revision, gone.mod_revision]


async def test_watch_delivers_live_events_in_order(store: Store, ns: str) -> None:
    start = await store.current_revision() + 1
    watching = asyncio.create_task(collect(store, ns, start, 30))
    written = []
    for i in range(10):
        kv = await store.create(f"{ns}{i}", b"v")
        written.append(await store.update(kv.key, b"w", kv.mod_revision))
        await store.delete(kv.key)
        await asyncio.sleep(0)
    events = await watching
    revisions = [e.revision for e in events]
    assert revisions == list(range(start, start + 30))
    assert [e.type for e in events[:3]] == [EventType.PUT, EventType.PUT, EventType.DELETE]
    assert events[1].kv == written[0]
    assert events[2].kv.value == b"w" and events[2].prev == written[0]


async def test_watch_from_zero_starts_after_the_current_revision(store: Store, ns: str) -> None:
    await store.create(ns + "old", b"")
    stream = store.watch(ns, 0)
    try:
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.2)  # let the watch start before writing
        new = await store.create(ns + "new", b"")
        batch = await asyncio.wait_for(first, 10)
    finally:
        await aclose(stream)
    assert [e.kv for e in batch] == [new]


async def test_watch_from_a_future_revision_waits_for_it(store: Store, ns: str) -> None:
    start = await store.current_revision() + 3
    watching = asyncio.create_task(collect(store, ns, start, 2))
    await asyncio.sleep(0.05)
    for i in range(4):
        await store.create(f"{ns}{i}", b"")
    assert [e.revision for e in await watching] == [start, start + 1]


async def test_watch_catching_up_while_writes_land_neither_misses_nor_repeats(
    store: Store, ns: str
) -> None:
    start = (await store.create(ns + "old/0", b"")).mod_revision
    for i in range(1, 300):
        await store.create(f"{ns}old/{i}", b"")

    async def write_more() -> None:
        for i in range(300):
            await store.create(f"{ns}new/{i}", b"")
            if i % 10 == 0:
                await asyncio.sleep(0)

    writer = asyncio.create_task(write_more())
    events = await collect(store, ns, start, 600)
    await writer
    assert [e.revision for e in events] == list(range(start, start + 600))


async def test_many_watchers_all_see_every_event(store: Store, ns: str) -> None:
    start = await store.current_revision() + 1
    watchers = [asyncio.create_task(collect(store, ns, start, 20)) for _ in range(100)]
    await asyncio.sleep(0.05)
    for i in range(20):
        await store.create(f"{ns}{i:02d}", b"")
    for events in await asyncio.gather(*watchers):
        assert [e.revision for e in events] == list(range(start, start + 20))


async def test_closing_the_store_ends_its_watches(store: Store, ns: str) -> None:
    start = (await store.create(ns + "a", b"")).mod_revision
    stream = store.watch(ns, start)
    assert len(await asyncio.wait_for(anext(stream), 10)) == 1
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)
    await store.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 10)


# -- compaction ---------------------------------------------------------------------------


async def test_compaction_forgets_history_but_keeps_current_values(store: Store, ns: str) -> None:
    a = await store.create(ns + "a", b"1")
    c = await store.create(ns + "c", b"c")
    a2 = await store.update(ns + "a", b"2", a.mod_revision)
    await store.delete(ns + "c", c.mod_revision)
    a3 = await store.update(ns + "a", b"3", a2.mod_revision)
    keep = await store.create(ns + "d", b"d")
    await store.compact(a3.mod_revision)
    assert await store.compacted_revision() == a3.mod_revision - 1
    assert (await store.list(ns)).items == [a3, keep]
    assert await store.get(ns + "a") == a3
    assert await store.get(ns + "c") is None
    assert (await store.list(ns, revision=a3.mod_revision)).items == [a3]
    events = await collect(store, ns, a3.mod_revision, 2)
    assert [e.kv for e in events] == [a3, keep]
    assert not events[0].created
    # The value a3 replaced: kept by memory and sqlite, already gone in etcd.
    assert events[0].prev in (a2, None)


async def test_watch_below_the_compaction_raises_compacted(store: Store, ns: str) -> None:
    a = await store.create(ns + "a", b"1")
    a2 = await store.update(ns + "a", b"2", a.mod_revision)
    await store.compact(a2.mod_revision)
    stream = store.watch(ns, a.mod_revision)
    try:
        with pytest.raises(CompactedError) as caught:
            await asyncio.wait_for(anext(stream), 10)
    finally:
        await aclose(stream)
    assert caught.value.compacted == a2.mod_revision - 1


async def test_list_below_the_compaction_raises_compacted(store: Store, ns: str) -> None:
    a = await store.create(ns + "a", b"1")
    a2 = await store.update(ns + "a", b"2", a.mod_revision)
    await store.create(ns + "b", b"")
    await store.compact(a2.mod_revision)
    with pytest.raises(CompactedError) as caught:
        await store.list(ns, revision=a.mod_revision)
    assert caught.value.compacted == a2.mod_revision - 1
    with pytest.raises(CompactedError):
        await store.compact(a.mod_revision)


async def test_compaction_in_the_future_raises(store: Store, ns: str) -> None:
    await store.create(ns + "a", b"")
    with pytest.raises(FutureRevisionError):
        await store.compact(await store.current_revision() + 10)


# -- concurrency and restarts -------------------------------------------------------------


async def test_concurrent_updates_with_the_same_revision_let_exactly_one_win(
    store: Store, ns: str
) -> None:
    created = await store.create(ns + "a", b"0")

    async def attempt(i: int) -> KeyValue | ConflictError:
        try:
            return await store.update(ns + "a", str(i).encode(), created.mod_revision)
        except ConflictError as e:
            return e

    outcomes = await asyncio.gather(*(attempt(i) for i in range(20)))
    winners = [o for o in outcomes if isinstance(o, KeyValue)]
    assert len(winners) == 1
    assert sum(isinstance(o, ConflictError) for o in outcomes) == 19
    assert await store.get(ns + "a") == winners[0]


async def test_concurrent_creates_of_one_key_let_exactly_one_win(store: Store, ns: str) -> None:
    async def attempt(i: int) -> KeyValue | None:
        try:
            return await store.create(ns + "a", str(i).encode())
        except KeyExistsError:
            return None

    outcomes = await asyncio.gather(*(attempt(i) for i in range(20)))
    winners = [o for o in outcomes if o is not None]
    assert len(winners) == 1
    assert await store.get(ns + "a") == winners[0]


async def test_revision_and_data_survive_reopening(backend: Backend, ns: str) -> None:
    if not backend.durable:
        pytest.skip(f"{backend.name} keeps nothing across restarts")
    store = await backend.open()
    try:
        kv = await store.create(ns + "a", b"kept")
        await store.update(ns + "a", b"kept2", kv.mod_revision)
        revision = await store.current_revision()
    finally:
        await store.close()
    store = await backend.open()
    try:
        assert await store.current_revision() >= revision
        assert (await store.get(ns + "a")).value == b"kept2"  # type: ignore[union-attr]
        assert (await store.create(ns + "b", b"")).mod_revision > revision
    finally:
        await store.close()
