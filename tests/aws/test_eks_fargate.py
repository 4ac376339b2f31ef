"""Fargate profiles through real boto3 and the real AWS CLI: CreateFargateProfile,
DescribeFargateProfile, ListFargateProfiles, DeleteFargateProfile and DeleteCluster's
refusal, with EKS's error codes and messages and no partial profiles after a refusal.

One region serves the module; every test uses its own cluster. No controller runs:
`activate` and `set_profile_status` play the cluster and Fargate controllers. The
default VPC's subnets are public, so the module adds private subnets (as CreateSubnet
makes them: `MapPublicIpOnLaunch` false) straight into the region state.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openeks.aws.eks import fargate
from openeks.aws.errors import AwsError
from openeks.aws.identity import Principal
from openeks.aws.service import RequestContext
from openeks.region.network import resource_id
from tests.aws.eks_support import ACCOUNT, REGION, EksRegion

FARGATE_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "eks-fargate-pods.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EksRegion]:
    with EksRegion(tmp_path_factory.mktemp("eks-fargate-home")) as served:
        yield served


@pytest.fixture(scope="module")
def eks(region: EksRegion) -> Any:
    return region.client("eks")


@pytest.fixture(scope="module")
def cluster_role(region: EksRegion) -> str:
    return region.create_role("eks-cluster")


@pytest.fixture(scope="module")
def pod_role(region: EksRegion) -> str:
    return region.create_role("fargate-pods", trust=FARGATE_TRUST)


@pytest.fixture(scope="module")
def public(region: EksRegion) -> list[str]:
    return region.subnet_ids()


def add_subnet(region: EksRegion, vpc_id: str, cidr: str, zone: str, *, public: bool) -> str:
    subnet_id = resource_id("subnet")
    block = ipaddress.IPv4Network(cidr)
    region.put(
        "subnets",
        subnet_id,
        {
            "SubnetId": subnet_id,
            "VpcId": vpc_id,
            "CidrBlock": cidr,
            "AvailabilityZone": zone,
            "AvailableIpAddressCount": block.num_addresses - 5,
            "DefaultForAz": False,
            "MapPublicIpOnLaunch": public,
            "State": "available",
            "OwnerId": ACCOUNT,
            "Tags": [],
        },
    )
    return subnet_id


@pytest.fixture(scope="module")
def private(region: EksRegion, public: list[str]) -> list[str]:
    """Three private subnets of the default VPC, one per zone."""
    vpc_id = (region.document("subnets", public[0]) or {})["VpcId"]
    blocks = ("172.31.64.0/20", "172.31.80.0/20", "172.31.96.0/20")
    zones = (f"{REGION}a", f"{REGION}b", f"{REGION}c")
    return [
        add_subnet(region, vpc_id, b, z, public=False) for b, z in zip(blocks, zones, strict=True)
    ]


def active_cluster(region: EksRegion, eks: Any, name: str, role: str, subnets: list[str]) -> None:
    eks.create_cluster(name=name, roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    region.set_status(name, "ACTIVE")


@pytest.fixture
def cluster(
    request: pytest.FixtureRequest,
    region: EksRegion,
    eks: Any,
    cluster_role: str,
    public: list[str],
    private: list[str],
) -> str:
    """An ACTIVE cluster over two public and three private subnets, named after the test."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", request.node.name.removeprefix("test_"))[:90]
    name = name.strip("-")
    active_cluster(region, eks, name, cluster_role, [public[0], public[1], *private])
    return name


def create(eks: Any, cluster: str, name: str, role: str, **extra: Any) -> Any:
    selectors = extra.pop("selectors", [{"namespace": "serverless"}])
    return eks.create_fargate_profile(
        clusterName=cluster,
        fargateProfileName=name,
        podExecutionRoleArn=role,
        selectors=selectors,
        **extra,
    )["fargateProfile"]


def set_profile_status(region: EksRegion, cluster: str, name: str, status: str) -> None:
    def change(doc: dict[str, Any]) -> dict[str, Any]:
        doc["status"] = status
        return doc

    region.run(region.state.mutate("fargateprofiles", f"{cluster}/{name}", change))


def profile_names(region: EksRegion, cluster: str) -> list[str]:
    records = region.run(region.state.list("fargateprofiles", f"{cluster}/"))
    return [r.name.split("/", 1)[1] for r in records]


def expect_error(code: str, message: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    with pytest.raises(ClientError) as failure:
        call(*args, **kwargs)
    response = failure.value.response
    assert (response["Error"]["Code"], response["Error"]["Message"]) == (code, message)
    return response


def refused(
    region: EksRegion, eks: Any, cluster: str, code: str, message: str, **request: Any
) -> None:
    """CreateFargateProfile fails with `code`/`message` and leaves no profile behind."""
    before = profile_names(region, cluster)
    request.setdefault("fargateProfileName", "refused")
    request.setdefault("selectors", [{"namespace": "serverless"}])
    expect_error(code, message, eks.create_fargate_profile, clusterName=cluster, **request)
    assert profile_names(region, cluster) == before


# -- CreateFargateProfile / DescribeFargateProfile ---------------------------------------


def test_create_answers_creating_with_the_cluster_private_subnets(
    region: EksRegion, eks: Any, cluster: str, pod_role: str, private: list[str]
) -> None:
    created = create(
        eks,
        cluster,
        "serverless",
        pod_role,
        selectors=[{"namespace": "serverless"}, {"namespace": "jobs-*", "labels": {"k?": "v*"}}],
        tags={"team": "web"},
    )
    assert created["fargateProfileName"] == "serverless"
    assert created["clusterName"] == cluster
    assert created["status"] == "CREATING"
    assert created["podExecutionRoleArn"] == pod_role
    assert created["subnets"] == private
    assert created["selectors"] == [
        {"namespace": "serverless"},
        {"namespace": "jobs-*", "labels": {"k?": "v*"}},
    ]
    assert created["tags"] == {"team": "web"}
    prefix = f"arn:aws:eks:{REGION}:{ACCOUNT}:fargateprofile/{cluster}/serverless/"
    assert created["fargateProfileArn"].startswith(prefix)
    assert len(created["fargateProfileArn"].removeprefix(prefix)) == 36
    assert "openeks" not in created
    described = eks.describe_fargate_profile(clusterName=cluster, fargateProfileName="serverless")
    assert described["fargateProfile"] == created
    document = region.document("fargateprofiles", f"{cluster}/serverless")
    assert document is not None and document["openeks"]["requestToken"]


def test_requested_subnets_are_kept_once_each(
    eks: Any, cluster: str, pod_role: str, private: list[str]
) -> None:
    chosen = [private[1], private[0], private[1]]
    created = create(eks, cluster, "two-subnets", pod_role, subnets=chosen)
    assert created["subnets"] == [private[1], private[0]]


def test_client_request_token_makes_create_idempotent(
    region: EksRegion, eks: Any, cluster: str, pod_role: str
) -> None:
    first = create(eks, cluster, "idem", pod_role, clientRequestToken="token-1")
    again = create(eks, cluster, "idem", pod_role, clientRequestToken="token-1")
    assert again == first
    message = "A Fargate Profile already exists with this name in this cluster."
    refused(
        region,
        eks,
        cluster,
        "ResourceInUseException",
        message,
        fargateProfileName="idem",
        podExecutionRoleArn=pod_role,
        clientRequestToken="token-2",
    )


def test_a_duplicate_name_is_in_use(
    region: EksRegion, eks: Any, cluster: str, pod_role: str
) -> None:
    create(eks, cluster, "dup", pod_role)
    set_profile_status(region, cluster, "dup", "ACTIVE")
    refused(
        region,
        eks,
        cluster,
        "ResourceInUseException",
        "A Fargate Profile already exists with this name in this cluster.",
        fargateProfileName="dup",
        podExecutionRoleArn=pod_role,
    )


def test_unknown_cluster_and_profile_are_not_found(eks: Any, cluster: str) -> None:
    expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: nowhere.",
        eks.describe_fargate_profile,
        clusterName="nowhere",
        fargateProfileName="p",
    )
    response = expect_error(
        "ResourceNotFoundException",
        "No Fargate Profile found with name: ghost.",
        eks.describe_fargate_profile,
        clusterName=cluster,
        fargateProfileName="ghost",
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert (response["clusterName"], response["fargateProfileName"]) == (cluster, "ghost")
    expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: nowhere.",
        eks.create_fargate_profile,
        clusterName="nowhere",
        fargateProfileName="p",
        podExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/fargate-pods",
        selectors=[{"namespace": "default"}],
    )


def test_the_cluster_must_be_active(
    region: EksRegion, eks: Any, cluster: str, pod_role: str
) -> None:
    region.set_status(cluster, "CREATING")
    message = f"Cluster '{cluster}' is not in ACTIVE status"
    refused(region, eks, cluster, "InvalidRequestException", message, podExecutionRoleArn=pod_role)
    region.set_status(cluster, "UPDATING")
    message = (
        f"Cannot create Fargate Profile refused because cluster {cluster} currently has an "
        "update in progress"
    )
    refused(region, eks, cluster, "ResourceInUseException", message, podExecutionRoleArn=pod_role)


@pytest.mark.parametrize("status", ["CREATING", "DELETING"])
def test_one_profile_at_a_time_may_be_creating_or_deleting(
    region: EksRegion, eks: Any, cluster: str, pod_role: str, status: str
) -> None:
    create(eks, cluster, "first", pod_role)
    set_profile_status(region, cluster, "first", status)
    message = (
        f"Cannot create Fargate Profile refused because cluster {cluster} currently has "
        f"Fargate profile first in status {status}"
    )
    response = error_response(eks, cluster, pod_role)
    assert (response["Error"]["Code"], response["Error"]["Message"]) == (
        "ResourceInUseException",
        message,
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert profile_names(region, cluster) == ["first"]


def error_response(eks: Any, cluster: str, pod_role: str) -> Any:
    with pytest.raises(ClientError) as failure:
        create(eks, cluster, "refused", pod_role)
    return failure.value.response


def test_concurrent_creates_let_exactly_one_through(
    region: EksRegion, cluster: str, pod_role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both requests pass the check before writing, as two racing requests can; the check
    # after the write must back the later one out.
    monkeypatch.setattr(fargate, "_check_room", lambda *args: None)
    principal = Principal("AKID", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)
    context = RequestContext("r-1", REGION, "eks", "CreateFargateProfile", principal)

    async def both() -> list[Any]:
        requests = [
            {
                "clusterName": cluster,
                "fargateProfileName": name,
                "podExecutionRoleArn": pod_role,
                "selectors": [{"namespace": name}],
            }
            for name in ("racer-a", "racer-b")
        ]
        calls = [fargate.create_fargate_profile(region.state, r, context) for r in requests]
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = region.run(both())
    failures = [o for o in outcomes if isinstance(o, AwsError)]
    assert len(outcomes) - len(failures) == 1 and len(failures) == 1
    assert failures[0].code == "ResourceInUseException"
    assert len(profile_names(region, cluster)) == 1


def test_concurrent_deletes_leave_one_profile_deleting(
    region: EksRegion, eks: Any, cluster: str, pod_role: str
) -> None:
    for name in ("gone-a", "gone-b"):
        create(eks, cluster, name, pod_role)
        set_profile_status(region, cluster, name, "ACTIVE")

    async def both() -> list[Any]:
        records = await region.state.list("fargateprofiles", f"{cluster}/")
        calls = [
            fargate._mark_deleting(region.state, r, cluster, r.name.split("/")[1]) for r in records
        ]
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = region.run(both())
    failures = [o for o in outcomes if isinstance(o, AwsError)]
    assert len(failures) == 1 and failures[0].code == "ResourceInUseException"
    statuses = sorted(
        (region.document("fargateprofiles", f"{cluster}/{n}") or {})["status"]
        for n in ("gone-a", "gone-b")
    )
    assert statuses == ["ACTIVE", "DELETING"]


# -- CreateFargateProfile: selectors, role, subnets --------------------------------------


@pytest.mark.parametrize(
    ("selectors", "message"),
    [
        ([], "Fargate Profile requires at least one selector."),
        (
            [{"namespace": f"ns-{i}"} for i in range(6)],
            "Request contains more than 5 Selectors",
        ),
        (
            [{"namespace": "ok"}, {"labels": {"app": "web"}}],
            "Fargate Profile must have at least one selector with at least one namespace value.",
        ),
        (
            [{"namespace": ""}],
            "Fargate Profile must have at least one selector with at least one namespace value.",
        ),
        (
            [{"namespace": "web", "labels": {f"k{i}": "v" for i in range(6)}}],
            "Request contains Selector with more than 5 Label pairs",
        ),
        ([{"namespace": "Web_NS"}], "The namespace Web_NS in a selector is not valid"),
        (
            [{"namespace": "web", "labels": {"-bad": "v"}}],
            "The label key -bad in a selector is not valid",
        ),
        (
            [{"namespace": "web", "labels": {"app": "no spaces"}}],
            "The label value no spaces of key app in a selector is not valid",
        ),
    ],
)
def test_selectors_follow_eks_rules(
    region: EksRegion,
    eks: Any,
    cluster: str,
    pod_role: str,
    selectors: list[dict[str, Any]],
    message: str,
) -> None:
    refused(
        region,
        eks,
        cluster,
        "InvalidParameterException",
        message,
        podExecutionRoleArn=pod_role,
        selectors=selectors,
    )


def test_the_pod_execution_role_must_exist_in_the_account(
    region: EksRegion, eks: Any, cluster: str
) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:role/no-such-role"
    refused(
        region,
        eks,
        cluster,
        "InvalidParameterException",
        f"Pod execution role with arn: {missing} does not exist in account {ACCOUNT}",
        podExecutionRoleArn=missing,
    )
    elsewhere = "arn:aws:iam::111122223333:role/fargate-pods"
    refused(
        region,
        eks,
        cluster,
        "InvalidParameterException",
        f"Pod execution role with arn: {elsewhere} does not exist in account {ACCOUNT}",
        podExecutionRoleArn=elsewhere,
    )
    refused(
        region,
        eks,
        cluster,
        "InvalidParameterException",
        "Invalid Pod Execution Role Arn: 'fargate-pods'",
        podExecutionRoleArn="fargate-pods",
    )


def test_subnets_must_be_private_existing_and_in_the_cluster_vpc(
    region: EksRegion, eks: Any, cluster: str, pod_role: str, public: list[str]
) -> None:
    response = error_response_for(eks, cluster, pod_role, subnets=[public[0]])
    assert response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": f"Subnet {public[0]} provided in Fargate Profile is not a private subnet",
    }
    assert response["fargateProfileName"] == "refused"
    ghost = "subnet-0123456789abcdef0"
    with pytest.raises(ClientError) as failure:
        create(eks, cluster, "refused", pod_role, subnets=[ghost])
    error = failure.value.response
    request_id = error["ResponseMetadata"]["RequestId"]
    assert error["Error"]["Message"] == (
        f"The subnet ID '{ghost}' does not exist (Service: AmazonEC2; Status Code: 400; "
        f"Error Code: InvalidSubnetID.NotFound; Request ID: {request_id}; Proxy: null)"
    )
    other_vpc = resource_id("vpc")
    foreign = add_subnet(region, other_vpc, "10.9.0.0/24", f"{REGION}a", public=False)
    cluster_vpc = (region.document("clusters", cluster) or {})["resourcesVpcConfig"]["vpcId"]
    refused(
        region,
        eks,
        cluster,
        "InvalidParameterException",
        f"Subnet {foreign} provided in Fargate Profile is not in the cluster's VPC {cluster_vpc}",
        podExecutionRoleArn=pod_role,
        subnets=[foreign],
    )
    assert profile_names(region, cluster) == []


def error_response_for(eks: Any, cluster: str, pod_role: str, **extra: Any) -> Any:
    with pytest.raises(ClientError) as failure:
        create(eks, cluster, "refused", pod_role, **extra)
    return failure.value.response


def test_a_cluster_without_private_subnets_needs_explicit_ones(
    region: EksRegion,
    eks: Any,
    cluster_role: str,
    pod_role: str,
    public: list[str],
    private: list[str],
) -> None:
    active_cluster(region, eks, "public-only", cluster_role, public[:2])
    refused(
        region,
        eks,
        "public-only",
        "InvalidParameterException",
        "Cluster public-only has no private subnets; specify the private subnets to launch "
        "Fargate pods into",
        podExecutionRoleArn=pod_role,
    )
    created = create(eks, "public-only", "explicit", pod_role, subnets=[private[2]])
    assert created["subnets"] == [private[2]]


def test_a_cluster_has_at_most_ten_profiles(
    region: EksRegion, eks: Any, cluster: str, pod_role: str
) -> None:
    for index in range(10):
        create(eks, cluster, f"p{index:02}", pod_role)
        set_profile_status(region, cluster, f"p{index:02}", "ACTIVE")
    refused(
        region,
        eks,
        cluster,
        "ResourceLimitExceededException",
        f"Cluster {cluster} already has the maximum of 10 Fargate Profiles",
        podExecutionRoleArn=pod_role,
    )


# -- ListFargateProfiles -----------------------------------------------------------------


def test_list_pages_through_profiles_in_name_order(
    region: EksRegion, eks: Any, cluster: str, pod_role: str
) -> None:
    for name in ("charlie", "alpha", "bravo"):
        create(eks, cluster, name, pod_role)
        set_profile_status(region, cluster, name, "ACTIVE")
    first = eks.list_fargate_profiles(clusterName=cluster, maxResults=2)
    assert first["fargateProfileNames"] == ["alpha", "bravo"]
    second = eks.list_fargate_profiles(
        clusterName=cluster, maxResults=2, nextToken=first["nextToken"]
    )
    assert second["fargateProfileNames"] == ["charlie"] and "nextToken" not in second
    paginator = eks.get_paginator("list_fargate_profiles")
    names = [
        n
        for p in paginator.paginate(clusterName=cluster, PaginationConfig={"PageSize": 1})
        for n in p["fargateProfileNames"]
    ]
    assert names == ["alpha", "bravo", "charlie"]
    expect_error(
        "InvalidParameterException",
        "The nextToken provided is invalid.",
        eks.list_fargate_profiles,
        clusterName=cluster,
        nextToken="garbage",
    )
    expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: nowhere.",
        eks.list_fargate_profiles,
        clusterName="nowhere",
    )


# -- DeleteFargateProfile ----------------------------------------------------------------


def test_delete_moves_the_profile_to_deleting_one_at_a_time(
    region: EksRegion, eks: Any, cluster: str, pod_role: str
) -> None:
    for name in ("one", "two"):
        create(eks, cluster, name, pod_role)
        set_profile_status(region, cluster, name, "ACTIVE")
    deleted = eks.delete_fargate_profile(clusterName=cluster, fargateProfileName="one")
    assert deleted["fargateProfile"]["status"] == "DELETING"
    expect_error(
        "InvalidRequestException",
        "Fargate Profile is currently not in Active State.",
        eks.delete_fargate_profile,
        clusterName=cluster,
        fargateProfileName="one",
    )
    expect_error(
        "ResourceInUseException",
        f"Cannot Delete Fargate Profile two because cluster {cluster} currently has Fargate "
        "profile one in status DELETING",
        eks.delete_fargate_profile,
        clusterName=cluster,
        fargateProfileName="two",
    )
    assert (region.document("fargateprofiles", f"{cluster}/two") or {})["status"] == "ACTIVE"
    region.delete("fargateprofiles", f"{cluster}/one")  # the controller finished
    after = eks.delete_fargate_profile(clusterName=cluster, fargateProfileName="two")
    assert after["fargateProfile"]["status"] == "DELETING"


def test_delete_refuses_creating_profiles_and_updating_clusters(
    region: EksRegion, eks: Any, cluster: str, pod_role: str
) -> None:
    create(eks, cluster, "young", pod_role)
    expect_error(
        "InvalidRequestException",
        "Fargate Profile is currently not in Active State.",
        eks.delete_fargate_profile,
        clusterName=cluster,
        fargateProfileName="young",
    )
    set_profile_status(region, cluster, "young", "ACTIVE")
    region.set_status(cluster, "UPDATING")
    expect_error(
        "ResourceInUseException",
        f"Cannot Delete Fargate Profile young because cluster {cluster} currently has an "
        "update in progress",
        eks.delete_fargate_profile,
        clusterName=cluster,
        fargateProfileName="young",
    )
    expect_error(
        "ResourceNotFoundException",
        "No Fargate Profile found with name: ghost.",
        eks.delete_fargate_profile,
        clusterName=cluster,
        fargateProfileName="ghost",
    )


def test_delete_cluster_is_refused_while_profiles_remain(
    region: EksRegion, eks: Any, cluster: str, pod_role: str
) -> None:
    create(eks, cluster, "keeper", pod_role)
    expect_error(
        "ResourceInUseException",
        "Cluster has Fargate Profiles in ACTIVE/CREATING state",
        eks.delete_cluster,
        name=cluster,
    )
    assert (region.document("clusters", cluster) or {})["status"] == "ACTIVE"
    region.delete("fargateprofiles", f"{cluster}/keeper")
    assert eks.delete_cluster(name=cluster)["cluster"]["status"] == "DELETING"


# -- tags and the AWS CLI ----------------------------------------------------------------


def test_profiles_are_tagged_through_their_arn(eks: Any, cluster: str, pod_role: str) -> None:
    arn = create(eks, cluster, "tagged", pod_role, tags={"a": "1"})["fargateProfileArn"]
    eks.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
    eks.untag_resource(resourceArn=arn, tagKeys=["a"])
    described = eks.describe_fargate_profile(clusterName=cluster, fargateProfileName="tagged")
    assert described["fargateProfile"]["tags"] == {"b": "2"}


def test_the_aws_cli_creates_describes_lists_and_deletes(
    region: EksRegion, cluster: str, pod_role: str, private: list[str]
) -> None:
    done = region.aws(
        "eks",
        "create-fargate-profile",
        "--cluster-name",
        cluster,
        "--fargate-profile-name",
        "from-cli",
        "--pod-execution-role-arn",
        pod_role,
        "--subnets",
        private[0],
        "--selectors",
        json.dumps([{"namespace": "serverless", "labels": {"tier": "web"}}]),
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)["fargateProfile"]
    assert (created["status"], created["subnets"]) == ("CREATING", [private[0]])
    assert created["selectors"] == [{"namespace": "serverless", "labels": {"tier": "web"}}]
    described = region.aws(
        "eks",
        "describe-fargate-profile",
        "--cluster-name",
        cluster,
        "--fargate-profile-name",
        "from-cli",
    )
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["fargateProfile"]["fargateProfileName"] == "from-cli"
    listed = region.aws("eks", "list-fargate-profiles", "--cluster-name", cluster)
    assert json.loads(listed.stdout)["fargateProfileNames"] == ["from-cli"]
    busy = region.aws(
        "eks",
        "delete-fargate-profile",
        "--cluster-name",
        cluster,
        "--fargate-profile-name",
        "from-cli",
    )
    assert busy.returncode != 0
    assert (
        "An error occurred (InvalidRequestException) when calling the DeleteFargateProfile "
        "operation: Fargate Profile is currently not in Active State."
    ) in busy.stderr
    set_profile_status(region, cluster, "from-cli", "ACTIVE")
    deleted = region.aws(
        "eks",
        "delete-fargate-profile",
        "--cluster-name",
        cluster,
        "--fargate-profile-name",
        "from-cli",
    )
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(deleted.stdout)["fargateProfile"]["status"] == "DELETING"
