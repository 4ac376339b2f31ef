"""What a launch asks for, once the launch template and the request are merged and
checked: the `LaunchSpec` that `instances.launch_instances` turns into documents.

RunInstances (and the node group controller) may name a launch template; its version's
data fills whatever the request leaves out, member by member, as EC2 merges them: image,
instance type, key, user data, security groups (ids or names), the primary interface's
subnet and groups, the instance profile, tags per resource type, the zone. Then EC2's
checks, before anything is written: an image id shaped like `ami-…`, an instance type
openeks knows (the node agent's table, `kube.node.instancetypes`), user data that is
base64 when it comes from a template and at most 16 KB, a subnet that exists (or the
default VPC's subnet of the requested zone), groups of the subnet's VPC.

A launch from a template carries the tags `aws:ec2launchtemplate:id` and
`aws:ec2launchtemplate:version`, as EC2 adds them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.node.instancetypes import INSTANCE_TYPES
from openeks.region.state import RegionState
from openeks.region.vpc import errors, securitygroups, templates
from openeks.region.vpc.documents import (
    SUBNETS,
    check_tags,
    default_vpc,
    in_vpc,
    load_subnet,
    tags_for,
    well_formed,
)

Doc = dict[str, Any]
MAX_USER_DATA = 16384
DEFAULT_INSTANCE_TYPE = "t3.micro"
"""EC2's default is m1.small, a type openeks has no figures for (openeks default)."""
TAGGABLE = {"instance": "instance", "network-interface": "network-interface", "volume": "volume"}
_PROFILE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:instance-profile/(.+/)?([^/]+)$")


@dataclass
class LaunchSpec:
    subnet: Doc
    groups: list[Doc]
    image_id: str
    instance_type: str
    user_data: str
    tags: dict[str, str] = field(default_factory=dict)
    interface_tags: dict[str, str] = field(default_factory=dict)
    iam_instance_profile: Doc | None = None
    key_name: str | None = None
    launch_template: Doc | None = None
    """{LaunchTemplateId, LaunchTemplateName, Version} of the version used."""


def decode_user_data(encoded: str | None) -> str:
    """Base64 user data (as RunInstances and templates carry it) as text."""
    if not encoded:
        return ""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise errors.bad_user_data() from None
    if len(raw) > MAX_USER_DATA:
        raise errors.user_data_too_long()
    return raw.decode("utf-8", errors="replace")


def instance_profile(spec: Doc | None, account: str) -> Doc | None:
    """{Arn, Id} of the profile named by Arn or Name."""
    if not spec or not (spec.get("Arn") or spec.get("Name")):
        return None
    arn = spec.get("Arn")
    if arn:
        if not _PROFILE_ARN.match(arn):
            raise errors.invalid_value(
                f"Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM "
                "Instance Profile ARN"  # (openeks wording)
            )
    else:
        arn = f"arn:aws:iam::{account}:instance-profile/{spec['Name']}"
    digest = hashlib.sha256(arn.encode()).hexdigest().upper()
    return {"Arn": arn, "Id": "AIPA" + digest[:17]}


def _first_interface(data: Doc) -> Doc:
    interfaces = data.get("NetworkInterfaces") or []
    primary = [i for i in interfaces if (i.get("DeviceIndex") or 0) == 0]
    return dict(primary[0]) if primary else {}


async def _subnet(state: RegionState, subnet_id: str | None, zone: str | None) -> Doc:
    if subnet_id:
        return (await load_subnet(state, subnet_id)).value
    vpc = await default_vpc(state)
    if vpc is None:
        raise errors.Ec2Error("VPCIdNotSpecified", "No default VPC for this user")
    subnets = sorted(
        (s for s in await in_vpc(state, SUBNETS, vpc["VpcId"]) if s.get("DefaultForAz")),
        key=lambda s: str(s["AvailabilityZone"]),
    )
    if zone:
        subnets = [s for s in subnets if s["AvailabilityZone"] == zone]
        if not subnets:
            raise errors.invalid_value(f"Invalid availability zone: [{zone}]")
    if not subnets:
        raise errors.Ec2Error("MissingInput", "No subnets found for the default VPC")
    return subnets[0]


def _check_image(image_id: str | None) -> str:
    if not image_id:
        raise errors.missing_parameter("ImageId")
    if not well_formed(image_id, "ami"):
        raise errors.malformed("InvalidAMIID.Malformed", image_id, "ami")
    return image_id


def _check_type(instance_type: str) -> str:
    if instance_type not in INSTANCE_TYPES:
        raise errors.bad_instance_type(instance_type)
    return instance_type


async def _template(state: RegionState, reference: Doc | None) -> tuple[Doc, Doc | None]:
    """The template version's data and its reference, or ({}, None)."""
    if not reference:
        return {}, None
    template = await templates.find_template(
        state,
        template_id=reference.get("LaunchTemplateId"),
        name=reference.get("LaunchTemplateName"),
    )
    version = templates.resolve(template, reference.get("Version"))
    ref = {
        "LaunchTemplateId": template["LaunchTemplateId"],
        "LaunchTemplateName": template["LaunchTemplateName"],
        "Version": str(version["VersionNumber"]),
    }
    return dict(version["LaunchTemplateData"]), ref


async def resolve(
    state: RegionState,
    account: str,
    *,
    subnet_id: str | None,
    instance_type: str | None,
    image_id: str | None,
    user_data: str | None,
    tags: dict[str, str] | None,
    security_group_ids: list[str] | None,
    iam_instance_profile: Doc | None,
    launch_template: Doc | None,
    security_group_names: list[str] | None = None,
    interface_tags: dict[str, str] | None = None,
    key_name: str | None = None,
    availability_zone: str | None = None,
    service_tags: dict[str, str] | None = None,
) -> LaunchSpec:
    """Merge the request over its launch template and check it all (no writes)."""
    data, reference = await _template(state, launch_template)
    interface = _first_interface(data)
    image = _check_image(image_id or data.get("ImageId"))
    itype = _check_type(instance_type or data.get("InstanceType") or DEFAULT_INSTANCE_TYPE)
    text = user_data if user_data is not None else decode_user_data(data.get("UserData"))
    if len(text.encode()) > MAX_USER_DATA:
        raise errors.user_data_too_long()
    zone = availability_zone or (data.get("Placement") or {}).get("AvailabilityZone")
    subnet = await _subnet(state, subnet_id or interface.get("SubnetId"), zone)
    template_tags = tags_for(data.get("TagSpecifications"), TAGGABLE)
    instance_tags = {**template_tags.get("instance", {}), **(tags or {})}
    check_tags(instance_tags)
    instance_tags.update(service_tags or {})
    if reference is not None:
        instance_tags["aws:ec2launchtemplate:id"] = reference["LaunchTemplateId"]
        instance_tags["aws:ec2launchtemplate:version"] = reference["Version"]
    group_ids = security_group_ids or data.get("SecurityGroupIds") or interface.get("Groups") or []
    names = security_group_names or data.get("SecurityGroups") or []
    if names:
        group_ids = [*group_ids, *await securitygroups.groups_named(state, names, subnet["VpcId"])]
    groups = await securitygroups.groups_for_launch(
        state, group_ids, subnet["VpcId"], subnet["SubnetId"]
    )
    return LaunchSpec(
        subnet=subnet,
        groups=groups,
        image_id=image,
        instance_type=itype,
        user_data=text,
        tags=instance_tags,
        interface_tags={**template_tags.get("network-interface", {}), **(interface_tags or {})},
        iam_instance_profile=instance_profile(
            iam_instance_profile or data.get("IamInstanceProfile"), account
        ),
        key_name=key_name or data.get("KeyName"),
        launch_template=reference,
    )
