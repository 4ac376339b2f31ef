"""A managed node group of real runc nodes end to end, through a real `openeks up`.

Three t3.medium instances over the three default subnets join a single-zone control
plane; busybox (pushed to a local docker-registry) runs as a Deployment whose pods take
their addresses from their node's block of the subnet, as the VPC CNI gives them, and
reach each other across nodes, directly and through a Service. The group then scales
3 → 5 → 2 under a PodDisruptionBudget, loses an instance terminated without a drain
(replaced; its containers removed from the host), and rolls to the cluster's version,
while a poller watches the Deployment's available replicas; at the end, deleting the
group must leave no process, container, network namespace, bridge or proxy rule of its
nodes on the host.

The group is created one minor below the cluster (the newest served version), so the
version update has somewhere to go.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openeks.kube.client.config import load_kubeconfig
from openeks.kube.node.network import bridge_name
from openeks.kube.node.proxy import cluster_chains
from tests.support.eks import create, ensure_role, subnets
from tests.support.kubectl import Kubectl
from tests.support.region import RegionProcess
from tests.support.registry import LocalRegistry, build_busybox_image, push, tools_available

pytestmark = pytest.mark.skipif(
    not tools_available(), reason="needs root, runc, docker-registry, skopeo"
)

CLUSTER = "runc-workers"
GROUP = "runc"
NS = "apps"
MIN_AVAILABLE = 3
REPLICAS = 4
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
FAST = {"Delay": 1, "MaxAttempts": 180}
VPC = ipaddress.ip_network("172.31.0.0/16")
HTTPD = "mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 8080 -h /www"
SERVICE_CIDR = "10.117.0.0/16"  # its own, so the suite can share the host with others


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    root = tmp_path_factory.mktemp("registry")
    with LocalRegistry(workdir=root / "registry") as reg:
        push(build_busybox_image(root / "busybox"), reg, "busybox:latest")
        yield reg


class Leftovers:
    """What the nodes made on the host, noted while they ran, to check it is all gone."""

    def __init__(self, data_dir: Path, chain_tag: str) -> None:
        self.data_dir = data_dir
        self.chain_tag = chain_tag
        self.netns: set[str] = set()
        self.bridges: set[str] = set()

    def note(self) -> None:
        for record in self.data_dir.glob("instances/*/node/runtime/sandboxes/*/sandbox.json"):
            try:
                netns = json.loads(record.read_text()).get("netns") or ""
            except (OSError, ValueError):
                continue
            if netns:
                self.netns.add(Path(netns).name)

    def note_nodes(self, names: list[str]) -> None:
        self.bridges.update(bridge_name(n) for n in names)

    def remaining(self) -> list[str]:
        left = [f"process {p}" for p in _processes_under(self.data_dir / "instances")]
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        live_ns = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
        left += [f"netns {n}" for n in sorted(self.netns & live_ns)]
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
        live_links = {
            line.split(":")[1].strip().split("@")[0] for line in links.stdout.splitlines()
        }
        left += [f"bridge {b}" for b in sorted(self.bridges & live_links)]
        rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        left += [f"rule {r}" for r in rules.splitlines() if self.chain_tag in r]
        return left


def _processes_under(data_dir: Path) -> list[str]:
    """Processes whose command line, working directory or root is under `data_dir`
    (node agents, shims, runc, and containers, whose root is an overlay in there)."""
    found = []
    mine = str(data_dir)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            where = [os.readlink(entry / "cwd"), os.readlink(entry / "root")]
        except OSError:
            continue
        if mine in cmdline or any(w.startswith(mine) for w in where):
            found.append(f"{entry.name}: {cmdline.strip()[:200]}")
    return found


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegionProcess]:
    data_dir = tmp_path_factory.mktemp("region")
    with RegionProcess(data_dir) as served:
        ensure_role(served)
        create(
            served,
            CLUSTER,
            tags={"openeks.io/control-plane": "single-zone"},
            kubernetesNetworkConfig={"serviceIpv4Cidr": SERVICE_CIDR},
        )
        yield served
    reset = _reset_leftover_nodes(data_dir)
    assert not reset, f"node agents still wanted when the region stopped: {reset}"
    assert not _processes_under(data_dir), _processes_under(data_dir)


def _reset_leftover_nodes(data_dir: Path) -> list[str]:
    """After a failed run: `node-reset` every runc node the stopped region still had (its
    containers outlive it, as a kubelet's do), so the host is left clean regardless."""
    try:
        state = json.loads((data_dir / "supervisor" / "supervisor.json").read_text())
    except (OSError, ValueError):
        return []
    reset = []
    for name, record in state.get("processes", {}).items():
        argv = list(record["spec"]["argv"])
        if not name.startswith("instances/") or "node" not in argv:
            continue
        at = argv.index("node")
        command, i = [*argv[:at], "node-reset"], at + 1
        while i < len(argv):
            skip = argv[i] in ("--port", "--max-pods", "--labels", "--taints")
            command += [] if skip else [argv[i], argv[i + 1]]
            i += 2
        subprocess.run(command, capture_output=True, timeout=120)
        reset.append(name)
    return reset


@pytest.fixture(scope="module")
def leftovers(region: RegionProcess) -> Leftovers:
    admin = load_kubeconfig(region.data_dir / "clusters" / CLUSTER / "admin.kubeconfig")
    return Leftovers(region.data_dir, cluster_chains(admin).tag)


@pytest.fixture(scope="module")
def kubectl(region: RegionProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    admin = region.data_dir / "clusters" / CLUSTER / "admin.kubeconfig"
    return Kubectl(admin, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def group(
    region: RegionProcess, kubectl: Kubectl, leftovers: Leftovers
) -> Iterator[dict[str, Any]]:
    """The node group, ACTIVE; deleted at the end, and the host checked for leftovers."""
    eks = region.client("eks")
    role = region.client("iam").create_role(
        RoleName="runc-node", AssumeRolePolicyDocument=TRUST_EC2
    )
    cluster_version = eks.describe_cluster(name=CLUSTER)["cluster"]["version"]
    major, minor = cluster_version.split(".")
    started = time.monotonic()
    created = eks.create_nodegroup(
        clusterName=CLUSTER,
        nodegroupName=GROUP,
        subnets=subnets(region),
        nodeRole=role["Role"]["Arn"],
        instanceTypes=["t3.medium"],
        version=f"{major}.{int(minor) - 1}",
        scalingConfig={"minSize": 1, "maxSize": 6, "desiredSize": 3},
        updateConfig={"maxUnavailable": 1},
    )["nodegroup"]
    try:
        eks.get_waiter("nodegroup_active").wait(
            clusterName=CLUSTER, nodegroupName=GROUP, WaiterConfig=FAST
        )
        print(f"\nnode group of 3 runc nodes ACTIVE in {time.monotonic() - started:.1f} s")
        yield {**created, "clusterVersion": cluster_version}
    finally:
        leftovers.note()
        eks.delete_nodegroup(clusterName=CLUSTER, nodegroupName=GROUP)
        eks.get_waiter("nodegroup_deleted").wait(
            clusterName=CLUSTER, nodegroupName=GROUP, WaiterConfig=FAST
        )
        _wait("every instance terminated", lambda: not _instances(region), 60)
        deadline = time.monotonic() + 30
        while (left := leftovers.remaining()) and time.monotonic() < deadline:
            time.sleep(1)
        assert not left, "left behind on the host:\n" + "\n".join(left)


# -- helpers -----------------------------------------------------------------------------


def _wait(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _instances(region: RegionProcess) -> list[dict[str, Any]]:
    found = region.client("ec2").describe_instances(
        Filters=[
            {"Name": "tag:eks:nodegroup-name", "Values": [GROUP]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "shutting-down"]},
        ]
    )
    return [i for r in found["Reservations"] for i in r["Instances"]]


def _nodes(kubectl: Kubectl) -> list[dict[str, Any]]:
    out = kubectl("get", "nodes", "-l", f"eks.amazonaws.com/nodegroup={GROUP}", "-o", "json")
    return list(json.loads(out)["items"])


def _ready(node: dict[str, Any]) -> bool:
    conditions = node["status"].get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    return list(json.loads(kubectl("get", "pods", "-n", NS, "-o", "json"))["items"])


def _running_pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    return [
        p
        for p in _pods(kubectl)
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


def _wait_config_update(region: RegionProcess, update_id: str, timeout: float = 240) -> None:
    eks = region.client("eks")

    def done() -> bool:
        found = eks.describe_update(name=CLUSTER, nodegroupName=GROUP, updateId=update_id)
        status = found["update"]["status"]
        assert status != "Failed", found["update"]
        return bool(status == "Successful")

    _wait(f"update {update_id}", done, timeout)


class AvailabilityPoller:
    """Reads the Deployment's available replicas over and over in a thread; `lowest` is
    the smallest number seen."""

    def __init__(self, kubectl: Kubectl, name: str) -> None:
        self.kubectl = kubectl
        self.name = name
        self.lowest = REPLICAS
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> AvailabilityPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            done = self.kubectl.run(
                "get", "deployment", self.name, "-n", NS,
                "-o", "jsonpath={.status.availableReplicas}", check=False,
            )  # fmt: skip
            if done.returncode == 0:
                self.lowest = min(self.lowest, int(done.stdout or 0))
                self.samples += 1
            time.sleep(0.2)


def _deploy(kubectl: Kubectl, registry: LocalRegistry) -> None:
    kubectl("create", "namespace", NS)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "sleeper", "namespace": NS},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": "sleeper"}},
            "template": {
                "metadata": {"labels": {"app": "sleeper"}},
                "spec": {
                    "terminationGracePeriodSeconds": 2,
                    "containers": [
                        {
                            "name": "main",
                            "image": f"{registry.host}/busybox",
                            "command": ["sh", "-c", HTTPD],
                        }
                    ],
                },
            },
        },
    }
    budget = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "sleeper", "namespace": NS},
        "spec": {"minAvailable": MIN_AVAILABLE, "selector": {"matchLabels": {"app": "sleeper"}}},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "sleeper", "namespace": NS},
        "spec": {"selector": {"app": "sleeper"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    for manifest in (deployment, budget, service):
        kubectl("apply", "-f", "-", input=json.dumps(manifest))


def _available(kubectl: Kubectl) -> int:
    out = kubectl(
        "get", "deployment", "sleeper", "-n", NS, "-o", "jsonpath={.status.availableReplicas}"
    )
    return int(out or 0)


# -- tests -------------------------------------------------------------------------------


def test_three_runc_nodes_one_per_zone_run_pods_on_their_subnet_blocks(
    region: RegionProcess,
    group: dict[str, Any],
    kubectl: Kubectl,
    registry: LocalRegistry,
    leftovers: Leftovers,
) -> None:
    nodes = _nodes(kubectl)
    assert len(nodes) == 3 and all(_ready(n) for n in nodes)
    leftovers.note_nodes([n["metadata"]["name"] for n in nodes])
    zones = sorted(n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes)
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all(
        n["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "t3.medium" for n in nodes
    )
    assert all(n["status"]["allocatable"]["pods"] == "17" for n in nodes)
    wide = kubectl("get", "nodes", "-L", "topology.kubernetes.io/zone")
    assert all(zone in wide for zone in zones)

    ec2 = region.client("ec2")
    subnet_cidrs = {
        s["SubnetId"]: ipaddress.ip_network(s["CidrBlock"])
        for s in ec2.describe_subnets()["Subnets"]
    }
    instance_subnet = {i["PrivateDnsName"]: i["SubnetId"] for i in _instances(region)}
    blocks = {}
    for node in nodes:
        name = node["metadata"]["name"]
        block = ipaddress.ip_network(node["spec"]["podCIDR"])
        assert block.subnet_of(subnet_cidrs[instance_subnet[name]])  # type: ignore[arg-type]
        blocks[name] = block

    _deploy(kubectl, registry)
    _wait("4 running pods", lambda: len(_running_pods(kubectl)) == REPLICAS, 90)
    _wait("4 available replicas", lambda: _available(kubectl) == REPLICAS, 30)
    leftovers.note()
    for pod in _running_pods(kubectl):
        ip = ipaddress.ip_address(pod["status"]["podIP"])
        assert ip in VPC and ip in blocks[pod["spec"]["nodeName"]], pod["status"]
    wide = kubectl("get", "pods", "-n", NS, "-o", "wide")
    assert wide.count(" 172.31.") == REPLICAS, wide
    print("\n" + wide)
    _check_traffic_between_nodes(kubectl)


def _fetch(kubectl: Kubectl, pod: str, host: str, port: int) -> str:
    """The last line of `/` on host:port, fetched from `pod` with nc (busybox-static's
    wget crashes in an image without NSS files)."""
    script = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} {port} | tail -n 1"
    done = kubectl.run("exec", "-n", NS, pod, "--", "sh", "-c", script, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _check_traffic_between_nodes(kubectl: Kubectl) -> None:
    """A pod reaches a pod of another node by its VPC address, and the Service's cluster
    IP spreads over pods of several nodes (the one elected proxy of the host serves
    every node of the cluster)."""
    pods = _running_pods(kubectl)
    client = pods[0]
    other = next(p for p in pods if p["spec"]["nodeName"] != client["spec"]["nodeName"])
    name = client["metadata"]["name"]
    assert _fetch(kubectl, name, other["status"]["podIP"], 8080) == (other["metadata"]["name"])
    cluster_ip = kubectl("get", "service", "sleeper", "-n", NS, "-o", "jsonpath={.spec.clusterIP}")
    node_of = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in pods}
    nodes: set[str] = set()

    def spread() -> bool:
        answer = _fetch(kubectl, name, cluster_ip, 80)
        if answer:
            nodes.add(node_of[answer])
        return len(nodes) >= 2

    _wait("the Service to answer from pods of two nodes", spread, 60)


def test_scaling_out_and_in_keeps_the_budget(
    region: RegionProcess, group: dict[str, Any], kubectl: Kubectl, leftovers: Leftovers
) -> None:
    eks = region.client("eks")
    with AvailabilityPoller(kubectl, "sleeper") as poller:
        for size in (5, 2):
            update = eks.update_nodegroup_config(
                clusterName=CLUSTER, nodegroupName=GROUP, scalingConfig={"desiredSize": size}
            )["update"]
            _wait_config_update(region, update["id"])
            nodes = _wait(
                f"{size} Ready nodes",
                lambda size=size: (
                    found
                    if len(found := [n for n in _nodes(kubectl) if _ready(n)]) == size
                    and len(_nodes(kubectl)) == size
                    else None
                ),
                60,
            )
            leftovers.note_nodes([n["metadata"]["name"] for n in nodes])
            leftovers.note()
        _wait("4 available replicas", lambda: _available(kubectl) == REPLICAS, 90)
    print(f"\nscaling 3 → 5 → 2: lowest available {poller.lowest} of {poller.samples} samples")
    assert poller.samples > 10
    assert poller.lowest >= MIN_AVAILABLE, f"available replicas fell to {poller.lowest}"
    hosts = {p["spec"]["nodeName"] for p in _running_pods(kubectl)}
    assert hosts <= {n["metadata"]["name"] for n in _nodes(kubectl)}


def test_a_terminated_instance_is_replaced_and_its_containers_go_with_it(
    region: RegionProcess, group: dict[str, Any], kubectl: Kubectl, leftovers: Leftovers
) -> None:
    """Terminated without a drain (TerminateInstances, as a dying machine): its pods'
    sandboxes, network namespaces and bridge are removed from the host, its pods are
    deleted with its Node and come back elsewhere, and the group replaces the instance."""
    leftovers.note()
    pods = _running_pods(kubectl)
    victim = pods[0]["spec"]["nodeName"]
    instance = next(i for i in _instances(region) if i["PrivateDnsName"] == victim)
    directory = region.data_dir / "instances" / instance["InstanceId"]
    netns = {
        Path(json.loads(p.read_text())["netns"]).name
        for p in directory.glob("node/runtime/sandboxes/*/sandbox.json")
    }
    assert netns
    region.client("ec2").terminate_instances(InstanceIds=[instance["InstanceId"]])
    _wait(
        "the instance terminated",
        lambda: victim not in {i["PrivateDnsName"] for i in _instances(region)},
        60,
    )
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not {line.split()[0] for line in listed.splitlines() if line.strip()} & netns
    assert not _processes_under(directory) and not directory.exists()
    _wait(
        "a replacement node and every replica back",
        lambda: (
            len([n for n in _nodes(kubectl) if _ready(n)]) == 2
            and victim not in {n["metadata"]["name"] for n in _nodes(kubectl)}
            and len(_running_pods(kubectl)) == REPLICAS
            and _available(kubectl) == REPLICAS
        ),
        90,
    )
    assert victim not in {p["spec"]["nodeName"] for p in _pods(kubectl)}
    leftovers.note_nodes([n["metadata"]["name"] for n in _nodes(kubectl)])
    leftovers.note()
    eks = region.client("eks")
    assert (
        eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=GROUP)["nodegroup"]["status"]
        == "ACTIVE"
    )


def test_a_version_update_replaces_every_node_within_max_unavailable(
    region: RegionProcess, group: dict[str, Any], kubectl: Kubectl, leftovers: Leftovers
) -> None:
    eks = region.client("eks")
    before = {n["metadata"]["name"]: n["metadata"]["labels"] for n in _nodes(kubectl)}
    old_images = {labels["eks.amazonaws.com/nodegroup-image"] for labels in before.values()}
    with AvailabilityPoller(kubectl, "sleeper") as poller:
        update = eks.update_nodegroup_version(
            clusterName=CLUSTER, nodegroupName=GROUP, version=group["clusterVersion"]
        )["update"]
        assert update["type"] == "VersionUpdate"

        def done() -> bool:
            leftovers.note()
            nodes = [n["metadata"]["name"] for n in _nodes(kubectl)]
            leftovers.note_nodes(nodes)
            found = eks.describe_update(name=CLUSTER, nodegroupName=GROUP, updateId=update["id"])
            assert found["update"]["status"] != "Failed", found["update"]
            return bool(found["update"]["status"] == "Successful")

        _wait("the version update", done, 360)
        _wait("4 available replicas", lambda: _available(kubectl) == REPLICAS, 90)
    print(f"\nversion update: lowest available {poller.lowest} of {poller.samples} samples")
    assert poller.samples > 10
    assert poller.lowest >= REPLICAS - 1, f"available replicas fell to {poller.lowest}"
    described = eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=GROUP)["nodegroup"]
    assert described["status"] == "ACTIVE"
    assert described["version"] == group["clusterVersion"]
    after = _nodes(kubectl)
    assert len(after) == 2 and all(_ready(n) for n in after)
    assert not {n["metadata"]["name"] for n in after} & set(before)
    new_images = {n["metadata"]["labels"]["eks.amazonaws.com/nodegroup-image"] for n in after}
    assert len(new_images) == 1 and not new_images & old_images
    assert {p["spec"]["nodeName"] for p in _running_pods(kubectl)} <= {
        n["metadata"]["name"] for n in after
    }


def test_a_nearly_full_subnet_gives_pods_a_clear_event(
    region: RegionProcess, kubectl: Kubectl, registry: LocalRegistry, group: dict[str, Any]
) -> None:
    """A /28 subnet leaves a joining node one pod address (a /30 block, as much as is
    free); its second pod fails with FailedCreatePodSandBox, "no free address"."""
    ec2 = region.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnet = ec2.create_subnet(
        VpcId=vpc["VpcId"], CidrBlock="172.31.240.0/28", AvailabilityZone="us-east-1a"
    )["Subnet"]
    script = f"/etc/eks/bootstrap.sh {CLUSTER} --kubelet-extra-args '--node-labels=kind=tiny'"
    instance = ec2.run_instances(
        ImageId="ami-0123456789abcdef0",
        InstanceType="t3.medium",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet["SubnetId"],
        UserData=script,
        IamInstanceProfile={"Name": "runc-node"},
    )["Instances"][0]
    try:
        _wait(
            "the tiny node Ready",
            lambda: any(_ready(n) for n in _nodes_labelled(kubectl, "kind=tiny")),
            90,
        )
        for name in ("first", "second"):
            kubectl(
                "run", name, "-n", NS, f"--image={registry.host}/busybox",
                '--overrides={"spec": {"nodeSelector": {"kind": "tiny"}}}', "--", "sleep", "3600",
            )  # fmt: skip
        _wait(
            "the first pod Running",
            lambda: _phase(kubectl, "first") == "Running",
        )
        events = _wait(
            "the second pod's sandbox event",
            lambda: [
                e
                for e in json.loads(kubectl("get", "events", "-n", NS, "-o", "json"))["items"]
                if e["involvedObject"]["name"] == "second"
                and e["reason"] == "FailedCreatePodSandBox"
            ],
        )
        assert "no free address" in events[0]["message"], events[0]["message"]
    finally:
        kubectl("delete", "pod", "first", "second", "-n", NS, "--ignore-not-found", "--wait=false")
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        _wait(
            "the tiny instance terminated",
            lambda: (
                ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0][
                    "Instances"
                ][0]["State"]["Name"]
                == "terminated"
            ),
            90,
        )


def _phase(kubectl: Kubectl, pod: str) -> str:
    found = json.loads(kubectl("get", "pod", pod, "-n", NS, "-o", "json"))
    return str(found["status"].get("phase"))


def _nodes_labelled(kubectl: Kubectl, selector: str) -> list[dict[str, Any]]:
    return list(json.loads(kubectl("get", "nodes", "-l", selector, "-o", "json"))["items"])
