"""A cluster's etcd run by the supervisor: one member per zone, surviving the loss of a
zone and a restart of the whole region, and the single-member dev variant."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from openeks.region import (
    AddressAllocator,
    EtcdCluster,
    EtcdMember,
    ProcessState,
    Region,
    Supervisor,
    plan_etcd_cluster,
    plan_single_member,
    start_etcd_cluster,
    stop_etcd_cluster,
)
from openeks.store import Store, open_store

pytestmark = [
    pytest.mark.etcd,
    pytest.mark.skipif(shutil.which("etcd") is None, reason="etcd is not installed"),
]


@pytest.fixture
def ipam(workdir: Path, region: Region) -> AddressAllocator:
    return AddressAllocator(region, workdir / "region" / "ipam.json")


@pytest.fixture
def cluster(workdir: Path, region: Region, ipam: AddressAllocator) -> EtcdCluster:
    return plan_etcd_cluster("clusters/prod", workdir / "prod" / "etcd", ipam, region.zone_names)


def test_a_plan_puts_one_member_in_each_zone_and_is_stable(
    workdir: Path, region: Region, ipam: AddressAllocator, cluster: EtcdCluster
) -> None:
    for member, zone in zip(cluster.members, region.zones, strict=True):
        assert member.zone == zone.name
        assert member.client.host.startswith(f"127.{region.octet + zone.index}.")
        assert (member.client.port, member.peer.port) == (2379, 2380)
    assert cluster.store_url == "etcd://" + ",".join(
        f"{m.client.host}:2379" for m in cluster.members
    )
    again = plan_etcd_cluster(
        "clusters/prod",
        workdir / "prod" / "etcd",
        AddressAllocator(region, ipam.path),
        region.zone_names,
    )
    assert again == cluster
    with pytest.raises(ValueError, match="not supported"):
        plan_etcd_cluster("clusters/prod", cluster.directory, ipam, region.zone_names[:2])
    spec = cluster.spec(cluster.members[0])
    assert spec.zone == "us-east-1a" and spec.start_timeout is None
    assert "--heartbeat-interval=100" in spec.argv and "--election-timeout=1000" in spec.argv


async def test_writes_continue_through_a_zone_loss_and_the_member_rejoins(
    supervisor: Supervisor, cluster: EtcdCluster
) -> None:
    await start_etcd_cluster(supervisor, cluster, timeout=30)
    assert cluster.is_bootstrapped()
    store = await open_store(cluster.store_url)
    try:
        await lose_and_regain_a_zone(supervisor, cluster, store)
    finally:
        await store.close()


def leader(cluster: EtcdCluster) -> EtcdMember:
    """The member that leads, from etcd's JSON gateway (POST /v3/maintenance/status)."""
    for member in cluster.members:
        request = urllib.request.Request(
            f"{member.client_url}/v3/maintenance/status", data=b"{}", method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                status = json.load(response)
        except OSError:
            continue  # down
        if status["header"]["member_id"] == status["leader"]:
            return member
    raise AssertionError("no leader")


async def lose_and_regain_a_zone(
    supervisor: Supervisor, cluster: EtcdCluster, store: Store
) -> None:
    before = [await store.create(f"/k/before/{i}", b"v") for i in range(5)]

    # The worst case: the zone of the leader goes.
    lost = await asyncio.to_thread(leader, cluster)
    await supervisor.zone_down(lost.zone)
    started = time.monotonic()
    during = [await store.create(f"/k/during/{i}", b"v") for i in range(5)]
    failover = time.monotonic() - started
    print(f"\nfirst five writes after losing the leader's zone {lost.zone}: {failover:.2f}s")
    assert failover < 10
    assert supervisor.status(lost.process).state == ProcessState.ZONE_DOWN
    assert (await asyncio.to_thread(leader, cluster)) != lost

    await supervisor.zone_up(lost.zone)
    await supervisor.wait_ready(lost.process, timeout=30)
    assert '"initial-cluster-state":"existing"' in lost.log_file.read_text()
    alone = await open_store(f"etcd://{lost.client}")  # only the member that was down
    try:
        for kv in before + during:
            got = await alone.get(kv.key)
            assert got is not None and got.mod_revision == kv.mod_revision
    finally:
        await alone.close()


async def test_a_restarted_region_brings_the_cluster_back_with_its_data(
    workdir: Path, region: Region, ipam: AddressAllocator, cluster: EtcdCluster
) -> None:
    state_dir = workdir / "region"
    async with Supervisor(state_dir, region.zone_names) as first:
        await start_etcd_cluster(first, cluster, timeout=30)
        store = await open_store(cluster.store_url)
        try:
            written = await store.create("/k/durable", b"kept")
        finally:
            await store.close()

    # The region restarts: addresses and plan come back from disk, processes from the
    # supervisor's state file; start_etcd_cluster finds them already there.
    replanned = plan_etcd_cluster(
        "clusters/prod", cluster.directory, AddressAllocator(region, ipam.path), region.zone_names
    )
    assert replanned == cluster
    async with Supervisor(state_dir, region.zone_names) as second:
        await start_etcd_cluster(second, replanned, timeout=30)
        store = await open_store(replanned.store_url)
        try:
            got = await store.get("/k/durable")
            assert got is not None and got.value == b"kept"
            assert got.mod_revision == written.mod_revision
        finally:
            await store.close()
        await stop_etcd_cluster(second, replanned, delete=True, allocator=ipam)
        assert second.statuses() == []
    assert not cluster.directory.exists()
    assert ipam.allocations() == []


async def test_the_single_member_variant_serves_a_dev_cluster(
    supervisor: Supervisor, workdir: Path, region: Region, ipam: AddressAllocator
) -> None:
    dev = plan_single_member("clusters/dev", workdir / "dev" / "etcd", ipam, "us-east-1b")
    assert len(dev.members) == 1 and dev.quorum == 1
    await start_etcd_cluster(supervisor, dev, timeout=30)
    store = await open_store(dev.store_url)
    try:
        kv = await store.create("/dev/key", b"v")
        assert (await store.get("/dev/key")) == kv
    finally:
        await store.close()
