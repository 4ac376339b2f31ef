"""The EKS API backend through real boto3 and the real AWS CLI: clusters, updates,
versions, tags, access entries and access policies, with EKS's error codes and messages.

One region (EKS, IAM, STS, EC2 over a memory store) serves the whole module; every test
uses its own cluster names. No controller runs: `EksRegion.set_status` plays its part.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openeks.aws.eks.identity import (
    creator_identity,
    entry_name,
    kubernetes_identity,
    matches,
    principal_for_lookup,
)
from openeks.kube.api.schema import served_minors
from tests.aws.eks_support import ACCOUNT, REGION, EksRegion

NEWEST = served_minors()[-1]
PREVIOUS = served_minors()[-2]
OLDER = served_minors()[-3]
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
EDIT = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EksRegion]:
    with EksRegion(tmp_path_factory.mktemp("eks-home")) as served:
        yield served


@pytest.fixture(scope="module")
def eks(region: EksRegion) -> Any:
    return region.client("eks")


@pytest.fixture(scope="module")
def role_arn(region: EksRegion) -> str:
    return region.create_role("eks-cluster")


@pytest.fixture(scope="module")
def subnets(region: EksRegion) -> list[str]:
    return region.subnet_ids()


def create(eks: Any, name: str, role_arn: str, subnets: list[str], **extra: Any) -> Any:
    vpc = extra.pop("resourcesVpcConfig", {"subnetIds": subnets[:2]})
    return eks.create_cluster(name=name, roleArn=role_arn, resourcesVpcConfig=vpc, **extra)[
        "cluster"
    ]


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The parsed error response of a call that must fail."""
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


# -- CreateCluster / DescribeCluster -----------------------------------------------------


def test_create_cluster_answers_creating_with_eks_defaults(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    created = create(eks, "alpha", role_arn, subnets, tags={"team": "web"})
    assert created["status"] == "CREATING"
    assert created["arn"] == f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/alpha"
    assert created["version"] == NEWEST
    assert created["platformVersion"] == "eks.1"
    assert created["roleArn"] == role_arn
    assert created["tags"] == {"team": "web"}
    assert created["health"] == {"issues": []}
    assert "endpoint" not in created and "certificateAuthority" not in created
    vpc = created["resourcesVpcConfig"]
    first_subnet = region.document("subnets", subnets[0])
    assert first_subnet is not None
    assert vpc["vpcId"] == first_subnet["VpcId"]
    assert vpc["subnetIds"] == subnets[:2]
    assert vpc["securityGroupIds"] == []
    assert vpc["clusterSecurityGroupId"].startswith("sg-")
    assert (vpc["endpointPublicAccess"], vpc["endpointPrivateAccess"]) == (True, False)
    assert vpc["publicAccessCidrs"] == ["0.0.0.0/0"]
    assert created["kubernetesNetworkConfig"] == {
        "serviceIpv4Cidr": "10.100.0.0/16",
        "ipFamily": "ipv4",
        "elasticLoadBalancing": {"enabled": False},
    }
    assert created["logging"] == {
        "clusterLogging": [
            {
                "types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
                "enabled": False,
            }
        ]
    }
    assert created["accessConfig"] == {
        "authenticationMode": "CONFIG_MAP",
        "bootstrapClusterCreatorAdminPermissions": True,
    }
    assert created["upgradePolicy"] == {"supportType": "EXTENDED"}
    described = eks.describe_cluster(name="alpha")["cluster"]
    assert described == created


def test_the_cluster_document_carries_what_the_controller_needs(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    create(eks, "doc-three", role_arn, subnets)
    create(
        eks,
        "doc-single",
        role_arn,
        subnets,
        version=PREVIOUS,
        tags={"openeks.io/control-plane": "single-zone"},
    )
    three = region.document("clusters", "doc-three")
    single = region.document("clusters", "doc-single")
    assert three is not None and single is not None
    assert three["openeks"]["mode"] == "three-zone"
    assert single["openeks"]["mode"] == "single-zone"
    assert single["openeks"]["desiredVersion"] == PREVIOUS == single["version"]
    assert three["openeks"]["creator"] == ROOT_ARN
    assert isinstance(three["createdAt"], str) and three["createdAt"].endswith("+00:00")
    assert three["status"] == "CREATING"


CIDR = "The serviceIpv4Cidr"
CREATE_REFUSALS = [
    (
        {"tags": {"openeks.io/control-plane": "huge"}},
        "The tag openeks.io/control-plane must be one of [three-zone, single-zone], not huge",
    ),
    ({"version": "1.99"}, "unsupported Kubernetes version 1.99"),
    ({"version": f"{NEWEST}.0"}, f"unsupported Kubernetes version {NEWEST}.0"),
    (
        {"accessConfig": {"bootstrapClusterCreatorAdminPermissions": False}},
        "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode "
        "is set to CONFIG_MAP",
    ),
    (
        {"kubernetesNetworkConfig": {"serviceIpv4Cidr": "8.8.0.0/16"}},
        f"{CIDR} 8.8.0.0/16 must be within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
    ),
    (
        {"kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.0.0.0/25"}},
        f"{CIDR} 10.0.0.0/25 must have a prefix length between /12 and /24",
    ),
    (
        {"kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.0.0.0/8"}},
        f"{CIDR} 10.0.0.0/8 must have a prefix length between /12 and /24",
    ),
    (
        {"kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.0.0.1/16"}},
        f"{CIDR} 10.0.0.1/16 is not a valid IPv4 CIDR block",
    ),
    (
        {"kubernetesNetworkConfig": {"ipFamily": "ipv6"}},
        "kubernetesNetworkConfig.ipFamily ipv6 is not supported by openeks",
    ),
    ({"computeConfig": {"enabled": True}}, "computeConfig is not supported by openeks"),
    (
        {"outpostConfig": {"outpostArns": ["arn:x"], "controlPlaneInstanceType": "m5.large"}},
        "outpostConfig is not supported by openeks",
    ),
]


@pytest.mark.parametrize(
    ("extra", "message"),
    CREATE_REFUSALS,
    ids=[
        "mode-tag",
        "version",
        "patch-version",
        "no-creator-admin",
        "public-service-cidr",
        "small-service-cidr",
        "large-service-cidr",
        "service-cidr-host-bits",
        "ipv6",
        "auto-mode",
        "outposts",
    ],
)
def test_create_cluster_refuses_what_eks_refuses(
    eks: Any, role_arn: str, subnets: list[str], extra: dict[str, Any], message: str
) -> None:
    response = expect_error(
        "InvalidParameterException", message, create, eks, "refused", role_arn, subnets, **extra
    )
    assert response["clusterName"] == "refused"


def test_the_service_cidr_may_not_overlap_the_vpc(
    eks: Any, role_arn: str, subnets: list[str]
) -> None:
    network = {"serviceIpv4Cidr": "172.31.0.0/16"}
    response = error_of(create, eks, "svc", role_arn, subnets, kubernetesNetworkConfig=network)
    assert response["Error"]["Message"].startswith(
        f"{CIDR} 172.31.0.0/16 overlaps with the CIDR blocks of VPC vpc-"
    )


def test_duplicate_and_unknown_names_answer_as_eks(
    eks: Any, role_arn: str, subnets: list[str]
) -> None:
    create(eks, "dup", role_arn, subnets)
    response = expect_error(
        "ResourceInUseException",
        "Cluster already exists with name: dup",
        create,
        eks,
        "dup",
        role_arn,
        subnets,
        status=409,
    )
    assert response["clusterName"] == "dup"
    response = expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: nowhere.",
        eks.describe_cluster,
        name="nowhere",
        status=404,
    )
    assert response["clusterName"] == "nowhere"


def test_the_model_validates_cluster_names(
    region: EksRegion, role_arn: str, subnets: list[str]
) -> None:
    unchecked = region.client("eks", validate=False)  # boto3 would stop it before the wire
    response = error_of(create, unchecked, "-starts-with-dash", role_arn, subnets)
    assert response["Error"]["Code"] == "InvalidParameterException"
    assert response["Error"]["Message"].startswith("1 validation error detected: ")


def test_the_cluster_role_must_exist_and_trust_eks(
    region: EksRegion, eks: Any, subnets: list[str]
) -> None:
    expect_error(
        "InvalidParameterException",
        "Invalid Role Arn: 'not-an-arn'",
        create,
        eks,
        "r1",
        "not-an-arn",
        subnets,
    )
    missing = f"arn:aws:iam::{ACCOUNT}:role/missing"
    message = (
        f"Role with arn: {missing}, could not be assumed because it does not exist or the "
        "trusted entity is not correct"
    )
    expect_error("InvalidParameterException", message, create, eks, "r2", missing, subnets)
    untrusting = region.create_role(
        "lambda-only",
        trust=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        ),
    )
    message = message.replace(missing, untrusting)
    expect_error("InvalidParameterException", message, create, eks, "r3", untrusting, subnets)
    other_account = "arn:aws:iam::111122223333:role/eks-cluster"
    message = message.replace(untrusting, other_account)
    expect_error("InvalidParameterException", message, create, eks, "r4", other_account, subnets)


def test_subnets_must_exist_and_span_two_zones(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    response = error_of(
        create, eks, "s1", role_arn, subnets, resourcesVpcConfig={"subnetIds": ["subnet-nope"]}
    )
    assert response["Error"]["Code"] == "InvalidParameterException"
    assert response["Error"]["Message"].startswith(
        "The subnet ID 'subnet-nope' does not exist (Service: AmazonEC2; Status Code: 400; "
        "Error Code: InvalidSubnetID.NotFound; Request ID: "
    )
    two_zones = "Subnets specified must be in at least two different AZs"
    for chosen in ([subnets[0]], [], [subnets[0], subnets[0]]):
        expect_error(
            "InvalidParameterException",
            two_zones,
            create,
            eks,
            "s2",
            role_arn,
            subnets,
            resourcesVpcConfig={"subnetIds": chosen},
        )
    twin = dict(region.document("subnets", subnets[0]) or {}, SubnetId="subnet-twin")
    region.put("subnets", "subnet-twin", twin)
    expect_error(
        "InvalidParameterException",
        two_zones,
        create,
        eks,
        "s3",
        role_arn,
        subnets,
        resourcesVpcConfig={"subnetIds": [subnets[0], "subnet-twin"]},
    )
    region.delete("subnets", "subnet-twin")


def test_vpc_options_are_kept_and_checked(eks: Any, role_arn: str, subnets: list[str]) -> None:
    vpc = {
        "subnetIds": subnets,
        "securityGroupIds": ["sg-0123"],
        "endpointPrivateAccess": True,
        "endpointPublicAccess": False,
    }
    created = create(eks, "private", role_arn, subnets, resourcesVpcConfig=vpc)
    config = created["resourcesVpcConfig"]
    assert config["subnetIds"] == subnets and config["securityGroupIds"] == ["sg-0123"]
    assert (config["endpointPublicAccess"], config["endpointPrivateAccess"]) == (False, True)
    closed = dict(vpc, endpointPrivateAccess=False)
    response = error_of(create, eks, "closed", role_arn, subnets, resourcesVpcConfig=closed)
    assert response["Error"]["Code"] == "InvalidParameterException"
    crowded = {"subnetIds": subnets, "securityGroupIds": [f"sg-{i}" for i in range(6)]}
    response = error_of(create, eks, "crowded", role_arn, subnets, resourcesVpcConfig=crowded)
    assert response["Error"]["Code"] == "InvalidParameterException"
    cidrs = {"subnetIds": subnets, "publicAccessCidrs": ["203.0.113.0/24", "nonsense"]}
    expect_error(
        "InvalidParameterException",
        "The following CIDRs are invalid in publicAccessCidrs: [nonsense]",
        create,
        eks,
        "cidrs",
        role_arn,
        subnets,
        resourcesVpcConfig=cidrs,
    )


def test_a_custom_service_cidr_is_kept(eks: Any, role_arn: str, subnets: list[str]) -> None:
    created = create(
        eks,
        "svc-ok",
        role_arn,
        subnets,
        kubernetesNetworkConfig={"serviceIpv4Cidr": "172.20.0.0/16"},
    )
    assert created["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"


def test_client_request_token_makes_create_idempotent(
    eks: Any, role_arn: str, subnets: list[str]
) -> None:
    first = create(eks, "idem", role_arn, subnets, clientRequestToken="token-1")
    again = create(eks, "idem", role_arn, subnets, clientRequestToken="token-1")
    assert again == first and again["clientRequestToken"] == "token-1"
    expect_error(
        "ResourceInUseException",
        "Cluster already exists with name: idem",
        create,
        eks,
        "idem",
        role_arn,
        subnets,
        clientRequestToken="token-1",
        version=PREVIOUS,
    )
    expect_error(
        "ResourceInUseException",
        "Cluster already exists with name: idem",
        create,
        eks,
        "idem",
        role_arn,
        subnets,
        clientRequestToken="token-2",
    )


# -- ListClusters / DeleteCluster ----------------------------------------------------------


def test_list_clusters_pages_with_an_opaque_token(
    region: EksRegion, role_arn: str, subnets: list[str]
) -> None:
    eks = region.client("eks")
    for name in ("page-a", "page-b", "page-c", "page-d", "page-e"):
        create(eks, name, role_arn, subnets)
    every = eks.list_clusters()["clusters"]
    assert every == sorted(every)
    assert {"page-a", "page-e"} <= set(every)
    first = eks.list_clusters(maxResults=2)
    assert first["clusters"] == every[:2]
    assert "page" not in first["nextToken"]  # opaque, not the name
    second = eks.list_clusters(maxResults=2, nextToken=first["nextToken"])
    assert second["clusters"] == every[2:4]
    paged = [
        name
        for page in eks.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 3})
        for name in page["clusters"]
    ]
    assert paged == every
    expect_error(
        "InvalidParameterException",
        "The nextToken provided is invalid.",
        eks.list_clusters,
        nextToken="garbage!",
    )
    # A token is only good for the listing that issued it.
    expect_error(
        "InvalidParameterException",
        "The nextToken provided is invalid.",
        eks.list_updates,
        name="page-a",
        nextToken=first["nextToken"],
    )


def test_delete_cluster_moves_it_to_deleting(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    create(eks, "doomed", role_arn, subnets)
    region.set_status("doomed", "ACTIVE")
    deleted = eks.delete_cluster(name="doomed")["cluster"]
    assert deleted["status"] == "DELETING"
    assert eks.describe_cluster(name="doomed")["cluster"]["status"] == "DELETING"
    again = eks.delete_cluster(name="doomed")["cluster"]  # already on its way: no error
    assert again["status"] == "DELETING"
    region.delete("clusters", "doomed")  # the controller finishing
    waiter = eks.get_waiter("cluster_deleted")
    waiter.wait(name="doomed", WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: doomed.",
        eks.delete_cluster,
        name="doomed",
    )


def test_a_cluster_with_node_groups_cannot_be_deleted(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    create(eks, "busy", role_arn, subnets)
    region.put("nodegroups", "busy/workers", {"nodegroupName": "workers"})
    region.put("nodegroups", "busy/gpu", {"nodegroupName": "gpu"})
    response = expect_error(
        "ResourceInUseException",
        "Cluster has nodegroups attached",
        eks.delete_cluster,
        name="busy",
        status=409,
    )
    assert response["clusterName"] == "busy"
    assert response["nodegroupName"] == "gpu,workers"
    region.delete("nodegroups", "busy/workers")
    region.delete("nodegroups", "busy/gpu")
    assert eks.delete_cluster(name="busy")["cluster"]["status"] == "DELETING"


def test_deletion_protection_blocks_delete_until_turned_off(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    assert create(eks, "guarded", role_arn, subnets, deletionProtection=True)["deletionProtection"]
    region.set_status("guarded", "ACTIVE")
    response = error_of(eks.delete_cluster, name="guarded")
    assert response["Error"]["Code"] == "InvalidRequestException"
    update = eks.update_cluster_config(name="guarded", deletionProtection=False)["update"]
    assert (update["type"], update["status"]) == ("DeletionProtectionUpdate", "Successful")
    assert update["params"] == [{"type": "DeletionProtection", "value": "false"}]
    assert eks.delete_cluster(name="guarded")["cluster"]["status"] == "DELETING"


# -- DescribeClusterVersions -------------------------------------------------------------


def test_cluster_versions_are_the_served_minors(eks: Any) -> None:
    versions = eks.describe_cluster_versions()["clusterVersions"]
    assert [v["clusterVersion"] for v in versions] == served_minors()[::-1]
    newest = versions[0]
    assert newest["defaultVersion"] is True
    assert (newest["versionStatus"], newest["status"]) == ("STANDARD_SUPPORT", "standard-support")
    assert newest["defaultPlatformVersion"] == "eks.1"
    assert newest["kubernetesPatchVersion"] == f"{NEWEST}.0"
    assert newest["clusterType"] == "eks"
    assert not any(v["defaultVersion"] for v in versions[1:])
    assert versions[-1]["versionStatus"] == "EXTENDED_SUPPORT"
    default = eks.describe_cluster_versions(defaultOnly=True)["clusterVersions"]
    assert [v["clusterVersion"] for v in default] == [NEWEST]
    chosen = eks.describe_cluster_versions(clusterVersions=[OLDER, "1.2"])["clusterVersions"]
    assert [v["clusterVersion"] for v in chosen] == [OLDER]
    extended = eks.describe_cluster_versions(versionStatus="EXTENDED_SUPPORT")["clusterVersions"]
    assert all(v["versionStatus"] == "EXTENDED_SUPPORT" for v in extended)
    assert eks.describe_cluster_versions(versionStatus="UNSUPPORTED")["clusterVersions"] == []
    paged = [
        v["clusterVersion"]
        for page in eks.get_paginator("describe_cluster_versions").paginate(
            PaginationConfig={"PageSize": 4}
        )
        for v in page["clusterVersions"]
    ]
    assert paged == served_minors()[::-1]


# -- UpdateClusterVersion / ListUpdates / DescribeUpdate ---------------------------------


def test_version_updates_go_one_minor_up_and_wait_for_the_controller(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    create(eks, "upgrade", role_arn, subnets, version=OLDER)
    expect_error(
        "ResourceInUseException",
        "Cannot VersionUpdate because cluster upgrade is in CREATING status, not ACTIVE",
        eks.update_cluster_version,
        name="upgrade",
        version=PREVIOUS,
        status=409,
    )
    region.set_status("upgrade", "ACTIVE")
    eks.get_waiter("cluster_active").wait(name="upgrade", WaiterConfig={"Delay": 1})
    for target in (NEWEST, OLDER, served_minors()[-4]):
        expect_error(
            "InvalidParameterException",
            f"Unsupported Kubernetes minor version update from {OLDER} to {target}",
            eks.update_cluster_version,
            name="upgrade",
            version=target,
        )
    expect_error(
        "InvalidParameterException",
        "unsupported Kubernetes version 1.99",
        eks.update_cluster_version,
        name="upgrade",
        version="1.99",
    )
    update = eks.update_cluster_version(name="upgrade", version=PREVIOUS)["update"]
    assert (update["type"], update["status"], update["errors"]) == (
        "VersionUpdate",
        "InProgress",
        [],
    )
    assert update["params"] == [
        {"type": "Version", "value": PREVIOUS},
        {"type": "PlatformVersion", "value": "eks.1"},
    ]
    cluster = eks.describe_cluster(name="upgrade")["cluster"]
    assert (cluster["status"], cluster["version"]) == ("UPDATING", OLDER)
    document = region.document("clusters", "upgrade")
    assert document is not None and document["openeks"]["desiredVersion"] == PREVIOUS
    stored = region.document("updates", f"upgrade/{update['id']}")
    assert stored is not None and stored["status"] == "InProgress"
    expect_error(
        "ResourceInUseException",
        f"Cannot VersionUpdate because cluster upgrade currently has update {update['id']} "
        "in progress",
        eks.update_cluster_version,
        name="upgrade",
        version=PREVIOUS,
    )
    expect_error(
        "ResourceInUseException",
        f"Cannot LoggingUpdate because cluster upgrade currently has update {update['id']} "
        "in progress",
        eks.update_cluster_config,
        name="upgrade",
        logging={"clusterLogging": [{"types": ["api"], "enabled": True}]},
    )
    assert eks.list_updates(name="upgrade")["updateIds"] == [update["id"]]
    region.finish_update("upgrade", update["id"])
    described = eks.describe_update(name="upgrade", updateId=update["id"])["update"]
    assert described["status"] == "Successful"
    cluster = eks.describe_cluster(name="upgrade")["cluster"]
    assert (cluster["status"], cluster["version"]) == ("ACTIVE", PREVIOUS)
    second = eks.update_cluster_version(name="upgrade", version=NEWEST)["update"]
    assert eks.list_updates(name="upgrade")["updateIds"] == [update["id"], second["id"]]
    expect_error(
        "ResourceInUseException",
        "Cannot delete because cluster upgrade currently has an update in progress",
        eks.delete_cluster,
        name="upgrade",
        status=409,
    )


def test_version_update_tokens_and_unknown_updates(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    create(eks, "upgrade-token", role_arn, subnets, version=PREVIOUS)
    region.set_status("upgrade-token", "ACTIVE")
    first = eks.update_cluster_version(
        name="upgrade-token", version=NEWEST, clientRequestToken="retry-me"
    )["update"]
    again = eks.update_cluster_version(
        name="upgrade-token", version=NEWEST, clientRequestToken="retry-me"
    )["update"]
    assert again["id"] == first["id"]
    response = expect_error(
        "ResourceNotFoundException",
        "No update found for ID: not-an-update.",
        eks.describe_update,
        name="upgrade-token",
        updateId="not-an-update",
    )
    assert response["clusterName"] == "upgrade-token"
    expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: ghost.",
        eks.list_updates,
        name="ghost",
    )
    expect_error(
        "ResourceNotFoundException",
        "No node group found for name: workers.",
        eks.list_updates,
        name="upgrade-token",
        nodegroupName="workers",
    )


def test_list_updates_pages(region: EksRegion, eks: Any, role_arn: str, subnets: list[str]) -> None:
    create(eks, "many-updates", role_arn, subnets)
    region.set_status("many-updates", "ACTIVE")
    ids = []
    for cidr in ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24"):
        vpc = {"publicAccessCidrs": [cidr]}
        ids.append(
            eks.update_cluster_config(name="many-updates", resourcesVpcConfig=vpc)["update"]["id"]
        )
    first = eks.list_updates(name="many-updates", maxResults=2)
    rest = eks.list_updates(name="many-updates", maxResults=2, nextToken=first["nextToken"])
    assert first["updateIds"] + rest["updateIds"] == ids
    assert "nextToken" not in rest


# -- UpdateClusterConfig -------------------------------------------------------------------


def active(
    region: EksRegion, eks: Any, name: str, role_arn: str, subnets: list[str], **kw: Any
) -> Any:
    created = create(eks, name, role_arn, subnets, **kw)
    region.set_status(name, "ACTIVE")
    return created


def test_logging_updates_apply_at_once(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    active(region, eks, "logs", role_arn, subnets)
    logging = {"clusterLogging": [{"types": ["audit", "api"], "enabled": True}]}
    update = eks.update_cluster_config(name="logs", logging=logging)["update"]
    assert (update["type"], update["status"]) == ("LoggingUpdate", "Successful")
    assert update["params"] == [
        {
            "type": "ClusterLogging",
            "value": '{"clusterLogging":[{"types":["audit","api"],"enabled":true}]}',
        }
    ]
    cluster = eks.describe_cluster(name="logs")["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["logging"]["clusterLogging"] == [
        {"types": ["api", "audit"], "enabled": True},
        {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False},
    ]
    assert eks.describe_update(name="logs", updateId=update["id"])["update"] == update
    expect_error(
        "InvalidParameterException",
        "No changes needed for the logging config provided",
        eks.update_cluster_config,
        name="logs",
        logging=logging,
    )


def test_endpoint_access_updates(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    active(region, eks, "endpoints", role_arn, subnets)
    update = eks.update_cluster_config(
        name="endpoints", resourcesVpcConfig={"endpointPrivateAccess": True}
    )["update"]
    assert update["type"] == "EndpointAccessUpdate"
    assert update["params"] == [
        {"type": "EndpointPublicAccess", "value": "true"},
        {"type": "EndpointPrivateAccess", "value": "true"},
        {"type": "PublicAccessCidrs", "value": '["0.0.0.0/0"]'},
    ]
    vpc = eks.describe_cluster(name="endpoints")["cluster"]["resourcesVpcConfig"]
    assert (vpc["endpointPublicAccess"], vpc["endpointPrivateAccess"]) == (True, True)
    response = expect_error(
        "InvalidParameterException",
        "Cluster is already at the desired configuration with endpointPrivateAccess: true , "
        "endpointPublicAccess: true, and Public Endpoint Restrictions: [0.0.0.0/0]",
        eks.update_cluster_config,
        name="endpoints",
        resourcesVpcConfig={"endpointPrivateAccess": True},
    )
    assert response["clusterName"] == "endpoints"
    response = error_of(
        eks.update_cluster_config,
        name="endpoints",
        resourcesVpcConfig={"endpointPrivateAccess": False, "endpointPublicAccess": False},
    )
    assert response["Error"]["Code"] == "InvalidParameterException"
    expect_error(
        "InvalidParameterException",
        "Only one type of update can be allowed.",
        eks.update_cluster_config,
        name="endpoints",
        resourcesVpcConfig={"endpointPublicAccess": False},
        logging={"clusterLogging": [{"types": ["api"], "enabled": True}]},
    )


def test_vpc_and_policy_updates(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    active(region, eks, "vpc-update", role_arn, subnets)
    update = eks.update_cluster_config(
        name="vpc-update", resourcesVpcConfig={"subnetIds": subnets, "securityGroupIds": ["sg-1"]}
    )["update"]
    assert update["type"] == "VpcConfigUpdate"
    assert update["params"] == [
        {"type": "Subnets", "value": json.dumps(subnets, separators=(",", ":"))},
        {"type": "SecurityGroups", "value": '["sg-1"]'},
    ]
    vpc = eks.describe_cluster(name="vpc-update")["cluster"]["resourcesVpcConfig"]
    assert (vpc["subnetIds"], vpc["securityGroupIds"]) == (subnets, ["sg-1"])
    response = error_of(
        eks.update_cluster_config,
        name="vpc-update",
        resourcesVpcConfig={"subnetIds": [subnets[0]]},
    )
    assert response["Error"]["Message"] == "Subnets specified must be in at least two different AZs"
    policy = eks.update_cluster_config(name="vpc-update", upgradePolicy={"supportType": "STANDARD"})
    assert policy["update"]["type"] == "UpgradePolicyUpdate"
    cluster = eks.describe_cluster(name="vpc-update")["cluster"]
    assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}
    shift = eks.update_cluster_config(name="vpc-update", zonalShiftConfig={"enabled": True})
    assert shift["update"]["params"] == [{"type": "ZonalShiftConfig", "value": '{"enabled":true}'}]
    expect_error(
        "InvalidParameterException",
        "computeConfig is not supported by openeks",
        eks.update_cluster_config,
        name="vpc-update",
        computeConfig={"enabled": True},
    )


def test_authentication_mode_moves_one_step_towards_the_api(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    active(region, eks, "auth-steps", role_arn, subnets)
    assert eks.list_access_policies()["accessPolicies"]  # works without a cluster
    expect_error(
        "InvalidRequestException",
        "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
        "to perform this operation.",
        eks.list_access_entries,
        clusterName="auth-steps",
        status=400,
    )
    expect_error(
        "InvalidParameterException",
        "Unsupported authentication mode update from CONFIG_MAP to API",
        eks.update_cluster_config,
        name="auth-steps",
        accessConfig={"authenticationMode": "API"},
    )
    update = eks.update_cluster_config(
        name="auth-steps", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"}
    )["update"]
    assert update["type"] == "AccessConfigUpdate"
    assert update["params"] == [{"type": "AuthenticationMode", "value": "API_AND_CONFIG_MAP"}]
    # EKS gives the creator its admin entry once the access entry API is on.
    assert eks.list_access_entries(clusterName="auth-steps")["accessEntries"] == [ROOT_ARN]
    policies = eks.list_associated_access_policies(clusterName="auth-steps", principalArn=ROOT_ARN)
    assert [p["policyArn"] for p in policies["associatedAccessPolicies"]] == [ADMIN]
    for target in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
        expect_error(
            "InvalidParameterException",
            f"Unsupported authentication mode update from API_AND_CONFIG_MAP to {target}",
            eks.update_cluster_config,
            name="auth-steps",
            accessConfig={"authenticationMode": target},
        )
    eks.update_cluster_config(name="auth-steps", accessConfig={"authenticationMode": "API"})
    mode = eks.describe_cluster(name="auth-steps")["cluster"]["accessConfig"]
    assert mode["authenticationMode"] == "API"


def test_config_updates_need_an_active_cluster(eks: Any, role_arn: str, subnets: list[str]) -> None:
    create(eks, "still-creating", role_arn, subnets)
    expect_error(
        "ResourceInUseException",
        "Cannot LoggingUpdate because cluster still-creating is in CREATING status, not ACTIVE",
        eks.update_cluster_config,
        name="still-creating",
        logging={"clusterLogging": [{"types": ["api"], "enabled": True}]},
    )
    expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: ghost.",
        eks.update_cluster_config,
        name="ghost",
        logging={"clusterLogging": [{"types": ["api"], "enabled": True}]},
    )


# -- tags ------------------------------------------------------------------------------------


def test_tags_on_clusters(eks: Any, role_arn: str, subnets: list[str]) -> None:
    arn = create(eks, "tagged", role_arn, subnets, tags={"a": "1"})["arn"]
    eks.tag_resource(resourceArn=arn, tags={"b": "2", "a": "one"})
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "one", "b": "2"}
    eks.untag_resource(resourceArn=arn, tagKeys=["a", "absent"])
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    assert eks.describe_cluster(name="tagged")["cluster"]["tags"] == {"b": "2"}
    unknown = arn.replace("tagged", "untagged")
    expect_error(
        "NotFoundException",
        "Resource was not found",
        eks.list_tags_for_resource,
        resourceArn=unknown,
        status=404,
    )
    expect_error(
        "NotFoundException",
        "Resource was not found",
        eks.tag_resource,
        resourceArn=unknown,
        tags={"x": "y"},
    )
    response = error_of(eks.tag_resource, resourceArn="arn:aws:s3:::bucket", tags={"x": "y"})
    assert response["Error"]["Code"] == "BadRequestException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


# -- access entries --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_cluster(region: EksRegion, eks: Any, role_arn: str, subnets: list[str]) -> str:
    active(region, eks, "access", role_arn, subnets, accessConfig={"authenticationMode": "API"})
    return "access"


@pytest.fixture(scope="module")
def dev(region: EksRegion) -> str:
    return region.create_user("dev")[0]


@pytest.fixture(scope="module")
def deployer(region: EksRegion) -> str:
    return region.create_role("deployer", path="/team/")


@pytest.fixture(scope="module")
def node_role(region: EksRegion) -> str:
    return region.create_role("nodes")


def test_the_creator_gets_an_admin_entry(eks: Any, api_cluster: str) -> None:
    entry = eks.describe_access_entry(clusterName=api_cluster, principalArn=ROOT_ARN)["accessEntry"]
    assert (entry["type"], entry["username"], entry["kubernetesGroups"]) == (
        "STANDARD",
        ROOT_ARN,
        [],
    )
    associated = eks.list_associated_access_policies(clusterName=api_cluster, principalArn=ROOT_ARN)
    assert associated["clusterName"] == api_cluster and associated["principalArn"] == ROOT_ARN
    (admin,) = associated["associatedAccessPolicies"]
    assert admin["policyArn"] == ADMIN
    assert admin["accessScope"] == {"type": "cluster", "namespaces": []}


def test_access_entries_for_users_and_roles(
    eks: Any, api_cluster: str, dev: str, deployer: str
) -> None:
    entry = eks.create_access_entry(
        clusterName=api_cluster, principalArn=dev, kubernetesGroups=["developers"], tags={"t": "1"}
    )["accessEntry"]
    assert entry["principalArn"] == dev and entry["username"] == dev
    assert entry["kubernetesGroups"] == ["developers"] and entry["tags"] == {"t": "1"}
    assert entry["type"] == "STANDARD" and entry["clusterName"] == api_cluster
    assert entry["accessEntryArn"].startswith(
        f"arn:aws:eks:{REGION}:{ACCOUNT}:access-entry/{api_cluster}/user/{ACCOUNT}/dev/"
    )
    assert entry["createdAt"] == entry["modifiedAt"]
    role_entry = eks.create_access_entry(clusterName=api_cluster, principalArn=deployer)[
        "accessEntry"
    ]
    assert role_entry["username"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/{{{{SessionName}}}}"
    )
    assert (
        eks.describe_access_entry(clusterName=api_cluster, principalArn=dev)["accessEntry"] == entry
    )
    response = expect_error(
        "ResourceInUseException",
        "The specified access entry resource is already in use on this cluster.",
        eks.create_access_entry,
        clusterName=api_cluster,
        principalArn=dev,
        status=409,
    )
    assert response["clusterName"] == api_cluster
    updated = eks.update_access_entry(
        clusterName=api_cluster, principalArn=dev, kubernetesGroups=["ops"], username="dev-user"
    )["accessEntry"]
    assert (updated["kubernetesGroups"], updated["username"]) == (["ops"], "dev-user")
    assert updated["createdAt"] == entry["createdAt"]
    listed = eks.list_access_entries(clusterName=api_cluster)["accessEntries"]
    assert listed == sorted([ROOT_ARN, dev, deployer])
    first = eks.list_access_entries(clusterName=api_cluster, maxResults=2)
    rest = eks.list_access_entries(
        clusterName=api_cluster, maxResults=2, nextToken=first["nextToken"]
    )
    assert first["accessEntries"] + rest["accessEntries"] == listed
    eks.delete_access_entry(clusterName=api_cluster, principalArn=deployer)
    expect_error(
        "ResourceNotFoundException",
        "The specified principalArn could not be found. You can view your available access "
        "entries with 'list-access-entries'.",
        eks.describe_access_entry,
        clusterName=api_cluster,
        principalArn=deployer,
        status=404,
    )
    expect_error(
        "ResourceNotFoundException",
        "No cluster found for name: ghost.",
        eks.list_access_entries,
        clusterName="ghost",
    )


def test_access_entry_rules(region: EksRegion, eks: Any, api_cluster: str, node_role: str) -> None:
    invalid = "The specified principalArn is invalid: invalid principal."
    for principal in (
        f"arn:aws:iam::{ACCOUNT}:role/no-such-role",
        f"arn:aws:iam::{ACCOUNT}:user/no-such-user",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/nodes/session",
        "arn:aws:iam::111122223333:role/nodes",
        "not an arn",
    ):
        expect_error(
            "InvalidParameterException",
            invalid,
            eks.create_access_entry,
            clusterName=api_cluster,
            principalArn=principal,
        )
    expect_error(
        "InvalidParameterException",
        "The kubernetes group name system:masters is invalid, it cannot start with system:",
        eks.create_access_entry,
        clusterName=api_cluster,
        principalArn=node_role,
        kubernetesGroups=["system:masters"],
    )
    for prefix in ("system:", "eks:", "aws:", "amazon:", "iam:"):
        expect_error(
            "InvalidParameterException",
            f"The username must not begin with {prefix}",
            eks.create_access_entry,
            clusterName=api_cluster,
            principalArn=node_role,
            username=f"{prefix}me",
        )
    response = error_of(
        eks.create_access_entry,
        clusterName=api_cluster,
        principalArn=node_role,
        username="me{{SessionName}}",
    )
    assert response["Error"]["Code"] == "InvalidParameterException"
    standard_only = (
        'This operation can only be performed on Access Entries with a type of "STANDARD".'
    )
    expect_error(
        "InvalidParameterException",
        standard_only,
        eks.create_access_entry,
        clusterName=api_cluster,
        principalArn=node_role,
        type="EC2_LINUX",
        kubernetesGroups=["workers"],
    )
    plain_user = region.create_user("plain")[0]
    expect_error(
        "InvalidParameterException",
        invalid,
        eks.create_access_entry,
        clusterName=api_cluster,
        principalArn=plain_user,
        type="EC2_LINUX",
    )
    response = error_of(
        eks.create_access_entry, clusterName=api_cluster, principalArn=node_role, type="BOGUS"
    )
    assert response["Error"]["Code"] == "InvalidParameterException"
    node = eks.create_access_entry(
        clusterName=api_cluster, principalArn=node_role, type="EC2_LINUX"
    )["accessEntry"]
    assert node["username"] == "system:node:{{EC2PrivateDNSName}}"
    assert node["kubernetesGroups"] == ["system:nodes"]
    expect_error(
        "InvalidParameterException",
        standard_only,
        eks.update_access_entry,
        clusterName=api_cluster,
        principalArn=node_role,
        username="someone",
    )
    expect_error(
        "InvalidParameterException",
        standard_only,
        eks.associate_access_policy,
        clusterName=api_cluster,
        principalArn=node_role,
        policyArn=VIEW,
        accessScope={"type": "cluster"},
    )


def test_access_entry_token_replays(region: EksRegion, eks: Any, api_cluster: str) -> None:
    fresh = region.create_role("replayed")
    first = eks.create_access_entry(
        clusterName=api_cluster, principalArn=fresh, clientRequestToken="entry-token"
    )["accessEntry"]
    again = eks.create_access_entry(
        clusterName=api_cluster, principalArn=fresh, clientRequestToken="entry-token"
    )["accessEntry"]
    assert again == first


# -- access policies -------------------------------------------------------------------------


def test_list_access_policies(eks: Any) -> None:
    listed = eks.list_access_policies()["accessPolicies"]
    names = [p["name"] for p in listed]
    assert names == sorted(names)
    for name in (
        "AmazonEKSClusterAdminPolicy",
        "AmazonEKSAdminPolicy",
        "AmazonEKSEditPolicy",
        "AmazonEKSViewPolicy",
    ):
        assert {"name": name, "arn": f"arn:aws:eks::aws:cluster-access-policy/{name}"} in listed
    paged = [
        p["name"]
        for page in eks.get_paginator("list_access_policies").paginate(
            PaginationConfig={"PageSize": 5}
        )
        for p in page["accessPolicies"]
    ]
    assert paged == names


def test_policy_associations(region: EksRegion, eks: Any, api_cluster: str) -> None:
    viewer = region.create_role("viewer")
    eks.create_access_entry(clusterName=api_cluster, principalArn=viewer)
    associated = eks.associate_access_policy(
        clusterName=api_cluster,
        principalArn=viewer,
        policyArn=VIEW,
        accessScope={"type": "namespace", "namespaces": ["dev", "prod"]},
    )
    assert associated["clusterName"] == api_cluster and associated["principalArn"] == viewer
    first = associated["associatedAccessPolicy"]
    assert first["accessScope"] == {"type": "namespace", "namespaces": ["dev", "prod"]}
    eks.associate_access_policy(
        clusterName=api_cluster,
        principalArn=viewer,
        policyArn=EDIT,
        accessScope={"type": "namespace", "namespaces": ["dev"]},
    )
    replaced = eks.associate_access_policy(
        clusterName=api_cluster,
        principalArn=viewer,
        policyArn=VIEW,
        accessScope={"type": "cluster"},
    )["associatedAccessPolicy"]
    assert replaced["accessScope"] == {"type": "cluster", "namespaces": []}
    assert replaced["associatedAt"] == first["associatedAt"]
    listed = eks.list_associated_access_policies(clusterName=api_cluster, principalArn=viewer)
    assert [p["policyArn"] for p in listed["associatedAccessPolicies"]] == [EDIT, VIEW]
    with_view = eks.list_access_entries(clusterName=api_cluster, associatedPolicyArn=VIEW)
    assert with_view["accessEntries"] == [viewer]
    document = region.document("accessentries", f"{api_cluster}/{entry_name(viewer)}")
    assert document is not None
    username, groups = kubernetes_identity(
        document, f"arn:aws:sts::{ACCOUNT}:assumed-role/viewer/alice@example.com", None
    )
    assert username == f"arn:aws:sts::{ACCOUNT}:assumed-role/viewer/alice-example.com"
    assert groups == ["openeks:eks:AmazonEKSViewPolicy", "openeks:eks:AmazonEKSEditPolicy:dev"]
    eks.disassociate_access_policy(clusterName=api_cluster, principalArn=viewer, policyArn=VIEW)
    expect_error(
        "ResourceNotFoundException",
        "The specified policyArn is not associated with the access entry.",
        eks.disassociate_access_policy,
        clusterName=api_cluster,
        principalArn=viewer,
        policyArn=VIEW,
    )
    for policy, scope in (
        ("arn:aws:eks::aws:cluster-access-policy/NoSuchPolicy", {"type": "cluster"}),
        ("arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy", {"type": "cluster"}),
        (VIEW, {"type": "cluster", "namespaces": ["dev"]}),
        (VIEW, {"type": "namespace"}),
        (VIEW, {"type": "namespace", "namespaces": ["Not_A_Namespace"]}),
    ):
        response = error_of(
            eks.associate_access_policy,
            clusterName=api_cluster,
            principalArn=viewer,
            policyArn=policy,
            accessScope=scope,
        )
        assert response["Error"]["Code"] == "InvalidParameterException", policy
    expect_error(
        "ResourceNotFoundException",
        "The specified principalArn could not be found. You can view your available access "
        "entries with 'list-access-entries'.",
        eks.associate_access_policy,
        clusterName=api_cluster,
        principalArn=f"arn:aws:iam::{ACCOUNT}:role/nobody",
        policyArn=VIEW,
        accessScope={"type": "cluster"},
    )


def test_tags_on_access_entries(region: EksRegion, eks: Any, api_cluster: str) -> None:
    tagged = region.create_role("tagged-entry")
    arn = eks.create_access_entry(clusterName=api_cluster, principalArn=tagged)["accessEntry"][
        "accessEntryArn"
    ]
    eks.tag_resource(resourceArn=arn, tags={"owner": "ops"})
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"owner": "ops"}
    entry = eks.describe_access_entry(clusterName=api_cluster, principalArn=tagged)
    assert entry["accessEntry"]["tags"] == {"owner": "ops"}


# -- who creates -----------------------------------------------------------------------------


def test_creators_other_than_root(region: EksRegion, role_arn: str, subnets: list[str]) -> None:
    alice_arn, alice = region.create_user("alice")
    as_alice = region.client("eks", alice)
    create(as_alice, "alices", role_arn, subnets, accessConfig={"authenticationMode": "API"})
    assert as_alice.list_access_entries(clusterName="alices")["accessEntries"] == [alice_arn]
    operator = region.create_role("operator", path="/platform/")
    session = region.assume(operator, "bob@example.com")
    as_operator = region.client("eks", session)
    create(
        as_operator,
        "operators",
        role_arn,
        subnets,
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"},
    )
    (principal,) = as_operator.list_access_entries(clusterName="operators")["accessEntries"]
    assert principal == operator  # the role, path and all, not the session
    document = region.document("clusters", "operators")
    assert document is not None
    assert document["openeks"]["creator"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/operator/bob@example.com"
    )
    none = create(
        as_alice,
        "no-bootstrap",
        role_arn,
        subnets,
        accessConfig={
            "authenticationMode": "API",
            "bootstrapClusterCreatorAdminPermissions": False,
        },
    )
    assert none["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is False
    assert as_alice.list_access_entries(clusterName="no-bootstrap")["accessEntries"] == []


# -- identity mapping (pure) -------------------------------------------------------------------


def test_principal_for_lookup_maps_sessions_to_roles() -> None:
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/jane"
    assert principal_for_lookup(session) == f"arn:aws:iam::{ACCOUNT}:role/admin"
    user = f"arn:aws:iam::{ACCOUNT}:user/dev"
    assert principal_for_lookup(user) == user
    assert matches(f"arn:aws:iam::{ACCOUNT}:role/team/admin", session)
    assert not matches(f"arn:aws:iam::{ACCOUNT}:role/other", session)
    assert not matches("arn:aws:iam::111122223333:role/admin", session)


def test_kubernetes_identity_expands_templates() -> None:
    entry = {
        "username": "dev:{{AccountID}}:{{SessionName}}:{{SessionNameRaw}}",
        "kubernetesGroups": ["developers"],
        "policies": [
            {"policyArn": ADMIN, "accessScope": {"type": "cluster", "namespaces": []}},
            {"policyArn": VIEW, "accessScope": {"type": "namespace", "namespaces": ["a", "b"]}},
        ],
    }
    caller = f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/jane@corp"
    assert kubernetes_identity(entry, caller, "jane@corp") == (
        f"dev:{ACCOUNT}:jane-corp:jane@corp",
        [
            "developers",
            "openeks:eks:AmazonEKSClusterAdminPolicy",
            "openeks:eks:AmazonEKSViewPolicy:a",
            "openeks:eks:AmazonEKSViewPolicy:b",
        ],
    )
    node = {"username": "system:node:{{EC2PrivateDNSName}}", "kubernetesGroups": ["system:nodes"]}
    node_caller = f"arn:aws:sts::{ACCOUNT}:assumed-role/nodes/i-0123"
    assert kubernetes_identity(node, node_caller, "ip-10-0-0-1.ec2.internal") == (
        "system:node:ip-10-0-0-1.ec2.internal",
        ["system:nodes"],
    )
    user = f"arn:aws:iam::{ACCOUNT}:user/dev"
    assert kubernetes_identity({"username": user}, user, None) == (user, [])


# -- the AWS CLI -------------------------------------------------------------------------------


def test_the_aws_cli_creates_describes_and_lists(
    region: EksRegion, role_arn: str, subnets: list[str]
) -> None:
    done = region.aws(
        "eks",
        "create-cluster",
        "--name",
        "from-cli",
        "--role-arn",
        role_arn,
        "--resources-vpc-config",
        f"subnetIds={subnets[0]},{subnets[1]},endpointPrivateAccess=true",
        "--kubernetes-version",
        PREVIOUS,
        "--tags",
        "openeks.io/control-plane=single-zone",
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)["cluster"]
    assert (created["name"], created["status"], created["version"]) == (
        "from-cli",
        "CREATING",
        PREVIOUS,
    )
    assert created["resourcesVpcConfig"]["endpointPrivateAccess"] is True
    described = region.aws("eks", "describe-cluster", "--name", "from-cli")
    assert described.returncode == 0, described.stderr
    cluster = json.loads(described.stdout)["cluster"]
    assert cluster["arn"] == f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/from-cli"
    assert cluster["tags"] == {"openeks.io/control-plane": "single-zone"}
    listed = region.aws("eks", "list-clusters")
    assert listed.returncode == 0, listed.stderr
    assert "from-cli" in json.loads(listed.stdout)["clusters"]
    missing = region.aws("eks", "describe-cluster", "--name", "no-such-cluster")
    assert missing.returncode == 254 or missing.returncode == 255
    assert (
        "An error occurred (ResourceNotFoundException) when calling the DescribeCluster "
        "operation: No cluster found for name: no-such-cluster."
    ) in missing.stderr
    document = region.document("clusters", "from-cli")
    assert document is not None and document["openeks"]["mode"] == "single-zone"


def test_the_creator_of_a_config_map_cluster_is_an_implicit_admin(
    region: EksRegion, eks: Any, role_arn: str, subnets: list[str]
) -> None:
    create(eks, "implicit-admin", role_arn, subnets)  # CONFIG_MAP, made with the root key
    cluster = region.document("clusters", "implicit-admin")
    assert cluster is not None
    assert creator_identity(cluster, ROOT_ARN) == ("kubernetes-admin", ["system:masters"])
    assert creator_identity(cluster, f"arn:aws:iam::{ACCOUNT}:user/dev") is None
    by_role = dict(cluster, openeks={"creator": f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/a"})
    assert creator_identity(by_role, f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/b") is not None
    api = dict(cluster, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    assert creator_identity(api, ROOT_ARN) is None
