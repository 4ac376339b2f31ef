"""Pod Security admission against a real API server, through kubectl and raw HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl
from tests.support.rawclient import RawClient

Obj = dict[str, Any]
LABEL = "pod-security.kubernetes.io/"
RESTRICTED_VIOLATIONS = (
    'allowPrivilegeEscalation != false (container "web" must set '
    "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
    '(container "web" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true '
    '(pod or container "web" must set securityContext.runAsNonRoot=true), seccompProfile (pod or '
    'container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or '
    '"Localhost")'
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    with ApiServerProcess(tmp_path_factory.mktemp("podsecurity")) as server:
        yield server


@pytest.fixture(scope="module")
def kubectl(api: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(api.kubeconfig, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def raw(api: ApiServerProcess) -> RawClient:
    return RawClient(api.kubeconfig)


@pytest.fixture
def ns(namespace: str, raw: RawClient) -> str:
    deadline = time.monotonic() + 10
    while raw.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default").status != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return namespace


def label(kubectl: Kubectl, ns: str, *pairs: str) -> str:
    result = kubectl.run("label", "--overwrite", "namespace", ns, *pairs)
    time.sleep(0.1)  # admission reads namespaces from the watch cache
    return result.stderr


def pod(name: str, **container: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "web", "image": "nginx", **container}]},
    }


def test_restricted_enforce_refuses_with_upstreams_message(kubectl: Kubectl, ns: str) -> None:
    label(kubectl, ns, f"{LABEL}enforce=restricted")
    failed = kubectl.fails("run", "web", "-n", ns, "--image=nginx")
    assert failed.stderr.strip() == (
        'Error from server (Forbidden): pods "web" is forbidden: violates PodSecurity '
        f'"restricted:latest": {RESTRICTED_VIOLATIONS}'
    )


def test_a_compliant_pod_is_admitted(raw: RawClient, kubectl: Kubectl, ns: str) -> None:
    label(kubectl, ns, f"{LABEL}enforce=restricted", f"{LABEL}enforce-version=v1.30")
    body = pod(
        "ok",
        securityContext={
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    )
    resp = raw.request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert resp.status == 201, resp.body
    assert resp.warnings == []
    refused = raw.request("POST", f"/api/v1/namespaces/{ns}/pods", pod("bad"))
    assert refused.status == 403
    status = refused.json()
    assert status["reason"] == "Forbidden"
    assert status["details"] == {"name": "bad", "kind": "pods"}
    assert status["message"].startswith(
        'pods "bad" is forbidden: violates PodSecurity "restricted:v1.30": '
    )


def test_warn_mode_admits_with_warning_headers(raw: RawClient, kubectl: Kubectl, ns: str) -> None:
    label(kubectl, ns, f"{LABEL}warn=baseline")
    resp = raw.request(
        "POST", f"/api/v1/namespaces/{ns}/pods", pod("priv", securityContext={"privileged": True})
    )
    assert resp.status == 201, resp.body
    assert resp.warnings == [
        '299 - "would violate PodSecurity \\"baseline:latest\\": privileged (container \\"web\\" '
        'must not set securityContext.privileged=true)"'
    ]
    manifest = json.dumps(pod("priv2", securityContext={"privileged": True}))
    result = kubectl.run("create", "-n", ns, "-f", "-", input=manifest)
    assert (
        'Warning: would violate PodSecurity "baseline:latest": privileged (container "web" '
        "must not set securityContext.privileged=true)"
    ) in result.stderr


def test_workloads_only_get_warnings(kubectl: Kubectl, ns: str) -> None:
    label(kubectl, ns, f"{LABEL}enforce=restricted")
    result = kubectl.run("create", "deployment", "web", "-n", ns, "--image=nginx")
    assert result.returncode == 0
    expected = RESTRICTED_VIOLATIONS.replace('"web"', '"nginx"')
    assert f'Warning: would violate PodSecurity "restricted:latest": {expected}' in result.stderr


def test_namespace_labels_are_validated_and_existing_pods_reported(
    raw: RawClient, kubectl: Kubectl, ns: str
) -> None:
    bad = kubectl.fails("label", "namespace", ns, f"{LABEL}enforce=strict")
    assert (
        bad.stderr.strip()
        == (
            f'Error from server (Invalid): namespaces "{ns}" is invalid: '
            f'metadata.labels[{LABEL}enforce]: Invalid value: "strict": must be one of privileged, '
            "baseline, restricted"
        )
        or 'Invalid value: "strict": must be one of privileged, baseline, restricted' in bad.stderr
    )
    for name in ("b", "a"):
        body = pod(name, securityContext={"privileged": True})
        assert raw.request("POST", f"/api/v1/namespaces/{ns}/pods", body).status == 201
    assert raw.request("POST", f"/api/v1/namespaces/{ns}/pods", pod("plain")).status == 201
    time.sleep(0.1)
    stderr = label(kubectl, ns, f"{LABEL}enforce=baseline")
    assert stderr.splitlines() == [
        f'Warning: existing pods in namespace "{ns}" violate the new PodSecurity enforce level '
        '"baseline:latest"',
        "Warning: a (and 1 other pod): privileged",
    ]


def test_status_updates_and_unchanged_pods_are_not_rechecked(
    raw: RawClient, kubectl: Kubectl, ns: str
) -> None:
    assert raw.request("POST", f"/api/v1/namespaces/{ns}/pods", pod("old")).status == 201
    label(kubectl, ns, f"{LABEL}enforce=restricted")
    current = raw.get(f"/api/v1/namespaces/{ns}/pods/old").json()
    current["metadata"]["labels"] = {"still": "fine"}
    assert raw.request("PUT", f"/api/v1/namespaces/{ns}/pods/old", current).status == 200
    current = raw.get(f"/api/v1/namespaces/{ns}/pods/old").json()
    current["spec"]["containers"][0]["image"] = "nginx:2"
    changed = raw.request("PUT", f"/api/v1/namespaces/{ns}/pods/old", current)
    assert changed.status == 403
