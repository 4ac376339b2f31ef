"""Zones and their address blocks, and the address allocator's persistence."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from openeks.region import AddressAllocator, Region, UnknownZoneError
from openeks.region.zones import zone_id_prefix


def test_a_region_has_three_zones_named_and_numbered_like_aws() -> None:
    region = Region.create("us-east-1")
    assert region.zone_names == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert [z.zone_id for z in region.zones] == ["use1-az1", "use1-az2", "use1-az3"]
    assert region.zone("use1-az2").name == "us-east-1b"
    with pytest.raises(UnknownZoneError):
        region.zone("us-east-1d")


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("us-east-1", "use1"),
        ("eu-west-2", "euw2"),
        ("ap-southeast-1", "apse1"),
        ("eu-central-1", "euc1"),
        ("us-gov-west-1", "usgw1"),
        ("ap-northeast-3", "apne3"),
    ],
)
def test_zone_ids_use_aws_short_region_codes(name: str, prefix: str) -> None:
    assert zone_id_prefix(name) == prefix


def test_each_zone_owns_a_distinct_loopback_block_after_the_region_wide_one() -> None:
    region = Region.create("eu-west-1", octet=100)
    assert str(region.network) == "127.100.0.0/16"
    assert [str(z.network) for z in region.zones] == [
        "127.101.0.0/16",
        "127.102.0.0/16",
        "127.103.0.0/16",
    ]
    with pytest.raises(ValueError):
        Region.create("eu-west-1", octet=253)
    with pytest.raises(ValueError):
        Region.create("not a region")


def test_owners_get_their_own_address_in_their_zone_with_preferred_ports(
    tmp_path: Path, region: Region
) -> None:
    ipam = AddressAllocator(region, tmp_path / "ipam.json")
    a = ipam.allocate("c1/etcd/a", "us-east-1a", {"client": 2379, "peer": 2380})
    b = ipam.allocate("c1/etcd/b", "use1-az2", {"client": 2379, "peer": 2380})
    lb = ipam.allocate("c1/endpoint", None, {"https": 443})
    assert a.address in {str(h) for h in region.zone("us-east-1a").network.hosts()}
    assert b.zone == "us-east-1b" and b.address.startswith(f"127.{region.octet + 2}.")
    assert lb.address.startswith(f"127.{region.octet}.")
    assert a.address != b.address
    assert a.ports == {"client": 2379, "peer": 2380} and b.endpoint("client").port == 2379
    assert lb.endpoint("https").port == 443
    with pytest.raises(ValueError):
        ipam.allocate("c1/etcd/a", "us-east-1b", {"client": 2379})


def test_a_port_held_by_someone_else_is_not_handed_out(tmp_path: Path, region: Region) -> None:
    ipam = AddressAllocator(region, tmp_path / "ipam.json")
    first_address = next(str(h) for h in region.zone("us-east-1a").network.hosts())
    with socket.create_server((first_address, 2379)) as foreign:
        assert foreign.getsockname()[1] == 2379
        got = ipam.allocate("c1/etcd/a", "us-east-1a", {"client": 2379, "peer": 0})
    assert got.address == first_address
    assert got.ports["client"] != 2379
    assert got.ports["peer"] not in (0, got.ports["client"])


def test_allocations_survive_a_restart_and_are_handed_back_unchanged(
    tmp_path: Path, region: Region
) -> None:
    path = tmp_path / "ipam.json"
    ipam = AddressAllocator(region, path)
    before = {
        owner: ipam.allocate(owner, zone, {"client": 2379, "peer": 2380, "metrics": 0})
        for owner, zone in [("c1/a", "us-east-1a"), ("c1/b", "us-east-1b"), ("c2/a", "us-east-1a")]
    }

    reopened = AddressAllocator(region, path)
    for owner, allocation in before.items():
        assert reopened.get(owner) == allocation
        # Asking again (even while the owner's process holds the port) changes nothing.
        with socket.create_server((allocation.address, allocation.ports["client"])):
            again = reopened.allocate(owner, allocation.zone, {"client": 2379, "peer": 2380})
        assert again == allocation
    assert reopened.allocate("c1/a", "us-east-1a", {"extra": 0}).ports.keys() == {
        "client",
        "peer",
        "metrics",
        "extra",
    }

    assert reopened.release_prefix("c1/") == ["c1/a", "c1/b"]
    assert AddressAllocator(region, path).allocations() == [before["c2/a"]]


def test_an_allocation_file_of_another_region_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ipam.json"
    AddressAllocator(Region.create("us-east-1", octet=120), path).allocate("x", None, {"p": 0})
    with pytest.raises(ValueError):
        AddressAllocator(Region.create("us-east-1", octet=124), path)
