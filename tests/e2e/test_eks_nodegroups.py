"""Managed node groups and self-managed instances end to end, through a real `openeks up`.

One region and one single-zone control plane serve the module (the control plane's
shape does not matter here; its zone count stays what it is whatever the node groups
use). Node groups spread over the three default subnets. Simulated node groups are
used where only the EKS side is under test; runc nodes where pods must really run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.eks import create, ensure_role, subnets
from tests.support.kubectl import Kubectl
from tests.support.region import RegionProcess

CLUSTER = "workers"
TRUST_EC2 = json.dumps(
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
SIMULATED = {"openeks.io/runtime": "simulated"}
SIMULATED_TAGS = [{"Key": "openeks.io/runtime", "Value": "simulated"}]
FAST = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegionProcess]:
    with RegionProcess(tmp_path_factory.mktemp("region")) as served:
        ensure_role(served)
        create(served, CLUSTER, tags={"openeks.io/control-plane": "single-zone"})
        yield served


@pytest.fixture(scope="module")
def node_role(region: RegionProcess) -> str:
    iam = region.client("iam")
    role = iam.create_role(RoleName="eks-node", AssumeRolePolicyDocument=TRUST_EC2)["Role"]
    return str(role["Arn"])


@pytest.fixture(scope="module")
def kubectl(region: RegionProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    home = tmp_path_factory.mktemp("home")
    admin = region.data_dir / "clusters" / CLUSTER / "admin.kubeconfig"
    return Kubectl(admin, home)


def _nodes(kubectl: Kubectl, selector: str) -> list[dict[str, Any]]:
    out = kubectl("get", "nodes", "-l", selector, "-o", "json")
    return list(json.loads(out)["items"])


def _ready(node: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


def _wait(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_three_zone_node_group_goes_active_scales_and_replaces_instances(
    region: RegionProcess, node_role: str, kubectl: Kubectl
) -> None:
    eks, ec2 = region.client("eks"), region.client("ec2")
    started = time.monotonic()
    group = eks.create_nodegroup(
        clusterName=CLUSTER,
        nodegroupName="sim",
        subnets=subnets(region),
        nodeRole=node_role,
        scalingConfig={"minSize": 1, "maxSize": 6, "desiredSize": 3},
        labels={**SIMULATED, "team": "a"},
        taints=[{"key": "dedicated", "value": "a", "effect": "NO_SCHEDULE"}],
    )["nodegroup"]
    assert group["status"] == "CREATING"
    eks.get_waiter("nodegroup_active").wait(
        clusterName=CLUSTER, nodegroupName="sim", WaiterConfig=FAST
    )
    active_after = time.monotonic() - started
    nodes = _nodes(kubectl, "eks.amazonaws.com/nodegroup=sim")
    assert len(nodes) == 3 and all(_ready(n) for n in nodes)
    zones = sorted(n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes)
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]
    labels = nodes[0]["metadata"]["labels"]
    assert labels["team"] == "a"
    assert labels["eks.amazonaws.com/capacityType"] == "ON_DEMAND"
    assert labels["eks.amazonaws.com/nodegroup-image"].startswith("ami-")
    assert {"key": "dedicated", "value": "a", "effect": "NoSchedule"} in nodes[0]["spec"]["taints"]
    wide = kubectl("get", "nodes", "-L", "topology.kubernetes.io/zone")
    assert "us-east-1b" in wide
    print(f"\nnode group of 3 simulated nodes ACTIVE in {active_after:.1f} s")

    instances = _group_instances(ec2, "sim")
    assert len(instances) == 3
    assert {i["PrivateDnsName"] for i in instances} == {n["metadata"]["name"] for n in nodes}

    # scale out, then in
    eks.update_nodegroup_config(
        clusterName=CLUSTER, nodegroupName="sim", scalingConfig={"desiredSize": 5}
    )
    _wait_updated(eks, "sim")
    assert len([n for n in _nodes(kubectl, "eks.amazonaws.com/nodegroup=sim") if _ready(n)]) == 5
    eks.update_nodegroup_config(
        clusterName=CLUSTER, nodegroupName="sim", scalingConfig={"desiredSize": 2}
    )
    _wait_updated(eks, "sim")
    _wait("two nodes", lambda: len(_nodes(kubectl, "eks.amazonaws.com/nodegroup=sim")) == 2)

    # a terminated instance is replaced
    victim = _group_instances(ec2, "sim")[0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[victim])
    _wait(
        "a replacement instance",
        lambda: (
            len(_group_instances(ec2, "sim")) == 2
            and victim not in {i["InstanceId"] for i in _group_instances(ec2, "sim")}
        ),
    )
    assert (
        eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName="sim")["nodegroup"]["status"]
        == "ACTIVE"
    )

    eks.delete_nodegroup(clusterName=CLUSTER, nodegroupName="sim")
    eks.get_waiter("nodegroup_deleted").wait(
        clusterName=CLUSTER, nodegroupName="sim", WaiterConfig=FAST
    )
    _wait("nodes gone", lambda: not _nodes(kubectl, "eks.amazonaws.com/nodegroup=sim"))
    assert not _group_instances(ec2, "sim")


def test_a_self_managed_instance_joins_only_with_an_access_entry(
    region: RegionProcess, node_role: str, kubectl: Kubectl
) -> None:
    ec2, iam = region.client("ec2"), region.client("iam")
    iam.create_role(RoleName="stranger", AssumeRolePolicyDocument=TRUST_EC2)
    script = (
        f"#!/bin/bash\n/etc/eks/bootstrap.sh {CLUSTER} "
        "--kubelet-extra-args '--node-labels=kind=self'\n"
    )
    launched = {}
    for role in ("eks-node", "stranger"):
        found = ec2.run_instances(
            ImageId="ami-0123456789abcdef0",
            InstanceType="t3.medium",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnets(region)[0],
            UserData=script,  # boto3 encodes it in base64
            IamInstanceProfile={"Name": role},
            TagSpecifications=[{"ResourceType": "instance", "Tags": SIMULATED_TAGS}],
        )
        launched[role] = found["Instances"][0]
    _map_role(kubectl, node_role)  # as a user of a CONFIG_MAP cluster does for its nodes
    joined = _wait(
        "the mapped instance's node",
        lambda: _nodes(kubectl, "kind=self"),
    )
    assert [n["metadata"]["name"] for n in joined] == [launched["eks-node"]["PrivateDnsName"]]
    refused = launched["stranger"]["InstanceId"]
    _wait(
        "the refusal in the region log",
        lambda: f"instance {refused} may not join cluster {CLUSTER}" in region.log_path.read_text(),
    )
    assert len(_nodes(kubectl, "kind=self")) == 1
    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in launched.values()])


def _map_role(kubectl: Kubectl, role_arn: str) -> None:
    """What the aws-auth ConfigMap of a CONFIG_MAP cluster says for node roles."""
    roles = [
        {
            "rolearn": role_arn,
            "username": "system:node:{{EC2PrivateDNSName}}",
            "groups": ["system:bootstrappers", "system:nodes"],
        }
    ]
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapRoles": json.dumps(roles)},
    }
    kubectl("apply", "-f", "-", input=json.dumps(manifest))


def _group_instances(ec2: Any, group: str) -> list[dict[str, Any]]:
    found = ec2.describe_instances(
        Filters=[
            {"Name": "tag:eks:nodegroup-name", "Values": [group]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )
    return [i for r in found["Reservations"] for i in r["Instances"]]


def _wait_updated(eks: Any, group: str) -> None:
    _wait(
        "the update to finish",
        lambda: (
            eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=group)["nodegroup"]["status"]
            == "ACTIVE"
        ),
        timeout=120,
    )
    updates = eks.list_updates(name=CLUSTER, nodegroupName=group)["updateIds"]
    for update_id in updates:
        update = eks.describe_update(name=CLUSTER, nodegroupName=group, updateId=update_id)
        assert update["update"]["status"] == "Successful", update
