"""The EKS region end to end: `openeks up`, then boto3, the AWS CLI, the `openeks` CLI and
kubectl (with `k8s-aws-v1` tokens) against real three-zone control planes.

One region serves the whole module; each test makes the clusters it needs.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import stat
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.eks import create, delete, ensure_role, kubectl_for, role_arn, subnets
from tests.support.kubectl import Kubectl
from tests.support.region import BIN, RegionProcess

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegionProcess]:
    with RegionProcess(tmp_path_factory.mktemp("region")) as running:
        ensure_role(running)
        yield running


def test_boto3_lifecycle(region: RegionProcess, tmp_path: Path) -> None:
    eks = region.client("eks")
    started = time.monotonic()
    cluster = create(region, "life", version="1.36")
    took = time.monotonic() - started
    assert cluster["status"] == "ACTIVE"
    assert cluster["endpoint"].startswith("https://")
    assert cluster["version"] == "1.36"
    assert cluster["identity"]["oidc"]["issuer"].startswith("https://oidc.eks.us-east-1")
    assert "life" in eks.list_clusters()["clusters"]
    print(f"CreateCluster to ACTIVE: {took:.1f} s")

    # The endpoint serves TLS with the CA the API reports, for the endpoint's address.
    ca = base64.b64decode(cluster["certificateAuthority"]["data"])
    (tmp_path / "ca.crt").write_bytes(ca)
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    with urllib.request.urlopen(f"{cluster['endpoint']}/readyz", context=context) as r:
        assert r.status == 200

    # The creator (the account's root key) administers the cluster through kubectl.
    kubectl = kubectl_for(region, "life", tmp_path / "root")
    namespaces = kubectl("get", "ns", "-o", "name")
    assert "namespace/kube-system" in namespaces
    who = json.loads(kubectl("auth", "whoami", "-o", "json"))
    assert who["status"]["userInfo"]["username"] == "kubernetes-admin"
    kubectl("create", "namespace", "made-by-root")

    # One minor at a time: 1.36 → 1.37, an Update that ends Successful.
    update = eks.update_cluster_version(name="life", version="1.37")["update"]
    assert update["status"] == "InProgress"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        update = eks.describe_update(name="life", updateId=update["id"])["update"]
        if update["status"] != "InProgress":
            break
        time.sleep(1)
    assert update["status"] == "Successful", update
    assert eks.describe_cluster(name="life")["cluster"]["version"] == "1.37"
    server = json.loads(kubectl("version", "-o", "json"))["serverVersion"]
    assert server["minor"] == "37"
    assert "namespace/made-by-root" in kubectl("get", "ns", "-o", "name")

    delete(region, "life")
    assert "life" not in eks.list_clusters()["clusters"]
    host = cluster["endpoint"].removeprefix("https://").split(":")[0]
    with pytest.raises(OSError), socket.create_connection((host, 443), timeout=1):
        pass


def test_errors_come_in_the_eks_shape(region: RegionProcess) -> None:
    eks = region.client("eks")
    with pytest.raises(ClientError) as missing:
        eks.describe_cluster(name="nope")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as bad_version:
        eks.create_cluster(
            name="bad",
            version="1.99",
            roleArn=role_arn(region),
            resourcesVpcConfig={"subnetIds": subnets(region)},
        )
    assert bad_version.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as bad_subnet:
        eks.create_cluster(
            name="bad",
            roleArn=role_arn(region),
            resourcesVpcConfig={"subnetIds": ["subnet-0000000000"]},
        )
    assert bad_subnet.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "bad" not in eks.list_clusters()["clusters"]

    # The AWS CLI reads the same errors.
    done = region.aws("eks", "describe-cluster", "--name", "nope", check=False)
    assert done.returncode != 0
    assert "ResourceNotFoundException" in done.stderr

    # A wrong secret is refused before anything is looked at.
    key_id, _ = region.root_key()
    with pytest.raises(ClientError) as forged:
        region.client("eks", key=(key_id, "x" * 40)).list_clusters()
    assert forged.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_aws_cli_and_iam_access_entries(region: RegionProcess, tmp_path: Path) -> None:
    """The AWS CLI creates an API-mode cluster and writes the kubeconfig (its exec plugin
    is `aws eks get-token`); an IAM user is unknown to the cluster until an access entry
    names them, then gets exactly what the associated access policy allows."""
    ids = subnets(region)
    created = region.aws(
        "eks", "create-cluster", "--name", "cli", "--role-arn", role_arn(region),
        "--resources-vpc-config", f"subnetIds={','.join(ids)}",
        "--access-config", "authenticationMode=API",
    )  # fmt: skip
    assert created["cluster"]["status"] == "CREATING"
    region.aws("eks", "wait", "cluster-active", "--name", "cli")

    config = tmp_path / "kubeconfig"
    region.aws("eks", "update-kubeconfig", "--name", "cli", "--kubeconfig", str(config))
    root = Kubectl(config, tmp_path / "root", env=region.env())
    assert "namespace/default" in root("get", "ns", "-o", "name")

    iam = region.client("iam")
    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    dev_key = (key["AccessKeyId"], key["SecretAccessKey"])
    dev = Kubectl(config, tmp_path / "dev", env=region.env(dev_key))
    refused = dev.fails("get", "pods")
    assert "Unauthorized" in refused.stderr or "must be logged in" in refused.stderr

    arn = iam.get_user(UserName="dev")["User"]["Arn"]
    eks = region.client("eks")
    eks.create_access_entry(clusterName="cli", principalArn=arn, username="dev")
    eks.associate_access_policy(
        clusterName="cli",
        principalArn=arn,
        policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        accessScope={"type": "cluster"},
    )
    deadline = time.monotonic() + 30
    while dev.run("get", "pods", check=False).returncode != 0:
        assert time.monotonic() < deadline, "the access entry never took effect"
        time.sleep(1)
    who = json.loads(dev("auth", "whoami", "-o", "json"))["status"]["userInfo"]
    assert who["username"] == "dev"
    assert "openeks:eks:AmazonEKSViewPolicy" in who["groups"]
    denied = dev.fails("create", "configmap", "x")
    assert "Forbidden" in denied.stderr or "forbidden" in denied.stderr
    delete(region, "cli")


def test_single_zone_cluster_and_openeks_cli(region: RegionProcess, tmp_path: Path) -> None:
    """The small dev control plane (one process, sqlite), created with the `openeks`
    CLI's kubeconfig and token."""
    create(region, "dev", tags={"openeks.io/control-plane": "single-zone"})
    kubectl = kubectl_for(region, "dev", tmp_path)
    assert "namespace/default" in kubectl("get", "ns", "-o", "name")
    token = subprocess.run(
        [str(BIN / "openeks"), "eks", "get-token", "--cluster-name", "dev"],
        env=region.env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    credential = json.loads(token.stdout)
    assert credential["kind"] == "ExecCredential"
    assert credential["status"]["token"].startswith("k8s-aws-v1.")
    delete(region, "dev")


def test_credentials_file_is_private(region: RegionProcess) -> None:
    assert stat.S_IMODE(region.credentials_file.stat().st_mode) == 0o600
    keys = list((region.data_dir / "clusters").rglob("*.key"))
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
