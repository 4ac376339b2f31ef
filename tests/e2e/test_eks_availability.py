"""A three-zone cluster survives the loss of a zone and a restart of the region.

The zone test writes a ConfigMap every 100 ms through the cluster's endpoint (the
official Python client with a `k8s-aws-v1` token) while `openeks fault zone-down` kills
every process of one zone with SIGKILL, then brings it back: kubectl keeps working,
every acknowledged write is there afterwards, and the longest gap between two
acknowledged writes is reported (and bounded).
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.eks import create, ensure_role, kubectl_for
from tests.support.region import BIN, RegionProcess

pytestmark = pytest.mark.timeout(600)

MAX_GAP_SECONDS = 5.0
"""The promise: etcd elects a new leader in ~1-2 s and the load balancer drops a dead
API server after two failed health checks (~1 s); 5 s leaves room for a loaded machine."""


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegionProcess]:
    with RegionProcess(tmp_path_factory.mktemp("region")) as running:
        ensure_role(running)
        yield running


def openeks(region: RegionProcess, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "openeks"), *args],
        env=region.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def python_client(region: RegionProcess, cluster: dict[str, Any], tmp: Path) -> client.CoreV1Api:
    credential = json.loads(openeks(region, "eks", "get-token", "--cluster-name", cluster["name"]))
    ca = tmp / "ca.crt"
    ca.write_bytes(base64.b64decode(cluster["certificateAuthority"]["data"]))
    config = client.Configuration()
    config.host = cluster["endpoint"]
    config.ssl_ca_cert = str(ca)
    config.api_key = {"authorization": f"Bearer {credential['status']['token']}"}
    return client.CoreV1Api(client.ApiClient(config))


class Writer:
    """Creates ConfigMap w-<n> every 100 ms; remembers which writes were acknowledged."""

    def __init__(self, core: client.CoreV1Api, namespace: str) -> None:
        self.core = core
        self.namespace = namespace
        self.acked: list[tuple[float, str]] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Writer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            started = time.monotonic()
            name = f"w-{n:05d}"
            n += 1
            body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"n": name})
            try:
                self.core.create_namespaced_config_map(
                    self.namespace, body, _request_timeout=(1.0, 2.0)
                )
                self.acked.append((time.monotonic(), name))
            except Exception:
                self.failures += 1
            self._stop.wait(max(0.0, 0.1 - (time.monotonic() - started)))

    def longest_gap(self) -> float:
        times = [t for t, _ in self.acked]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def kubernetes_endpoints(kubectl: Any) -> list[str]:
    found = json.loads(kubectl("get", "endpoints", "kubernetes", "-n", "default", "-o", "json"))
    return sorted(a["ip"] for s in found.get("subsets") or () for a in s.get("addresses") or ())


def etcd_leader_zone(region: RegionProcess, cluster: str) -> str:
    """The zone whose etcd member leads the cluster's etcd: losing it is the worst case."""
    state = json.loads((region.data_dir / "supervisor" / "supervisor.json").read_text())
    for name, record in state["processes"].items():
        if not name.startswith(f"clusters/{cluster}/etcd/"):
            continue
        argv = record["spec"]["argv"]
        url = next(a.split("=", 1)[1] for a in argv if a.startswith("--listen-client-urls="))
        request = urllib.request.Request(f"{url}/v3/maintenance/status", data=b"{}")
        with urllib.request.urlopen(request, timeout=5) as response:
            status = json.loads(response.read())
        if status["leader"] == status["header"]["member_id"]:
            return str(record["spec"]["zone"])
    raise AssertionError("no etcd member leads")


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_zone_loss_keeps_the_api_available(region: RegionProcess, tmp_path: Path) -> None:
    cluster = create(region, "ha")
    kubectl = kubectl_for(region, "ha", tmp_path / "kube")
    wait_for(lambda: len(kubernetes_endpoints(kubectl)) == 3, 30, "three API servers")
    kubectl("create", "namespace", "writes")
    writer = Writer(python_client(region, cluster, tmp_path), "writes").start()
    try:
        time.sleep(2)
        zone = etcd_leader_zone(region, "ha")
        down = json.loads(openeks(region, "fault", "--endpoint-url", region.url, "zone-down", zone))
        assert any("etcd" in name for name in down["processes"]), down
        assert any("apiserver" in name for name in down["processes"]), down
        fault_started = time.monotonic()
        # kubectl keeps working through the endpoint while the zone is down.
        for _ in range(3):
            assert "namespace/writes" in kubectl("get", "ns", "-o", "name")
        # The dead API server leaves the kubernetes Endpoints once its lease expires.
        wait_for(lambda: len(kubernetes_endpoints(kubectl)) == 2, 40, "two API servers")
        time.sleep(max(0.0, 8 - (time.monotonic() - fault_started)))
        openeks(region, "fault", "--endpoint-url", region.url, "zone-up", zone)
        wait_for(lambda: len(kubernetes_endpoints(kubectl)) == 3, 60, "three API servers again")
        time.sleep(2)
    finally:
        writer.stop()
    acked = {name for _, name in writer.acked}
    stored = {
        c.metadata.name
        for c in writer.core.list_namespaced_config_map("writes").items
        if c.metadata.name.startswith("w-")
    }
    assert acked <= stored, f"acknowledged writes lost: {sorted(acked - stored)[:10]}"
    gap = writer.longest_gap()
    print(
        f"\nloss of {zone} (the etcd leader's): {len(acked)} writes acknowledged, "
        f"{writer.failures} failed, "
        f"longest gap between acknowledged writes {gap:.2f} s"
    )
    assert gap < MAX_GAP_SECONDS


def test_region_restart_keeps_clusters(region: RegionProcess, tmp_path: Path) -> None:
    """SIGTERM and SIGKILL of `openeks up`: the next start brings the clusters back."""
    create(region, "durable", tags={"openeks.io/control-plane": "single-zone"})
    kubectl = kubectl_for(region, "durable", tmp_path / "kube")
    kubectl("create", "configmap", "kept", "--from-literal=a=1")
    for stop in (region.stop, region.kill):
        stop()
        region.start()
        eks = region.client("eks")
        names = eks.list_clusters()["clusters"]
        assert "durable" in names
        for name in names:
            assert eks.describe_cluster(name=name)["cluster"]["status"] == "ACTIVE"
        wait_for(
            lambda: kubectl.run("get", "configmap", "kept", check=False).returncode == 0,
            60,
            "the cluster to answer again",
        )
        assert "configmap/kept" in kubectl("get", "configmap", "-o", "name")
