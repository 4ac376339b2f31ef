"""EC2 instances and network interfaces through real boto3 and the real AWS CLI:
RunInstances (subnets, interfaces, launch templates, user data, tags, instance
profiles, counts, idempotency), DescribeInstances (reservations, filters, pages),
TerminateInstances, DescribeNetworkInterfaces; EC2's errors, and nothing left behind by
a launch that fails.

No instance controller runs here: instances stay `pending` unless a test plays the
controller's part with `region.vpc.instances` (mark_running, finish_termination, ...).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openeks.region.vpc import instances as regional
from tests.aws.eks_support import ACCOUNT, EksRegion

AMI = "ami-0123456789abcdef0"


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EksRegion]:
    with EksRegion(tmp_path_factory.mktemp("ec2-instances-home")) as served:
        yield served


@pytest.fixture(scope="module")
def ec2(region: EksRegion) -> Any:
    return region.client("ec2")


@pytest.fixture(scope="module")
def vpc_id(ec2: Any) -> str:
    return str(ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"])


def make_subnet(ec2: Any, vpc_id: str, cidr: str, zone: str = "us-east-1a") -> str:
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)
    return str(subnet["Subnet"]["SubnetId"])


def expect_error(code: str, message: str | None, call: Any, **kwargs: Any) -> None:
    with pytest.raises(ClientError) as failure:
        call(**kwargs)
    error = failure.value.response["Error"]
    assert error["Code"] == code, error
    if message is not None:
        assert error["Message"] == message


def free(ec2: Any, subnet_id: str) -> int:
    return int(ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["AvailableIpAddressCount"])


def totals(region: EksRegion) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        len(region.run(region.state.list(kind)))
        for kind in ("instances", "networkinterfaces", "clienttokens")
    )


def run(ec2: Any, subnet_id: str, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ImageId": AMI,
        "InstanceType": "t3.micro",
        "MinCount": 1,
        "MaxCount": 1,
    }
    params.update(extra)
    result: dict[str, Any] = ec2.run_instances(SubnetId=subnet_id, **params)
    return result


def instance(ec2: Any, instance_id: str) -> dict[str, Any]:
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    found: dict[str, Any] = reservations[0]["Instances"][0]
    return found


# -- launching -------------------------------------------------------------------------


def test_run_instances_gives_pending_instances_with_subnet_addresses(
    region: EksRegion, ec2: Any, vpc_id: str
) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.1.0/24")
    answer = run(
        ec2,
        subnet_id,
        MinCount=2,
        MaxCount=2,
        UserData="#!/bin/bash\n/etc/eks/bootstrap.sh demo\n",
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "worker"}]},
            {"ResourceType": "network-interface", "Tags": [{"Key": "eni", "Value": "yes"}]},
        ],
    )
    assert answer["ReservationId"].startswith("r-") and len(answer["ReservationId"]) == 19
    assert answer["OwnerId"] == ACCOUNT
    first, second = answer["Instances"]
    assert first["InstanceId"].startswith("i-") and len(first["InstanceId"]) == 19
    assert (first["PrivateIpAddress"], second["PrivateIpAddress"]) == ("10.0.1.4", "10.0.1.5")
    assert first["PrivateDnsName"] == "ip-10-0-1-4.ec2.internal"
    assert first["State"] == {"Code": 0, "Name": "pending"}
    assert (first["AmiLaunchIndex"], second["AmiLaunchIndex"]) == (0, 1)
    assert first["Placement"]["AvailabilityZone"] == "us-east-1a"
    assert (first["SubnetId"], first["VpcId"]) == (subnet_id, vpc_id)
    assert first["SecurityGroups"][0]["GroupName"] == "default"
    assert first["Tags"] == [{"Key": "Name", "Value": "worker"}]
    assert (first["Architecture"], first["RootDeviceType"]) == ("x86_64", "ebs")
    eni = first["NetworkInterfaces"][0]
    assert eni["NetworkInterfaceId"].startswith("eni-") and len(eni["NetworkInterfaceId"]) == 21
    assert eni["Attachment"]["DeviceIndex"] == 0
    assert free(ec2, subnet_id) == 249
    doc = region.document("instances", first["InstanceId"])
    assert doc is not None
    assert doc["openeks"]["userData"] == "#!/bin/bash\n/etc/eks/bootstrap.sh demo\n"
    assert doc["openeks"]["reservationId"] == answer["ReservationId"]
    interfaces = ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [first["InstanceId"]]}]
    )["NetworkInterfaces"]
    assert [i["PrivateIpAddress"] for i in interfaces] == ["10.0.1.4"]
    assert interfaces[0]["Status"] == "in-use"
    assert interfaces[0]["TagSet"] == [{"Key": "eni", "Value": "yes"}]
    assert interfaces[0]["Attachment"]["InstanceOwnerId"] == ACCOUNT


def test_instances_name_their_profile_and_groups(ec2: Any, vpc_id: str) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.2.0/24", "us-east-1b")
    group = ec2.create_security_group(GroupName="workers", Description="w", VpcId=vpc_id)
    by_name = run(
        ec2,
        subnet_id,
        IamInstanceProfile={"Name": "node-role"},
        SecurityGroupIds=[group["GroupId"]],
    )["Instances"][0]
    profile = by_name["IamInstanceProfile"]
    assert profile["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/node-role"
    assert profile["Id"].startswith("AIPA")
    assert by_name["SecurityGroups"] == [{"GroupId": group["GroupId"], "GroupName": "workers"}]
    arn = f"arn:aws:iam::{ACCOUNT}:instance-profile/eks/other"
    by_arn = run(ec2, subnet_id, IamInstanceProfile={"Arn": arn})["Instances"][0]
    assert by_arn["IamInstanceProfile"]["Arn"] == arn
    expect_error(
        "DependencyViolation",
        f"resource {group['GroupId']} has a dependent object",
        ec2.delete_security_group,
        GroupId=group["GroupId"],
    )


def test_a_primary_network_interface_names_the_subnet_and_groups(ec2: Any, vpc_id: str) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.3.0/24", "us-east-1c")
    group = ec2.create_security_group(GroupName="eni-group", Description="g", VpcId=vpc_id)
    launched = ec2.run_instances(
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet_id, "Groups": [group["GroupId"]]}],
    )["Instances"][0]
    assert launched["SubnetId"] == subnet_id
    assert launched["Placement"]["AvailabilityZone"] == "us-east-1c"
    assert launched["SecurityGroups"][0]["GroupId"] == group["GroupId"]
    assert launched["InstanceType"] == "t3.micro"
    expect_error(
        "InvalidParameterCombination",
        "Network interfaces and an instance-level subnet ID may not be specified on the same "
        "request",
        ec2.run_instances,
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet_id,
        NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet_id}],
    )


def test_without_a_subnet_an_instance_goes_to_the_default_vpc(ec2: Any) -> None:
    launched = ec2.run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": "us-east-1b"}
    )["Instances"][0]
    assert launched["PrivateIpAddress"].startswith("172.31.")
    assert launched["Placement"]["AvailabilityZone"] == "us-east-1b"


def test_min_and_max_count_launch_what_fits(region: EksRegion, ec2: Any, vpc_id: str) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.4.0/28")
    before = totals(region)
    expect_error(
        "InsufficientFreeAddressesInSubnet",
        f"There are not enough free addresses in subnet '{subnet_id}' to satisfy the "
        "requested number of instances.",
        run,
        ec2=ec2,
        subnet_id=subnet_id,
        MinCount=12,
        MaxCount=12,
    )
    assert totals(region) == before
    assert free(ec2, subnet_id) == 11
    launched = run(ec2, subnet_id, MinCount=2, MaxCount=20)["Instances"]
    assert len(launched) == 11
    assert launched[-1]["PrivateIpAddress"] == "10.0.4.14"
    assert free(ec2, subnet_id) == 0
    expect_error("InsufficientFreeAddressesInSubnet", None, run, ec2=ec2, subnet_id=subnet_id)
    expect_error(
        "DependencyViolation",
        f"The subnet '{subnet_id}' has dependencies and cannot be deleted.",
        ec2.delete_subnet,
        SubnetId=subnet_id,
    )


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (
            {"InstanceType": "m1.small"},
            "InvalidParameterValue",
            "Invalid value 'm1.small' for InstanceType.",
        ),
        (
            {"ImageId": "banana"},
            "InvalidAMIID.Malformed",
            'Invalid id: "banana" (expecting "ami-...")',
        ),
        (
            {"MinCount": 3, "MaxCount": 2},
            "InvalidParameterValue",
            "Value (3) for parameter minCount is invalid. minCount must not be greater than "
            "maxCount (2).",
        ),
        (
            {"SecurityGroupIds": ["sg-0123456789abcdef0"]},
            "InvalidGroup.NotFound",
            "The security group 'sg-0123456789abcdef0' does not exist",
        ),
        (
            {"TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}]},
            "InvalidParameterValue",
            "'vpc' is not a valid taggable resource type for this operation.",
        ),
        (
            {"IamInstanceProfile": {"Arn": "arn:aws:iam::000000000000:role/r"}},
            "InvalidParameterValue",
            None,
        ),
        (
            {"LaunchTemplate": {"LaunchTemplateId": "lt-0123456789abcdef0"}},
            "InvalidLaunchTemplateId.NotFound",
            "The specified launch template, with template ID lt-0123456789abcdef0, does not exist.",
        ),
    ],
)
def test_a_bad_launch_is_refused_and_leaves_nothing(
    region: EksRegion, ec2: Any, vpc_id: str, extra: dict[str, Any], code: str, message: str | None
) -> None:
    subnets = ec2.describe_subnets(Filters=[{"Name": "cidr-block", "Values": ["10.0.5.0/24"]}])
    subnet_id = (
        subnets["Subnets"][0]["SubnetId"]
        if subnets["Subnets"]
        else make_subnet(ec2, vpc_id, "10.0.5.0/24")
    )
    before = totals(region)
    expect_error(code, message, run, ec2=ec2, subnet_id=subnet_id, **extra)
    assert totals(region) == before
    assert free(ec2, subnet_id) == 251


def test_a_launch_names_an_image_and_a_real_subnet(ec2: Any) -> None:
    expect_error(
        "MissingParameter",
        "The request must contain the parameter ImageId",
        ec2.run_instances,
        MinCount=1,
        MaxCount=1,
    )
    expect_error(
        "InvalidSubnetID.NotFound",
        "The subnet ID 'subnet-0123456789abcdef0' does not exist",
        run,
        ec2=ec2,
        subnet_id="subnet-0123456789abcdef0",
    )


def test_a_group_of_another_vpc_is_refused(ec2: Any, vpc_id: str) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.6.0/24")
    elsewhere = ec2.create_security_group(GroupName="elsewhere", Description="d")["GroupId"]
    expect_error(
        "InvalidParameter",
        f"Security group {elsewhere} and subnet {subnet_id} belong to different networks.",
        run,
        ec2=ec2,
        subnet_id=subnet_id,
        SecurityGroupIds=[elsewhere],
    )


def test_a_launch_template_fills_what_the_request_leaves_out(
    region: EksRegion, ec2: Any, vpc_id: str
) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.7.0/24", "us-east-1b")
    user_data = base64.b64encode(b"#!/bin/bash\n/etc/eks/bootstrap.sh from-template\n").decode()
    template = ec2.create_launch_template(
        LaunchTemplateName="workers",
        LaunchTemplateData={
            "ImageId": "ami-00000000000000001",
            "InstanceType": "m5.large",
            "UserData": user_data,
            "NetworkInterfaces": [{"DeviceIndex": 0, "SubnetId": subnet_id}],
            "IamInstanceProfile": {"Name": "from-template"},
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "t"}]}
            ],
        },
    )["LaunchTemplate"]
    ec2.create_launch_template_version(
        LaunchTemplateName="workers",
        SourceVersion="1",
        LaunchTemplateData={"InstanceType": "c5.xlarge"},
    )
    latest = ec2.run_instances(
        MinCount=1,
        MaxCount=1,
        LaunchTemplate={"LaunchTemplateName": "workers", "Version": "$Latest"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "extra", "Value": "x"}]}],
    )["Instances"][0]
    assert (latest["ImageId"], latest["InstanceType"]) == ("ami-00000000000000001", "c5.xlarge")
    assert latest["SubnetId"] == subnet_id
    assert latest["IamInstanceProfile"]["Arn"].endswith(":instance-profile/from-template")
    tags = {t["Key"]: t["Value"] for t in latest["Tags"]}
    assert tags == {
        "team": "t",
        "extra": "x",
        "aws:ec2launchtemplate:id": template["LaunchTemplateId"],
        "aws:ec2launchtemplate:version": "2",
    }
    doc = region.document("instances", latest["InstanceId"])
    assert doc is not None
    assert doc["openeks"]["userData"] == "#!/bin/bash\n/etc/eks/bootstrap.sh from-template\n"
    default = ec2.run_instances(
        MinCount=1, MaxCount=1, InstanceType="t3.large",
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
    )["Instances"][0]  # fmt: skip
    assert default["InstanceType"] == "t3.large"
    tags = {t["Key"]: t["Value"] for t in default["Tags"]}
    assert tags["aws:ec2launchtemplate:version"] == "1"
    numbered = ec2.run_instances(
        MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": "workers", "Version": "2"}
    )["Instances"][0]
    assert numbered["InstanceType"] == "c5.xlarge"
    expect_error(
        "InvalidLaunchTemplateId.VersionNotFound",
        None,
        ec2.run_instances,
        MinCount=1,
        MaxCount=1,
        LaunchTemplate={"LaunchTemplateName": "workers", "Version": "7"},
    )
    expect_error(
        "InvalidLaunchTemplateName.NotFoundException",
        "The specified launch template, with template name nobody, does not exist",
        ec2.run_instances,
        MinCount=1,
        MaxCount=1,
        LaunchTemplate={"LaunchTemplateName": "nobody"},
    )


def test_user_data_that_is_not_base64_is_refused(region: EksRegion, ec2: Any, vpc_id: str) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.8.0/24")
    ec2.create_launch_template(
        LaunchTemplateName="bad-user-data",
        LaunchTemplateData={"ImageId": AMI, "UserData": "not base64!"},
    )
    before = totals(region)
    expect_error(
        "InvalidParameterValue",
        "Invalid BASE64 encoding of user data.",
        run,
        ec2=ec2,
        subnet_id=subnet_id,
        LaunchTemplate={"LaunchTemplateName": "bad-user-data"},
    )
    expect_error(
        "InvalidParameterValue",
        "User data is limited to 16384 bytes",
        run,
        ec2=ec2,
        subnet_id=subnet_id,
        UserData="x" * 16385,
    )
    assert totals(region) == before


def test_a_client_token_makes_a_launch_idempotent(region: EksRegion, ec2: Any, vpc_id: str) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.9.0/24")
    first = run(ec2, subnet_id, ClientToken="token-1", MinCount=2, MaxCount=2)
    again = run(ec2, subnet_id, ClientToken="token-1", MinCount=2, MaxCount=2)
    assert [i["InstanceId"] for i in again["Instances"]] == [
        i["InstanceId"] for i in first["Instances"]
    ]
    assert again["ReservationId"] == first["ReservationId"]
    assert first["Instances"][0]["ClientToken"] == "token-1"
    assert free(ec2, subnet_id) == 249
    expect_error(
        "IdempotentParameterMismatch",
        "Arguments on this idempotent request are inconsistent with arguments used in "
        "previous request(s).",
        run,
        ec2=ec2,
        subnet_id=subnet_id,
        ClientToken="token-1",
        InstanceType="m5.large",
    )
    before = totals(region)
    expect_error(
        "InvalidParameterValue",
        None,
        run,
        ec2=ec2,
        subnet_id=subnet_id,
        ClientToken="t2",
        InstanceType="no",
    )
    assert totals(region) == before


def test_concurrent_launches_never_share_an_address(region: EksRegion, vpc_id: str) -> None:
    ec2 = region.client("ec2")
    subnet_id = make_subnet(ec2, vpc_id, "10.0.15.0/24")

    def launch(_: int) -> list[str]:
        answer = run(ec2, subnet_id, MinCount=3, MaxCount=3)  # clients are thread-safe
        return [i["PrivateIpAddress"] for i in answer["Instances"]]

    with ThreadPoolExecutor(8) as pool:
        addresses = [a for batch in pool.map(launch, range(8)) for a in batch]
    assert len(set(addresses)) == 24
    assert free(ec2, subnet_id) == 251 - 24


# -- describing ------------------------------------------------------------------------


def test_describe_instances_groups_reservations_and_filters(ec2: Any, vpc_id: str) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.10.0/24", "us-east-1c")
    tagged = [{"ResourceType": "instance", "Tags": [{"Key": "app", "Value": "describe"}]}]
    one = run(ec2, subnet_id, MinCount=2, MaxCount=2, TagSpecifications=tagged)
    two = run(ec2, subnet_id, TagSpecifications=tagged)
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:app", "Values": ["describe"]}])[
        "Reservations"
    ]
    assert [(r["ReservationId"], len(r["Instances"])) for r in reservations] == [
        (one["ReservationId"], 2),
        (two["ReservationId"], 1),
    ]
    assert reservations[0]["OwnerId"] == ACCOUNT
    ids = {i["InstanceId"] for r in reservations for i in r["Instances"]}

    def matching(name: str, *values: str) -> set[str]:
        answer = ec2.describe_instances(Filters=[{"Name": name, "Values": list(values)}])
        return {i["InstanceId"] for r in answer["Reservations"] for i in r["Instances"]}

    first = one["Instances"][0]
    assert matching("instance-id", first["InstanceId"]) == {first["InstanceId"]}
    assert matching("subnet-id", subnet_id) == ids
    assert ids <= matching("vpc-id", vpc_id)
    assert ids <= matching("instance-state-name", "pending")
    assert not ids & matching("instance-state-name", "running")
    assert ids <= matching("availability-zone", "us-east-1c")
    assert matching("private-ip-address", "10.0.10.4") == {first["InstanceId"]}
    assert ids <= matching("tag-key", "app")
    assert matching("reservation-id", two["ReservationId"]) == {two["Instances"][0]["InstanceId"]}
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "subnet-id", "Values": [subnet_id]}], PaginationConfig={"PageSize": 5}
    )
    assert sum(len(r["Instances"]) for p in pages for r in p["Reservations"]) == 3


def test_unknown_and_malformed_instance_ids_are_named(ec2: Any) -> None:
    expect_error(
        "InvalidInstanceID.NotFound",
        "The instance ID 'i-0123456789abcdef0' does not exist",
        ec2.describe_instances,
        InstanceIds=["i-0123456789abcdef0"],
    )
    expect_error(
        "InvalidInstanceID.NotFound",
        "The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist",
        ec2.terminate_instances,
        InstanceIds=["i-0123456789abcdef0", "i-0123456789abcdef1"],
    )
    expect_error(
        "InvalidInstanceID.Malformed",
        'Invalid id: "i-123"',
        ec2.describe_instances,
        InstanceIds=["i-123"],
    )
    expect_error(
        "InvalidInstanceID.Malformed",
        'Invalid id: "banana" (expecting "i-...")',
        ec2.terminate_instances,
        InstanceIds=["banana"],
    )
    expect_error(
        "InvalidParameterCombination",
        "The parameter instancesSet cannot be used with the parameter maxResults",
        ec2.describe_instances,
        InstanceIds=["i-0123456789abcdef0"],
        MaxResults=5,
    )


def test_tags_on_instances_are_changed_with_create_and_delete_tags(ec2: Any, vpc_id: str) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.11.0/24")
    launched = run(ec2, subnet_id)["Instances"][0]
    instance_id = launched["InstanceId"]
    eni_id = launched["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.create_tags(Resources=[instance_id, eni_id], Tags=[{"Key": "owner", "Value": "me"}])
    assert instance(ec2, instance_id)["Tags"] == [{"Key": "owner", "Value": "me"}]
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    assert eni["TagSet"] == [{"Key": "owner", "Value": "me"}]
    ec2.delete_tags(Resources=[instance_id], Tags=[{"Key": "owner"}])
    assert not instance(ec2, instance_id).get("Tags")
    expect_error(
        "InvalidNetworkInterfaceID.NotFound",
        "The networkInterface ID 'eni-0123456789abcdef0' does not exist",
        ec2.describe_network_interfaces,
        NetworkInterfaceIds=["eni-0123456789abcdef0"],
    )


# -- terminating -----------------------------------------------------------------------


def test_terminating_goes_through_shutting_down_and_frees_the_addresses(
    region: EksRegion, ec2: Any, vpc_id: str
) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.12.0/24")
    launched = run(ec2, subnet_id, MinCount=2, MaxCount=2)["Instances"]
    keep, end = (i["InstanceId"] for i in launched)
    eni_id = launched[1]["NetworkInterfaces"][0]["NetworkInterfaceId"]
    assert region.run(regional.mark_running(region.state, keep))["State"]["Name"] == "running"
    answer = ec2.terminate_instances(InstanceIds=[end])["TerminatingInstances"]
    assert answer == [
        {
            "InstanceId": end,
            "PreviousState": {"Code": 0, "Name": "pending"},
            "CurrentState": {"Code": 32, "Name": "shutting-down"},
        }
    ]
    again = ec2.terminate_instances(InstanceIds=[end])["TerminatingInstances"][0]
    assert again["PreviousState"]["Name"] == again["CurrentState"]["Name"] == "shutting-down"
    going = instance(ec2, end)
    assert going["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    assert going["StateTransitionReason"].startswith("User initiated (")
    assert free(ec2, subnet_id) == 249  # the controller has not finished yet
    region.run(regional.finish_termination(region.state, end))
    gone = instance(ec2, end)
    assert gone["State"] == {"Code": 48, "Name": "terminated"}
    assert "PrivateIpAddress" not in gone and gone["NetworkInterfaces"] == []
    assert free(ec2, subnet_id) == 250
    assert not ec2.describe_network_interfaces(
        Filters=[{"Name": "network-interface-id", "Values": [eni_id]}]
    )["NetworkInterfaces"]
    after = ec2.terminate_instances(InstanceIds=[end])["TerminatingInstances"][0]
    assert after["PreviousState"]["Name"] == after["CurrentState"]["Name"] == "terminated"
    reused = run(ec2, subnet_id)["Instances"][0]
    assert reused["PrivateIpAddress"] == launched[1]["PrivateIpAddress"]


def test_a_failed_launch_ends_terminated_with_its_reason(
    region: EksRegion, ec2: Any, vpc_id: str
) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.13.0/24")
    instance_id = run(ec2, subnet_id)["Instances"][0]["InstanceId"]
    region.run(regional.mark_failed(region.state, instance_id, "Server.InternalError", "no agent"))
    failed = instance(ec2, instance_id)
    assert failed["State"]["Name"] == "terminated"
    assert failed["StateReason"] == {"Code": "Server.InternalError", "Message": "no agent"}
    assert free(ec2, subnet_id) == 251
    ec2.delete_subnet(SubnetId=subnet_id)


def test_the_cli_runs_describes_and_terminates_an_instance(
    region: EksRegion, ec2: Any, vpc_id: str
) -> None:
    subnet_id = make_subnet(ec2, vpc_id, "10.0.14.0/24")
    launched = region.aws(
        "ec2", "run-instances", "--image-id", AMI, "--instance-type", "m5.large",
        "--subnet-id", subnet_id, "--count", "2", "--user-data", "echo hello",
        "--tag-specifications", "ResourceType=instance,Tags=[{Key=cli,Value=yes}]",
    )  # fmt: skip
    assert launched.returncode == 0, launched.stderr
    ids = [i["InstanceId"] for i in json.loads(launched.stdout)["Instances"]]
    assert len(ids) == 2
    doc = region.document("instances", ids[0])
    assert doc is not None and doc["openeks"]["userData"] == "echo hello"
    described = region.aws(
        "ec2", "describe-instances", "--filters", "Name=tag:cli,Values=yes",
        "--query", "Reservations[].Instances[].InstanceId",
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    assert sorted(json.loads(described.stdout)) == sorted(ids)
    ended = region.aws("ec2", "terminate-instances", "--instance-ids", *ids)
    assert ended.returncode == 0, ended.stderr
    states = {i["CurrentState"]["Name"] for i in json.loads(ended.stdout)["TerminatingInstances"]}
    assert states == {"shutting-down"}
    interfaces = region.aws(
        "ec2", "describe-network-interfaces", "--filters", f"Name=subnet-id,Values={subnet_id}"
    )
    assert interfaces.returncode == 0, interfaces.stderr
    assert len(json.loads(interfaces.stdout)["NetworkInterfaces"]) == 2
