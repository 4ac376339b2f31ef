"""The region's EC2 errors: one exception type carrying EC2's error code and sentence.

The VPC documents are EC2's resources, so the rules they enforce fail the way EC2 does;
the region layer cannot import the AWS edge, so it raises `Ec2Error(code, message)`
and the EC2 backend turns it into the wire error in one place. Every sentence lives
here once. Wording follows what EC2 answers (from SDK error logs, the AWS CLI and the
EC2 API reference); where AWS's exact sentence could not be found the message is marked
"(openeks wording)".

`SubnetFullError` is the one the region's controllers catch (a node's pod block or a
pod address that does not fit), so it has a class of its own.
"""

from __future__ import annotations

from collections.abc import Sequence


class Ec2Error(Exception):
    """A failure in EC2's terms: `code` is what SDKs match on, `message` the sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class SubnetFullError(Ec2Error):
    """The subnet has no free address (or aligned block) left."""


def invalid_value(message: str) -> Ec2Error:
    return Ec2Error("InvalidParameterValue", message)


def missing_parameter(name: str) -> Ec2Error:
    return Ec2Error("MissingParameter", f"The request must contain the parameter {name}")


def malformed(code: str, value: str, prefix: str) -> Ec2Error:
    """`InvalidVpcID.Malformed` and friends: a wrong prefix names the expected one."""
    if value.startswith(f"{prefix}-"):
        return Ec2Error(code, f'Invalid id: "{value}"')
    return Ec2Error(code, f'Invalid id: "{value}" (expecting "{prefix}-...")')


def invalid_id(resource_id: str) -> Ec2Error:
    return Ec2Error("InvalidID", f"The ID '{resource_id}' is not valid")


# -- VPCs and subnets ------------------------------------------------------------------


def vpc_not_found(vpc_id: str) -> Ec2Error:
    return Ec2Error("InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist")


def subnet_not_found(subnet_id: str) -> Ec2Error:
    return Ec2Error("InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}' does not exist")


def bad_cidr(cidr: str, parameter: str = "cidrBlock") -> Ec2Error:
    return invalid_value(
        f"Value ({cidr}) for parameter {parameter} is invalid. This is not a valid CIDR block."
    )


def missing_cidr() -> Ec2Error:
    return Ec2Error(
        "MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided."
    )


def vpc_range(cidr: str) -> Ec2Error:
    return Ec2Error("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.")


def subnet_range(cidr: str) -> Ec2Error:
    return Ec2Error("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.")


def subnet_conflict(cidr: str) -> Ec2Error:
    return Ec2Error("InvalidSubnet.Conflict", f"The CIDR '{cidr}' conflicts with another subnet")


def unknown_zone(zone: str, zones: Sequence[str], parameter: str = "availabilityZone") -> Ec2Error:
    noun = "availability zones" if parameter == "availabilityZone" else "availability zone ids"
    return invalid_value(
        f"Value ({zone}) for parameter {parameter} is invalid. Subnets can currently only be "
        f"created in the following {noun}: {', '.join(zones)}."
    )


def vpc_has_dependencies(vpc_id: str) -> Ec2Error:
    return Ec2Error(
        "DependencyViolation", f"The vpc '{vpc_id}' has dependencies and cannot be deleted."
    )


def subnet_has_dependencies(subnet_id: str) -> Ec2Error:
    return Ec2Error(
        "DependencyViolation", f"The subnet '{subnet_id}' has dependencies and cannot be deleted."
    )


def subnet_full(subnet_id: str) -> SubnetFullError:
    return SubnetFullError(
        "InsufficientFreeAddressesInSubnet",
        f"There are not enough free addresses in subnet '{subnet_id}' to satisfy the "
        "requested number of instances.",
    )


def no_free_blocks(subnet_id: str) -> SubnetFullError:
    return SubnetFullError(
        "InsufficientCidrBlocks",
        "The specified subnet does not have enough free cidr blocks to satisfy the request.",
    )


# -- security groups -------------------------------------------------------------------


def group_not_found(group: str, vpc_id: str | None = None, default_vpc: bool = False) -> Ec2Error:
    if vpc_id is None:
        return Ec2Error("InvalidGroup.NotFound", f"The security group '{group}' does not exist")
    where = "default VPC" if default_vpc else "VPC"
    return Ec2Error(
        "InvalidGroup.NotFound",
        f"The security group '{group}' does not exist in {where} '{vpc_id}'",
    )


def group_duplicate(name: str, vpc_id: str) -> Ec2Error:
    return Ec2Error(
        "InvalidGroup.Duplicate", f"The security group '{name}' already exists for VPC '{vpc_id}'"
    )


def group_name_like_id(name: str) -> Ec2Error:
    return invalid_value(
        f"Value ({name}) for parameter GroupName is invalid. Group names may not be in the "
        "format sg-*."
    )


def group_in_use(group_id: str) -> Ec2Error:
    return Ec2Error("DependencyViolation", f"resource {group_id} has a dependent object")


def default_group_undeletable(group_id: str) -> Ec2Error:
    return Ec2Error(
        "CannotDelete",
        f'the specified group: "{group_id}" name: "default" cannot be deleted by a user',
    )


def groups_in_other_vpc(group_id: str, subnet_id: str) -> Ec2Error:
    return Ec2Error(
        "InvalidParameter",
        f"Security group {group_id} and subnet {subnet_id} belong to different networks.",
    )


def rule_duplicate(peer: str, protocol: str, low: int | None, high: int | None) -> Ec2Error:
    ports = "" if low is None else f", from port: {low}, to port: {high}"
    return Ec2Error(
        "InvalidPermission.Duplicate",
        f'the specified rule "peer: {peer}, {protocol.upper()}{ports}, ALLOW" already exists',
    )


def bad_protocol(protocol: str) -> Ec2Error:
    # (openeks wording)
    return invalid_value(f"Invalid value '{protocol}' for IP protocol. Unknown protocol.")


def ports_required() -> Ec2Error:
    # (openeks wording)
    return invalid_value(
        "Invalid value 'null' for portRange. Must specify both from and to ports with TCP/UDP."
    )


def rule_without_source() -> Ec2Error:
    # (openeks wording)
    return Ec2Error(
        "InvalidParameterCombination",
        "A rule must name at least one source: a CIDR range, a security group or a prefix list.",
    )


# -- network interfaces ------------------------------------------------------------------


def interface_not_found(eni_id: str) -> Ec2Error:
    return Ec2Error(
        "InvalidNetworkInterfaceID.NotFound",
        f"The networkInterface ID '{eni_id}' does not exist",
    )


# -- launch templates ------------------------------------------------------------------


def template_name_taken() -> Ec2Error:
    return Ec2Error(
        "InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use."
    )


def template_id_not_found(template_id: str) -> Ec2Error:
    return Ec2Error(
        "InvalidLaunchTemplateId.NotFound",
        f"The specified launch template, with template ID {template_id}, does not exist.",
    )


def template_name_not_found(name: str | None = None) -> Ec2Error:
    if name is None:
        return Ec2Error(
            "InvalidLaunchTemplateName.NotFoundException",
            "At least one of the launch templates specified in the request does not exist.",
        )
    return Ec2Error(
        "InvalidLaunchTemplateName.NotFoundException",
        f"The specified launch template, with template name {name}, does not exist",
    )


def template_version_not_found(version: str, template_id: str) -> Ec2Error:
    # (openeks wording)
    return Ec2Error(
        "InvalidLaunchTemplateId.VersionNotFound",
        f"Could not find launch template version {version} for launch template {template_id}.",
    )


def template_id_or_name() -> Ec2Error:
    # (openeks wording)
    return Ec2Error(
        "MissingParameter",
        "The request must contain the parameter launchTemplateName or launchTemplateId",
    )


# -- instances -------------------------------------------------------------------------


def instances_not_found(instance_ids: Sequence[str]) -> Ec2Error:
    if len(instance_ids) == 1:
        message = f"The instance ID '{instance_ids[0]}' does not exist"
    else:
        message = f"The instance IDs '{', '.join(instance_ids)}' do not exist"
    return Ec2Error("InvalidInstanceID.NotFound", message)


def bad_instance_type(instance_type: str) -> Ec2Error:
    return invalid_value(f"Invalid value '{instance_type}' for InstanceType.")


def bad_count(name: str, value: int) -> Ec2Error:
    # (openeks wording)
    return invalid_value(
        f"Value ({value}) for parameter {name} is invalid. Expected a positive integer."
    )


def min_above_max(minimum: int, maximum: int) -> Ec2Error:
    # (openeks wording)
    return invalid_value(
        f"Value ({minimum}) for parameter minCount is invalid. minCount must not be greater "
        f"than maxCount ({maximum})."
    )


def bad_user_data() -> Ec2Error:
    return invalid_value("Invalid BASE64 encoding of user data.")


def user_data_too_long() -> Ec2Error:
    return invalid_value("User data is limited to 16384 bytes")


def bad_tag_resource_type(resource_type: str) -> Ec2Error:
    return invalid_value(
        f"'{resource_type}' is not a valid taggable resource type for this operation."
    )


def reserved_tag_key(key: str) -> Ec2Error:
    return invalid_value(
        f"Value ( {key} ) for parameter key is invalid. Tag keys starting with 'aws:' are "
        "reserved for internal use"
    )


def too_many_tags() -> Ec2Error:
    return Ec2Error(
        "TagLimitExceeded", "The maximum number of Tags for a resource has been reached."
    )


def token_reused() -> Ec2Error:
    return Ec2Error(
        "IdempotentParameterMismatch",
        "Arguments on this idempotent request are inconsistent with arguments used in "
        "previous request(s).",
    )


def interface_and_subnet() -> Ec2Error:
    return Ec2Error(
        "InvalidParameterCombination",
        "Network interfaces and an instance-level subnet ID may not be specified on the same "
        "request",
    )


def interface_and_groups() -> Ec2Error:
    return Ec2Error(
        "InvalidParameterCombination",
        "Network interfaces and an instance-level security groups may not be specified on "
        "the same request",
    )
