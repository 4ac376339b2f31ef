"""Service networking end to end: the node agents' proxy on real runc pods.

A control plane and two runc nodes on one host (so one of the two agents programs the
rules, elected by a host lock), a registry with busybox. Pods reach Services by cluster
IP, the host reaches NodePorts on 127.0.0.1 and on node addresses, and pods reach the API
server through the `kubernetes` Service, whose endpoint is the API server's 127.0.0.1.

Traffic never leaves the host: every check first waits until the rule for its address
exists (a cluster IP without a rule would be routed off the machine), and Services
without endpoints get a REJECT rule. The cluster uses its own service CIDR and pod CIDRs
so it can run beside the other end-to-end suites; the clusterrolebinding granting
`system:node-proxier` to the nodes is created here until the bootstrap policy grants it.

busybox's wget cannot talk TLS to the API server (its TLS client sends no
signature_algorithms extension, which OpenSSL 3 servers refuse), so a pod's path to the
API server is checked with `nc` from the pod, and with Python's ssl (verifying the
serving certificate, which names the cluster IP) run inside the pod's network namespace
and on the host.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from openeks.kube.client.config import load_kubeconfig
from openeks.kube.node.proxy import cleanup_rules, cluster_chains, cluster_identity
from openeks.kube.node.proxy.election import DEFAULT_LOCK_DIR, lock_path
from tests.support.apiserver import ApiServerProcess
from tests.support.cluster import Cluster, NodeProcess, wait_for
from tests.support.kubectl import Kubectl
from tests.support.registry import LocalRegistry, build_busybox_image, push, tools_available

pytestmark = pytest.mark.skipif(
    not tools_available(), reason="needs root, runc, docker-registry, skopeo"
)

SERVICE_CIDR = "10.123.0.0/16"
KUBERNETES_IP = "10.123.0.1"
NODES = {
    "svc-a": ("us-east-1a", "10.244.61.0/24", "127.0.0.1"),
    "svc-b": ("us-east-1b", "10.244.62.0/24", "127.0.0.2"),
}
HTTPD = "mkdir -p /www; echo hello from $(hostname) > /www/index.html; httpd -f -p 8080 -h /www"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    root = tmp_path_factory.mktemp("registry")
    with LocalRegistry(workdir=root / "registry") as reg:
        push(build_busybox_image(root / "busybox"), reg, "busybox:latest")
        yield reg


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, registry: LocalRegistry) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("services")
    c = Cluster(root)
    c.api = ApiServerProcess(
        root / "control-plane", control_plane=True, extra=["--service-cidr", SERVICE_CIDR]
    )
    try:
        with c:
            k = Kubectl(c.kubeconfig, c.root / "home")
            k(
                "create",
                "clusterrolebinding",
                "e2e-nodes-proxier",
                "--clusterrole=system:node-proxier",
                "--group=system:nodes",
            )
            for name, (zone, cidr, address) in NODES.items():
                c.add_node(name, zone=zone, pod_cidr=cidr, extra=["--address", address])
            wait_for(lambda: _ready_nodes(k) == set(NODES), 60, what="two Ready nodes")
            yield c
    finally:
        _assert_no_rules_left(c)


def _assert_no_rules_left(c: Cluster) -> None:
    """Stopping the agents (and node-reset) must have removed every rule of the cluster."""
    if not c.kubeconfig.exists():
        return
    client = load_kubeconfig(c.kubeconfig)
    lock = lock_path(DEFAULT_LOCK_DIR, cluster_identity(client.server, client.ca_data))
    try:
        tag = cluster_chains(client).tag
        left = [line for line in _iptables_save() if tag in line]
        if left:
            asyncio.run(cleanup_rules(client))
            raise AssertionError("rules left behind:\n" + "\n".join(left))
    finally:
        lock.unlink(missing_ok=True)  # this cluster's identity is never used again


@pytest.fixture(scope="module")
def kubectl(cluster: Cluster) -> Kubectl:
    return Kubectl(cluster.kubeconfig, cluster.root / "home")


@pytest.fixture
def ns(kubectl: Kubectl, request: pytest.FixtureRequest) -> str:
    name = request.node.name.lower().replace("_", "-")[:40].strip("-")
    kubectl("create", "namespace", name)
    return name


# -- helpers -----------------------------------------------------------------------------


def _ready_nodes(kubectl: Kubectl) -> set[str]:
    nodes = json.loads(kubectl("get", "nodes", "-o", "json"))["items"]
    return {
        n["metadata"]["name"]
        for n in nodes
        if any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in n["status"].get("conditions", [])
        )
    }


def _iptables_save(table: str = "") -> list[str]:
    args = ["iptables-save"] + (["-t", table] if table else [])
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.splitlines()


def _has_rule(table: str, *parts: str) -> bool:
    return any(all(p in line for p in parts) for line in _iptables_save(table))


def _deploy_web(kubectl: Kubectl, registry: LocalRegistry, ns: str, name: str, n: int) -> None:
    kubectl(
        "create",
        "deployment",
        name,
        "-n",
        ns,
        f"--image={registry.host}/busybox",
        f"--replicas={n}",
        "--",
        "sh",
        "-c",
        HTTPD,
    )
    kubectl.run("rollout", "status", f"deployment/{name}", "-n", ns, "--timeout=120s", timeout=150)


def _expose(kubectl: Kubectl, ns: str, name: str, *extra: str) -> dict[str, Any]:
    kubectl("expose", "deployment", name, "-n", ns, "--port=80", "--target-port=8080", *extra)
    return dict(json.loads(kubectl("get", "service", name, "-n", ns, "-o", "json")))


def _client_pod(kubectl: Kubectl, registry: LocalRegistry, ns: str) -> str:
    kubectl("run", "client", "-n", ns, f"--image={registry.host}/busybox", "--", "sleep", "3600")
    kubectl.run(
        "wait", "--for=condition=Ready", "pod/client", "-n", ns, "--timeout=60s", timeout=90
    )
    return "client"


def _ready_endpoints(kubectl: Kubectl, ns: str, service: str) -> int:
    slices = json.loads(
        kubectl(
            "get", "endpointslices", "-n", ns, "-l", f"kubernetes.io/service-name={service}",
            "-o", "json",
        )
    )["items"]  # fmt: skip
    return sum(
        1
        for s in slices
        for e in s.get("endpoints") or ()
        if (e.get("conditions") or {}).get("ready") is not False
    )


def _sh(kubectl: Kubectl, ns: str, pod: str, script: str, timeout: float = 60) -> str:
    result = kubectl.run("exec", pod, "-n", ns, "--", "sh", "-c", script, timeout=timeout)
    return result.stdout


def _get(host: str, port: int = 80) -> str:
    """A shell line fetching `/` with nc and printing the body's last line (busybox-static's
    wget crashes in an image without NSS files, so pods speak HTTP/1.0 through nc)."""
    return f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {host} {port} | tail -n 1"


def _pods(kubectl: Kubectl, ns: str, selector: str) -> list[dict[str, Any]]:
    return list(json.loads(kubectl("get", "pods", "-n", ns, "-l", selector, "-o", "json"))["items"])


def _netns_of(pod_ip: str) -> str:
    """The named network namespace (`/run/netns/oe-...`) holding a pod's address."""
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for name in (line.split()[0] for line in names.splitlines() if line.startswith("oe-")):
        addrs = subprocess.run(
            ["ip", "-n", name, "-4", "-o", "addr", "show"], capture_output=True, text=True
        ).stdout
        if f" {pod_ip}/" in addrs:
            return name
    raise AssertionError(f"no network namespace has {pod_ip}")


REQUEST_SCRIPT = """
import socket, ssl, sys
ca, host, path, token = sys.argv[1:5]
ctx = ssl.create_default_context(cadata=ca)
auth = f"Authorization: Bearer {token}\\r\\n" if token else ""
with socket.create_connection((host, 443), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname=host) as tls:
        request = f"GET {path} HTTP/1.0\\r\\nHost: k\\r\\n{auth}\\r\\n"
        tls.sendall(request.encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
head, body = data.split(b"\\r\\n\\r\\n", 1)
print(head.split()[1].decode())
sys.stdout.write(body.decode())
"""


def _get_via_cluster_ip(ca: str, path: str, token: str = "", netns: str = "") -> tuple[int, str]:
    """GET `path` from the API server at the `kubernetes` cluster IP, TLS verified against
    `ca`; run inside the network namespace `netns` when given. Returns status and body."""
    cmd = [sys.executable, "-c", REQUEST_SCRIPT, ca, KUBERNETES_IP, path, token]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    status, _, body = result.stdout.partition("\n")
    return int(status), body


def _version_via_cluster_ip(kubeconfig: Path, netns: str = "") -> str:
    """GET /version from the API server at the `kubernetes` cluster IP, TLS verified."""
    config = yaml.safe_load(kubeconfig.read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    status, body = _get_via_cluster_ip(ca, "/version", netns=netns)
    assert status == 200, body
    return str(json.loads(body)["gitVersion"])


def _led(node: NodeProcess) -> bool:
    """Whether the node's proxy has led at some point (its whole log, not the tail)."""
    path = node.data_dir / "node.log"
    return path.exists() and "leading for this host" in path.read_text(errors="replace")


def _http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


# -- tests -------------------------------------------------------------------------------


def test_pods_reach_a_cluster_ip_service_spread_over_its_pods(
    kubectl: Kubectl, registry: LocalRegistry, ns: str
) -> None:
    _deploy_web(kubectl, registry, ns, "web", 2)
    ip = _expose(kubectl, ns, "web")["spec"]["clusterIP"]
    assert ip.startswith("10.123.")
    client = _client_pod(kubectl, registry, ns)
    wait_for(lambda: _ready_endpoints(kubectl, ns, "web") == 2, 30, what="2 ready endpoints")
    wait_for(lambda: _has_rule("nat", f"-d {ip}/32", "--dport 80"), 10, what="service rule")
    out = _sh(kubectl, ns, client, f"for i in $(seq 16); do {_get(ip)}; done")
    answers = set(out.split("\n")) - {""}
    pods = {p["metadata"]["name"] for p in _pods(kubectl, ns, "app=web")}
    assert answers == {f"hello from {p}" for p in pods}, out


def test_a_pod_reaches_itself_through_its_service(
    kubectl: Kubectl, registry: LocalRegistry, ns: str
) -> None:
    _deploy_web(kubectl, registry, ns, "solo", 1)
    ip = _expose(kubectl, ns, "solo")["spec"]["clusterIP"]
    wait_for(lambda: _ready_endpoints(kubectl, ns, "solo") == 1, 30, what="ready endpoint")
    wait_for(lambda: _has_rule("nat", f"-d {ip}/32"), 10, what="service rule")
    pod = _pods(kubectl, ns, "app=solo")[0]["metadata"]["name"]
    answers = set(_sh(kubectl, ns, pod, f"for i in 1 2 3; do {_get(ip)}; done").split("\n"))
    assert answers - {""} == {f"hello from {pod}"}


def test_a_service_scaled_to_zero_refuses_connections(
    kubectl: Kubectl, registry: LocalRegistry, ns: str
) -> None:
    _deploy_web(kubectl, registry, ns, "web", 1)
    ip = _expose(kubectl, ns, "web")["spec"]["clusterIP"]
    client = _client_pod(kubectl, registry, ns)
    wait_for(lambda: _has_rule("nat", f"-d {ip}/32"), 30, what="service rule")
    assert "hello from" in _sh(kubectl, ns, client, _get(ip))
    kubectl("scale", "deployment", "web", "-n", ns, "--replicas=0")
    wait_for(lambda: _has_rule("filter", f"-d {ip}/32", "REJECT"), 60, what="no-endpoints REJECT")
    assert not _has_rule("nat", f"-d {ip}/32")
    started = time.monotonic()
    result = kubectl.run(
        "exec", client, "-n", ns, "--", "nc", "-w", "5", ip, "80", input="", check=False
    )
    assert result.returncode != 0
    assert "connection refused" in result.stderr.lower(), result.stderr
    assert time.monotonic() - started < 5


def test_a_node_port_answers_on_localhost_and_node_addresses(
    kubectl: Kubectl, registry: LocalRegistry, ns: str
) -> None:
    _deploy_web(kubectl, registry, ns, "np", 1)
    svc = _expose(kubectl, ns, "np", "--type=NodePort")
    node_port = svc["spec"]["ports"][0]["nodePort"]
    wait_for(lambda: _ready_endpoints(kubectl, ns, "np") == 1, 30, what="ready endpoint")
    wait_for(lambda: _has_rule("nat", f"--dport {node_port}"), 10, what="node port rule")
    node_b = json.loads(kubectl("get", "node", "svc-b", "-o", "json"))
    internal = next(
        a["address"] for a in node_b["status"]["addresses"] if a["type"] == "InternalIP"
    )
    assert internal == "127.0.0.2"
    gateway = NODES["svc-a"][1].replace(".0/24", ".1")
    for host in ("127.0.0.1", internal, gateway):
        assert _http_get(f"http://{host}:{node_port}/").startswith("hello from np-"), host
    client = _client_pod(kubectl, registry, ns)
    other_gateway = NODES["svc-b"][1].replace(".0/24", ".1")
    out = _sh(kubectl, ns, client, _get(other_gateway, node_port))
    assert out.startswith("hello from np-")


def test_pods_reach_the_api_server_through_the_kubernetes_service(
    kubectl: Kubectl, cluster: Cluster, registry: LocalRegistry, ns: str
) -> None:
    client = _client_pod(kubectl, registry, ns)
    env = _sh(kubectl, ns, client, "env")
    assert f"KUBERNETES_SERVICE_HOST={KUBERNETES_IP}" in env.splitlines()
    assert "KUBERNETES_SERVICE_PORT=443" in env.splitlines()
    wait_for(lambda: _has_rule("nat", f"-d {KUBERNETES_IP}/32", "--dport 443"), 10, what="rule")
    out = _sh(
        kubectl,
        ns,
        client,
        'echo | nc -w 5 "$KUBERNETES_SERVICE_HOST" "$KUBERNETES_SERVICE_PORT"; echo "rc=$?"',
    )
    assert out.strip().endswith("rc=0"), out
    pod_ip = json.loads(kubectl("get", "pod", client, "-n", ns, "-o", "json"))["status"]["podIP"]
    version = _version_via_cluster_ip(cluster.kubeconfig, netns=_netns_of(pod_ip))
    assert version.startswith("v1.")
    assert _version_via_cluster_ip(cluster.kubeconfig) == version


def test_a_pod_lists_what_its_rbac_allows_with_its_projected_token(
    kubectl: Kubectl, registry: LocalRegistry, ns: str
) -> None:
    kubectl("create", "serviceaccount", "reader", "-n", ns)
    kubectl(
        "create", "rolebinding", "reader-view", "-n", ns, "--clusterrole=view",
        f"--serviceaccount={ns}:reader",
    )  # fmt: skip
    overrides = json.dumps({"spec": {"serviceAccountName": "reader"}})
    kubectl(
        "run", "reader", "-n", ns, f"--image={registry.host}/busybox", f"--overrides={overrides}",
        "--", "sleep", "3600",
    )  # fmt: skip
    kubectl.run(
        "wait", "--for=condition=Ready", "pod/reader", "-n", ns, "--timeout=60s", timeout=90
    )
    mount = "/var/run/secrets/kubernetes.io/serviceaccount"
    token = _sh(kubectl, ns, "reader", f"cat {mount}/token")
    ca = _sh(kubectl, ns, "reader", f"cat {mount}/ca.crt")
    assert _sh(kubectl, ns, "reader", f"cat {mount}/namespace") == ns
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == f"system:serviceaccount:{ns}:reader"
    assert claims["kubernetes.io"]["pod"]["name"] == "reader"

    # The pod's own network namespace, its token and its CA bundle: what a client library
    # in the pod does (busybox has no TLS client that OpenSSL 3 servers accept).
    pod_ip = json.loads(kubectl("get", "pod", "reader", "-n", ns, "-o", "json"))["status"]["podIP"]
    netns = _netns_of(pod_ip)
    status, body = _get_via_cluster_ip(ca, f"/api/v1/namespaces/{ns}/pods", token, netns)
    assert status == 200, body
    assert [p["metadata"]["name"] for p in json.loads(body)["items"]] == ["reader"]

    status, body = _get_via_cluster_ip(ca, "/api/v1/namespaces/kube-system/pods", token, netns)
    assert status == 403
    refusal = json.loads(body)
    assert refusal["reason"] == "Forbidden"
    assert refusal["message"] == (
        f'pods is forbidden: User "system:serviceaccount:{ns}:reader" cannot list resource '
        '"pods" in API group "" in the namespace "kube-system"'
    )
    status, body = _get_via_cluster_ip(ca, f"/api/v1/namespaces/{ns}/secrets", token, netns)
    assert status == 403, body  # view does not read secrets
    status, _ = _get_via_cluster_ip(ca, f"/api/v1/namespaces/{ns}/pods", "not-a-token", netns)
    assert status == 401


def test_one_agent_programs_the_rules_and_another_takes_over(
    kubectl: Kubectl, cluster: Cluster, registry: LocalRegistry, ns: str
) -> None:
    tag = cluster_chains(load_kubeconfig(cluster.kubeconfig)).tag
    hooks = [line for line in _iptables_save("nat") if line.startswith("-A PREROUTING")]
    assert sum(f"OPENEKS-SERVICES-{tag}" in line for line in hooks) == 1
    leaders = [n for n in cluster.nodes if _led(n)]
    assert len(leaders) == 1, [n.name for n in leaders]
    leader: NodeProcess = leaders[0]
    follower = next(n for n in cluster.nodes if n is not leader)
    _deploy_web(kubectl, registry, ns, "np", 1)
    node_port = _expose(kubectl, ns, "np", "--type=NodePort")["spec"]["ports"][0]["nodePort"]
    wait_for(lambda: _has_rule("nat", f"--dport {node_port}"), 30, what="node port rule")
    wait_for(lambda: _http_get(f"http://127.0.0.1:{node_port}/"), 10, what="node port answers")

    leader.stop()
    try:
        wait_for(lambda: _led(follower), 10, what="takeover")
        wait_for(lambda: _has_rule("nat", f"--dport {node_port}"), 10, what="rules again")
        assert _http_get(f"http://127.0.0.1:{node_port}/").startswith("hello from np-")
    finally:
        leader.start()
        wait_for(lambda: _ready_nodes(kubectl) == set(NODES), 60, what="both nodes Ready")
