"""Fargate end to end, through a real `openeks up`: a profile for namespace `serverless`,
pods there on dedicated `fargate-ip-…` nodes sized as AWS sizes them, pods elsewhere on a
node group, usage metered and reported by `openeks fargate usage`.

The profile carries the tag `openeks.io/runtime=simulated` (its nodes run pods without
processes), so the suite checks the EKS side quickly; the node agent's runc path is
covered by the other end-to-end suites.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.eks import create, ensure_role, subnets
from tests.support.kubectl import Kubectl
from tests.support.region import BIN, RegionProcess
from tests.support.registry import LocalRegistry, build_busybox_image, push, tools_available

CLUSTER = "serverless"
FAST = {"Delay": 1, "MaxAttempts": 120}
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "api", "namespace": "serverless"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "api"}},
        "template": {
            "metadata": {"labels": {"app": "api"}},
            "spec": {
                "containers": [
                    {
                        "name": "api",
                        "image": "busybox",
                        "command": ["sleep", "3600"],
                        "resources": {"requests": {"cpu": "1", "memory": "3Gi"}},
                    }
                ]
            },
        },
    },
}


def _trust(service: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegionProcess]:
    with RegionProcess(tmp_path_factory.mktemp("region")) as served:
        ensure_role(served)
        create(served, CLUSTER, tags={"openeks.io/control-plane": "single-zone"})
        yield served


@pytest.fixture(scope="module")
def kubectl(region: RegionProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    admin = region.data_dir / "clusters" / CLUSTER / "admin.kubeconfig"
    return Kubectl(admin, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def profile(region: RegionProcess) -> dict[str, Any]:
    ec2, iam, eks = region.client("ec2"), region.client("iam"), region.client("eks")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    private = [
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]
        for cidr, zone in (("172.31.128.0/20", "us-east-1a"), ("172.31.144.0/20", "us-east-1b"))
    ]
    role = iam.create_role(
        RoleName="fargate-pods", AssumeRolePolicyDocument=_trust("eks-fargate-pods.amazonaws.com")
    )["Role"]
    created = eks.create_fargate_profile(
        clusterName=CLUSTER,
        fargateProfileName="serverless",
        podExecutionRoleArn=role["Arn"],
        subnets=[s["SubnetId"] for s in private],
        selectors=[{"namespace": "serverless"}],
        tags={"openeks.io/runtime": "simulated"},
    )["fargateProfile"]
    assert created["status"] == "CREATING"
    eks.get_waiter("fargate_profile_active").wait(
        clusterName=CLUSTER, fargateProfileName="serverless", WaiterConfig=FAST
    )
    return dict(
        eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="serverless")[
            "fargateProfile"
        ]
    )


def _pods(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    return list(json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"])


def _wait(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _running(kubectl: Kubectl, namespace: str, count: int) -> list[dict[str, Any]]:
    pods = [p for p in _pods(kubectl, namespace) if p["status"].get("phase") == "Running"]
    return pods if len(pods) == count else []


def test_pods_of_the_profiles_namespace_get_their_own_fargate_nodes(
    region: RegionProcess, profile: dict[str, Any], kubectl: Kubectl
) -> None:
    kubectl("create", "namespace", "serverless")
    started = time.monotonic()
    kubectl("apply", "-f", "-", input=json.dumps(DEPLOYMENT))
    pods = _wait("two Running Fargate pods", lambda: _running(kubectl, "serverless", 2))
    print(f"\n2 Fargate pods Running {time.monotonic() - started:.1f} s after the Deployment")
    nodes = {p["spec"]["nodeName"] for p in pods}
    assert len(nodes) == 2 and all(n.startswith("fargate-ip-") for n in nodes)
    for pod in pods:
        assert pod["spec"]["schedulerName"] == "fargate-scheduler"
        assert pod["metadata"]["labels"]["eks.amazonaws.com/fargate-profile"] == "serverless"
        # 1 vCPU and 3 GiB + 256 MiB round up to 1 vCPU 4 GB
        assert pod["metadata"]["annotations"]["CapacityProvisioned"] == "1vCPU 4GB"
    node = json.loads(kubectl("get", "node", sorted(nodes)[0], "-o", "json"))
    assert node["metadata"]["labels"]["eks.amazonaws.com/compute-type"] == "fargate"
    assert {
        "key": "eks.amazonaws.com/compute-type",
        "value": "fargate",
        "effect": "NoSchedule",
    } in node["spec"]["taints"]
    assert node["status"]["capacity"]["cpu"] == "1"
    assert node["status"]["capacity"]["memory"] == "4Gi"
    assert node["status"]["capacity"]["pods"] == "1"
    assert node["metadata"]["labels"]["topology.kubernetes.io/zone"] in ("us-east-1a", "us-east-1b")

    # one pod, timed from creation to Running
    started = time.monotonic()
    kubectl("run", "one", "-n", "serverless", "--image=busybox", "--", "sleep", "3600")
    _wait(
        "the pod Running",
        lambda: (
            json.loads(kubectl("get", "pod", "one", "-n", "serverless", "-o", "json"))[
                "status"
            ].get("phase")
            == "Running"
        ),
    )
    print(f"one Fargate pod create → Running in {time.monotonic() - started:.2f} s")

    # scaled down: the node goes with its pod
    kubectl("scale", "deployment/api", "-n", "serverless", "--replicas=1")
    _wait(
        "a Fargate node removed",
        lambda: len(_fargate_nodes(kubectl)) == 2,  # one of api, plus "one"
    )

    time.sleep(1)
    usage = subprocess.run(
        [str(BIN / "openeks"), "fargate", "usage", "--cluster", CLUSTER, "--endpoint-url",
         region.url, "--output", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert usage.returncode == 0, usage.stderr
    report = json.loads(usage.stdout)
    assert "serverless" in json.dumps(report)
    assert _vcpu_seconds(report) > 0


def test_pods_elsewhere_and_unsupported_pods_do_not_go_to_fargate(
    region: RegionProcess, profile: dict[str, Any], kubectl: Kubectl
) -> None:
    eks, iam = region.client("eks"), region.client("iam")
    role = iam.create_role(RoleName="nodes", AssumeRolePolicyDocument=_trust("ec2.amazonaws.com"))
    eks.create_nodegroup(
        clusterName=CLUSTER,
        nodegroupName="general",
        subnets=subnets(region),
        nodeRole=role["Role"]["Arn"],
        scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1},
        labels={"openeks.io/runtime": "simulated"},
    )
    eks.get_waiter("nodegroup_active").wait(
        clusterName=CLUSTER, nodegroupName="general", WaiterConfig=FAST
    )
    kubectl("run", "plain", "--image=busybox", "--", "sleep", "3600")
    pod = json.loads(kubectl("get", "pod", "plain", "-o", "json"))
    assert pod["spec"]["schedulerName"] == "default-scheduler"
    node = _wait(
        "the pod bound",
        lambda: json.loads(kubectl("get", "pod", "plain", "-o", "json"))["spec"].get("nodeName"),
    )
    labels = json.loads(kubectl("get", "node", node, "-o", "json"))["metadata"]["labels"]
    assert labels["eks.amazonaws.com/nodegroup"] == "general"

    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "root", "namespace": "serverless"},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox", "securityContext": {"privileged": True}}
            ]
        },
    }
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "serverless"}}
    kubectl("apply", "-f", "-", input=json.dumps(namespace))
    _wait(
        "the default service account",
        lambda: (
            kubectl.run("get", "sa", "default", "-n", "serverless", check=False).returncode == 0
        ),
    )
    kubectl("apply", "-f", "-", input=json.dumps(privileged))
    events = _wait(
        "the FailedScheduling event",
        lambda: [
            e
            for e in json.loads(kubectl("get", "events", "-n", "serverless", "-o", "json"))["items"]
            if e["involvedObject"]["name"] == "root" and e["reason"] == "FailedScheduling"
        ],
    )
    assert "Pod not supported on Fargate" in events[0]["message"]
    assert "Privileged" in events[0]["message"]
    phase = json.loads(kubectl("get", "pod", "root", "-n", "serverless", "-o", "json"))
    assert phase["status"]["phase"] == "Pending"


def _fargate_nodes(kubectl: Kubectl) -> list[str]:
    out = kubectl("get", "nodes", "-l", "eks.amazonaws.com/compute-type=fargate", "-o", "name")
    return out.split()


def _vcpu_seconds(report: Any) -> float:
    if isinstance(report, dict):
        return sum(
            float(v) if k in ("vcpuSeconds", "vcpu_seconds") else _vcpu_seconds(v)
            for k, v in report.items()
        )
    if isinstance(report, list):
        return sum(_vcpu_seconds(v) for v in report)
    return 0.0


@pytest.mark.skipif(not tools_available(), reason="needs root, runc, docker-registry, skopeo")
def test_a_fargate_pod_runs_a_real_container(
    region: RegionProcess,
    profile: dict[str, Any],
    kubectl: Kubectl,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("registry")
    with LocalRegistry(workdir=root / "registry") as registry:
        push(build_busybox_image(root / "busybox"), registry, "busybox:latest")
        eks = region.client("eks")
        eks.create_fargate_profile(
            clusterName=CLUSTER,
            fargateProfileName="real",
            podExecutionRoleArn=profile["podExecutionRoleArn"],
            subnets=profile["subnets"],
            selectors=[{"namespace": "real"}],
        )
        eks.get_waiter("fargate_profile_active").wait(
            clusterName=CLUSTER, fargateProfileName="real", WaiterConfig=FAST
        )
        kubectl("create", "namespace", "real")
        started = time.monotonic()
        kubectl(
            "run", "hello", "-n", "real", f"--image={registry.host}/busybox", "--",
            "sh", "-c", "echo hello from fargate; sleep 3600",
        )  # fmt: skip
        kubectl.run(
            "wait", "--for=condition=Ready", "pod/hello", "-n", "real", "--timeout=60s",
            timeout=90,
        )  # fmt: skip
        print(f"\na runc Fargate pod Ready in {time.monotonic() - started:.2f} s")
        pod = json.loads(kubectl("get", "pod", "hello", "-n", "real", "-o", "json"))
        assert pod["spec"]["nodeName"].startswith("fargate-ip-")
        _wait("the log", lambda: "hello from fargate" in kubectl("logs", "hello", "-n", "real"))
        kubectl("delete", "pod", "hello", "-n", "real", "--wait=true", "--timeout=60s")
        _wait("its node gone", lambda: pod["spec"]["nodeName"] not in str(_fargate_nodes(kubectl)))
