"""The control plane's interfaces in a cluster's subnets, over a memory store: one per
zone, EKS's shape, idempotent, following subnet changes, skipping full subnets, and gone
(with their addresses) when the cluster is; then as boto3 and the AWS CLI describe them.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from openeks.region.clusters import interfaces
from openeks.region.clusters.interfaces import (
    ensure_control_plane_interfaces,
    remove_control_plane_interfaces,
)
from openeks.region.network import ensure_default_vpc
from openeks.region.state import RegionState
from openeks.region.vpc import ipam, networks
from openeks.region.vpc.interfaces import create_network_interface, interfaces_of
from openeks.region.vpc.securitygroups import create_security_group
from openeks.region.zones import Region
from openeks.store import open_store
from tests.aws.eks_support import EksRegion

REGION = Region.create("us-east-1")
ACCOUNT = "000000000000"
Doc = dict[str, Any]


@pytest.fixture
async def state() -> AsyncIterator[RegionState]:
    store = await open_store("memory://")
    yield RegionState(store)
    await store.close()


async def default_network(state: RegionState) -> tuple[str, list[Doc]]:
    vpc = await ensure_default_vpc(state, REGION, ACCOUNT)
    subnets = sorted((r.value for r in await state.list("subnets")), key=lambda s: s["CidrBlock"])
    return str(vpc["VpcId"]), subnets


def cluster(vpc_id: str, subnet_ids: list[str], groups: list[str] | None = None) -> Doc:
    return {
        "name": "c1",
        "arn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/c1",
        "resourcesVpcConfig": {
            "subnetIds": subnet_ids,
            "securityGroupIds": groups or [],
            "vpcId": vpc_id,
        },
    }


async def eks_interfaces(state: RegionState) -> list[Doc]:
    found = await interfaces_of(state, "eks/c1")
    return sorted(found, key=lambda d: d["AvailabilityZone"])


async def free(state: RegionState, subnet_id: str) -> int:
    record = await state.get("subnets", subnet_id)
    assert record is not None
    return int(record.value["AvailableIpAddressCount"])


async def test_one_interface_per_zone_shaped_as_eks_shows_them(state: RegionState) -> None:
    vpc_id, subnets = await default_network(state)
    ids = [s["SubnetId"] for s in subnets]
    before = [await free(state, i) for i in ids]
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, cluster(vpc_id, ids))
    found = await eks_interfaces(state)
    assert [d["AvailabilityZone"] for d in found] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert [d["SubnetId"] for d in found] == ids
    for doc, subnet in zip(found, subnets, strict=True):
        assert doc["Description"] == "Amazon EKS c1"
        assert doc["RequesterId"] == "AROA2OPENEKSCTRLPLANE:AmazonEKS"
        assert doc["RequesterManaged"] is False
        assert doc["Status"] == "in-use"
        assert doc["InterfaceType"] == "interface"
        assert doc["OwnerId"] == ACCOUNT and doc["VpcId"] == vpc_id
        assert [g["GroupName"] for g in doc["Groups"]] == ["default"]
        attachment = doc["Attachment"]
        assert "InstanceId" not in attachment
        assert attachment["DeviceIndex"] == 1 and attachment["Status"] == "attached"
        assert attachment["InstanceOwnerId"] != ACCOUNT
        address = ipaddress.ip_address(doc["PrivateIpAddress"])
        assert address in ipaddress.ip_network(subnet["CidrBlock"])
        assert doc["PrivateDnsName"] == f"ip-{str(address).replace('.', '-')}.ec2.internal"
    assert [await free(state, i) for i in ids] == [n - 1 for n in before]


async def test_ensuring_again_changes_nothing(state: RegionState) -> None:
    vpc_id, subnets = await default_network(state)
    doc = cluster(vpc_id, [s["SubnetId"] for s in subnets])
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, doc)
    first = await eks_interfaces(state)
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, doc)
    assert await eks_interfaces(state) == first


async def test_two_subnets_of_a_zone_get_one_interface_and_a_full_one_is_skipped(
    state: RegionState,
) -> None:
    vpc_id, subnets = await default_network(state)
    tiny = await networks.create_subnet(
        state, REGION, ACCOUNT, vpc_id=vpc_id, cidr_block="172.31.48.0/28",
        availability_zone="us-east-1a",
    )  # fmt: skip
    await ipam.allocate_ips(state, tiny["SubnetId"], [f"filler-{n}" for n in range(11)])
    ids = [tiny["SubnetId"], subnets[0]["SubnetId"], subnets[1]["SubnetId"]]
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, cluster(vpc_id, ids))
    found = await eks_interfaces(state)
    assert [d["SubnetId"] for d in found] == [subnets[0]["SubnetId"], subnets[1]["SubnetId"]]


async def test_a_zone_whose_subnets_are_all_full_gets_none(
    state: RegionState, caplog: pytest.LogCaptureFixture
) -> None:
    vpc_id, subnets = await default_network(state)
    tiny = await networks.create_subnet(
        state, REGION, ACCOUNT, vpc_id=vpc_id, cidr_block="172.31.48.0/28",
        availability_zone="us-east-1a",
    )  # fmt: skip
    await ipam.allocate_ips(state, tiny["SubnetId"], [f"filler-{n}" for n in range(11)])
    ids = [tiny["SubnetId"], subnets[1]["SubnetId"]]
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, cluster(vpc_id, ids))
    assert [d["AvailabilityZone"] for d in await eks_interfaces(state)] == ["us-east-1b"]
    assert "no subnet of us-east-1a has a free address" in caplog.text


async def test_at_most_max_interfaces(state: RegionState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interfaces, "MAX_INTERFACES", 2)
    vpc_id, subnets = await default_network(state)
    ids = [s["SubnetId"] for s in subnets]
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, cluster(vpc_id, ids))
    assert len(await eks_interfaces(state)) == 2


async def test_interfaces_follow_the_clusters_subnets(state: RegionState) -> None:
    vpc_id, subnets = await default_network(state)
    ids = [s["SubnetId"] for s in subnets]
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, cluster(vpc_id, ids))
    dropped = ids[2]
    before = await free(state, dropped)
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, cluster(vpc_id, ids[:2]))
    assert [d["SubnetId"] for d in await eks_interfaces(state)] == ids[:2]
    assert await free(state, dropped) == before + 1


async def test_the_clusters_security_groups_in_its_vpc_are_used(state: RegionState) -> None:
    vpc_id, subnets = await default_network(state)
    group = await create_security_group(
        state, REGION.name, ACCOUNT, name="cp", description="control plane", vpc_id=vpc_id
    )
    groups = [group["GroupId"], "sg-0123456789abcdef0"]  # the second does not exist
    doc = cluster(vpc_id, [subnets[0]["SubnetId"]], groups)
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, doc)
    [found] = await eks_interfaces(state)
    assert found["Groups"] == [{"GroupId": group["GroupId"], "GroupName": "cp"}]


async def test_removing_frees_every_address_and_leaves_other_interfaces(
    state: RegionState,
) -> None:
    vpc_id, subnets = await default_network(state)
    ids = [s["SubnetId"] for s in subnets]
    before = [await free(state, i) for i in ids]
    other = await create_network_interface(state, REGION, ACCOUNT, ids[0], "mine", "someone")
    await ensure_control_plane_interfaces(state, REGION, ACCOUNT, cluster(vpc_id, ids))
    await remove_control_plane_interfaces(state, "c1")
    await remove_control_plane_interfaces(state, "c1")  # nothing left: no error
    assert await eks_interfaces(state) == []
    assert [await free(state, i) for i in ids] == [before[0] - 1, *before[1:]]
    assert [d["NetworkInterfaceId"] for d in await interfaces_of(state, "someone")] == [
        other["NetworkInterfaceId"]
    ]


def test_boto3_and_the_aws_cli_describe_them_as_ec2_does(tmp_path: Path) -> None:
    with EksRegion(tmp_path) as region:
        subnet_ids = region.subnet_ids()
        vpc_id = region.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
        doc = cluster(vpc_id, subnet_ids)
        region.run(ensure_control_plane_interfaces(region.state, REGION, ACCOUNT, doc))
        found = region.client("ec2").describe_network_interfaces(
            Filters=[{"Name": "description", "Values": ["Amazon EKS c1"]}]
        )["NetworkInterfaces"]
        assert sorted(i["SubnetId"] for i in found) == sorted(subnet_ids)
        assert all(i["RequesterManaged"] is False for i in found)
        assert all(i["Attachment"]["Status"] == "attached" for i in found)
        done = region.aws(
            "ec2", "describe-network-interfaces",
            "--filters", "Name=requester-id,Values=AROA2OPENEKSCTRLPLANE:AmazonEKS",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        listed = json.loads(done.stdout)["NetworkInterfaces"]
        assert {i["Description"] for i in listed} == {"Amazon EKS c1"}
        assert len(listed) == 3
        region.run(remove_control_plane_interfaces(region.state, "c1"))
        after = region.client("ec2").describe_network_interfaces()["NetworkInterfaces"]
        assert not [i for i in after if i.get("Description") == "Amazon EKS c1"]
