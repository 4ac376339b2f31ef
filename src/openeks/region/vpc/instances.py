"""EC2 instances as region documents: launch, terminate, and the state changes the
region's instance controller makes.

`launch_instances` checks the whole request first (`launchspec.resolve`), then takes
every address of the launch in one IPAM write, then writes one primary network
interface and one `instances/<i-…>` document (state `pending`) per instance; if
anything fails after the addresses were taken, everything written is removed again:
a launch is all or nothing. Between `count` and `max_count` instances are launched,
as many as the subnet has addresses for (EC2's MinCount/MaxCount).

The instance controller (`region.instances`) acts on the documents: `pending` →
starts the node agent → `mark_running`; a launch that cannot run → `mark_failed`;
`terminate_instances` sets `shutting-down`, the controller stops the process and calls
`finish_termination`, which sets `terminated` and frees the interfaces and addresses.
Terminated instances stay visible (without addresses), as EC2 shows them for a while.

`ClientToken` makes a launch idempotent (`clienttokens.py`).
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

from openeks.region.state import Missing, RegionState
from openeks.region.vpc import clienttokens, errors, interfaces, ipam, launchspec
from openeks.region.vpc.documents import (
    INSTANCES,
    NETWORK_INTERFACES,
    check_ids,
    new_id,
    now_iso,
    private,
    tag_list,
    tag_map,
)
from openeks.region.vpc.launchspec import LaunchSpec
from openeks.region.zones import Region

Doc = dict[str, Any]
PENDING = {"Code": 0, "Name": "pending"}
RUNNING = {"Code": 16, "Name": "running"}
SHUTTING_DOWN = {"Code": 32, "Name": "shutting-down"}
TERMINATED = {"Code": 48, "Name": "terminated"}
Tags = dict[str, str] | list[Doc]
USER_SHUTDOWN = {
    "Code": "Client.UserInitiatedShutdown",
    "Message": "Client.UserInitiatedShutdown: User initiated shutdown",
}


# -- documents -------------------------------------------------------------------------


def _interface_view(eni: Doc) -> Doc:
    """An instance's view of its interface (EC2's InstanceNetworkInterface)."""
    attachment = eni["Attachment"]
    keys = ("Description", "Groups", "Ipv6Addresses", "MacAddress", "NetworkInterfaceId",
            "OwnerId", "PrivateDnsName", "PrivateIpAddress", "PrivateIpAddresses",
            "SourceDestCheck", "Status", "SubnetId", "VpcId", "InterfaceType")  # fmt: skip
    view = {key: eni[key] for key in keys if key in eni}
    view["Attachment"] = {
        k: v for k, v in attachment.items() if k not in ("InstanceId", "InstanceOwnerId")
    }
    return view


def _instance_document(
    spec: LaunchSpec, eni: Doc, index: int, reservation: str, account: str, token: str | None
) -> Doc:
    subnet = spec.subnet
    instance_id = eni["Attachment"]["InstanceId"]
    doc: Doc = {
        "InstanceId": instance_id,
        "ImageId": spec.image_id,
        "InstanceType": spec.instance_type,
        "State": dict(PENDING),
        "StateReason": {"Code": "pending", "Message": "pending"},
        "StateTransitionReason": "",
        "PrivateIpAddress": eni["PrivateIpAddress"],
        "PrivateDnsName": eni["PrivateDnsName"],
        "PublicDnsName": "",
        "SubnetId": subnet["SubnetId"],
        "VpcId": subnet["VpcId"],
        "Placement": {
            "AvailabilityZone": subnet["AvailabilityZone"],
            "GroupName": "",
            "Tenancy": "default",
        },
        "LaunchTime": now_iso(),
        "Tags": tag_list(spec.tags),
        "SecurityGroups": interfaces.group_identifiers(spec.groups),
        "NetworkInterfaces": [_interface_view(eni)],
        "AmiLaunchIndex": index,
        "Architecture": "x86_64",
        "RootDeviceType": "ebs",
        "RootDeviceName": "/dev/xvda",
        "BlockDeviceMappings": [],
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "EbsOptimized": False,
        "EnaSupport": True,
        "SourceDestCheck": True,
        "Monitoring": {"State": "disabled"},
        "ProductCodes": [],
        "PlatformDetails": "Linux/UNIX",
        "UsageOperation": "RunInstances",
        "ClientToken": token or "",
        "openeks": {
            "reservationId": reservation,
            "ownerId": account,
            "userData": spec.user_data,
            "clientToken": token,
            "launchTemplate": spec.launch_template,
        },
    }
    if spec.iam_instance_profile:
        doc["IamInstanceProfile"] = dict(spec.iam_instance_profile)
    if spec.key_name:
        doc["KeyName"] = spec.key_name
    return doc


def _interface_for(
    spec: LaunchSpec, instance_id: str, eni_id: str, address: str, region: str, account: str
) -> Doc:
    return interfaces.interface_document(
        eni_id=eni_id,
        subnet=spec.subnet,
        address=address,
        region=region,
        account=account,
        description="",
        owner=instance_id,
        groups=spec.groups,
        attachment_instance_id=instance_id,
        tags=spec.interface_tags,
    )


# -- launch ----------------------------------------------------------------------------


async def _take_addresses(
    state: RegionState, subnet_id: str, eni_ids: list[str], minimum: int
) -> list[str]:
    """Addresses for as many of `eni_ids` as fit, at least `minimum`."""
    try:
        return await ipam.allocate_ips(state, subnet_id, eni_ids)
    except ipam.SubnetFullError:
        if len(eni_ids) == minimum:
            raise
    current = await state.get("subnetips", subnet_id)
    room = ipam.available_count(current.value) if current else 0
    if room < minimum:
        raise errors.subnet_full(subnet_id)
    return await ipam.allocate_ips(state, subnet_id, eni_ids[:room])


async def _write(state: RegionState, docs: list[tuple[str, str, Doc]]) -> None:
    """Create every (kind, name, doc) or, on any failure, none of them."""
    written: list[tuple[str, str]] = []
    try:
        for kind, name, doc in docs:
            await state.create(kind, name, doc)
            written.append((kind, name))
    except BaseException:
        for kind, name in written:
            with contextlib.suppress(Missing):
                await state.delete(kind, name)
        raise


async def _launch(
    state: RegionState,
    region: str,
    account: str,
    spec: LaunchSpec,
    count: int,
    max_count: int,
    token: str | None,
) -> list[Doc]:
    subnet_id = spec.subnet["SubnetId"]
    pairs = [(new_id("i"), new_id("eni")) for _ in range(max_count)]
    addresses = await _take_addresses(state, subnet_id, [eni for _, eni in pairs], count)
    reservation = new_id("r")
    docs: list[tuple[str, str, Doc]] = []
    instances: list[Doc] = []
    try:
        for index, ((instance_id, eni_id), address) in enumerate(
            zip(pairs, addresses, strict=False)
        ):
            eni = _interface_for(spec, instance_id, eni_id, address, region, account)
            instance = _instance_document(spec, eni, index, reservation, account, token)
            docs += [(NETWORK_INTERFACES, eni_id, eni), (INSTANCES, instance_id, instance)]
            instances.append(instance)
        await _write(state, docs)
    except BaseException:
        for _, eni_id in pairs:
            await ipam.release(state, subnet_id, eni_id)
        raise
    return instances


def _check_counts(count: int, max_count: int) -> None:
    if count < 1:
        raise errors.bad_count("minCount", count)
    if max_count < 1:
        raise errors.bad_count("maxCount", max_count)
    if count > max_count:
        raise errors.min_above_max(count, max_count)


async def launch_instances(
    state: RegionState,
    region: Region | str,
    account: str,
    *,
    subnet_id: str | None,
    instance_type: str | None,
    image_id: str | None,
    count: int,
    user_data: str | None,
    tags: Tags | None,
    security_group_ids: list[str] | None,
    iam_instance_profile: Doc | None,
    client_token: str | None,
    launch_template: Doc | None,
    max_count: int | None = None,
    security_group_names: list[str] | None = None,
    interface_tags: dict[str, str] | None = None,
    key_name: str | None = None,
    availability_zone: str | None = None,
    service_tags: dict[str, str] | None = None,
) -> list[Doc]:
    """Launch between `count` and `max_count` (default `count`) instances, `pending`.

    `region` is the region (or its name); `tags` a {key: value} map or EC2's [{Key,
    Value}] list; `user_data` the decoded text (None: the template's);
    `iam_instance_profile` is {Arn} or {Name}; `launch_template` is {LaunchTemplateId or
    LaunchTemplateName, Version ("$Latest", "$Default", a number; default $Default)}.
    Raises `Ec2Error` (`SubnetFullError` when fewer than `count` addresses are free) and
    leaves nothing behind then. `service_tags` are tags AWS services set themselves
    (`aws:autoscaling:groupName`): added after the check that refuses `aws:` keys."""
    region_name = region if isinstance(region, str) else region.name
    tags = tags if isinstance(tags, dict) or tags is None else tag_map(tags)
    maximum = count if max_count is None else max_count
    _check_counts(count, maximum)
    request = {k: v for k, v in locals().items() if k not in ("state", "client_token", "region")}
    spec = await launchspec.resolve(
        state,
        account,
        subnet_id=subnet_id,
        instance_type=instance_type,
        image_id=image_id,
        user_data=user_data,
        tags=tags,
        security_group_ids=security_group_ids,
        iam_instance_profile=iam_instance_profile,
        launch_template=launch_template,
        security_group_names=security_group_names,
        interface_tags=interface_tags,
        key_name=key_name,
        availability_zone=availability_zone,
        service_tags=service_tags,
    )
    if client_token:
        earlier = await clienttokens.claim(state, client_token, request)
        if earlier is not None:
            return earlier
    try:
        launched = await _launch(state, region_name, account, spec, count, maximum, client_token)
    except BaseException:
        if client_token:
            await clienttokens.forget(state, client_token)
        raise
    if client_token:
        await clienttokens.record(state, client_token, [doc["InstanceId"] for doc in launched])
    return launched


# -- state changes ---------------------------------------------------------------------


def _user_transition() -> str:
    moment = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"User initiated ({moment} GMT)"


async def load_instances(state: RegionState, instance_ids: list[str]) -> list[Doc]:
    """The documents of `instance_ids`, or EC2's Malformed / NotFound for them."""
    check_ids(instance_ids, "i", "InvalidInstanceID.Malformed")
    records = [await state.get(INSTANCES, i) for i in instance_ids]
    missing = [i for i, r in zip(instance_ids, records, strict=True) if r is None]
    if missing:
        raise errors.instances_not_found(missing)
    return [r.value for r in records if r is not None]


async def _shut_down(state: RegionState, instance_id: str) -> tuple[str, Doc, Doc]:
    before: list[Doc] = []

    def change(doc: Doc) -> Doc:
        before[:] = [dict(doc["State"])]
        if doc["State"]["Name"] in ("pending", "running", "stopping", "stopped"):
            doc["State"] = dict(SHUTTING_DOWN)
            doc["StateReason"] = dict(USER_SHUTDOWN)
            doc["StateTransitionReason"] = _user_transition()
        return doc

    try:
        after = await state.mutate(INSTANCES, instance_id, change)
    except Missing:
        raise errors.instances_not_found([instance_id]) from None
    return instance_id, before[0], dict(after.value["State"])


async def terminate_instances(
    state: RegionState, instance_ids: list[str]
) -> list[tuple[str, Doc, Doc]]:
    """Move the instances to `shutting-down` (those already going stay as they are):
    (id, previous State, current State) each. All ids are checked before any changes."""
    await load_instances(state, instance_ids)
    return [await _shut_down(state, i) for i in dict.fromkeys(instance_ids)]


async def _move(state: RegionState, instance_id: str, change: Any) -> Doc | None:
    try:
        return (await state.mutate(INSTANCES, instance_id, change)).value
    except Missing:
        return None


async def mark_running(state: RegionState, instance_id: str) -> Doc | None:
    """`pending` → `running` (nothing otherwise); the document, None if it is gone."""

    def change(doc: Doc) -> Doc:
        if doc["State"]["Name"] == "pending":
            doc["State"] = dict(RUNNING)
            doc.pop("StateReason", None)
        return doc

    return await _move(state, instance_id, change)


async def _release(state: RegionState, doc: Doc) -> None:
    """Free the instance's interfaces and addresses."""
    for view in doc.get("NetworkInterfaces") or ():
        eni = await state.get(NETWORK_INTERFACES, view["NetworkInterfaceId"])
        if eni is not None:
            await interfaces.delete_interface(state, eni.value)
    await ipam.release(state, doc["SubnetId"], doc["InstanceId"])


async def _end(state: RegionState, instance_id: str, reason: Doc | None) -> Doc | None:
    current = await state.get(INSTANCES, instance_id)
    if current is None:
        return None
    await _release(state, current.value)

    def change(doc: Doc) -> Doc:
        if doc["State"]["Name"] != "terminated":
            doc["State"] = dict(TERMINATED)
            if reason is not None:
                doc["StateReason"] = dict(reason)
                doc["StateTransitionReason"] = f"{reason['Code']}: {reason['Message']}"
        keep = private(doc)
        keep.setdefault("privateIpAddress", doc.pop("PrivateIpAddress", None))
        keep.setdefault("privateDnsName", doc.get("PrivateDnsName"))
        doc["PrivateDnsName"] = ""
        doc["NetworkInterfaces"] = []
        doc["openeks"] = keep
        return doc

    return await _move(state, instance_id, change)


async def finish_termination(state: RegionState, instance_id: str) -> Doc | None:
    """→ `terminated`: the interfaces are deleted and every address freed."""
    return await _end(state, instance_id, None)


async def mark_failed(state: RegionState, instance_id: str, code: str, message: str) -> Doc | None:
    """A launch that could not run: → `terminated` with StateReason {code, message}
    (e.g. "Server.InternalError"), addresses freed, as EC2 ends such a launch."""
    return await _end(state, instance_id, {"Code": code, "Message": message})
