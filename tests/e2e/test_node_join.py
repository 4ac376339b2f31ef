"""`openeks node join` end to end: node agents started by hand join a real `openeks up`
cluster only when the cluster maps their AWS identity to their node.

One region and one single-zone control plane (authentication mode API_AND_CONFIG_MAP, so
both the aws-auth ConfigMap and access entries count) serve the module. Joined nodes run
the simulated runtime; every agent started here is stopped by its test.
"""

from __future__ import annotations

import configparser
import json
import os
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.eks import create, ensure_role
from tests.support.kubectl import Kubectl
from tests.support.region import BIN, REGION, RegionProcess

pytestmark = pytest.mark.timeout(600)

CLUSTER = "hands"
UNMAPPED_REASON = "has no access entry of type EC2_LINUX and no aws-auth mapping"


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegionProcess]:
    with RegionProcess(tmp_path_factory.mktemp("region")) as served:
        ensure_role(served)
        create(
            served,
            CLUSTER,
            tags={"openeks.io/control-plane": "single-zone"},
            accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"},
        )
        yield served


@pytest.fixture(scope="module")
def kubectl(region: RegionProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    admin = region.data_dir / "clusters" / CLUSTER / "admin.kubeconfig"
    return Kubectl(admin, tmp_path_factory.mktemp("home"))


def _user(region: RegionProcess, name: str) -> tuple[str, tuple[str, str]]:
    """An IAM user with an access key: (ARN, key)."""
    iam = region.client("iam")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return str(arn), (key["AccessKeyId"], key["SecretAccessKey"])


def _map_users(kubectl: Kubectl, users: list[dict[str, Any]]) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapUsers": json.dumps(users)},
    }
    kubectl("apply", "-f", "-", input=json.dumps(manifest))


def _join_args(region: RegionProcess, node: str, data_dir: Path) -> list[str]:
    return [
        str(BIN / "openeks"), "node", "join",
        "--cluster", CLUSTER,
        "--name", node,
        "--endpoint-url", region.url,
        "--runtime", "simulated",
        "--zone", "us-east-1a",
        "--instance-type", "t3.medium",
        "--labels", "joined=by-hand",
        "--data-dir", str(data_dir),
    ]  # fmt: skip


def _join_refused(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    return done


class Agent:
    """`openeks node join` running a node agent, stopped (with its group) afterwards."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _ready_node(kubectl: Kubectl, name: str, agent: Agent, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert agent.proc.poll() is None, agent.log.read_text()[-3000:]
        found = kubectl.run("get", "node", name, "-o", "json", check=False)
        if found.returncode == 0:
            node: dict[str, Any] = json.loads(found.stdout)
            conditions = node["status"].get("conditions") or []
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                return node
        time.sleep(0.5)
    raise AssertionError(f"node {name} not Ready: {agent.log.read_text()[-3000:]}")


def test_a_user_mapped_in_aws_auth_joins_as_its_node(
    region: RegionProcess, kubectl: Kubectl, tmp_path: Path
) -> None:
    arn, key = _user(region, "hand")
    _map_users(
        kubectl,
        [{"userarn": arn, "username": "system:node:hand-1", "groups": ["system:nodes"]}],
    )
    data_dir = tmp_path / "hand-1"
    env = region.env(key)
    with Agent(_join_args(region, "hand-1", data_dir), env, tmp_path / "hand-1.log") as agent:
        node = _ready_node(kubectl, "hand-1", agent)
        assert node["metadata"]["labels"]["joined"] == "by-hand"
        assert node["metadata"]["labels"]["topology.kubernetes.io/zone"] == "us-east-1a"
        kubeconfig = data_dir / "kubeconfig"
        assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
        wide = kubectl("get", "nodes", "-o", "wide")
        assert "hand-1" in wide and "Ready" in wide

        # the same user may not claim another node
        done = _join_refused(_join_args(region, "hand-2", tmp_path / "hand-2"), env)
        assert "maps to 'system:node:hand-1'" in done.stderr
        assert "not to system:node:hand-2 in system:nodes" in done.stderr
        assert not (tmp_path / "hand-2" / "kubeconfig").exists()
    assert kubectl.run("get", "node", "hand-2", check=False).returncode != 0


def test_an_unmapped_user_is_refused_and_the_region_logs_why(
    region: RegionProcess, kubectl: Kubectl, tmp_path: Path
) -> None:
    arn, key = _user(region, "stranger")
    done = _join_refused(_join_args(region, "stray-1", tmp_path / "stray"), region.env(key))
    assert f"node stray-1 may not join cluster {CLUSTER}" in done.stderr
    assert f"{arn} {UNMAPPED_REASON}" in done.stderr
    assert "AccessDeniedException" in done.stderr
    assert not (tmp_path / "stray" / "kubeconfig").exists()
    log = region.log_path.read_text()
    assert f"node stray-1 may not join cluster {CLUSTER}: {arn} {UNMAPPED_REASON}" in log
    assert "Signature=" not in log
    assert kubectl.run("get", "node", "stray-1", check=False).returncode != 0


def test_a_role_session_with_an_ec2_linux_access_entry_joins(
    region: RegionProcess, kubectl: Kubectl, tmp_path: Path
) -> None:
    _, key = _user(region, "operator")
    role = region.client("iam").create_role(
        RoleName="hand-node", AssumeRolePolicyDocument=_trust_ec2()
    )["Role"]["Arn"]
    entry = region.aws(
        "eks", "create-access-entry", "--cluster-name", CLUSTER,
        "--principal-arn", role, "--type", "EC2_LINUX",
    )["accessEntry"]  # fmt: skip
    assert entry["username"] == "system:node:{{EC2PrivateDNSName}}"
    session = region.aws(
        "sts", "assume-role", "--role-arn", role, "--role-session-name", "builder", key=key
    )["Credentials"]
    credentials = tmp_path / "credentials"
    _write_profile(credentials, "node", session)
    env = region.env()
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_PROFILE="node")
    name = "ip-10-0-0-7.ec2.internal"
    with Agent(_join_args(region, name, tmp_path / "role"), env, tmp_path / "role.log") as agent:
        node = _ready_node(kubectl, name, agent)
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == name

    # without the entry the same session is refused
    region.aws("eks", "delete-access-entry", "--cluster-name", CLUSTER, "--principal-arn", role)
    done = _join_refused(_join_args(region, "ip-10-0-0-8.ec2.internal", tmp_path / "r2"), env)
    assert f"assumed-role/hand-node/builder {UNMAPPED_REASON}" in done.stderr


def test_the_join_route_refuses_bad_requests_with_reasons(region: RegionProcess) -> None:
    url = f"{region.url}/openeks/eks/clusters/{CLUSTER}/join"
    body = json.dumps({"nodeName": "n-1"}).encode()

    status, answer = _post(url, body, {"Content-Type": "application/json"})
    assert (status, answer["code"]) == (403, "MissingAuthenticationTokenException")
    assert answer["message"] == "Missing Authentication Token"

    headers = _signed(region, url, body)
    status, answer = _post(url, json.dumps({"nodeName": "n-2"}).encode(), headers)
    assert (status, answer["code"]) == (403, "InvalidSignatureException")

    headers = _signed(region, url, body, key=("AKIAUNKNOWN000000000", "secret"))
    status, answer = _post(url, body, headers)
    assert (status, answer["code"]) == (403, "UnrecognizedClientException")
    assert answer["message"] == "The security token included in the request is invalid."

    for bad, reason in (
        (b"not json", "the body is not JSON"),
        (b"[]", 'the body must be {"nodeName": "<node name>"}'),
        (json.dumps({"nodeName": 7}).encode(), 'the body must be {"nodeName": "<node name>"}'),
        (json.dumps({"nodeName": "Bad_Name"}).encode(), "is not a valid Node name"),
    ):
        status, answer = _post(url, bad, _signed(region, url, bad))
        assert status == 400 and reason in answer["message"], (bad, answer)

    missing = f"{region.url}/openeks/eks/clusters/nope/join"
    status, answer = _post(missing, body, _signed(region, missing, body))
    assert (status, answer) == (
        404,
        {"message": "No cluster found for name: nope.", "code": "ResourceNotFoundException"},
    )

    # the account's root key maps to the cluster's creator, not to a node
    status, answer = _post(url, body, _signed(region, url, body))
    assert status == 403 and "not to system:node:n-1 in system:nodes" in answer["message"]


# -- helpers ---------------------------------------------------------------------------------


def _trust_ec2() -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _write_profile(path: Path, profile: str, session: dict[str, Any]) -> None:
    config = configparser.ConfigParser()
    config[profile] = {
        "aws_access_key_id": session["AccessKeyId"],
        "aws_secret_access_key": session["SecretAccessKey"],
        "aws_session_token": session["SessionToken"],
    }
    with open(path, "w") as f:
        config.write(f)


def _signed(
    region: RegionProcess, url: str, body: bytes, key: tuple[str, str] | None = None
) -> dict[str, str]:
    key_id, secret = key or region.root_key()
    request = AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(key_id, secret), "eks", REGION).add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
