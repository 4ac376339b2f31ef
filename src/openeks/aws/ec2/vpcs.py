"""VPCs, subnets and availability zones on the API side: the describe calls and
CreateVpc / DeleteVpc / CreateSubnet / DeleteSubnet.

The rules (CIDR ranges, overlaps, zones, dependencies) live with the documents in
`openeks.region.vpc.networks`; this module reads the request, applies filters and
pagination, and shapes the answer.
"""

from __future__ import annotations

from typing import Any

from openeks.aws.ec2.filters import (
    SUBNET_FIELDS,
    VPC_FIELDS,
    ZONE_FIELDS,
    by_ids,
    filtered,
    page,
)
from openeks.aws.errors import AwsError
from openeks.aws.service import RequestContext
from openeks.region.state import RegionState
from openeks.region.vpc import errors, networks
from openeks.region.vpc.documents import SUBNETS, VPCS, public, tags_for
from openeks.region.zones import Region

Doc = dict[str, Any]


async def describe_vpcs(state: RegionState, params: Doc) -> Doc:
    docs = [public(r.value) for r in await state.list(VPCS)]
    docs = by_ids(docs, params.get("VpcIds"), "VpcId", lambda m: errors.vpc_not_found(m[0]))
    chosen, token = page(
        filtered(docs, params.get("Filters"), VPC_FIELDS),
        params.get("MaxResults"),
        params.get("NextToken"),
    )
    return {"Vpcs": chosen, "NextToken": token}


async def describe_subnets(state: RegionState, params: Doc) -> Doc:
    docs = [public(r.value) for r in await state.list(SUBNETS)]
    docs = by_ids(
        docs, params.get("SubnetIds"), "SubnetId", lambda m: errors.subnet_not_found(m[0])
    )
    chosen, token = page(
        filtered(docs, params.get("Filters"), SUBNET_FIELDS),
        params.get("MaxResults"),
        params.get("NextToken"),
    )
    return {"Subnets": chosen, "NextToken": token}


def describe_availability_zones(region: Region, params: Doc) -> Doc:
    zones = [
        {
            "State": "available",
            "OptInStatus": "opt-in-not-required",
            "Messages": [],
            "RegionName": region.name,
            "ZoneName": zone.name,
            "ZoneId": zone.zone_id,
            "GroupName": region.name,
            "NetworkBorderGroup": region.name,
            "ZoneType": "availability-zone",
        }
        for zone in region.zones
    ]
    names = set(params.get("ZoneNames") or ())
    if names:
        unknown = names - {z["ZoneName"] for z in zones}
        if unknown:
            raise AwsError(
                f"The zone '{sorted(unknown)[0]}' does not exist.",
                code="InvalidParameterValue",
                status=400,
            )
        zones = [z for z in zones if z["ZoneName"] in names]
    ids = set(params.get("ZoneIds") or ())
    if ids:
        zones = [z for z in zones if z["ZoneId"] in ids]
    return {"AvailabilityZones": filtered(zones, params.get("Filters"), ZONE_FIELDS)}


async def create_vpc(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    tags = tags_for(params.get("TagSpecifications"), {"vpc": "vpc"}).get("vpc")
    vpc = await networks.create_vpc(
        state,
        context.region,
        context.account_id,
        cidr_block=params.get("CidrBlock"),
        tags=tags,
        instance_tenancy=params.get("InstanceTenancy"),
    )
    return {"Vpc": public(vpc)}


async def create_subnet(
    state: RegionState, region: Region, params: Doc, context: RequestContext
) -> Doc:
    tags = tags_for(params.get("TagSpecifications"), {"subnet": "subnet"}).get("subnet")
    subnet = await networks.create_subnet(
        state,
        region,
        context.account_id,
        vpc_id=params["VpcId"],
        cidr_block=params.get("CidrBlock"),
        availability_zone=params.get("AvailabilityZone"),
        availability_zone_id=params.get("AvailabilityZoneId"),
        tags=tags,
    )
    return {"Subnet": public(subnet)}
