"""EKS helpers for the end-to-end suites: the cluster role, subnets, creating and
deleting clusters with boto3's waiters, kubectl through `openeks update-kubeconfig`."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Any

from tests.support.kubectl import Kubectl
from tests.support.region import BIN, RegionProcess

SUBNET_FILTER = [{"Name": "default-for-az", "Values": ["true"]}]
TRUST_EKS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "eks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def role_arn(region: RegionProcess) -> str:
    return str(region.client("iam").get_role(RoleName="eks-cluster")["Role"]["Arn"])


def subnets(region: RegionProcess) -> list[str]:
    found = region.client("ec2").describe_subnets(Filters=SUBNET_FILTER)["Subnets"]
    return [s["SubnetId"] for s in found]


def create(region: RegionProcess, name: str, **extra: Any) -> dict[str, Any]:
    eks = region.client("eks")
    extra.setdefault("resourcesVpcConfig", {"subnetIds": subnets(region)})
    cluster = eks.create_cluster(name=name, roleArn=role_arn(region), **extra)["cluster"]
    assert cluster["status"] == "CREATING"
    eks.get_waiter("cluster_active").wait(name=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    active: dict[str, Any] = eks.describe_cluster(name=name)["cluster"]
    return active


def delete(region: RegionProcess, name: str) -> None:
    eks = region.client("eks")
    eks.delete_cluster(name=name)
    eks.get_waiter("cluster_deleted").wait(name=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})


def kubectl_for(region: RegionProcess, name: str, home: Path, key: Any = None) -> Kubectl:
    """kubectl with a kubeconfig from `openeks update-kubeconfig` (exec: openeks eks
    get-token) and the given IAM key in its environment."""
    config = home / "kubeconfig"
    env = region.env(key)
    done = subprocess.run(
        [
            str(BIN / "openeks"),
            "update-kubeconfig",
            "--name",
            name,
            "--kubeconfig",
            str(config),
            "--endpoint-url",
            region.url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    return Kubectl(config, home, env=env)


def ensure_role(region: RegionProcess) -> None:
    """The cluster role every suite's clusters use (it must trust eks.amazonaws.com)."""
    region.client("iam").create_role(RoleName="eks-cluster", AssumeRolePolicyDocument=TRUST_EKS)
