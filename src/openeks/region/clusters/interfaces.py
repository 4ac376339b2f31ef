"""The control plane's network interfaces in the cluster's subnets (EKS's "cross-account
ENIs").

EKS runs the control plane in a VPC of its own and reaches the user's VPC through
network interfaces it creates in the cluster's subnets: 2 to 4 of them, in subnets of
different availability zones (kubectl exec/logs and webhooks travel through them, and
they hold addresses of those subnets, which is why EKS asks for free addresses there).
`DescribeNetworkInterfaces` shows them in the user's account like this (from a real
cluster):

    "Description": "Amazon EKS <cluster>", "InterfaceType": "interface",
    "RequesterId": "AROA…:AmazonEKS", "RequesterManaged": false, "Status": "in-use",
    "Attachment": {"DeviceIndex": 1, "InstanceOwnerId": "<an AWS account>",
                   "Status": "attached", "DeleteOnTermination": true, ...}  (no InstanceId)

with the cluster's security groups. Here the region makes one per availability zone of
the cluster's subnets (the first subnet of each zone that has a free address, at most
`MAX_INTERFACES`), through the EC2 interface documents (`region.vpc.interfaces`), owned
by `eks/<cluster>` so that `remove_control_plane_interfaces` frees exactly them. The
cluster controller calls `ensure_control_plane_interfaces` before a cluster goes ACTIVE
(and after its subnets change; it is idempotent and also drops interfaces in subnets the
cluster no longer has), and `remove_control_plane_interfaces` when it deletes one.
A zone whose subnets are full or gone gets no interface and a warning: as on EKS the
control plane still runs.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from openeks.region.state import Missing, RegionState
from openeks.region.vpc.documents import NETWORK_INTERFACES, SECURITY_GROUPS, new_id, now_iso
from openeks.region.vpc.errors import Ec2Error
from openeks.region.vpc.interfaces import (
    create_network_interface,
    delete_interface,
    delete_network_interfaces,
    interfaces_of,
)
from openeks.region.zones import Region

log = logging.getLogger(__name__)

Doc = dict[str, Any]
MAX_INTERFACES = 4
"""EKS's upper bound on the control plane's interfaces in the user's VPC."""
REQUESTER_ID = "AROA2OPENEKSCTRLPLANE:AmazonEKS"
"""Who created them: EKS's service role session, as `RequesterId` shows it."""
EKS_ACCOUNT = "298800981437"
"""The AWS-owned account the interfaces are attached in (`Attachment.InstanceOwnerId`)."""


def owner(cluster_name: str) -> str:
    return f"eks/{cluster_name}"


def description(cluster_name: str) -> str:
    return f"Amazon EKS {cluster_name}"


async def ensure_control_plane_interfaces(
    state: RegionState, region: Region | str, account: str, cluster_doc: Doc
) -> None:
    """One interface per availability zone of the cluster's subnets (up to
    `MAX_INTERFACES`), none in subnets the cluster no longer lists."""
    name = str(cluster_doc["name"])
    subnet_ids = list((cluster_doc.get("resourcesVpcConfig") or {}).get("subnetIds") or ())
    existing = await _drop_outside(state, name, subnet_ids)
    for doc in existing:
        if "Attachment" not in doc:  # created, but not yet given EKS's shape
            await _attach_to_control_plane(state, str(doc["NetworkInterfaceId"]))
    zones = {str(doc["AvailabilityZone"]) for doc in existing}
    groups = await _security_groups(state, cluster_doc)
    for zone, candidates in (await _subnets_by_zone(state, subnet_ids)).items():
        if zone in zones or len(zones) >= MAX_INTERFACES:
            continue
        if await _create_in_zone(state, region, account, name, candidates, groups):
            zones.add(zone)
        else:
            log.warning("cluster %s: no subnet of %s has a free address for EKS", name, zone)


async def remove_control_plane_interfaces(state: RegionState, cluster_name: str) -> None:
    """Delete the cluster's interfaces and free their addresses."""
    gone = await delete_network_interfaces(state, owner(cluster_name))
    if gone:
        log.info("cluster %s: removed control plane interfaces %s", cluster_name, gone)


# -- steps --------------------------------------------------------------------------------


async def _drop_outside(state: RegionState, name: str, subnet_ids: list[str]) -> list[Doc]:
    """The cluster's interfaces, after deleting those outside `subnet_ids`."""
    kept = []
    for doc in await interfaces_of(state, owner(name)):
        if doc["SubnetId"] in subnet_ids:
            kept.append(doc)
        else:
            await delete_interface(state, doc)
    return kept


async def _subnets_by_zone(state: RegionState, subnet_ids: list[str]) -> dict[str, list[str]]:
    """The cluster's existing subnets grouped by zone, zones and subnets in listed order."""
    zones: dict[str, list[str]] = {}
    for subnet_id in subnet_ids:
        record = await state.get("subnets", subnet_id)
        if record is not None:
            zones.setdefault(str(record.value["AvailabilityZone"]), []).append(subnet_id)
    return zones


async def _security_groups(state: RegionState, cluster_doc: Doc) -> list[str]:
    """The cluster's security groups that exist in its VPC (none: the VPC's default)."""
    config = cluster_doc.get("resourcesVpcConfig") or {}
    found = []
    for group_id in config.get("securityGroupIds") or ():
        record = await state.get(SECURITY_GROUPS, group_id)
        if record is not None and record.value.get("VpcId") == config.get("vpcId"):
            found.append(group_id)
    return found


async def _create_in_zone(
    state: RegionState,
    region: Region | str,
    account: str,
    name: str,
    subnet_ids: list[str],
    groups: list[str],
) -> bool:
    for subnet_id in subnet_ids:
        try:
            doc = await create_network_interface(
                state,
                region,
                account,
                subnet_id,
                description(name),
                owner(name),
                requester_id=REQUESTER_ID,
                security_group_ids=groups,
            )
        except Ec2Error as e:
            log.warning("cluster %s: no interface in %s: %s", name, subnet_id, e)
            continue
        await _attach_to_control_plane(state, str(doc["NetworkInterfaceId"]))
        return True
    return False


async def _attach_to_control_plane(state: RegionState, eni_id: str) -> None:
    """Give a new interface EKS's shape: in use, attached in EKS's account, not
    requester-managed."""

    def change(doc: Doc) -> Doc:
        doc.update(RequesterManaged=False, Status="in-use")
        doc["Attachment"] = {
            "AttachTime": now_iso(),
            "AttachmentId": new_id("eni-attach"),
            "DeleteOnTermination": True,
            "DeviceIndex": 1,
            "InstanceOwnerId": EKS_ACCOUNT,
            "NetworkCardIndex": 0,
            "Status": "attached",
        }
        return doc

    with contextlib.suppress(Missing):
        await state.mutate(NETWORK_INTERFACES, eni_id, change)
