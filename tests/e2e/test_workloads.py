"""A whole cluster with real kubectl: control plane, two runc nodes in two zones, a registry.

The images are busybox-static built by the test and pushed with skopeo to Debian's
docker-registry on 127.0.0.1; pods are real runc containers with their own IPs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Cluster, wait_for
from tests.support.kubectl import Kubectl
from tests.support.registry import LocalRegistry, build_busybox_image, push, tools_available

pytestmark = pytest.mark.skipif(
    not tools_available(), reason="needs root, runc, docker-registry, skopeo"
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    root = tmp_path_factory.mktemp("registry")
    with LocalRegistry(workdir=root / "registry") as reg:
        layout = build_busybox_image(root / "busybox")
        push(layout, reg, "busybox:latest")
        push(layout, reg, "busybox:v2")
        yield reg


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, registry: LocalRegistry) -> Iterator[Cluster]:
    with Cluster(tmp_path_factory.mktemp("cluster")) as c:
        c.add_node("node-a", zone="us-east-1a", pod_cidr="10.244.1.0/24")
        c.add_node("node-b", zone="us-east-1b", pod_cidr="10.244.2.0/24")
        k = Kubectl(c.kubeconfig, c.root / "home")
        wait_for(lambda: _ready_nodes(k) == {"node-a", "node-b"}, 60, what="two Ready nodes")
        yield c


@pytest.fixture(scope="module")
def kubectl(cluster: Cluster) -> Kubectl:
    return Kubectl(cluster.kubeconfig, cluster.root / "home")


@pytest.fixture
def ns(kubectl: Kubectl, request: pytest.FixtureRequest) -> str:
    name = request.node.name.lower().replace("_", "-")[:40].strip("-")
    kubectl("create", "namespace", name)
    return name


def _ready_nodes(kubectl: Kubectl) -> set[str]:
    nodes = json.loads(kubectl("get", "nodes", "-o", "json"))["items"]
    ready = set()
    for node in nodes:
        for c in node["status"].get("conditions", []):
            if c["type"] == "Ready" and c["status"] == "True":
                ready.add(node["metadata"]["name"])
    return ready


def _pods(kubectl: Kubectl, ns: str, selector: str = "") -> list[dict[str, Any]]:
    args = ["get", "pods", "-n", ns, "-o", "json"]
    if selector:
        args += ["-l", selector]
    return json.loads(kubectl(*args))["items"]


def _running(pod: dict[str, Any]) -> bool:
    conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
    return pod["status"].get("phase") == "Running" and conditions.get("Ready") == "True"


def test_a_deployment_reaches_ready_across_both_zones(
    kubectl: Kubectl, registry: LocalRegistry, ns: str
) -> None:
    image = f"{registry.host}/busybox"
    kubectl(
        "create",
        "deployment",
        "web",
        "-n",
        ns,
        f"--image={image}",
        "--replicas=4",
        "--",
        "httpd",
        "-f",
        "-p",
        "8080",
    )
    out = kubectl.run(
        "rollout", "status", "deployment/web", "-n", ns, "--timeout=120s", timeout=150
    ).stdout
    assert 'deployment "web" successfully rolled out' in out
    pods = _pods(kubectl, ns, "app=web")
    assert len(pods) == 4 and all(_running(p) for p in pods)
    assert {p["spec"]["nodeName"] for p in pods} == {"node-a", "node-b"}
    ips = {p["status"]["podIP"] for p in pods}
    assert len(ips) == 4 and all(ip.startswith("10.244.") for ip in ips)
    wide = kubectl("get", "pods", "-n", ns, "-o", "wide")
    assert "node-a" in wide and "node-b" in wide


def test_logs_and_exec(kubectl: Kubectl, registry: LocalRegistry, ns: str) -> None:
    kubectl(
        "run",
        "talker",
        "-n",
        ns,
        f"--image={registry.host}/busybox",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "echo hello from the pod; sleep 3600",
    )
    kubectl.run(
        "wait", "--for=condition=Ready", "pod/talker", "-n", ns, "--timeout=60s", timeout=90
    )
    wait_for(lambda: "hello from the pod" in kubectl("logs", "talker", "-n", ns), 20, what="logs")
    assert kubectl("exec", "talker", "-n", ns, "--", "echo", "ok").strip() == "ok"
    failed = kubectl.run("exec", "talker", "-n", ns, "--", "sh", "-c", "exit 3", check=False)
    assert failed.returncode == 3


def test_set_image_rollout_undo_and_scale(
    kubectl: Kubectl, registry: LocalRegistry, ns: str
) -> None:
    kubectl(
        "create",
        "deployment",
        "roll",
        "-n",
        ns,
        f"--image={registry.host}/busybox",
        "--replicas=2",
        "--",
        "sleep",
        "3600",
    )
    kubectl.run("rollout", "status", "deployment/roll", "-n", ns, "--timeout=120s", timeout=150)
    kubectl("set", "image", "deployment/roll", f"busybox={registry.host}/busybox:v2", "-n", ns)
    kubectl.run("rollout", "status", "deployment/roll", "-n", ns, "--timeout=120s", timeout=150)
    images = {
        c["image"]
        for p in _pods(kubectl, ns, "app=roll")
        for c in p["spec"]["containers"]
        if not p["metadata"].get("deletionTimestamp")
    }
    assert images == {f"{registry.host}/busybox:v2"}
    kubectl("rollout", "undo", "deployment/roll", "-n", ns)
    kubectl.run("rollout", "status", "deployment/roll", "-n", ns, "--timeout=120s", timeout=150)
    image = kubectl(
        "get",
        "deployment",
        "roll",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    )
    assert image == f"{registry.host}/busybox"
    kubectl("scale", "deployment", "roll", "-n", ns, "--replicas=3")
    kubectl.run("rollout", "status", "deployment/roll", "-n", ns, "--timeout=120s", timeout=150)
    assert (
        kubectl("get", "deployment", "roll", "-n", ns, "-o", "jsonpath={.status.readyReplicas}")
        == "3"
    )


def test_a_job_runs_to_completion(kubectl: Kubectl, registry: LocalRegistry, ns: str) -> None:
    kubectl(
        "create",
        "job",
        "once",
        "-n",
        ns,
        f"--image={registry.host}/busybox",
        "--",
        "sh",
        "-c",
        "echo done",
    )
    kubectl.run(
        "wait", "--for=condition=complete", "job/once", "-n", ns, "--timeout=90s", timeout=120
    )
    assert "Complete" in kubectl("get", "jobs", "-n", ns)
    pods = _pods(kubectl, ns, "job-name=once")
    assert pods[0]["status"]["phase"] == "Succeeded"
    assert "done" in kubectl("logs", pods[0]["metadata"]["name"], "-n", ns)


def test_a_crashing_container_backs_off(kubectl: Kubectl, registry: LocalRegistry, ns: str) -> None:
    kubectl(
        "run", "crasher", "-n", ns, f"--image={registry.host}/busybox", "--", "sh", "-c", "exit 1"
    )

    def crash_looping() -> bool:
        status = _pods(kubectl, ns)[0]["status"].get("containerStatuses", [{}])[0]
        waiting = status.get("state", {}).get("waiting", {})
        return status.get("restartCount", 0) >= 1 and waiting.get("reason") == "CrashLoopBackOff"

    wait_for(crash_looping, 90, what="CrashLoopBackOff")
    assert "CrashLoopBackOff" in kubectl("get", "pods", "-n", ns)


def test_bad_image_and_unschedulable_pod(
    kubectl: Kubectl, registry: LocalRegistry, ns: str
) -> None:
    kubectl("run", "ghost", "-n", ns, f"--image={registry.host}/doesnotexist:1", "--restart=Never")

    def pull_failed() -> str:
        status = _pods(kubectl, ns)[0]["status"].get("containerStatuses", [{}])[0]
        waiting = status.get("state", {}).get("waiting", {})
        return (
            waiting.get("message", "")
            if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff")
            else ""
        )

    message = str(wait_for(pull_failed, 60, what="ErrImagePull"))
    assert "not found" in message.lower() or "unknown" in message.lower()
    huge = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "huge"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": f"{registry.host}/busybox",
                    "resources": {"requests": {"cpu": "64"}},
                }
            ]
        },
    }
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(huge))

    def failed_scheduling() -> str:
        events = json.loads(
            kubectl(
                "get",
                "events",
                "-n",
                ns,
                "--field-selector",
                "involvedObject.name=huge,reason=FailedScheduling",
                "-o",
                "json",
            )
        )["items"]
        return events[0]["message"] if events else ""

    message = str(wait_for(failed_scheduling, 30, what="FailedScheduling"))
    assert message.startswith("0/2 nodes are available: 2 Insufficient cpu.")
    assert kubectl("get", "pod", "huge", "-n", ns, "-o", "jsonpath={.status.phase}") == "Pending"


def test_pods_move_off_a_node_that_dies(
    kubectl: Kubectl, cluster: Cluster, registry: LocalRegistry, ns: str, tmp_path: Path
) -> None:
    toleration = [
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 10,
        },
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 10,
        },
    ]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "tough"},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "tough"}},
            "template": {
                "metadata": {"labels": {"app": "tough"}},
                "spec": {
                    "tolerations": toleration,
                    "containers": [
                        {
                            "name": "c",
                            "image": f"{registry.host}/busybox",
                            "command": ["sleep", "3600"],
                        }
                    ],
                },
            },
        },
    }
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(deployment))
    kubectl.run("rollout", "status", "deployment/tough", "-n", ns, "--timeout=120s", timeout=150)
    patient = dict(deployment, metadata={"name": "patient"})
    patient["spec"] = json.loads(
        json.dumps(deployment["spec"])
        .replace("tough", "patient")
        .replace('"tolerationSeconds": 10', '"tolerationSeconds": 300')
    )
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(patient))
    kubectl.run("rollout", "status", "deployment/patient", "-n", ns, "--timeout=120s", timeout=150)
    victim = next(n for n in cluster.nodes if n.name == "node-b")
    on_b = [
        p["metadata"]["name"]
        for p in _pods(kubectl, ns, "app=patient")
        if p["spec"]["nodeName"] == "node-b"
    ]
    started = time.monotonic()
    victim.stop(kill=True)
    wait_for(lambda: "node-b" not in _ready_nodes(kubectl), 60, interval=1, what="node-b NotReady")
    assert time.monotonic() - started <= 50
    taints = json.loads(kubectl("get", "node", "node-b", "-o", "json"))["spec"].get("taints", [])
    assert any(
        t["key"] == "node.kubernetes.io/unreachable" and t["effect"] == "NoExecute" for t in taints
    )

    def moved() -> bool:
        pods = [
            p for p in _pods(kubectl, ns, "app=tough") if not p["metadata"].get("deletionTimestamp")
        ]
        return len(pods) == 4 and all(
            p["spec"].get("nodeName") == "node-a" and _running(p) for p in pods
        )

    wait_for(moved, 90, interval=1, what="tough pods recreated on node-a")
    still = [
        p["metadata"]["name"]
        for p in _pods(kubectl, ns, "app=patient")
        if p["spec"]["nodeName"] == "node-b"
    ]
    assert sorted(still) == sorted(on_b), "pods tolerating 300 s must wait"


def test_an_imported_image_runs_without_a_registry(
    kubectl: Kubectl, cluster: Cluster, ns: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from tests.support.registry import oci_archive

    archive = oci_archive(build_busybox_image(tmp_path / "layout"), tmp_path / "busybox.tar")
    node = next(n for n in cluster.nodes if n.name == "node-a")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openeks.cli.main",
            "image",
            "import",
            str(archive),
            "--data-dir",
            str(node.data_dir),
            "--name",
            "offline.example/busybox",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "offline.example/busybox:latest" in result.stdout
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "offline"},
        "spec": {
            "nodeName": "node-a",
            "containers": [
                {
                    "name": "c",
                    "image": "offline.example/busybox:latest",
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", "echo offline ok; sleep 3600"],
                }
            ],
        },
    }
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
    kubectl.run(
        "wait", "--for=condition=Ready", "pod/offline", "-n", ns, "--timeout=60s", timeout=90
    )
    wait_for(lambda: "offline ok" in kubectl("logs", "offline", "-n", ns), 20, what="logs")


def test_components_run_as_their_own_identities(cluster: Cluster) -> None:
    node = Kubectl(cluster.root / "node-a.kubeconfig", cluster.root / "node-home")
    assert "system:node:node-a" in node("auth", "whoami")
    assert node.run("auth", "can-i", "patch", "nodes/status").stdout.strip() == "yes"
    refused = node.fails("create", "namespace", "not-for-nodes")
    assert 'User "system:node:node-a" cannot create resource "namespaces"' in refused.stderr
    plane = cluster.api.data_dir
    for kubeconfig, user in (
        ("scheduler.kubeconfig", "system:kube-scheduler"),
        ("controller-manager.kubeconfig", "system:kube-controller-manager"),
    ):
        component = Kubectl(plane / kubeconfig, cluster.root / f"{user}-home")
        assert user in component("auth", "whoami")
        assert component.run(
            "auth", "can-i", "delete", "secrets", "-n", "kube-system", check=False
        ).stdout.strip() == "no" or user.endswith("manager")
