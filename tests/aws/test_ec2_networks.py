"""EC2's VPCs, subnets, security groups, launch templates and tags through real boto3
and the real AWS CLI, with EC2's error codes and messages, and nothing left behind by a
create that fails.

One region (memory store, default VPC) serves the module; tests make their own VPCs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.eks_support import ACCOUNT, REGION, EksRegion


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EksRegion]:
    with EksRegion(tmp_path_factory.mktemp("ec2-home")) as served:
        yield served


@pytest.fixture(scope="module")
def ec2(region: EksRegion) -> Any:
    return region.client("ec2")


def expect_error(code: str, message: str | None, call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as failure:
        call(**kwargs)
    error: dict[str, Any] = failure.value.response["Error"]
    assert error["Code"] == code, error
    if message is not None:
        assert error["Message"] == message
    return error


def count(region: EksRegion, kind: str) -> int:
    return len(region.run(region.state.list(kind)))


def new_vpc(ec2: Any, cidr: str = "10.0.0.0/16") -> str:
    return str(ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"])


# -- VPCs ------------------------------------------------------------------------------


def test_a_new_vpc_is_described_with_its_tags_and_default_security_group(ec2: Any) -> None:
    vpc = ec2.create_vpc(
        CidrBlock="10.1.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}]}],
    )["Vpc"]
    assert vpc["VpcId"].startswith("vpc-") and len(vpc["VpcId"]) == 21
    assert vpc["IsDefault"] is False
    assert vpc["CidrBlockAssociationSet"][0]["CidrBlock"] == "10.1.0.0/16"
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["ma*"]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [vpc["VpcId"]]
    assert "openeks" not in found[0]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "SecurityGroups"
    ]
    assert [(g["GroupName"], g["Description"]) for g in groups] == [
        ("default", "default VPC security group")
    ]
    assert groups[0]["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == groups[0]["GroupId"]
    assert groups[0]["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]


def test_the_default_vpc_has_a_default_security_group(ec2: Any) -> None:
    default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]
    assert group["VpcId"] == default["VpcId"]


@pytest.mark.parametrize(
    ("cidr", "code", "message"),
    [
        ("10.0.0.0/8", "InvalidVpc.Range", "The CIDR '10.0.0.0/8' is invalid."),
        ("10.0.0.0/29", "InvalidVpc.Range", "The CIDR '10.0.0.0/29' is invalid."),
        (
            "10.0.0.1/16",
            "InvalidParameterValue",
            "Value (10.0.0.1/16) for parameter cidrBlock is invalid. This is not a valid CIDR "
            "block.",
        ),
        (
            "banana",
            "InvalidParameterValue",
            "Value (banana) for parameter cidrBlock is invalid. This is not a valid CIDR block.",
        ),
    ],
)
def test_a_bad_vpc_cidr_is_refused_and_leaves_nothing(
    region: EksRegion, ec2: Any, cidr: str, code: str, message: str
) -> None:
    before = (count(region, "vpcs"), count(region, "securitygroups"))
    expect_error(code, message, ec2.create_vpc, CidrBlock=cidr)
    assert (count(region, "vpcs"), count(region, "securitygroups")) == before


def test_a_vpc_without_a_cidr_or_with_foreign_tags_is_refused(ec2: Any) -> None:
    expect_error(
        "MissingParameter",
        "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.",
        ec2.create_vpc,
    )
    expect_error(
        "InvalidParameterValue",
        "'instance' is not a valid taggable resource type for this operation.",
        ec2.create_vpc,
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]}],
    )
    expect_error(
        "InvalidParameterValue",
        "Value ( aws:x ) for parameter key is invalid. Tag keys starting with 'aws:' are "
        "reserved for internal use",
        ec2.create_vpc,
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "aws:x", "Value": "b"}]}],
    )


def test_a_vpc_with_subnets_cannot_be_deleted_until_they_are_gone(
    region: EksRegion, ec2: Any
) -> None:
    vpc_id = new_vpc(ec2, "10.2.0.0/16")
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.2.1.0/24")["Subnet"]
    expect_error(
        "DependencyViolation",
        f"The vpc '{vpc_id}' has dependencies and cannot be deleted.",
        ec2.delete_vpc,
        VpcId=vpc_id,
    )
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc_id)
    expect_error(
        "InvalidVpcID.NotFound",
        f"The vpc ID '{vpc_id}' does not exist",
        ec2.describe_vpcs,
        VpcIds=[vpc_id],
    )
    groups = region.run(region.state.list("securitygroups"))
    assert not [g for g in groups if g.value["VpcId"] == vpc_id]


def test_a_vpc_with_its_own_security_group_cannot_be_deleted(ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.3.0.0/16")
    group_id = ec2.create_security_group(GroupName="web", Description="w", VpcId=vpc_id)["GroupId"]
    expect_error("DependencyViolation", None, ec2.delete_vpc, VpcId=vpc_id)
    ec2.delete_security_group(GroupId=group_id)
    ec2.delete_vpc(VpcId=vpc_id)


def test_deleting_an_unknown_vpc_or_subnet_is_not_found(ec2: Any) -> None:
    expect_error(
        "InvalidVpcID.NotFound",
        "The vpc ID 'vpc-0123456789abcdef0' does not exist",
        ec2.delete_vpc,
        VpcId="vpc-0123456789abcdef0",
    )
    expect_error(
        "InvalidSubnetID.NotFound",
        "The subnet ID 'subnet-0123456789abcdef0' does not exist",
        ec2.delete_subnet,
        SubnetId="subnet-0123456789abcdef0",
    )


# -- subnets ---------------------------------------------------------------------------


def test_a_subnet_is_created_in_its_zone_with_aws_free_address_count(ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.4.0.0/16")
    subnet = ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock="10.4.1.0/24",
        AvailabilityZone="us-east-1b",
        TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": "a"}]}],
    )["Subnet"]
    assert subnet["AvailabilityZone"] == "us-east-1b"
    assert subnet["AvailabilityZoneId"] == "use1-az2"
    assert subnet["AvailableIpAddressCount"] == 251
    assert subnet["SubnetArn"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{subnet['SubnetId']}"
    by_zone_id = ec2.create_subnet(
        VpcId=vpc_id, CidrBlock="10.4.2.0/28", AvailabilityZoneId="use1-az3"
    )
    assert by_zone_id["Subnet"]["AvailabilityZone"] == "us-east-1c"
    assert by_zone_id["Subnet"]["AvailableIpAddressCount"] == 11
    anywhere = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.4.3.0/24")["Subnet"]
    assert anywhere["AvailabilityZone"] == "us-east-1a"
    found = ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "tag:tier", "Values": ["a"]}]
    )["Subnets"]
    assert [s["SubnetId"] for s in found] == [subnet["SubnetId"]]


@pytest.mark.parametrize(
    ("cidr", "code", "message"),
    [
        ("10.6.0.0/15", "InvalidSubnet.Range", "The CIDR '10.6.0.0/15' is invalid."),
        ("10.5.0.0/29", "InvalidSubnet.Range", "The CIDR '10.5.0.0/29' is invalid."),
        ("10.99.0.0/24", "InvalidSubnet.Range", "The CIDR '10.99.0.0/24' is invalid."),
        (
            "10.5.1.128/25",
            "InvalidSubnet.Conflict",
            "The CIDR '10.5.1.128/25' conflicts with another subnet",
        ),
        (
            "10.5.0.0/16",
            "InvalidSubnet.Conflict",
            "The CIDR '10.5.0.0/16' conflicts with another subnet",
        ),
        (
            "10.5.9.9/24",
            "InvalidParameterValue",
            "Value (10.5.9.9/24) for parameter cidrBlock is invalid. This is not a valid CIDR "
            "block.",
        ),
    ],
)
def test_a_bad_subnet_cidr_is_refused_and_leaves_nothing(
    region: EksRegion, ec2: Any, cidr: str, code: str, message: str
) -> None:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.5.0.0/16"]}])["Vpcs"]
    vpc_id = vpcs[0]["VpcId"] if vpcs else new_vpc(ec2, "10.5.0.0/16")
    if not vpcs:
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.5.1.0/24")
    before = (count(region, "subnets"), count(region, "subnetips"))
    expect_error(code, message, ec2.create_subnet, VpcId=vpc_id, CidrBlock=cidr)
    assert (count(region, "subnets"), count(region, "subnetips")) == before
    claims = region.document("vpcs", vpc_id)["openeks"]["subnetCidrs"]  # type: ignore[index]
    assert list(claims.values()) == ["10.5.1.0/24"]


def test_a_subnet_in_an_unknown_zone_or_vpc_is_refused(ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.7.0.0/16")
    expect_error(
        "InvalidParameterValue",
        "Value (us-east-1z) for parameter availabilityZone is invalid. Subnets can currently "
        "only be created in the following availability zones: us-east-1a, us-east-1b, "
        "us-east-1c.",
        ec2.create_subnet,
        VpcId=vpc_id,
        CidrBlock="10.7.1.0/24",
        AvailabilityZone="us-east-1z",
    )
    expect_error(
        "InvalidVpcID.NotFound",
        "The vpc ID 'vpc-0123456789abcdef0' does not exist",
        ec2.create_subnet,
        VpcId="vpc-0123456789abcdef0",
        CidrBlock="10.7.1.0/24",
    )


def test_overlapping_subnets_created_at_once_give_one_subnet(region: EksRegion, ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.8.0.0/16")

    def attempt(cidr: str) -> str:
        try:
            return str(ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr)["Subnet"]["SubnetId"])
        except ClientError as failure:
            return str(failure.response["Error"]["Code"])

    cidrs = ["10.8.0.0/24", "10.8.0.0/25", "10.8.0.128/25", "10.8.0.0/23"] * 2
    with ThreadPoolExecutor(len(cidrs)) as pool:
        outcomes = list(pool.map(attempt, cidrs))
    made = [o for o in outcomes if o.startswith("subnet-")]
    assert set(outcomes) - set(made) == {"InvalidSubnet.Conflict"}
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert sorted(s["SubnetId"] for s in subnets) == sorted(made)
    blocks = [s["CidrBlock"] for s in subnets]
    assert blocks in (["10.8.0.0/24"], ["10.8.0.0/23"]) or sorted(blocks) == [
        "10.8.0.0/25",
        "10.8.0.128/25",
    ]


def test_the_cli_creates_and_deletes_a_vpc_and_subnet(region: EksRegion) -> None:
    made = region.aws("ec2", "create-vpc", "--cidr-block", "10.20.0.0/16")
    assert made.returncode == 0, made.stderr
    vpc_id = json.loads(made.stdout)["Vpc"]["VpcId"]
    subnet = region.aws(
        "ec2", "create-subnet", "--vpc-id", vpc_id, "--cidr-block", "10.20.0.0/20",
        "--availability-zone", "us-east-1c",
    )  # fmt: skip
    assert subnet.returncode == 0, subnet.stderr
    subnet_id = json.loads(subnet.stdout)["Subnet"]["SubnetId"]
    refused = region.aws("ec2", "delete-vpc", "--vpc-id", vpc_id)
    assert refused.returncode != 0
    assert "DependencyViolation" in refused.stderr
    assert region.aws("ec2", "delete-subnet", "--subnet-id", subnet_id).returncode == 0
    assert region.aws("ec2", "delete-vpc", "--vpc-id", vpc_id).returncode == 0


# -- security groups -------------------------------------------------------------------


def test_security_groups_are_unique_per_vpc_and_named_as_ec2_wants(ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.10.0.0/16")
    made = ec2.create_security_group(
        GroupName="nodes",
        Description="worker nodes",
        VpcId=vpc_id,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "role", "Value": "n"}]}
        ],
    )
    assert made["GroupId"].startswith("sg-") and len(made["GroupId"]) == 20
    assert made["SecurityGroupArn"].endswith(f":security-group/{made['GroupId']}")
    assert made["Tags"] == [{"Key": "role", "Value": "n"}]
    message = f"The security group 'nodes' already exists for VPC '{vpc_id}'"
    expect_error(
        "InvalidGroup.Duplicate",
        message,
        ec2.create_security_group,
        GroupName="nodes",
        Description="x",
        VpcId=vpc_id,
    )
    expect_error(
        "InvalidGroup.Duplicate",
        f"The security group 'default' already exists for VPC '{vpc_id}'",
        ec2.create_security_group,
        GroupName="default",
        Description="x",
        VpcId=vpc_id,
    )
    expect_error(
        "InvalidParameterValue",
        "Value (sg-web) for parameter GroupName is invalid. Group names may not be in the "
        "format sg-*.",
        ec2.create_security_group,
        GroupName="sg-web",
        Description="x",
        VpcId=vpc_id,
    )
    expect_error(
        "InvalidVpcID.NotFound",
        "The vpc ID 'vpc-0123456789abcdef0' does not exist",
        ec2.create_security_group,
        GroupName="x",
        Description="x",
        VpcId="vpc-0123456789abcdef0",
    )
    other = ec2.create_security_group(GroupName="nodes", Description="elsewhere")
    assert other["GroupId"] != made["GroupId"]


def test_security_groups_are_found_by_id_name_and_filter(ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.11.0.0/16")
    group_id = ec2.create_security_group(GroupName="finder", Description="d", VpcId=vpc_id)[
        "GroupId"
    ]
    by_id = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert [g["GroupName"] for g in by_id] == ["finder"]
    by_filter = ec2.describe_security_groups(
        Filters=[
            {"Name": "group-name", "Values": ["find*"]},
            {"Name": "vpc-id", "Values": [vpc_id]},
        ]
    )["SecurityGroups"]
    assert [g["GroupId"] for g in by_filter] == [group_id]
    expect_error(
        "InvalidGroup.NotFound",
        "The security group 'sg-0123456789abcdef0' does not exist",
        ec2.describe_security_groups,
        GroupIds=["sg-0123456789abcdef0"],
    )
    expect_error(
        "InvalidGroupId.Malformed",
        'Invalid id: "banana" (expecting "sg-...")',
        ec2.describe_security_groups,
        GroupIds=["banana"],
    )
    default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    expect_error(
        "InvalidGroup.NotFound",
        f"The security group 'finder' does not exist in default VPC '{default['VpcId']}'",
        ec2.describe_security_groups,
        GroupNames=["finder"],
    )
    expect_error(
        "InvalidParameterValue",
        "The filter 'colour' is invalid",
        ec2.describe_security_groups,
        Filters=[{"Name": "colour", "Values": ["red"]}],
    )


def test_ingress_rules_are_stored_and_duplicates_refused(ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.12.0.0/16")
    group_id = ec2.create_security_group(GroupName="rules", Description="d", VpcId=vpc_id)[
        "GroupId"
    ]
    source = ec2.create_security_group(GroupName="source", Description="d", VpcId=vpc_id)["GroupId"]
    answer = ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "inside"}],
                "UserIdGroupPairs": [{"GroupId": source}],
            }
        ],
    )
    assert answer["Return"] is True
    assert [r["SecurityGroupRuleId"][:4] for r in answer["SecurityGroupRules"]] == ["sgr-"] * 2
    ec2.authorize_security_group_ingress(
        GroupId=group_id, IpProtocol="udp", FromPort=53, ToPort=53, CidrIp="0.0.0.0/0"
    )
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    by_proto = {p["IpProtocol"]: p for p in group["IpPermissions"]}
    assert by_proto["tcp"]["IpRanges"] == [{"CidrIp": "10.0.0.0/8", "Description": "inside"}]
    assert by_proto["tcp"]["UserIdGroupPairs"][0]["GroupId"] == source
    assert (by_proto["udp"]["FromPort"], by_proto["udp"]["ToPort"]) == (53, 53)
    expect_error(
        "InvalidPermission.Duplicate",
        'the specified rule "peer: 0.0.0.0/0, UDP, from port: 53, to port: 53, ALLOW" '
        "already exists",
        ec2.authorize_security_group_ingress,
        GroupId=group_id,
        IpProtocol="udp",
        FromPort=53,
        ToPort=53,
        CidrIp="0.0.0.0/0",
    )
    expect_error(
        "InvalidGroup.NotFound",
        "The security group 'sg-0123456789abcdef0' does not exist",
        ec2.authorize_security_group_ingress,
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-0123456789abcdef0"}]}
        ],
    )
    expect_error(
        "DependencyViolation",
        f"resource {source} has a dependent object",
        ec2.delete_security_group,
        GroupId=source,
    )


def test_the_default_group_cannot_be_deleted_and_others_can(ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.13.0.0/16")
    default = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    expect_error(
        "CannotDelete",
        f'the specified group: "{default}" name: "default" cannot be deleted by a user',
        ec2.delete_security_group,
        GroupId=default,
    )
    group_id = ec2.create_security_group(GroupName="temp", Description="d", VpcId=vpc_id)["GroupId"]
    assert ec2.delete_security_group(GroupId=group_id)["GroupId"] == group_id
    expect_error(
        "InvalidGroup.NotFound",
        f"The security group '{group_id}' does not exist",
        ec2.delete_security_group,
        GroupId=group_id,
    )


def test_the_cli_describes_security_groups(region: EksRegion) -> None:
    done = region.aws(
        "ec2", "describe-security-groups", "--filters", "Name=group-name,Values=default"
    )
    assert done.returncode == 0, done.stderr
    assert {g["GroupName"] for g in json.loads(done.stdout)["SecurityGroups"]} == {"default"}


# -- launch templates ------------------------------------------------------------------


def test_launch_templates_are_created_found_versioned_and_deleted(ec2: Any) -> None:
    data = {"ImageId": "ami-0123456789abcdef0", "InstanceType": "m5.large"}
    template = ec2.create_launch_template(
        LaunchTemplateName="nodes-lt",
        LaunchTemplateData=data,
        VersionDescription="first",
        TagSpecifications=[
            {"ResourceType": "launch-template", "Tags": [{"Key": "team", "Value": "a"}]}
        ],
    )["LaunchTemplate"]
    template_id = template["LaunchTemplateId"]
    assert template_id.startswith("lt-") and len(template_id) == 20
    assert (template["DefaultVersionNumber"], template["LatestVersionNumber"]) == (1, 1)
    assert template["CreatedBy"] == f"arn:aws:iam::{ACCOUNT}:root"
    expect_error(
        "InvalidLaunchTemplateName.AlreadyExistsException",
        "Launch template name already in use.",
        ec2.create_launch_template,
        LaunchTemplateName="nodes-lt",
        LaunchTemplateData=data,
    )
    found = ec2.describe_launch_templates(LaunchTemplateIds=[template_id])["LaunchTemplates"]
    assert [t["LaunchTemplateName"] for t in found] == ["nodes-lt"]
    assert found[0]["Tags"] == [{"Key": "team", "Value": "a"}]
    by_filter = ec2.describe_launch_templates(Filters=[{"Name": "tag:team", "Values": ["a"]}])
    assert [t["LaunchTemplateId"] for t in by_filter["LaunchTemplates"]] == [template_id]
    version = ec2.create_launch_template_version(
        LaunchTemplateId=template_id,
        SourceVersion="1",
        LaunchTemplateData={"InstanceType": "m5.xlarge"},
    )["LaunchTemplateVersion"]
    assert version["VersionNumber"] == 2
    assert version["LaunchTemplateData"]["ImageId"] == "ami-0123456789abcdef0"
    assert version["DefaultVersion"] is False
    versions = ec2.describe_launch_template_versions(
        LaunchTemplateName="nodes-lt", Versions=["$Latest", "$Default"]
    )["LaunchTemplateVersions"]
    assert [(v["VersionNumber"], v["LaunchTemplateData"]["InstanceType"]) for v in versions] == [
        (2, "m5.xlarge"),
        (1, "m5.large"),
    ]
    gone = ec2.delete_launch_template(LaunchTemplateName="nodes-lt")["LaunchTemplate"]
    assert gone["LaunchTemplateId"] == template_id
    expect_error(
        "InvalidLaunchTemplateId.NotFound",
        f"The specified launch template, with template ID {template_id}, does not exist.",
        ec2.describe_launch_templates,
        LaunchTemplateIds=[template_id],
    )


def test_unknown_launch_templates_are_not_found(ec2: Any) -> None:
    expect_error(
        "InvalidLaunchTemplateName.NotFoundException",
        "At least one of the launch templates specified in the request does not exist.",
        ec2.describe_launch_templates,
        LaunchTemplateNames=["nowhere"],
    )
    expect_error(
        "InvalidLaunchTemplateName.NotFoundException",
        "The specified launch template, with template name nowhere, does not exist",
        ec2.delete_launch_template,
        LaunchTemplateName="nowhere",
    )
    expect_error(
        "InvalidLaunchTemplateId.NotFound",
        "The specified launch template, with template ID lt-0123456789abcdef0, does not exist.",
        ec2.delete_launch_template,
        LaunchTemplateId="lt-0123456789abcdef0",
    )


def test_the_cli_creates_a_launch_template(region: EksRegion) -> None:
    done = region.aws(
        "ec2", "create-launch-template", "--launch-template-name", "cli-lt",
        "--launch-template-data", '{"ImageId": "ami-0123456789abcdef0"}',
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["LaunchTemplate"]["LaunchTemplateName"] == "cli-lt"
    listed = region.aws("ec2", "describe-launch-templates", "--launch-template-names", "cli-lt")
    assert listed.returncode == 0, listed.stderr


# -- tags and dry runs -----------------------------------------------------------------


def test_tags_are_added_and_removed_on_every_kind_of_resource(ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.14.0.0/16")
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.14.0.0/24")["Subnet"]["SubnetId"]
    group_id = ec2.create_security_group(GroupName="t", Description="d", VpcId=vpc_id)["GroupId"]
    resources = [vpc_id, subnet_id, group_id]
    ec2.create_tags(
        Resources=resources, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "k", "Value": "v"}]
    )
    for kind, key, ident in (
        ("describe_vpcs", "Vpcs", vpc_id),
        ("describe_subnets", "Subnets", subnet_id),
        ("describe_security_groups", "SecurityGroups", group_id),
    ):
        found = getattr(ec2, kind)(Filters=[{"Name": "tag-key", "Values": ["env"]}])[key]
        assert ident in [
            d.get("VpcId" if key == "Vpcs" else "SubnetId" if key == "Subnets" else "GroupId")
            for d in found
        ]
    ec2.delete_tags(Resources=resources, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "k"}])
    vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert vpc["Tags"] == [{"Key": "env", "Value": "dev"}]
    ec2.delete_tags(Resources=[vpc_id])
    assert not ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0].get("Tags")


def test_tagging_an_unknown_resource_tags_nothing(ec2: Any) -> None:
    vpc_id = new_vpc(ec2, "10.15.0.0/16")
    expect_error(
        "InvalidSubnetID.NotFound",
        "The subnet ID 'subnet-0123456789abcdef0' does not exist",
        ec2.create_tags,
        Resources=[vpc_id, "subnet-0123456789abcdef0"],
        Tags=[{"Key": "a", "Value": "b"}],
    )
    expect_error(
        "InvalidID",
        "The ID 'banana' is not valid",
        ec2.create_tags,
        Resources=[vpc_id, "banana"],
        Tags=[{"Key": "a", "Value": "b"}],
    )
    assert not ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0].get("Tags")


def test_a_dry_run_says_it_would_have_succeeded(ec2: Any) -> None:
    error = expect_error(
        "DryRunOperation",
        "Request would have succeeded, but DryRun flag is set.",
        ec2.create_vpc,
        CidrBlock="10.16.0.0/16",
        DryRun=True,
    )
    assert error
    assert not ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.16.0.0/16"]}])["Vpcs"]
