"""The etcd backend across member failures, on a real three-member cluster.

gRPC's pick_first policy sends everything to the first endpoint that answers, so
stopping member 0 takes away the member the store is using: reads, writes (some of
them in flight at that moment) and a long-running watch must all carry on through the
other members, and the watch must not lose or repeat an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from openeks.store import Event, UnavailableError
from openeks.store.etcd import EtcdOptions, EtcdStore
from tests.support.etcd import EtcdCluster, etcd_available

pytestmark = [
    pytest.mark.etcd,
    pytest.mark.skipif(not etcd_available(), reason="etcd is not installed"),
]


@pytest.fixture
def cluster() -> Iterator[EtcdCluster]:
    with EtcdCluster(members=3) as started:
        yield started


async def watch_until(store: EtcdStore, start: int, last_key: str) -> list[Event]:
    events: list[Event] = []
    stream = store.watch("/f/", start)
    try:
        async for batch in stream:
            events.extend(batch)
            if any(e.kv.key == last_key for e in batch):
                return events
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    raise AssertionError("the watch ended early")


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
async def test_stopping_the_member_in_use_keeps_reads_writes_and_watches_working(
    cluster: EtcdCluster, kill: bool
) -> None:
    store = await EtcdStore.open(cluster.endpoints, EtcdOptions(retry_for=15))
    try:
        start = (await store.create("/f/first", b"")).mod_revision
        watching = asyncio.create_task(watch_until(store, start, "/f/last"))
        written: list[int] = [start]

        async def keep_writing(name: str, count: int) -> None:
            for i in range(count):
                kv = await store.create(f"/f/{name}/{i}", b"v")
                kv2 = await store.update(kv.key, b"w", kv.mod_revision)
                written.extend([kv.mod_revision, kv2.mod_revision])
                await asyncio.sleep(0.005)

        writers = [asyncio.create_task(keep_writing(f"w{n}", 60)) for n in range(4)]
        await asyncio.sleep(0.1)
        await cluster.stop_member_async(0, kill=kill)
        await asyncio.gather(*writers)

        assert len((await store.list("/f/w0/")).items) == 60
        assert (await store.get("/f/w3/59")).value == b"w"  # type: ignore[union-attr]
        last = await store.create("/f/last", b"")
        written.append(last.mod_revision)

        events = await asyncio.wait_for(watching, 20)
        revisions = [e.revision for e in events]
        assert revisions == sorted(written)  # all of them, in order, once each
        assert len(events) == 1 + 4 * 60 * 2 + 1
    finally:
        await store.close()


async def test_operations_fail_with_unavailable_when_all_members_are_down_then_recover(
    cluster: EtcdCluster,
) -> None:
    store = await EtcdStore.open(cluster.endpoints, EtcdOptions(retry_for=1.0))
    try:
        kv = await store.create("/f/a", b"1")
        for i in range(3):
            await cluster.stop_member_async(i, kill=True)
        with pytest.raises(UnavailableError):
            await store.get("/f/a")
        with pytest.raises(UnavailableError):
            await store.update("/f/a", b"2", kv.mod_revision)
        for i in range(3):
            cluster.start_member(i, wait=False)
        await cluster.wait_healthy_async()
        assert await store.get("/f/a") == kv
        assert (await store.update("/f/a", b"2", kv.mod_revision)).value == b"2"
    finally:
        await store.close()
