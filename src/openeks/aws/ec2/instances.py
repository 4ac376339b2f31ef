"""Instances and network interfaces on the API side: RunInstances, DescribeInstances,
TerminateInstances, DescribeNetworkInterfaces.

The launch itself (template merge, checks, addresses, all-or-nothing documents) is
`openeks.region.vpc.instances`; this module reads RunInstances' many ways of saying
the same thing (SubnetId and SecurityGroupIds, or a primary NetworkInterfaces entry;
base64 UserData; TagSpecifications per resource type) and shapes the answers:
DescribeInstances groups instances into their reservations, newest launches last.
"""

from __future__ import annotations

from typing import Any

from openeks.aws.ec2.filters import INSTANCE_FIELDS, INTERFACE_FIELDS, by_ids, filtered, page
from openeks.aws.errors import AwsError
from openeks.aws.service import RequestContext
from openeks.region.state import RegionState
from openeks.region.vpc import errors, instances
from openeks.region.vpc.documents import (
    INSTANCES,
    NETWORK_INTERFACES,
    check_ids,
    private,
    public,
    tags_for,
)
from openeks.region.vpc.launchspec import TAGGABLE, decode_user_data

Doc = dict[str, Any]


def _primary_interface(params: Doc) -> Doc:
    interfaces = params.get("NetworkInterfaces") or []
    if not interfaces:
        return {}
    if params.get("SubnetId"):
        raise errors.interface_and_subnet()
    if params.get("SecurityGroupIds") or params.get("SecurityGroups"):
        raise errors.interface_and_groups()
    primary = [i for i in interfaces if (i.get("DeviceIndex") or 0) == 0]
    return dict(primary[0]) if primary else dict(interfaces[0])


def reservation(docs: list[Doc]) -> Doc:
    first = private(docs[0])
    return {
        "ReservationId": first.get("reservationId"),
        "OwnerId": first.get("ownerId"),
        "Groups": [],
        "Instances": [public(d) for d in docs],
    }


async def run_instances(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    interface = _primary_interface(params)
    tags = tags_for(params.get("TagSpecifications"), TAGGABLE)
    user_data = params.get("UserData")
    launched = await instances.launch_instances(
        state,
        context.region,
        context.account_id,
        subnet_id=params.get("SubnetId") or interface.get("SubnetId"),
        instance_type=params.get("InstanceType"),
        image_id=params.get("ImageId"),
        count=params["MinCount"],
        max_count=params["MaxCount"],
        user_data=None if user_data is None else decode_user_data(user_data),
        tags=tags.get("instance"),
        interface_tags=tags.get("network-interface"),
        security_group_ids=params.get("SecurityGroupIds") or interface.get("Groups"),
        security_group_names=params.get("SecurityGroups"),
        iam_instance_profile=params.get("IamInstanceProfile"),
        client_token=params.get("ClientToken"),
        launch_template=params.get("LaunchTemplate"),
        key_name=params.get("KeyName"),
        availability_zone=(params.get("Placement") or {}).get("AvailabilityZone"),
    )
    return reservation(launched)


def _launch_order(doc: Doc) -> tuple[str, str, int]:
    return (str(doc["LaunchTime"]), str(private(doc).get("reservationId")), doc["AmiLaunchIndex"])


async def describe_instances(state: RegionState, params: Doc) -> Doc:
    ids = params.get("InstanceIds") or []
    if ids and params.get("MaxResults"):
        raise AwsError(
            "The parameter instancesSet cannot be used with the parameter maxResults",
            code="InvalidParameterCombination",
            status=400,
        )
    check_ids(ids, "i", "InvalidInstanceID.Malformed")
    docs = sorted((r.value for r in await state.list(INSTANCES)), key=_launch_order)
    docs = by_ids(docs, ids, "InstanceId", errors.instances_not_found)
    chosen, token = page(
        filtered(docs, params.get("Filters"), INSTANCE_FIELDS),
        params.get("MaxResults"),
        params.get("NextToken"),
    )
    groups: dict[str, list[Doc]] = {}
    for doc in chosen:
        groups.setdefault(str(private(doc).get("reservationId")), []).append(doc)
    return {"Reservations": [reservation(docs) for docs in groups.values()], "NextToken": token}


async def terminate_instances(state: RegionState, params: Doc) -> Doc:
    changes = await instances.terminate_instances(state, list(params["InstanceIds"]))
    return {
        "TerminatingInstances": [
            {"InstanceId": i, "PreviousState": before, "CurrentState": after}
            for i, before, after in changes
        ]
    }


async def describe_network_interfaces(state: RegionState, params: Doc) -> Doc:
    ids = params.get("NetworkInterfaceIds") or []
    check_ids(ids, "eni", "InvalidNetworkInterfaceId.Malformed")
    docs = [public(r.value) for r in await state.list(NETWORK_INTERFACES)]
    docs = by_ids(docs, ids, "NetworkInterfaceId", lambda m: errors.interface_not_found(m[0]))
    chosen, token = page(
        filtered(docs, params.get("Filters"), INTERFACE_FIELDS),
        params.get("MaxResults"),
        params.get("NextToken"),
    )
    return {"NetworkInterfaces": chosen, "NextToken": token}
