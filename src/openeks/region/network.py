"""The region's networks: a default VPC with one default subnet per availability zone.

Shaped like a new AWS account's: VPC 172.31.0.0/16, subnets 172.31.0.0/20,
172.31.16.0/20, 172.31.32.0/20 in zones a, b, c (public, default-for-az). Created once
and kept in the region state, so ids stay stable across restarts. Like every VPC it has
a `default` security group (`region.vpc.securitygroups`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
from typing import Any

from openeks.region.state import Exists, RegionState
from openeks.region.vpc.securitygroups import ensure_default_group
from openeks.region.zones import Region

Doc = dict[str, Any]
DEFAULT_CIDR = "172.31.0.0/16"


def resource_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


async def ensure_default_vpc(state: RegionState, region: Region, account: str) -> Doc:
    existing = [r.value for r in await state.list("vpcs") if r.value.get("IsDefault")]
    if existing:
        await ensure_default_group(state, region.name, account, existing[0]["VpcId"])
        return existing[0]
    vpc_id = resource_id("vpc")
    vpc = {
        "VpcId": vpc_id,
        "CidrBlock": DEFAULT_CIDR,
        "State": "available",
        "IsDefault": True,
        "OwnerId": account,
        "InstanceTenancy": "default",
        "DhcpOptionsId": resource_id("dopt"),
        "CidrBlockAssociationSet": [
            {
                "AssociationId": resource_id("vpc-cidr-assoc"),
                "CidrBlock": DEFAULT_CIDR,
                "CidrBlockState": {"State": "associated"},
            }
        ],
        "Tags": [],
    }
    with contextlib.suppress(Exists):
        await state.create("vpcs", vpc_id, vpc)
    blocks = list(ipaddress.IPv4Network(DEFAULT_CIDR).subnets(new_prefix=20))
    for zone, block in zip(region.zones, blocks, strict=False):
        subnet_id = resource_id("subnet")
        subnet = {
            "SubnetId": subnet_id,
            "VpcId": vpc_id,
            "CidrBlock": str(block),
            "AvailabilityZone": zone.name,
            "AvailabilityZoneId": zone.zone_id,
            "AvailableIpAddressCount": block.num_addresses - 5,
            "DefaultForAz": True,
            "MapPublicIpOnLaunch": True,
            "State": "available",
            "OwnerId": account,
            "SubnetArn": f"arn:aws:ec2:{region.name}:{account}:subnet/{subnet_id}",
            "Tags": [],
        }
        await state.create("subnets", subnet_id, subnet)
    await ensure_default_group(state, region.name, account, vpc_id)
    return vpc
