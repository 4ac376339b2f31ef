"""Network interfaces (ENIs): a subnet address with an identity, as EC2 shows them.

`networkinterfaces/<eni-id>` holds EC2's `NetworkInterface` shape plus
`openeks.owner`, the thing the interface belongs to (an instance id for an instance's
primary interface, whatever the caller chose otherwise, e.g. a cluster for the control
plane's cross-account interfaces). The interface's address is held in the subnet's
IPAM document under the interface's own id, so deleting the interface frees exactly
its address.

`interface_document` is pure so that RunInstances can allocate every address of a
launch in one write and then record the interfaces (see `instances.py`).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from typing import Any

from openeks.region.state import Missing, RegionState
from openeks.region.vpc import ipam
from openeks.region.vpc.documents import (
    NETWORK_INTERFACES,
    load_subnet,
    new_id,
    now_iso,
    private,
    tag_list,
)
from openeks.region.vpc.securitygroups import groups_for_launch
from openeks.region.zones import Region

Doc = dict[str, Any]


def private_dns_name(address: str, region: str) -> str:
    """EC2's IP-based host name: `ip-10-0-1-5.ec2.internal` in us-east-1,
    `ip-10-0-1-5.<region>.compute.internal` elsewhere."""
    host = "ip-" + address.replace(".", "-")
    return f"{host}.ec2.internal" if region == "us-east-1" else f"{host}.{region}.compute.internal"


def mac_address() -> str:
    return "02:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(5))


def group_identifiers(groups: Sequence[Doc]) -> list[Doc]:
    return [{"GroupId": g["GroupId"], "GroupName": g["GroupName"]} for g in groups]


def interface_document(
    *,
    eni_id: str,
    subnet: Doc,
    address: str,
    region: str,
    account: str,
    description: str,
    owner: str,
    groups: Sequence[Doc],
    interface_type: str = "interface",
    requester_id: str | None = None,
    attachment_instance_id: str | None = None,
    tags: dict[str, str] | None = None,
) -> Doc:
    dns = private_dns_name(address, region)
    doc: Doc = {
        "NetworkInterfaceId": eni_id,
        "SubnetId": subnet["SubnetId"],
        "VpcId": subnet["VpcId"],
        "AvailabilityZone": subnet["AvailabilityZone"],
        "AvailabilityZoneId": subnet.get("AvailabilityZoneId"),
        "Description": description,
        "Groups": group_identifiers(groups),
        "InterfaceType": interface_type,
        "Ipv6Addresses": [],
        "MacAddress": mac_address(),
        "OwnerId": account,
        "PrivateDnsName": dns,
        "PrivateIpAddress": address,
        "PrivateIpAddresses": [
            {"Primary": True, "PrivateDnsName": dns, "PrivateIpAddress": address}
        ],
        "Ipv4Prefixes": [],
        "RequesterManaged": requester_id is not None,
        "SourceDestCheck": True,
        "Status": "in-use" if attachment_instance_id else "available",
        "TagSet": tag_list(tags or {}),
        "openeks": {"owner": owner},
    }
    if requester_id is not None:
        doc["RequesterId"] = requester_id
    if attachment_instance_id:
        doc["Attachment"] = {
            "AttachmentId": new_id("eni-attach"),
            "AttachTime": now_iso(),
            "DeleteOnTermination": True,
            "DeviceIndex": 0,
            "NetworkCardIndex": 0,
            "InstanceId": attachment_instance_id,
            "InstanceOwnerId": account,
            "Status": "attached",
        }
    return doc


async def create_network_interface(
    state: RegionState,
    region: Region | str,
    account: str,
    subnet_id: str,
    description: str,
    owner: str,
    interface_type: str = "interface",
    requester_id: str | None = None,
    attachment_instance_id: str | None = None,
    *,
    security_group_ids: Sequence[str] = (),
    tags: dict[str, str] | None = None,
) -> Doc:
    """A new interface with the lowest free address of the subnet (`SubnetFullError` if
    none); its groups are `security_group_ids` or the VPC's default group. `owner` is
    what `delete_network_interfaces(state, owner)` later removes it by; `region` the
    region (or its name)."""
    subnet = (await load_subnet(state, subnet_id)).value
    groups = await groups_for_launch(state, security_group_ids, subnet["VpcId"], subnet_id)
    eni_id = new_id("eni")
    address = await ipam.allocate_ip(state, subnet_id, eni_id)
    doc = interface_document(
        eni_id=eni_id,
        subnet=subnet,
        address=address,
        region=region if isinstance(region, str) else region.name,
        account=account,
        description=description,
        owner=owner,
        groups=groups,
        interface_type=interface_type,
        requester_id=requester_id,
        attachment_instance_id=attachment_instance_id,
        tags=tags,
    )
    try:
        await state.create(NETWORK_INTERFACES, eni_id, doc)
    except BaseException:
        await ipam.release(state, subnet_id, eni_id)
        raise
    return doc


async def delete_interface(state: RegionState, doc: Doc) -> None:
    """Remove one interface and free its address."""
    with contextlib.suppress(Missing):
        await state.delete(NETWORK_INTERFACES, doc["NetworkInterfaceId"])
    await ipam.release(state, doc["SubnetId"], doc["NetworkInterfaceId"])


async def interfaces_of(state: RegionState, owner: str) -> list[Doc]:
    records = await state.list(NETWORK_INTERFACES)
    return [r.value for r in records if private(r.value).get("owner") == owner]


async def delete_network_interfaces(state: RegionState, owner: str) -> list[str]:
    """Remove every interface `owner` has (freeing their addresses); their ids."""
    gone = []
    for doc in await interfaces_of(state, owner):
        await delete_interface(state, doc)
        gone.append(str(doc["NetworkInterfaceId"]))
    return gone
