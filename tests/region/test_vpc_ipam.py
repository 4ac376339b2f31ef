"""Subnet address management over a memory store: AWS's reserved addresses, lowest
free first, aligned blocks, the published free count, and no address handed out twice
however many allocations race."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import pytest

from openeks.region.network import ensure_default_vpc
from openeks.region.state import RegionState
from openeks.region.vpc import ipam, networks
from openeks.region.vpc.errors import Ec2Error, SubnetFullError
from openeks.region.zones import Region
from openeks.store import open_store

REGION = Region.create("us-east-1")
ACCOUNT = "000000000000"


@pytest.fixture
async def state() -> AsyncIterator[RegionState]:
    store = await open_store("memory://")
    yield RegionState(store)


async def subnet(state: RegionState, cidr: str) -> str:
    vpc = await networks.create_vpc(state, REGION.name, ACCOUNT, cidr_block="10.0.0.0/16")
    doc = await networks.create_subnet(state, REGION, ACCOUNT, vpc_id=vpc["VpcId"], cidr_block=cidr)
    return str(doc["SubnetId"])


async def free_count(state: RegionState, subnet_id: str) -> int:
    record = await state.get("subnets", subnet_id)
    assert record is not None
    return int(record.value["AvailableIpAddressCount"])


async def test_the_first_address_is_the_fifth_of_the_subnet(state: RegionState) -> None:
    subnet_id = await subnet(state, "10.0.1.0/24")
    assert await free_count(state, subnet_id) == 251
    assert await ipam.allocate_ip(state, subnet_id, "a") == "10.0.1.4"
    assert await ipam.allocate_ip(state, subnet_id, "b") == "10.0.1.5"
    assert await free_count(state, subnet_id) == 249


async def test_an_owner_asking_again_gets_its_address_back(state: RegionState) -> None:
    subnet_id = await subnet(state, "10.0.1.0/24")
    first = await ipam.allocate_ip(state, subnet_id, "a")
    assert await ipam.allocate_ip(state, subnet_id, "a") == first
    assert await free_count(state, subnet_id) == 250


async def test_a_full_subnet_says_so_and_never_gives_the_broadcast_address(
    state: RegionState,
) -> None:
    subnet_id = await subnet(state, "10.0.2.0/28")
    given = await ipam.allocate_ips(state, subnet_id, [f"o{i}" for i in range(11)])
    assert given[0] == "10.0.2.4" and given[-1] == "10.0.2.14"
    assert await free_count(state, subnet_id) == 0
    with pytest.raises(SubnetFullError) as full:
        await ipam.allocate_ip(state, subnet_id, "late")
    assert full.value.code == "InsufficientFreeAddressesInSubnet"
    assert subnet_id in full.value.message


async def test_a_batch_that_does_not_fit_takes_nothing(state: RegionState) -> None:
    subnet_id = await subnet(state, "10.0.2.0/28")
    with pytest.raises(SubnetFullError):
        await ipam.allocate_ips(state, subnet_id, [f"o{i}" for i in range(12)])
    assert await free_count(state, subnet_id) == 11


async def test_released_addresses_are_given_again_lowest_first(state: RegionState) -> None:
    subnet_id = await subnet(state, "10.0.1.0/24")
    await ipam.allocate_ips(state, subnet_id, ["a", "b", "c"])
    await ipam.release(state, subnet_id, "b")
    assert await free_count(state, subnet_id) == 249
    assert await ipam.allocate_ip(state, subnet_id, "d") == "10.0.1.5"
    await ipam.release(state, subnet_id, "nobody")  # a no-op


async def test_blocks_are_aligned_and_skip_reserved_and_used_addresses(
    state: RegionState,
) -> None:
    subnet_id = await subnet(state, "10.0.1.0/24")
    await ipam.allocate_ip(state, subnet_id, "node")  # 10.0.1.4
    first = await ipam.allocate_block(state, subnet_id, 28, "pods/a")
    second = await ipam.allocate_block(state, subnet_id, 28, "pods/b")
    assert (first, second) == ("10.0.1.16/28", "10.0.1.32/28")
    assert await ipam.allocate_block(state, subnet_id, 28, "pods/a") == first
    assert await ipam.allocate_ip(state, subnet_id, "next") == "10.0.1.5"
    assert await free_count(state, subnet_id) == 251 - 2 - 32
    await ipam.release(state, subnet_id, "pods/a")
    assert await ipam.allocate_block(state, subnet_id, 27, "pods/c") == "10.0.1.64/27"
    assert await ipam.allocate_block(state, subnet_id, 28, "pods/d") == "10.0.1.16/28"


async def test_no_block_left_is_a_subnet_full_error(state: RegionState) -> None:
    subnet_id = await subnet(state, "10.0.2.0/26")
    assert await ipam.allocate_block(state, subnet_id, 28, "a") == "10.0.2.16/28"
    assert await ipam.allocate_block(state, subnet_id, 28, "b") == "10.0.2.32/28"
    with pytest.raises(SubnetFullError) as full:  # the first and last hold reserved ones
        await ipam.allocate_block(state, subnet_id, 28, "c")
    assert full.value.code == "InsufficientCidrBlocks"
    with pytest.raises(Ec2Error) as too_big:
        await ipam.allocate_block(state, subnet_id, 25, "d")
    assert too_big.value.code == "InvalidParameterValue"


async def test_an_unknown_subnet_is_not_found(state: RegionState) -> None:
    with pytest.raises(Ec2Error) as missing:
        await ipam.allocate_ip(state, "subnet-0123456789abcdef0", "a")
    assert missing.value.code == "InvalidSubnetID.NotFound"


async def test_the_default_vpcs_subnets_need_no_setup(state: RegionState) -> None:
    await ensure_default_vpc(state, REGION, ACCOUNT)
    subnet_id = sorted(r.name for r in await state.list("subnets"))[0]
    address = await ipam.allocate_ip(state, subnet_id, "a")
    assert ipaddress.IPv4Address(address) in ipaddress.IPv4Network("172.31.0.0/16")
    assert await free_count(state, subnet_id) == 4096 - 5 - 1


async def test_racing_allocations_never_share_an_address_and_the_count_stays_true(
    state: RegionState,
) -> None:
    subnet_id = await subnet(state, "10.0.4.0/24")
    singles = [ipam.allocate_ip(state, subnet_id, f"ip/{i}") for i in range(60)]
    blocks = [ipam.allocate_block(state, subnet_id, 29, f"block/{i}") for i in range(8)]
    results = await asyncio.gather(*singles, *blocks)
    spans = [ipaddress.IPv4Network(r) for r in results]
    for i, one in enumerate(spans):
        assert not any(one.overlaps(other) for other in spans[i + 1 :]), one
    assert await free_count(state, subnet_id) == 251 - 60 - 8 * 8
    releases = [ipam.release(state, subnet_id, f"ip/{i}") for i in range(0, 60, 2)]
    await asyncio.gather(*releases)
    assert await free_count(state, subnet_id) == 251 - 30 - 8 * 8


async def test_racing_allocations_past_the_end_fail_cleanly(state: RegionState) -> None:
    subnet_id = await subnet(state, "10.0.5.0/28")
    outcomes = await asyncio.gather(
        *(ipam.allocate_ip(state, subnet_id, f"o{i}") for i in range(20)), return_exceptions=True
    )
    given = [o for o in outcomes if isinstance(o, str)]
    assert len(given) == len(set(given)) == 11
    assert all(isinstance(o, SubnetFullError) for o in outcomes if not isinstance(o, str))
    assert await free_count(state, subnet_id) == 0


async def test_a_subnet_holding_addresses_cannot_be_deleted(state: RegionState) -> None:
    subnet_id = await subnet(state, "10.0.6.0/24")
    await ipam.allocate_ip(state, subnet_id, "a")
    with pytest.raises(Ec2Error) as held:
        await networks.delete_subnet(state, subnet_id)
    assert held.value.code == "DependencyViolation"
    await ipam.release(state, subnet_id, "a")
    await networks.delete_subnet(state, subnet_id)
    assert await state.get("subnets", subnet_id) is None
    assert await state.get("subnetips", subnet_id) is None
    with pytest.raises(Ec2Error):
        await ipam.allocate_ip(state, subnet_id, "b")
