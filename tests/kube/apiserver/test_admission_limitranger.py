"""LimitRanger against a real API server: defaults filled in, limits enforced as upstream."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl
from tests.support.rawclient import RawClient

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    with ApiServerProcess(tmp_path_factory.mktemp("limitranger")) as server:
        yield server


@pytest.fixture(scope="module")
def kubectl(api: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(api.kubeconfig, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def raw(api: ApiServerProcess) -> RawClient:
    return RawClient(api.kubeconfig)


@pytest.fixture
def ns(namespace: str, raw: RawClient) -> str:
    wait_for_default_account(raw, namespace)
    return namespace


def wait_for_default_account(raw: RawClient, namespace: str) -> None:
    deadline = time.monotonic() + 10
    while raw.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default").status != 200:
        assert time.monotonic() < deadline, "no default service account"
        time.sleep(0.05)


def limit_range(raw: RawClient, ns: str, limits: list[Obj]) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "lr"},
        "spec": {"limits": limits},
    }
    resp = raw.request("POST", f"/api/v1/namespaces/{ns}/limitranges", body)
    assert resp.status == 201, resp.body
    time.sleep(0.1)  # the watch cache feeds admission


def pod(name: str, *containers: Obj) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": list(containers)},
    }


def container(name: str, requests: Obj | None = None, limits: Obj | None = None) -> Obj:
    res: Obj = {}
    if requests:
        res["requests"] = requests
    if limits:
        res["limits"] = limits
    return {"name": name, "image": "busybox", "resources": res}


def test_container_defaults_are_filled_in_and_recorded(
    raw: RawClient, kubectl: Kubectl, ns: str, tmp_path: Path
) -> None:
    limit_range(
        raw,
        ns,
        [
            {
                "type": "Container",
                "default": {"cpu": "500m", "memory": "256Mi"},
                "defaultRequest": {"cpu": "100m"},
            }
        ],
    )
    manifest = json.dumps(pod("web", container("app"), container("side", {"cpu": "50m"})))
    kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    got = json.loads(kubectl("get", "pod", "web", "-n", ns, "-o", "json"))
    app, side = got["spec"]["containers"]
    assert app["resources"] == {
        "limits": {"cpu": "500m", "memory": "256Mi"},
        "requests": {"cpu": "100m", "memory": "256Mi"},
    }
    assert side["resources"]["requests"] == {"cpu": "50m", "memory": "256Mi"}
    assert got["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container app; "
        "cpu, memory limit for container app; memory request for container side; "
        "cpu, memory limit for container side"
    )


def test_container_maximum_is_enforced_with_upstreams_message(
    raw: RawClient, kubectl: Kubectl, ns: str
) -> None:
    limit_range(raw, ns, [{"type": "Container", "max": {"cpu": "1"}}])
    resp = raw.request(
        "POST",
        f"/api/v1/namespaces/{ns}/pods",
        pod("big", container("a", limits={"cpu": "2"}), container("b", limits={"cpu": "3"})),
    )
    assert resp.status == 403
    status = resp.json()
    assert status["reason"] == "Forbidden"
    assert status["details"] == {"name": "big", "kind": "pods"}
    assert status["message"] == (
        'pods "big" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, '
        "maximum cpu usage per Container is 1, but limit is 3]"
    )
    one = json.dumps(pod("big1", container("a", limits={"cpu": "2"})))
    failed = kubectl.fails("create", "-n", ns, "-f", "-", input=one)
    assert (
        'Error from server (Forbidden): error when creating "STDIN": pods "big1" is forbidden: '
        in failed.stderr
    )
    assert "maximum cpu usage per Container is 1, but limit is 2" in failed.stderr
    # within the maximum: admitted (the range's default limit fills the gap)
    ok = raw.request("POST", f"/api/v1/namespaces/{ns}/pods", pod("small", container("a")))
    assert ok.status == 201, ok.body
    assert ok.json()["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "1"}


def test_minimum_and_ratio_and_pod_totals(raw: RawClient, ns: str) -> None:
    limit_range(
        raw,
        ns,
        [
            {"type": "Container", "min": {"memory": "64Mi"}, "maxLimitRequestRatio": {"cpu": "2"}},
            {"type": "Pod", "max": {"memory": "1Gi"}},
        ],
    )
    bad = pod(
        "p",
        container("a", {"cpu": "100m", "memory": "32Mi"}, {"cpu": "500m", "memory": "600Mi"}),
        container("b", {"cpu": "1", "memory": "512Mi"}, {"cpu": "1", "memory": "600Mi"}),
    )
    resp = raw.request("POST", f"/api/v1/namespaces/{ns}/pods", bad)
    assert resp.status == 403
    assert resp.json()["message"] == (
        'pods "p" is forbidden: [minimum memory usage per Container is 64Mi, but request is 32Mi, '
        "cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000, "
        "maximum memory usage per Pod is 1Gi, but limit is 1200Mi]"
    )


def test_claim_storage_limits(raw: RawClient, ns: str) -> None:
    limit_range(
        raw,
        ns,
        [{"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "5Gi"}}],
    )

    def claim(name: str, size: str) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": size}},
            },
        }

    big = raw.request(
        "POST", f"/api/v1/namespaces/{ns}/persistentvolumeclaims", claim("big", "10Gi")
    )
    assert big.status == 403
    assert big.json()["message"] == (
        'persistentvolumeclaims "big" is forbidden: maximum storage usage per '
        "PersistentVolumeClaim is 5Gi, but request is 10Gi"
    )
    small = raw.request(
        "POST", f"/api/v1/namespaces/{ns}/persistentvolumeclaims", claim("s", "500Mi")
    )
    assert small.status == 403
    assert (
        "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"
        in small.json()["message"]
    )
    ok = raw.request("POST", f"/api/v1/namespaces/{ns}/persistentvolumeclaims", claim("ok", "2Gi"))
    assert ok.status == 201, ok.body


def test_dry_run_is_checked_and_no_range_means_no_limits(raw: RawClient, ns: str) -> None:
    free = raw.request(
        "POST", f"/api/v1/namespaces/{ns}/pods", pod("free", container("a", limits={"cpu": "64"}))
    )
    assert free.status == 201, free.body
    limit_range(raw, ns, [{"type": "Container", "max": {"cpu": "1"}}])
    dry = raw.request(
        "POST",
        f"/api/v1/namespaces/{ns}/pods?dryRun=All",
        pod("dry", container("a", limits={"cpu": "2"})),
    )
    assert dry.status == 403
    # existing pods are not re-checked on update (containers are immutable)
    current = raw.get(f"/api/v1/namespaces/{ns}/pods/free").json()
    current["metadata"]["labels"] = {"touched": "yes"}
    updated = raw.request("PUT", f"/api/v1/namespaces/{ns}/pods/free", current)
    assert updated.status == 200, updated.body
