"""EC2 describe calls over the region's networks: VPCs, subnets, availability zones.

Filters follow EC2's (`vpc-id`, `subnet-id`, `availability-zone`, `default-for-az`,
`isDefault`, `state`, `tag:<key>`); unknown ids answer with EC2's own not-found codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openeks.aws.errors import AwsError
from openeks.aws.service import MethodDispatch, RequestContext, load_model
from openeks.region.state import RegionState
from openeks.region.zones import Region

Doc = dict[str, Any]

_FILTER_FIELDS = {
    "vpc-id": "VpcId",
    "subnet-id": "SubnetId",
    "availability-zone": "AvailabilityZone",
    "availability-zone-id": "AvailabilityZoneId",
    "cidr-block": "CidrBlock",
    "cidr": "CidrBlock",
    "state": "State",
    "default-for-az": "DefaultForAz",
    "defaultForAz": "DefaultForAz",
    "isDefault": "IsDefault",
    "is-default": "IsDefault",
    "zone-name": "ZoneName",
    "zone-id": "ZoneId",
    "region-name": "RegionName",
}


def _value(doc: Doc, name: str) -> list[str]:
    if name.startswith("tag:"):
        key = name[4:]
        return [t["Value"] for t in doc.get("Tags") or () if t.get("Key") == key]
    value = doc.get(_FILTER_FIELDS.get(name, name))
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [] if value is None else [str(value)]


def filtered(docs: Iterable[Doc], filters: list[Doc] | None) -> list[Doc]:
    out = []
    for doc in docs:
        if all(set(_value(doc, f["Name"])) & set(f.get("Values") or ()) for f in filters or ()):
            out.append(doc)
    return out


class Ec2Service(MethodDispatch):
    model = load_model("ec2")

    def __init__(self, state: RegionState, region: Region) -> None:
        self.state = state
        self.region = region

    async def _by_ids(self, kind: str, ids: list[str], code: str, noun: str) -> list[Doc]:
        docs = [r.value for r in await self.state.list(kind)]
        if ids:
            known = {d[f"{noun}Id"] for d in docs}
            missing = [i for i in ids if i not in known]
            if missing:
                raise AwsError(
                    f"The {noun.lower()} ID '{missing[0]}' does not exist", code=code, status=400
                )
            docs = [d for d in docs if d[f"{noun}Id"] in ids]
        return docs

    async def describe_vpcs(self, params: Doc, context: RequestContext) -> Doc:
        docs = await self._by_ids(
            "vpcs", params.get("VpcIds") or [], "InvalidVpcID.NotFound", "Vpc"
        )
        return {"Vpcs": filtered(docs, params.get("Filters"))}

    async def describe_subnets(self, params: Doc, context: RequestContext) -> Doc:
        docs = await self._by_ids(
            "subnets", params.get("SubnetIds") or [], "InvalidSubnetID.NotFound", "Subnet"
        )
        return {"Subnets": filtered(docs, params.get("Filters"))}

    async def describe_availability_zones(self, params: Doc, context: RequestContext) -> Doc:
        zones = [
            {
                "State": "available",
                "OptInStatus": "opt-in-not-required",
                "Messages": [],
                "RegionName": self.region.name,
                "ZoneName": zone.name,
                "ZoneId": zone.zone_id,
                "GroupName": self.region.name,
                "NetworkBorderGroup": self.region.name,
                "ZoneType": "availability-zone",
            }
            for zone in self.region.zones
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
        return {"AvailabilityZones": filtered(zones, params.get("Filters"))}
