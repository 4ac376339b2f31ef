"""EC2's `Filters`, id lists and pagination, shared by every Describe call.

A filter names a field of the resource (`vpc-id`, `instance-state-name`,
`tag:<key>`, `tag-key`, `tag-value`, ...) and a list of values, any of which may match
(`*` and `?` are wildcards, as in EC2); every filter must match. Each resource type has
its own table from filter name to the fields it reads; an unknown name is EC2's
InvalidParameterValue "The filter 'x' is invalid". An empty value list matches nothing.

Pagination: `NextToken` is the position in the filtered list (opaque to clients).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import Any

from openeks.aws.errors import AwsError

Doc = dict[str, Any]
Field = Callable[[Doc], list[Any]]


def at(*path: str) -> Field:
    """The values at `path` (lists along the way are walked item by item)."""

    def read(doc: Doc) -> list[Any]:
        values: list[Any] = [doc]
        for key in path:
            nxt: list[Any] = []
            for value in values:
                item = value.get(key) if isinstance(value, dict) else None
                if isinstance(item, list):
                    nxt += item
                elif item is not None:
                    nxt.append(item)
            values = nxt
        return values

    return read


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _tags(doc: Doc) -> list[Doc]:
    return list(doc.get("Tags") or doc.get("TagSet") or ())


def _values(doc: Doc, name: str, fields: dict[str, Field]) -> list[str]:
    if name.startswith("tag:"):
        return [t.get("Value", "") for t in _tags(doc) if t.get("Key") == name[4:]]
    if name == "tag-key":
        return [t["Key"] for t in _tags(doc)]
    if name == "tag-value":
        return [t.get("Value", "") for t in _tags(doc)]
    if name not in fields:
        raise AwsError(f"The filter '{name}' is invalid", code="InvalidParameterValue", status=400)
    return [_text(v) for v in fields[name](doc)]


def _matches(doc: Doc, name: str, patterns: list[str], fields: dict[str, Field]) -> bool:
    values = _values(doc, name, fields)
    return any(fnmatchcase(value, pattern) for value in values for pattern in patterns)


def filtered(docs: Iterable[Doc], filters: list[Doc] | None, fields: dict[str, Field]) -> list[Doc]:
    chosen = list(docs)
    for one in filters or ():
        patterns = [str(v) for v in one.get("Values") or ()]
        chosen = [d for d in chosen if _matches(d, one["Name"], patterns, fields)]
    return chosen


def by_ids(
    docs: list[Doc], ids: list[str] | None, key: str, missing: Callable[[list[str]], Exception]
) -> list[Doc]:
    """The documents whose `key` is in `ids` (all when no ids); `missing(unknown ids)`
    is raised if any id matches nothing."""
    if not ids:
        return docs
    known = {d[key] for d in docs}
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    if unknown:
        raise missing(unknown)
    wanted = set(ids)
    return [d for d in docs if d[key] in wanted]


def page(
    items: list[Doc], max_results: int | None, token: str | None
) -> tuple[list[Doc], str | None]:
    """One page of `items` and the token of the next (None at the end)."""
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, binascii.Error):
            raise AwsError(
                f"The token '{token}' is invalid", code="InvalidNextToken", status=400
            ) from None
    if not max_results:
        return items[start:], None
    end = start + max_results
    following = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], following


def names(**fields: Field) -> dict[str, Field]:
    """A filter table written with `_` for `-` and `__` for `.` in the names."""
    return {key.replace("__", ".").replace("_", "-"): value for key, value in fields.items()}


VPC_FIELDS = names(
    vpc_id=at("VpcId"),
    cidr=at("CidrBlock"),
    cidr_block_association__cidr_block=at("CidrBlockAssociationSet", "CidrBlock"),
    dhcp_options_id=at("DhcpOptionsId"),
    is_default=at("IsDefault"),
    owner_id=at("OwnerId"),
    state=at("State"),
) | {"isDefault": at("IsDefault")}

SUBNET_FIELDS = names(
    subnet_id=at("SubnetId"),
    vpc_id=at("VpcId"),
    availability_zone=at("AvailabilityZone"),
    availability_zone_id=at("AvailabilityZoneId"),
    available_ip_address_count=at("AvailableIpAddressCount"),
    cidr_block=at("CidrBlock"),
    default_for_az=at("DefaultForAz"),
    map_public_ip_on_launch=at("MapPublicIpOnLaunch"),
    owner_id=at("OwnerId"),
    state=at("State"),
    subnet_arn=at("SubnetArn"),
) | {
    "cidr": at("CidrBlock"),
    "cidrBlock": at("CidrBlock"),
    "defaultForAz": at("DefaultForAz"),
    "availabilityZone": at("AvailabilityZone"),
}

ZONE_FIELDS = names(
    zone_name=at("ZoneName"),
    zone_id=at("ZoneId"),
    region_name=at("RegionName"),
    state=at("State"),
    zone_type=at("ZoneType"),
    group_name=at("GroupName"),
    opt_in_status=at("OptInStatus"),
)

SECURITY_GROUP_FIELDS = names(
    group_id=at("GroupId"),
    group_name=at("GroupName"),
    description=at("Description"),
    vpc_id=at("VpcId"),
    owner_id=at("OwnerId"),
    ip_permission__protocol=at("IpPermissions", "IpProtocol"),
    ip_permission__from_port=at("IpPermissions", "FromPort"),
    ip_permission__to_port=at("IpPermissions", "ToPort"),
    ip_permission__cidr=at("IpPermissions", "IpRanges", "CidrIp"),
    ip_permission__group_id=at("IpPermissions", "UserIdGroupPairs", "GroupId"),
)

TEMPLATE_FIELDS = names(
    launch_template_name=at("LaunchTemplateName"),
    create_time=at("CreateTime"),
)

INTERFACE_FIELDS = names(
    network_interface_id=at("NetworkInterfaceId"),
    subnet_id=at("SubnetId"),
    vpc_id=at("VpcId"),
    availability_zone=at("AvailabilityZone"),
    description=at("Description"),
    interface_type=at("InterfaceType"),
    owner_id=at("OwnerId"),
    private_ip_address=at("PrivateIpAddress"),
    private_dns_name=at("PrivateDnsName"),
    requester_id=at("RequesterId"),
    requester_managed=at("RequesterManaged"),
    status=at("Status"),
    mac_address=at("MacAddress"),
    group_id=at("Groups", "GroupId"),
    group_name=at("Groups", "GroupName"),
    attachment__instance_id=at("Attachment", "InstanceId"),
    attachment__status=at("Attachment", "Status"),
    addresses__private_ip_address=at("PrivateIpAddresses", "PrivateIpAddress"),
)

INSTANCE_FIELDS = names(
    instance_id=at("InstanceId"),
    instance_state_name=at("State", "Name"),
    instance_state_code=at("State", "Code"),
    instance_type=at("InstanceType"),
    image_id=at("ImageId"),
    subnet_id=at("SubnetId"),
    vpc_id=at("VpcId"),
    availability_zone=at("Placement", "AvailabilityZone"),
    private_ip_address=at("PrivateIpAddress"),
    private_dns_name=at("PrivateDnsName"),
    key_name=at("KeyName"),
    launch_time=at("LaunchTime"),
    ami_launch_index=at("AmiLaunchIndex"),
    architecture=at("Architecture"),
    client_token=at("ClientToken"),
    iam_instance_profile__arn=at("IamInstanceProfile", "Arn"),
    instance__group_id=at("SecurityGroups", "GroupId"),
    instance__group_name=at("SecurityGroups", "GroupName"),
    network_interface__network_interface_id=at("NetworkInterfaces", "NetworkInterfaceId"),
    network_interface__private_ip_address=at("NetworkInterfaces", "PrivateIpAddress"),
    reservation_id=at("openeks", "reservationId"),
    owner_id=at("openeks", "ownerId"),
    state_reason_code=at("StateReason", "Code"),
) | {"group-id": at("SecurityGroups", "GroupId"), "group-name": at("SecurityGroups", "GroupName")}
