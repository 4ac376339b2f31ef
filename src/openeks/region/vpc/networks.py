"""VPCs and subnets: create and delete with EC2's checks.

A VPC's CIDR is a /16 to /28; a subnet's too, inside its VPC's CIDR, overlapping no other
subnet of the VPC, in an availability zone of the region. The VPC document is the lock
for its subnets' address ranges: CreateSubnet claims its CIDR in the VPC's private
`openeks.subnetCidrs` with one compare-and-swap, so two concurrent CreateSubnet calls
with overlapping ranges cannot both succeed, and DeleteVpc (a compare-and-swap that
deletes the document only while it holds no claim and no subnet names it) cannot race
a CreateSubnet into an orphan. The default VPC (made by `region.network` before claims
existed) is checked against its listed subnets as well.

Every VPC gets its default security group at creation, as in AWS; DeleteVpc removes it
and refuses while subnets or other security groups remain (DependencyViolation).
DeleteSubnet refuses while any address of the subnet is held (instances, network
interfaces, pod blocks): see `ipam.close_subnet`.
"""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Any

from openeks.region.state import Missing, RegionState
from openeks.region.vpc import errors, ipam, securitygroups
from openeks.region.vpc.documents import (
    SECURITY_GROUPS,
    SUBNET_IPS,
    SUBNETS,
    VPCS,
    in_vpc,
    load_subnet,
    load_vpc,
    new_id,
    private,
    tag_list,
)
from openeks.region.zones import AvailabilityZone, Region

Doc = dict[str, Any]
SMALLEST_PREFIX = 16
LARGEST_PREFIX = 28


def parse_cidr(cidr: str | None, parameter: str = "cidrBlock") -> ipaddress.IPv4Network:
    if not cidr:
        raise errors.missing_cidr()
    try:
        return ipaddress.IPv4Network(cidr)
    except ValueError:
        raise errors.bad_cidr(cidr, parameter) from None


def vpc_blocks(vpc: Doc) -> list[ipaddress.IPv4Network]:
    blocks = {vpc["CidrBlock"]}
    blocks |= {a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet") or ()}
    return [ipaddress.IPv4Network(block) for block in sorted(blocks)]


# -- VPCs ------------------------------------------------------------------------------


def _vpc_document(vpc_id: str, cidr: str, account: str, tenancy: str, tags: dict[str, str]) -> Doc:
    return {
        "VpcId": vpc_id,
        "CidrBlock": cidr,
        "State": "available",
        "IsDefault": False,
        "OwnerId": account,
        "InstanceTenancy": tenancy,
        "DhcpOptionsId": new_id("dopt"),
        "CidrBlockAssociationSet": [
            {
                "AssociationId": new_id("vpc-cidr-assoc"),
                "CidrBlock": cidr,
                "CidrBlockState": {"State": "associated"},
            }
        ],
        "Ipv6CidrBlockAssociationSet": [],
        "Tags": tag_list(tags),
        "openeks": {"subnetCidrs": {}},
    }


async def create_vpc(
    state: RegionState,
    region: str,
    account: str,
    *,
    cidr_block: str | None,
    tags: dict[str, str] | None = None,
    instance_tenancy: str | None = None,
) -> Doc:
    """A new VPC with its default security group."""
    network = parse_cidr(cidr_block)
    if str(network) != cidr_block:
        raise errors.bad_cidr(str(cidr_block))
    if not SMALLEST_PREFIX <= network.prefixlen <= LARGEST_PREFIX:
        raise errors.vpc_range(str(network))
    vpc_id = new_id("vpc")
    doc = _vpc_document(vpc_id, str(network), account, instance_tenancy or "default", tags or {})
    await state.create(VPCS, vpc_id, doc)
    try:
        await securitygroups.ensure_default_group(state, region, account, vpc_id)
    except BaseException:
        with contextlib.suppress(Missing):
            await state.delete(VPCS, vpc_id)
        raise
    return doc


async def delete_vpc(state: RegionState, vpc_id: str) -> None:
    """Delete an empty VPC (and its default security group)."""
    await load_vpc(state, vpc_id)
    groups = await in_vpc(state, SECURITY_GROUPS, vpc_id)
    if any(group["GroupName"] != "default" for group in groups):
        raise errors.vpc_has_dependencies(vpc_id)

    async def change(vpc: Doc) -> None:
        if private(vpc).get("subnetCidrs") or await in_vpc(state, SUBNETS, vpc_id):
            raise errors.vpc_has_dependencies(vpc_id)
        return None

    try:
        await state.mutate(VPCS, vpc_id, change)
    except Missing:
        raise errors.vpc_not_found(vpc_id) from None
    for group in groups:
        with contextlib.suppress(Missing):
            await state.delete(SECURITY_GROUPS, group["GroupId"])


# -- subnets ---------------------------------------------------------------------------


def _zone(region: Region, zone: str | None, zone_id: str | None) -> AvailabilityZone | None:
    if zone:
        match = [z for z in region.zones if z.name == zone]
        if not match:
            raise errors.unknown_zone(zone, region.zone_names)
        return match[0]
    if zone_id:
        match = [z for z in region.zones if z.zone_id == zone_id]
        if not match:
            ids = [z.zone_id for z in region.zones]
            raise errors.unknown_zone(zone_id, ids, "availabilityZoneId")
        return match[0]
    return None


async def _least_used_zone(state: RegionState, region: Region, vpc_id: str) -> AvailabilityZone:
    """Where AWS would put a subnet that names no zone: here, the emptiest zone."""
    subnets = await in_vpc(state, SUBNETS, vpc_id)
    counts = {z.name: 0 for z in region.zones}
    for subnet in subnets:
        counts[subnet["AvailabilityZone"]] = counts.get(subnet["AvailabilityZone"], 0) + 1
    return min(region.zones, key=lambda z: (counts[z.name], z.index))


def _subnet_document(
    subnet_id: str,
    vpc_id: str,
    network: ipaddress.IPv4Network,
    zone: AvailabilityZone,
    region: str,
    account: str,
    tags: dict[str, str],
) -> Doc:
    return {
        "SubnetId": subnet_id,
        "VpcId": vpc_id,
        "CidrBlock": str(network),
        "AvailabilityZone": zone.name,
        "AvailabilityZoneId": zone.zone_id,
        "AvailableIpAddressCount": network.num_addresses - ipam.RESERVED_COUNT,
        "DefaultForAz": False,
        "MapPublicIpOnLaunch": False,
        "MapCustomerOwnedIpOnLaunch": False,
        "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [],
        "Ipv6Native": False,
        "EnableDns64": False,
        "PrivateDnsNameOptionsOnLaunch": {
            "HostnameType": "ip-name",
            "EnableResourceNameDnsARecord": False,
            "EnableResourceNameDnsAAAARecord": False,
        },
        "State": "available",
        "OwnerId": account,
        "SubnetArn": f"arn:aws:ec2:{region}:{account}:subnet/{subnet_id}",
        "Tags": tag_list(tags),
    }


async def _claim(
    state: RegionState, vpc_id: str, subnet_id: str, network: ipaddress.IPv4Network
) -> None:
    async def change(vpc: Doc) -> Doc:
        if not any(network.subnet_of(block) for block in vpc_blocks(vpc)):
            raise errors.subnet_range(str(network))
        claims: dict[str, str] = vpc.setdefault("openeks", {}).setdefault("subnetCidrs", {})
        taken = set(claims.values()) | {
            s["CidrBlock"] for s in await in_vpc(state, SUBNETS, vpc_id)
        }
        if any(network.overlaps(ipaddress.IPv4Network(other)) for other in taken):
            raise errors.subnet_conflict(str(network))
        claims[subnet_id] = str(network)
        return vpc

    try:
        await state.mutate(VPCS, vpc_id, change)
    except Missing:
        raise errors.vpc_not_found(vpc_id) from None


async def _unclaim(state: RegionState, vpc_id: str, subnet_id: str) -> None:
    def change(vpc: Doc) -> Doc:
        private(vpc).get("subnetCidrs", {}).pop(subnet_id, None)
        return vpc

    with contextlib.suppress(Missing):
        await state.mutate(VPCS, vpc_id, change)


async def create_subnet(
    state: RegionState,
    region: Region,
    account: str,
    *,
    vpc_id: str,
    cidr_block: str | None,
    availability_zone: str | None = None,
    availability_zone_id: str | None = None,
    tags: dict[str, str] | None = None,
) -> Doc:
    network = parse_cidr(cidr_block)
    if str(network) != cidr_block:
        raise errors.bad_cidr(str(cidr_block))
    await load_vpc(state, vpc_id)
    zone = _zone(region, availability_zone, availability_zone_id)
    if not SMALLEST_PREFIX <= network.prefixlen <= LARGEST_PREFIX:
        raise errors.subnet_range(str(network))
    zone = zone or await _least_used_zone(state, region, vpc_id)
    subnet_id = new_id("subnet")
    await _claim(state, vpc_id, subnet_id, network)
    doc = _subnet_document(subnet_id, vpc_id, network, zone, region.name, account, tags or {})
    try:
        await state.create(SUBNET_IPS, subnet_id, {"cidr": str(network), "used": {}})
        await state.create(SUBNETS, subnet_id, doc)
    except BaseException:
        await ipam.forget_subnet(state, subnet_id)
        await _unclaim(state, vpc_id, subnet_id)
        raise
    return doc


async def delete_subnet(state: RegionState, subnet_id: str) -> None:
    """Delete a subnet nothing holds an address in."""
    subnet = (await load_subnet(state, subnet_id)).value
    await ipam.close_subnet(state, subnet_id)
    with contextlib.suppress(Missing):
        await state.delete(SUBNETS, subnet_id)
    await ipam.forget_subnet(state, subnet_id)
    await _unclaim(state, subnet["VpcId"], subnet_id)
