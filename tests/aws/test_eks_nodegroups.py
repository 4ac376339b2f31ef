"""Managed node groups through real boto3 and the real AWS CLI: CreateNodegroup,
DescribeNodegroup, ListNodegroups, DeleteNodegroup, UpdateNodegroupConfig,
UpdateNodegroupVersion, their updates and tags, with EKS's defaults, error codes and
messages, and nothing left behind by a refused create.

One region serves the module; no controller runs, so `EksRegion.set_status` makes
clusters ACTIVE and `settle` plays the node group controller finishing an update.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openeks.kube.api.schema import served_minors
from openeks.region.vpc import templates
from tests.aws.eks_support import ACCOUNT, REGION, EksRegion

NEWEST = served_minors()[-1]
PREVIOUS = served_minors()[-2]
RELEASE = "20261101"
EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
CLUSTER = "workers"


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EksRegion]:
    with EksRegion(tmp_path_factory.mktemp("eks-nodegroups")) as served:
        yield served


@pytest.fixture(scope="module")
def eks(region: EksRegion) -> Any:
    return region.client("eks")


@pytest.fixture(scope="module")
def subnets(region: EksRegion) -> list[str]:
    return region.subnet_ids()


@pytest.fixture(scope="module")
def node_role(region: EksRegion) -> str:
    return region.create_role("node-instance", trust=EC2_TRUST)


@pytest.fixture(scope="module")
def cluster_role(region: EksRegion) -> str:
    return region.create_role("eks-cluster")


@pytest.fixture(scope="module")
def cluster(region: EksRegion, eks: Any, cluster_role: str, subnets: list[str]) -> str:
    return active_cluster(region, eks, CLUSTER, cluster_role, subnets)


def active_cluster(
    region: EksRegion, eks: Any, name: str, role: str, subnets: list[str], version: str = NEWEST
) -> str:
    eks.create_cluster(
        name=name, roleArn=role, resourcesVpcConfig={"subnetIds": subnets[:2]}, version=version
    )
    region.set_status(name, "ACTIVE")
    return name


def create(eks: Any, name: str, role: str, subnets: list[str], **extra: Any) -> Any:
    extra.setdefault("clusterName", CLUSTER)
    return eks.create_nodegroup(nodegroupName=name, nodeRole=role, subnets=subnets, **extra)[
        "nodegroup"
    ]


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as failure:
        call(*args, **kwargs)
    response: dict[str, Any] = failure.value.response
    return response


def expect_error(
    code: str, message: str, call: Any, *args: Any, status: int | None = None, **kwargs: Any
) -> dict[str, Any]:
    response = error_of(call, *args, **kwargs)
    assert (response["Error"]["Code"], response["Error"]["Message"]) == (code, message)
    if status is not None:
        assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    return response


def settle(region: EksRegion, cluster: str, name: str, outcome: str = "Successful") -> None:
    """What the node group controller does when it is done: close updates, go ACTIVE."""
    for record in region.run(region.state.list("updates", f"{cluster}/")):
        if (record.value.get("openeks") or {}).get("nodegroup") == name:

            def close(update: dict[str, Any]) -> dict[str, Any]:
                if update["status"] == "InProgress":
                    update["status"] = outcome
                return update

            region.run(region.state.mutate("updates", record.name, close))

    def activate(doc: dict[str, Any]) -> dict[str, Any]:
        doc["status"] = "ACTIVE"
        doc["version"] = doc["openeks"]["desiredVersion"]
        doc["releaseVersion"] = doc["openeks"]["desiredReleaseVersion"]
        return doc

    region.run(region.state.mutate("nodegroups", f"{cluster}/{name}", activate))


def nothing_left(region: EksRegion, eks: Any, cluster: str) -> None:
    assert eks.list_nodegroups(clusterName=cluster)["nodegroups"] == []
    updates = region.run(region.state.list("updates", f"{cluster}/"))
    assert [u for u in updates if (u.value.get("openeks") or {}).get("nodegroup")] == []


# -- CreateNodegroup / DescribeNodegroup -------------------------------------------------------


def test_create_answers_creating_with_eks_defaults(
    region: EksRegion, eks: Any, cluster: str, node_role: str, subnets: list[str]
) -> None:
    created = create(eks, "defaults", node_role, subnets)
    assert created["status"] == "CREATING"
    assert created["nodegroupArn"].startswith(
        f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/{cluster}/defaults/"
    )
    ident = created["nodegroupArn"].rsplit("/", 1)[1]
    assert created["resources"] == {"autoScalingGroups": [{"name": f"eks-defaults-{ident}"}]}
    assert created["clusterName"] == cluster
    assert (created["version"], created["releaseVersion"]) == (NEWEST, f"{NEWEST}.0-{RELEASE}")
    assert created["scalingConfig"] == {"minSize": 1, "maxSize": 2, "desiredSize": 2}
    assert created["instanceTypes"] == ["t3.medium"]
    assert (created["capacityType"], created["amiType"]) == ("ON_DEMAND", "AL2023_x86_64_STANDARD")
    assert created["diskSize"] == 20
    assert created["subnets"] == subnets
    assert created["nodeRole"] == node_role
    assert (created["labels"], created["taints"], created["tags"]) == ({}, [], {})
    assert created["health"] == {"issues": []}
    assert created["updateConfig"] == {"maxUnavailable": 1}
    assert created["createdAt"] == created["modifiedAt"]
    assert "launchTemplate" not in created and "remoteAccess" not in created
    described = eks.describe_nodegroup(clusterName=cluster, nodegroupName="defaults")["nodegroup"]
    assert described == created
    document = region.document("nodegroups", f"{cluster}/defaults")
    assert document is not None
    assert document["openeks"]["runtime"] == "runc"
    assert document["openeks"]["desiredVersion"] == NEWEST
    assert document["openeks"]["desiredReleaseVersion"] == f"{NEWEST}.0-{RELEASE}"
    assert document["openeks"]["requestHash"]


def test_options_are_kept(
    region: EksRegion, eks: Any, cluster: str, node_role: str, subnets: list[str]
) -> None:
    created = create(
        eks,
        "options",
        node_role,
        subnets[:2],
        scalingConfig={"minSize": 0, "maxSize": 10, "desiredSize": 3},
        instanceTypes=["m5.large", "c5.large"],
        capacityType="SPOT",
        amiType="BOTTLEROCKET_x86_64",
        diskSize=50,
        labels={"team": "web", "example.com/tier": "front"},
        taints=[
            {"key": "dedicated", "value": "web", "effect": "NO_SCHEDULE"},
            {"key": "dedicated", "value": "web", "effect": "NO_EXECUTE"},
        ],
        tags={"owner": "me"},
        updateConfig={"maxUnavailablePercentage": 25},
        remoteAccess={"ec2SshKey": "my-key"},
        version=PREVIOUS,
    )
    assert created["scalingConfig"] == {"minSize": 0, "maxSize": 10, "desiredSize": 3}
    assert created["instanceTypes"] == ["m5.large", "c5.large"]
    assert (created["capacityType"], created["amiType"], created["diskSize"]) == (
        "SPOT",
        "BOTTLEROCKET_x86_64",
        50,
    )
    assert created["labels"] == {"team": "web", "example.com/tier": "front"}
    assert len(created["taints"]) == 2
    assert created["tags"] == {"owner": "me"}
    assert created["updateConfig"] == {"maxUnavailablePercentage": 25}
    assert created["remoteAccess"] == {"ec2SshKey": "my-key"}
    assert created["resources"]["remoteAccessSecurityGroup"].startswith("sg-")
    assert (created["version"], created["releaseVersion"]) == (PREVIOUS, f"{PREVIOUS}.0-{RELEASE}")


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ({"maxSize": 10}, {"minSize": 1, "maxSize": 10, "desiredSize": 2}),
        ({"minSize": 3}, {"minSize": 3, "maxSize": 3, "desiredSize": 3}),
        ({"desiredSize": 5}, {"minSize": 1, "maxSize": 5, "desiredSize": 5}),
        ({"maxSize": 1}, {"minSize": 1, "maxSize": 1, "desiredSize": 1}),
    ],
)
def test_missing_scaling_members_take_defaults_that_fit(
    eks: Any,
    cluster: str,
    node_role: str,
    subnets: list[str],
    requested: dict[str, int],
    expected: dict[str, int],
) -> None:
    name = "scale-" + "-".join(f"{k}{v}" for k, v in requested.items()).lower()
    created = create(eks, name, node_role, subnets, scalingConfig=requested)
    assert created["scalingConfig"] == expected


def test_the_runtime_comes_from_a_label_or_a_tag(
    region: EksRegion, eks: Any, cluster: str, node_role: str, subnets: list[str]
) -> None:
    create(eks, "sim-label", node_role, subnets, labels={"openeks.io/runtime": "simulated"})
    create(eks, "sim-tag", node_role, subnets, tags={"openeks.io/runtime": "simulated"})
    for name in ("sim-label", "sim-tag"):
        document = region.document("nodegroups", f"{cluster}/{name}")
        assert document is not None and document["openeks"]["runtime"] == "simulated"


BAD_LABELS = {"bad key!": "x"}
TOO_MANY_TAINTS = [{"key": f"k{i}", "effect": "NO_SCHEDULE"} for i in range(51)]
REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "min-above-desired",
        {"scalingConfig": {"minSize": 3, "maxSize": 5, "desiredSize": 2}},
        "InvalidParameterException",
        "minSize can't be greater than desiredSize",
    ),
    (
        "desired-above-max",
        {"scalingConfig": {"minSize": 1, "maxSize": 2, "desiredSize": 3}},
        "InvalidParameterException",
        "desiredSize can't be greater than maxSize",
    ),
    (
        "unknown-type",
        {"instanceTypes": ["z9.huge"]},
        "InvalidParameterException",
        "Instance type z9.huge is not supported by openeks",
    ),
    (
        "arm-ami",
        {"amiType": "AL2023_ARM_64_STANDARD"},
        "InvalidParameterException",
        "[t3.medium] is not a valid instance type for requested amiType AL2023_ARM_64_STANDARD",
    ),
    (
        "gpu-ami",
        {"amiType": "AL2023_x86_64_NVIDIA", "instanceTypes": ["m5.large"]},
        "InvalidParameterException",
        "[m5.large] is not a valid instance type for requested amiType AL2023_x86_64_NVIDIA",
    ),
    (
        "al2-newest",
        {"amiType": "AL2_x86_64"},
        "InvalidParameterException",
        f"AMI type AL2_x86_64 is not supported for Kubernetes version {NEWEST}",
    ),
    (
        "windows",
        {"amiType": "WINDOWS_CORE_2022_x86_64"},
        "InvalidParameterException",
        "amiType WINDOWS_CORE_2022_x86_64 is not supported by openeks",
    ),
    (
        "capacity-block",
        {"capacityType": "CAPACITY_BLOCK"},
        "InvalidParameterException",
        "capacityType CAPACITY_BLOCK is not supported by openeks",
    ),
    (
        "custom-ami",
        {"amiType": "CUSTOM"},
        "InvalidParameterException",
        "amiType CUSTOM needs a launch template that names an AMI",
    ),
    (
        "old-release",
        {"releaseVersion": f"{NEWEST}.0-20200101"},
        "InvalidParameterException",
        f"Requested Nodegroup release version {NEWEST}.0-20200101 is invalid. Allowed release "
        f"version is {NEWEST}.0-{RELEASE}",
    ),
    (
        "unsupported-version",
        {"version": "1.10"},
        "InvalidParameterException",
        "unsupported Kubernetes version 1.10",
    ),
    (
        "too-old",
        {"version": served_minors()[-5]},
        "InvalidParameterException",
        f"Requested Nodegroup version {served_minors()[-5]} is invalid. Nodegroup version can "
        f"be at most 3 minor versions older than cluster version {NEWEST}",
    ),
    (
        "bad-label",
        {"labels": BAD_LABELS},
        "InvalidParameterException",
        "Label key bad key! is not a valid Kubernetes label key",
    ),
    (
        "duplicate-taint",
        {"taints": [{"key": "a", "effect": "NO_SCHEDULE"}, {"key": "a", "effect": "NO_SCHEDULE"}]},
        "InvalidParameterException",
        "Duplicate taint with key a and effect NO_SCHEDULE",
    ),
    (
        "too-many-taints",
        {"taints": TOO_MANY_TAINTS},
        "InvalidParameterException",
        "A node group can have at most 50 taints",
    ),
    (
        "both-unavailable",
        {"updateConfig": {"maxUnavailable": 1, "maxUnavailablePercentage": 10}},
        "InvalidParameterException",
        "Only one of maxUnavailable and maxUnavailablePercentage can be specified",
    ),
    (
        "unavailable-101",
        {"updateConfig": {"maxUnavailable": 101}},
        "InvalidParameterException",
        "maxUnavailable must be less than or equal to 100",
    ),
    (
        "bad-runtime",
        {"labels": {"openeks.io/runtime": "vm"}},
        "InvalidParameterException",
        "The label or tag openeks.io/runtime must be one of [runc, simulated], not vm",
    ),
    (
        "runtimes-disagree",
        {"labels": {"openeks.io/runtime": "runc"}, "tags": {"openeks.io/runtime": "simulated"}},
        "InvalidParameterException",
        "The label and the tag openeks.io/runtime disagree",
    ),
    (
        "warm-pool",
        {"warmPoolConfig": {"enabled": True}},
        "InvalidParameterException",
        "warmPoolConfig is not supported by openeks",
    ),
    (
        "template-and-disk",
        {"launchTemplate": {"name": "lt"}, "diskSize": 30},
        "InvalidParameterException",
        "Disk size must be specified within the launch template.",
    ),
    (
        "template-and-ssh",
        {"launchTemplate": {"name": "lt"}, "remoteAccess": {"ec2SshKey": "k"}},
        "InvalidParameterException",
        "Remote access configuration cannot be specified with a launch template.",
    ),
    (
        "template-id-and-name",
        {"launchTemplate": {"name": "lt", "id": "lt-0123456789abcdef0"}},
        "InvalidParameterException",
        "You must specify either the launch template ID or the launch template name in the "
        "request, but not both.",
    ),
    (
        "template-missing",
        {"launchTemplate": {"name": "nowhere"}},
        "InvalidParameterException",
        "The specified launch template, with template name nowhere, does not exist",
    ),
]


@pytest.mark.parametrize(
    ("name", "extra", "code", "message"), REFUSED, ids=[case[0] for case in REFUSED]
)
def test_create_refuses_what_eks_refuses_and_leaves_nothing(
    region: EksRegion,
    eks: Any,
    cluster_role: str,
    node_role: str,
    subnets: list[str],
    name: str,
    extra: dict[str, Any],
    code: str,
    message: str,
) -> None:
    target = active_cluster(region, eks, f"refuse-{name}", cluster_role, subnets)
    response = expect_error(
        code,
        message,
        create,
        eks,
        name,
        node_role,
        subnets,
        clusterName=target,
        status=400,
        **extra,
    )
    assert (response["clusterName"], response["nodegroupName"]) == (target, name)
    nothing_left(region, eks, target)


def test_roles_and_subnets_are_checked(
    region: EksRegion, eks: Any, cluster: str, node_role: str, subnets: list[str]
) -> None:
    missing_role = f"arn:aws:iam::{ACCOUNT}:role/nobody"
    expect_error(
        "InvalidParameterException",
        "The role with name nobody cannot be found.",
        create,
        eks,
        "no-role",
        missing_role,
        subnets,
    )
    expect_error(
        "InvalidParameterException",
        "Invalid Role Arn: 'not-an-arn'",
        create,
        eks,
        "bad-role",
        "not-an-arn",
        subnets,
    )
    other_account = node_role.replace(ACCOUNT, "111111111111")
    expect_error(
        "InvalidParameterException",
        "The role with name node-instance cannot be found.",
        create,
        eks,
        "other-account",
        other_account,
        subnets,
    )
    response = error_of(create, eks, "no-subnet", node_role, ["subnet-0123456789abcdef0"])
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["Error"]["Message"] == (
        "The subnet ID 'subnet-0123456789abcdef0' does not exist (Service: AmazonEC2; Status "
        f"Code: 400; Error Code: InvalidSubnetID.NotFound; Request ID: {request_id}; Proxy: null)"
    )
    expect_error(
        "InvalidParameterException",
        "One or more subnets are duplicate",
        create,
        eks,
        "dup-subnets",
        node_role,
        [subnets[0], subnets[0]],
    )
    expect_error(
        "InvalidParameterException", "Subnets can't be empty", create, eks, "none", node_role, []
    )
    region.put("subnets", "subnet-0ffffffffffffffff", {"SubnetId": "x", "VpcId": "vpc-elsewhere"})
    vpc = region.document("clusters", cluster)["resourcesVpcConfig"]["vpcId"]  # type: ignore[index]
    expect_error(
        "InvalidParameterException",
        f"Subnet subnet-0ffffffffffffffff is not in the cluster's VPC {vpc}",
        create,
        eks,
        "elsewhere",
        node_role,
        ["subnet-0ffffffffffffffff"],
    )
    region.delete("subnets", "subnet-0ffffffffffffffff")
    for name in ("no-role", "bad-role", "other-account", "no-subnet", "dup-subnets", "elsewhere"):
        assert region.document("nodegroups", f"{cluster}/{name}") is None


def test_the_version_may_not_lead_the_cluster(
    region: EksRegion, eks: Any, cluster_role: str, node_role: str, subnets: list[str]
) -> None:
    older = active_cluster(region, eks, "older", cluster_role, subnets, version=PREVIOUS)
    expect_error(
        "InvalidParameterException",
        f"Requested Nodegroup version {NEWEST} is invalid. Nodegroup version must not be newer "
        f"than cluster version {PREVIOUS}",
        create,
        eks,
        "ahead",
        node_role,
        subnets,
        clusterName=older,
        version=NEWEST,
    )
    created = create(eks, "follows", node_role, subnets, clusterName=older)
    assert (created["version"], created["releaseVersion"]) == (PREVIOUS, f"{PREVIOUS}.0-{RELEASE}")
    nodegroups = eks.list_nodegroups(clusterName=older)["nodegroups"]
    assert nodegroups == ["follows"]


def test_the_cluster_must_be_active_and_names_unique(
    region: EksRegion, eks: Any, cluster_role: str, node_role: str, subnets: list[str]
) -> None:
    eks.create_cluster(
        name="pending", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets[:2]}
    )
    response = expect_error(
        "InvalidRequestException",
        "Cluster 'pending' is not in ACTIVE status",
        create,
        eks,
        "early",
        node_role,
        subnets,
        clusterName="pending",
        status=400,
    )
    assert response["nodegroupName"] == "early"
    region.set_status("pending", "ACTIVE")
    nothing_left(region, eks, "pending")
    create(eks, "only", node_role, subnets, clusterName="pending")
    response = expect_error(
        "ResourceInUseException",
        "NodeGroup already exists with name only and cluster name pending",
        create,
        eks,
        "only",
        node_role,
        subnets,
        clusterName="pending",
        status=409,
    )
    assert (response["clusterName"], response["nodegroupName"]) == ("pending", "only")
    expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: ghost.",
        create,
        eks,
        "x",
        node_role,
        subnets,
        clusterName="ghost",
        status=404,
    )
    response = expect_error(
        "ResourceNotFoundException",
        "No node group found for name: absent.",
        eks.describe_nodegroup,
        clusterName="pending",
        nodegroupName="absent",
        status=404,
    )
    assert (response["clusterName"], response["nodegroupName"]) == ("pending", "absent")
    for call in (eks.delete_nodegroup, eks.update_nodegroup_config, eks.update_nodegroup_version):
        expect_error(
            "ResourceNotFoundException",
            "No node group found for name: absent.",
            call,
            clusterName="pending",
            nodegroupName="absent",
        )


def test_client_request_token_makes_create_idempotent(
    eks: Any, cluster: str, node_role: str, subnets: list[str]
) -> None:
    first = create(eks, "idem", node_role, subnets, clientRequestToken="t-1")
    assert create(eks, "idem", node_role, subnets, clientRequestToken="t-1") == first
    expect_error(
        "ResourceInUseException",
        f"NodeGroup already exists with name idem and cluster name {cluster}",
        create,
        eks,
        "idem",
        node_role,
        subnets,
        clientRequestToken="t-1",
        labels={"changed": "yes"},
    )
    expect_error(
        "ResourceInUseException",
        f"NodeGroup already exists with name idem and cluster name {cluster}",
        create,
        eks,
        "idem",
        node_role,
        subnets,
    )


# -- ListNodegroups / DeleteNodegroup ------------------------------------------------------------


def test_list_nodegroups_pages(
    region: EksRegion, eks: Any, cluster_role: str, node_role: str, subnets: list[str]
) -> None:
    paged = active_cluster(region, eks, "paged", cluster_role, subnets)
    for name in ("c", "a", "b"):
        create(eks, name, node_role, subnets, clusterName=paged)
    first = eks.list_nodegroups(clusterName=paged, maxResults=2)
    assert first["nodegroups"] == ["a", "b"]
    second = eks.list_nodegroups(clusterName=paged, maxResults=2, nextToken=first["nextToken"])
    assert second == {"nodegroups": ["c"], "ResponseMetadata": second["ResponseMetadata"]}
    pages = eks.get_paginator("list_nodegroups").paginate(
        clusterName=paged, PaginationConfig={"PageSize": 1}
    )
    assert [n for p in pages for n in p["nodegroups"]] == ["a", "b", "c"]
    expect_error(
        "InvalidParameterException",
        "The nextToken provided is invalid.",
        eks.list_nodegroups,
        clusterName=paged,
        nextToken="garbage",
    )
    expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: nowhere.",
        eks.list_nodegroups,
        clusterName="nowhere",
    )


def test_delete_moves_to_deleting_and_blocks_cluster_delete(
    region: EksRegion, eks: Any, cluster_role: str, node_role: str, subnets: list[str]
) -> None:
    doomed = active_cluster(region, eks, "doomed", cluster_role, subnets)
    create(eks, "last", node_role, subnets, clusterName=doomed)
    response = expect_error(
        "ResourceInUseException",
        "Cluster has nodegroups attached",
        eks.delete_cluster,
        name=doomed,
        status=409,
    )
    assert response["nodegroupName"] == "last"
    deleted = eks.delete_nodegroup(clusterName=doomed, nodegroupName="last")["nodegroup"]
    assert deleted["status"] == "DELETING"
    again = eks.delete_nodegroup(clusterName=doomed, nodegroupName="last")["nodegroup"]
    assert again["status"] == "DELETING" and again["modifiedAt"] == deleted["modifiedAt"]
    expect_error(
        "ResourceInUseException",
        "Nodegroup last cannot be updated while it is in DELETING status",
        eks.update_nodegroup_config,
        clusterName=doomed,
        nodegroupName="last",
        scalingConfig={"desiredSize": 1},
    )
    region.delete("nodegroups", f"{doomed}/last")  # the controller finishing
    assert eks.delete_cluster(name=doomed)["cluster"]["status"] == "DELETING"
    expect_error(
        "InvalidRequestException",
        "Cluster 'doomed' is not in ACTIVE status",
        create,
        eks,
        "late",
        node_role,
        subnets,
        clusterName=doomed,
    )


# -- UpdateNodegroupConfig ---------------------------------------------------------------------


def test_config_updates_record_an_update_and_apply_the_desired_config(
    region: EksRegion, eks: Any, cluster: str, node_role: str, subnets: list[str]
) -> None:
    create(
        eks,
        "config",
        node_role,
        subnets,
        labels={"keep": "1", "drop": "1"},
        taints=[{"key": "gone", "effect": "NO_SCHEDULE"}],
    )
    expect_error(
        "ResourceInUseException",
        "Nodegroup config cannot be updated while it is in CREATING status",
        eks.update_nodegroup_config,
        clusterName=cluster,
        nodegroupName="config",
        scalingConfig={"desiredSize": 1},
        status=409,
    )
    settle(region, cluster, "config")
    update = eks.update_nodegroup_config(
        clusterName=cluster,
        nodegroupName="config",
        scalingConfig={"maxSize": 5, "desiredSize": 4},
    )["update"]
    assert (update["type"], update["status"]) == ("ConfigUpdate", "InProgress")
    assert update["params"] == [
        {"type": "MaxSize", "value": "5"},
        {"type": "DesiredSize", "value": "4"},
    ]
    described = eks.describe_nodegroup(clusterName=cluster, nodegroupName="config")["nodegroup"]
    assert described["status"] == "UPDATING"
    assert described["scalingConfig"] == {"minSize": 1, "maxSize": 5, "desiredSize": 4}
    assert described["modifiedAt"] > described["createdAt"]
    expect_error(
        "ResourceInUseException",
        f"Nodegroup config in cluster {cluster} currently has update {update['id']} in progress",
        eks.update_nodegroup_config,
        clusterName=cluster,
        nodegroupName="config",
        scalingConfig={"desiredSize": 1},
        status=409,
    )
    ids = eks.list_updates(name=cluster, nodegroupName="config")["updateIds"]
    assert ids == [update["id"]]
    assert update["id"] not in eks.list_updates(name=cluster)["updateIds"]
    shown = eks.describe_update(name=cluster, updateId=update["id"], nodegroupName="config")
    assert shown["update"]["params"] == update["params"]
    stored = region.document("updates", f"{cluster}/{update['id']}")
    assert stored is not None and stored["openeks"]["nodegroup"] == "config"
    expect_error(
        "ResourceNotFoundException",
        f"No update found for ID: {update['id']}.",
        eks.describe_update,
        name=cluster,
        updateId=update["id"],
    )
    settle(region, cluster, "config")
    labelled = eks.update_nodegroup_config(
        clusterName=cluster,
        nodegroupName="config",
        labels={"addOrUpdateLabels": {"new": "2", "keep": "2"}, "removeLabels": ["drop"]},
        taints={
            "addOrUpdateTaints": [{"key": "gpu", "value": "yes", "effect": "NO_EXECUTE"}],
            "removeTaints": [{"key": "gone", "effect": "NO_SCHEDULE"}],
        },
        updateConfig={"maxUnavailablePercentage": 50},
    )["update"]
    assert labelled["params"] == [
        {"type": "MaxUnavailablePercentage", "value": "50"},
        {"type": "LabelsToAdd", "value": '{"new":"2","keep":"2"}'},
        {"type": "LabelsToRemove", "value": '["drop"]'},
        {"type": "TaintsToAdd", "value": '[{"key":"gpu","effect":"NO_EXECUTE","value":"yes"}]'},
        {"type": "TaintsToRemove", "value": '[{"key":"gone","effect":"NO_SCHEDULE"}]'},
    ]
    described = eks.describe_nodegroup(clusterName=cluster, nodegroupName="config")["nodegroup"]
    assert described["labels"] == {"keep": "2", "new": "2"}
    assert described["taints"] == [{"key": "gpu", "value": "yes", "effect": "NO_EXECUTE"}]
    assert described["updateConfig"] == {"maxUnavailablePercentage": 50}


def test_config_update_rules(
    region: EksRegion, eks: Any, cluster: str, node_role: str, subnets: list[str]
) -> None:
    create(eks, "rules", node_role, subnets)
    settle(region, cluster, "rules")
    refused = [
        (
            {"scalingConfig": {"minSize": 3}},
            "Minimum capacity 3 can't be greater than desired size 2",
        ),
        (
            {"scalingConfig": {"desiredSize": 3}},
            "Desired capacity 3 can't be greater than max size 2",
        ),
        (
            {"labels": {"addOrUpdateLabels": {"a": "1"}, "removeLabels": ["a"]}},
            "The labels ['a'] are both added and removed",
        ),
        (
            {"labels": {"addOrUpdateLabels": BAD_LABELS}},
            "Label key bad key! is not a valid Kubernetes label key",
        ),
        (
            {"taints": {"addOrUpdateTaints": TOO_MANY_TAINTS}},
            "A node group can have at most 50 taints",
        ),
        ({}, "The request specifies no configuration to update"),
    ]
    for extra, message in refused:
        expect_error(
            "InvalidParameterException",
            message,
            eks.update_nodegroup_config,
            clusterName=cluster,
            nodegroupName="rules",
            **extra,
        )
    assert eks.list_updates(name=cluster, nodegroupName="rules")["updateIds"] == []
    described = eks.describe_nodegroup(clusterName=cluster, nodegroupName="rules")["nodegroup"]
    assert described["status"] == "ACTIVE"
    first = eks.update_nodegroup_config(
        clusterName=cluster,
        nodegroupName="rules",
        scalingConfig={"desiredSize": 1},
        clientRequestToken="cfg-1",
    )["update"]
    again = eks.update_nodegroup_config(
        clusterName=cluster,
        nodegroupName="rules",
        scalingConfig={"desiredSize": 1},
        clientRequestToken="cfg-1",
    )["update"]
    assert again["id"] == first["id"]


# -- UpdateNodegroupVersion --------------------------------------------------------------------


def test_version_updates_wait_for_the_controller(
    region: EksRegion, eks: Any, cluster: str, node_role: str, subnets: list[str]
) -> None:
    create(eks, "rolling", node_role, subnets, version=PREVIOUS)
    settle(region, cluster, "rolling")
    expect_error(
        "InvalidParameterException",
        f"Nodegroup rolling is already at version {PREVIOUS} and release version "
        f"{PREVIOUS}.0-{RELEASE}",
        eks.update_nodegroup_version,
        clusterName=cluster,
        nodegroupName="rolling",
    )
    expect_error(
        "InvalidParameterException",
        f"Requested Nodegroup release version {NEWEST}.0-1 is invalid. Allowed release version "
        f"is {NEWEST}.0-{RELEASE}",
        eks.update_nodegroup_version,
        clusterName=cluster,
        nodegroupName="rolling",
        version=NEWEST,
        releaseVersion=f"{NEWEST}.0-1",
    )
    update = eks.update_nodegroup_version(
        clusterName=cluster, nodegroupName="rolling", version=NEWEST, force=True
    )["update"]
    assert (update["type"], update["status"]) == ("VersionUpdate", "InProgress")
    assert update["params"] == [
        {"type": "Version", "value": NEWEST},
        {"type": "ReleaseVersion", "value": f"{NEWEST}.0-{RELEASE}"},
    ]
    described = eks.describe_nodegroup(clusterName=cluster, nodegroupName="rolling")["nodegroup"]
    assert (described["status"], described["version"]) == ("UPDATING", PREVIOUS)
    document = region.document("nodegroups", f"{cluster}/rolling")
    assert document is not None
    assert document["openeks"]["desiredVersion"] == NEWEST
    assert document["openeks"]["desiredReleaseVersion"] == f"{NEWEST}.0-{RELEASE}"
    stored = region.document("updates", f"{cluster}/{update['id']}")
    assert stored is not None and stored["openeks"]["force"] is True
    expect_error(
        "ResourceInUseException",
        f"Nodegroup rolling in cluster {cluster} currently has update {update['id']} in progress",
        eks.update_nodegroup_version,
        clusterName=cluster,
        nodegroupName="rolling",
        version=NEWEST,
    )
    settle(region, cluster, "rolling")
    described = eks.describe_nodegroup(clusterName=cluster, nodegroupName="rolling")["nodegroup"]
    assert (described["status"], described["version"]) == ("ACTIVE", NEWEST)
    shown = eks.describe_update(name=cluster, nodegroupName="rolling", updateId=update["id"])
    assert shown["update"]["status"] == "Successful"
    expect_error(
        "InvalidParameterException",
        f"Requested Nodegroup version {PREVIOUS} is invalid. Nodegroup version cannot be "
        f"downgraded from {NEWEST}",
        eks.update_nodegroup_version,
        clusterName=cluster,
        nodegroupName="rolling",
        version=PREVIOUS,
    )


def test_version_updates_need_an_active_cluster_and_stay_below_it(
    region: EksRegion, eks: Any, cluster_role: str, node_role: str, subnets: list[str]
) -> None:
    behind = active_cluster(region, eks, "behind", cluster_role, subnets, version=PREVIOUS)
    create(eks, "ng", node_role, subnets, clusterName=behind)
    settle(region, behind, "ng")
    expect_error(
        "InvalidParameterException",
        f"Requested Nodegroup version {NEWEST} is invalid. Nodegroup version must not be newer "
        f"than cluster version {PREVIOUS}",
        eks.update_nodegroup_version,
        clusterName=behind,
        nodegroupName="ng",
        version=NEWEST,
    )
    region.set_status(behind, "UPDATING")
    expect_error(
        "InvalidRequestException",
        "Cluster 'behind' is not in ACTIVE status",
        eks.update_nodegroup_version,
        clusterName=behind,
        nodegroupName="ng",
        version=PREVIOUS,
    )
    assert eks.list_updates(name=behind, nodegroupName="ng")["updateIds"] == []


# -- launch templates ----------------------------------------------------------------------------


def make_template(region: EksRegion, name: str) -> str:
    """A launch template (EC2's documents): version 1 names an instance type, version 2
    also an AMI. Answers its id."""
    template = region.run(
        templates.create_launch_template(
            region.state, name=name, data={"InstanceType": "m5.large"}, created_by=ACCOUNT
        )
    )
    region.run(
        templates.create_version(
            region.state,
            template,
            data={"ImageId": "ami-1"},
            created_by=ACCOUNT,
            source_version="1",
        )
    )
    return str(template["LaunchTemplateId"])


def test_launch_templates_give_the_instance_type_and_image(
    region: EksRegion, eks: Any, cluster: str, node_role: str, subnets: list[str]
) -> None:
    ident = make_template(region, "typed")
    response = expect_error(
        "InvalidRequestException",
        "Cannot specify instance types in launch template and API request",
        create,
        eks,
        "lt-both",
        node_role,
        subnets,
        launchTemplate={"name": "typed"},
        instanceTypes=["t3.large"],
    )
    assert response["nodegroupName"] == "lt-both"
    created = create(eks, "lt", node_role, subnets, launchTemplate={"id": ident})
    assert created["launchTemplate"] == {
        "name": "typed",
        "version": "1",
        "id": ident,
    }
    assert created["instanceTypes"] == ["m5.large"]
    assert "diskSize" not in created
    custom = create(
        eks, "lt-ami", node_role, subnets, launchTemplate={"name": "typed", "version": "2"}
    )
    assert custom["amiType"] == "CUSTOM"
    expect_error(
        "InvalidParameterException",
        f"Could not find launch template version 7 for launch template {ident}.",
        create,
        eks,
        "lt-v7",
        node_role,
        subnets,
        launchTemplate={"name": "typed", "version": "7"},
    )
    settle(region, cluster, "lt")
    update = eks.update_nodegroup_version(
        clusterName=cluster, nodegroupName="lt", launchTemplate={"name": "typed", "version": "2"}
    )["update"]
    assert update["params"][2:] == [
        {"type": "LaunchTemplateName", "value": "typed"},
        {"type": "LaunchTemplateVersion", "value": "2"},
    ]
    document = region.document("nodegroups", f"{cluster}/lt")
    assert document is not None
    assert document["openeks"]["desiredLaunchTemplate"]["version"] == "2"
    for name in ("lt-both", "lt-v7"):
        assert region.document("nodegroups", f"{cluster}/{name}") is None


# -- tags and the AWS CLI ------------------------------------------------------------------------


def test_tags_on_node_groups(eks: Any, cluster: str, node_role: str, subnets: list[str]) -> None:
    arn = create(eks, "tagged", node_role, subnets, tags={"a": "1"})["nodegroupArn"]
    eks.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
    eks.untag_resource(resourceArn=arn, tagKeys=["a"])
    described = eks.describe_nodegroup(clusterName=cluster, nodegroupName="tagged")
    assert described["nodegroup"]["tags"] == {"b": "2"}
    expect_error(
        "NotFoundException",
        "Resource was not found",
        eks.list_tags_for_resource,
        resourceArn=arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000",
    )


def test_the_aws_cli_creates_and_describes(
    region: EksRegion, cluster: str, node_role: str, subnets: list[str]
) -> None:
    done = region.aws(
        "eks",
        "create-nodegroup",
        "--cluster-name",
        cluster,
        "--nodegroup-name",
        "from-cli",
        "--node-role",
        node_role,
        "--subnets",
        *subnets,
        "--scaling-config",
        "minSize=1,maxSize=3,desiredSize=3",
        "--labels",
        "openeks.io/runtime=simulated",
        "--taints",
        "key=only,value=cli,effect=NO_SCHEDULE",
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)["nodegroup"]
    assert (created["status"], created["scalingConfig"]["desiredSize"]) == ("CREATING", 3)
    described = region.aws(
        "eks", "describe-nodegroup", "--cluster-name", cluster, "--nodegroup-name", "from-cli"
    )
    assert described.returncode == 0, described.stderr
    nodegroup = json.loads(described.stdout)["nodegroup"]
    assert nodegroup["taints"] == [{"key": "only", "value": "cli", "effect": "NO_SCHEDULE"}]
    assert nodegroup["labels"] == {"openeks.io/runtime": "simulated"}
    missing = region.aws(
        "eks", "describe-nodegroup", "--cluster-name", cluster, "--nodegroup-name", "nope"
    )
    assert missing.returncode in (254, 255)
    assert (
        "An error occurred (ResourceNotFoundException) when calling the DescribeNodegroup "
        "operation: No node group found for name: nope."
    ) in missing.stderr


def test_a_cluster_upgrades_only_once_its_node_groups_match(
    region: EksRegion, eks: Any, cluster_role: str, node_role: str, subnets: list[str]
) -> None:
    upgrading = active_cluster(region, eks, "upgrading", cluster_role, subnets, version=PREVIOUS)
    create(eks, "current", node_role, subnets, clusterName=upgrading)
    create(eks, "lagging", node_role, subnets, clusterName=upgrading, version=served_minors()[-3])
    settle(region, upgrading, "current")
    scaling = eks.update_nodegroup_config(
        clusterName=upgrading, nodegroupName="current", scalingConfig={"desiredSize": 1}
    )["update"]
    response = expect_error(
        "InvalidRequestException",
        f"Nodegroups lagging must be updated to match cluster version {PREVIOUS} before "
        "updating cluster version",
        eks.update_cluster_version,
        name=upgrading,
        version=NEWEST,
        status=400,
    )
    assert response["clusterName"] == upgrading
    region.delete("nodegroups", f"{upgrading}/lagging")
    update = eks.update_cluster_version(name=upgrading, version=NEWEST)["update"]  # despite scaling
    assert eks.list_updates(name=upgrading)["updateIds"] == [update["id"]]
    ids = eks.list_updates(name=upgrading, nodegroupName="current")["updateIds"]
    assert ids == [scaling["id"]]
