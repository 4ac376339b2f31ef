"""The real kubectl against a running API server, on the sqlite and the etcd store."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import yaml

from tests.support.kubectl import Kubectl, kubectl_path

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
"""


def test_namespaces_can_be_created_listed_and_deleted(kubectl: Kubectl) -> None:
    assert "namespace/ns-life created" in kubectl("create", "namespace", "ns-life")
    listed = kubectl("get", "namespaces")
    for name in ("default", "kube-system", "kube-public", "kube-node-lease", "ns-life"):
        assert name in listed
    assert "Active" in kubectl("get", "namespace", "ns-life")
    assert 'namespace "ns-life" deleted' in kubectl(
        "delete", "namespace", "ns-life", "--timeout=60s"
    )
    result = kubectl.fails("get", "namespace", "ns-life")
    assert 'namespaces "ns-life" not found' in result.stderr


def test_deleting_a_namespace_deletes_what_is_in_it(kubectl: Kubectl) -> None:
    kubectl("create", "namespace", "ns-full")
    kubectl("create", "configmap", "settings", "-n", "ns-full", "--from-literal=a=1")
    kubectl("delete", "namespace", "ns-full", "--timeout=60s")
    assert kubectl.fails("get", "configmap", "settings", "-n", "ns-full").returncode != 0
    result = kubectl.fails("create", "configmap", "x", "-n", "ns-full", "--from-literal=a=1")
    assert "not found" in result.stderr


def test_apply_reports_created_unchanged_and_configured(
    kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(DEPLOYMENT)
    assert "deployment.apps/web created" in kubectl("apply", "-n", namespace, "-f", str(path))
    assert "deployment.apps/web unchanged" in kubectl("apply", "-n", namespace, "-f", str(path))
    path.write_text(DEPLOYMENT.replace("replicas: 2", "replicas: 3"))
    assert "deployment.apps/web configured" in kubectl("apply", "-n", namespace, "-f", str(path))
    got = json.loads(kubectl("get", "deployment", "web", "-n", namespace, "-o", "json"))
    assert got["spec"]["replicas"] == 3
    assert got["metadata"]["generation"] == 2
    assert got["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%"
    assert "kubectl.kubernetes.io/last-applied-configuration" in got["metadata"]["annotations"]


def test_get_prints_wide_yaml_json_and_jsonpath(kubectl: Kubectl, namespace: str) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)
    table = kubectl("get", "deployments", "-n", namespace)
    assert table.splitlines()[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table.splitlines()[1].split()[:2] == ["web", "0/2"]
    wide = kubectl("get", "deployments", "-n", namespace, "-o", "wide")
    assert wide.splitlines()[0].split() == [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    assert "nginx:1.27" in wide and "app=web" in wide
    as_yaml = yaml.safe_load(kubectl("get", "deployment", "web", "-n", namespace, "-o", "yaml"))
    assert as_yaml["kind"] == "Deployment" and as_yaml["metadata"]["uid"]
    as_json = json.loads(kubectl("get", "deployment", "web", "-n", namespace, "-o", "json"))
    assert as_json["metadata"]["resourceVersion"] == as_yaml["metadata"]["resourceVersion"]
    assert (
        kubectl(
            "get",
            "deployment",
            "web",
            "-n",
            namespace,
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        )
        == "nginx:1.27"
    )


def test_get_watch_streams_changes(kubectl: Kubectl, namespace: str) -> None:
    env_cmd = [kubectl_path(), "get", "configmaps", "-n", namespace, "-w", "--request-timeout=20s"]
    proc = subprocess.Popen(
        env_cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "HOME": str(kubectl.home),
            "KUBECONFIG": str(kubectl.kubeconfig),
            "PATH": "/usr/bin:/bin",
        },
    )
    try:
        time.sleep(1.0)
        kubectl("create", "configmap", "watched", "-n", namespace, "--from-literal=a=1")
        kubectl("label", "configmap", "watched", "-n", namespace, "x=y")
        lines: list[str] = []
        deadline = time.monotonic() + 15
        assert proc.stdout is not None
        while time.monotonic() < deadline and sum("watched" in line for line in lines) < 2:
            lines.append(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait()
    assert lines[0].split()[:3] == ["NAME", "DATA", "AGE"], lines
    assert sum("watched" in line for line in lines) >= 2, lines


def test_label_annotate_and_three_kinds_of_patch(kubectl: Kubectl, namespace: str) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)
    assert "labeled" in kubectl("label", "deployment", "web", "-n", namespace, "stage=dev")
    assert "annotated" in kubectl("annotate", "deployment", "web", "-n", namespace, "owner=team-a")
    strategic = (
        '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}'
    )
    assert "patched" in kubectl(
        "patch", "deployment", "web", "-n", namespace, "--type", "strategic", "-p", strategic
    )
    merge = '{"metadata":{"labels":{"stage":"prod"}}}'
    assert "patched" in kubectl(
        "patch", "deployment", "web", "-n", namespace, "--type", "merge", "-p", merge
    )
    jsonp = '[{"op":"replace","path":"/spec/replicas","value":4}]'
    assert "patched" in kubectl(
        "patch", "deployment", "web", "-n", namespace, "--type", "json", "-p", jsonp
    )
    got = json.loads(kubectl("get", "deployment", "web", "-n", namespace, "-o", "json"))
    names = [c["name"] for c in got["spec"]["template"]["spec"]["containers"]]
    assert names == ["sidecar", "nginx"] or names == ["nginx", "sidecar"]
    assert got["metadata"]["labels"]["stage"] == "prod"
    assert got["metadata"]["annotations"]["owner"] == "team-a"
    assert got["spec"]["replicas"] == 4


def test_scale_and_replace(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)
    assert "scaled" in kubectl("scale", "deployment", "web", "-n", namespace, "--replicas=5")
    assert (
        kubectl("get", "deployment", "web", "-n", namespace, "-o", "jsonpath={.spec.replicas}")
        == "5"
    )
    current = yaml.safe_load(kubectl("get", "deployment", "web", "-n", namespace, "-o", "yaml"))
    current["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    path = tmp_path / "replace.yaml"
    path.write_text(yaml.safe_dump(current))
    assert "replaced" in kubectl("replace", "-f", str(path))
    assert "nginx:1.28" in kubectl("get", "deployment", "web", "-n", namespace, "-o", "wide")
    # Replacing with the old resourceVersion again is a conflict.
    result = kubectl.fails("replace", "-f", str(path))
    assert "Conflict" in result.stderr or "the object has been modified" in result.stderr


def test_delete_waits_and_wait_for_delete(kubectl: Kubectl, namespace: str) -> None:
    kubectl("create", "configmap", "gone", "-n", namespace, "--from-literal=a=1")
    assert 'configmap "gone" deleted' in kubectl(
        "delete", "configmap", "gone", "-n", namespace, "--wait"
    )
    kubectl("create", "configmap", "waited", "-n", namespace, "--from-literal=a=1")
    waiter = subprocess.Popen(
        [
            kubectl_path(),
            "wait",
            "--for=delete",
            "configmap/waited",
            "-n",
            namespace,
            "--timeout=30s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "HOME": str(kubectl.home),
            "KUBECONFIG": str(kubectl.kubeconfig),
            "PATH": "/usr/bin:/bin",
        },
    )
    time.sleep(1)
    kubectl("delete", "configmap", "waited", "-n", namespace, "--wait=false")
    out, err = waiter.communicate(timeout=40)
    assert waiter.returncode == 0, err
    assert "condition met" in out or "deleted" in out


def test_explain_api_resources_and_api_versions(kubectl: Kubectl) -> None:
    explained = kubectl("explain", "deployment.spec")
    assert "KIND:" in explained and "Deployment" in explained
    assert "replicas" in explained and "<integer>" in explained
    assert "containers" in kubectl("explain", "pods.spec.containers", "--recursive")
    resources = kubectl("api-resources")
    assert resources.splitlines()[0].split() == [
        "NAME",
        "SHORTNAMES",
        "APIVERSION",
        "NAMESPACED",
        "KIND",
    ]
    rows = {line.split()[0]: line.split() for line in resources.splitlines()[1:]}
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    versions = kubectl("api-versions").split()
    for gv in (
        "v1",
        "apps/v1",
        "batch/v1",
        "coordination.k8s.io/v1",
        "discovery.k8s.io/v1",
        "policy/v1",
        "events.k8s.io/v1",
    ):
        assert gv in versions


def test_label_and_field_selectors(kubectl: Kubectl, namespace: str) -> None:
    for name, tier in (("a", "front"), ("b", "back"), ("c", "front")):
        kubectl("create", "configmap", name, "-n", namespace, "--from-literal=k=v")
        kubectl("label", "configmap", name, "-n", namespace, f"tier={tier}")
    names = kubectl("get", "configmaps", "-n", namespace, "-l", "tier=front", "-o", "name").split()
    assert names == ["configmap/a", "configmap/c"]
    names = kubectl(
        "get", "configmaps", "-n", namespace, "-l", "tier,tier notin (front)", "-o", "name"
    ).split()
    assert names == ["configmap/b"]
    names = kubectl(
        "get",
        "configmaps",
        "-n",
        namespace,
        "--field-selector",
        "metadata.name!=a",
        "-l",
        "tier",
        "-o",
        "name",
    ).split()
    assert names == ["configmap/b", "configmap/c"]
    bad = kubectl.fails("get", "configmaps", "-n", namespace, "--field-selector", "spec.nope=1")
    assert "field label not supported: spec.nope" in bad.stderr


def test_describe_deployment(kubectl: Kubectl, namespace: str) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)
    described = kubectl("describe", "deployment", "web", "-n", namespace)
    assert "Name:" in described and "web" in described
    assert (
        "Replicas:" in described and "StrategyType:" in described and "RollingUpdate" in described
    )
    assert "nginx:1.27" in described


def test_create_secret_and_configmap(kubectl: Kubectl, namespace: str) -> None:
    assert "secret/creds created" in kubectl(
        "create", "secret", "generic", "creds", "-n", namespace, "--from-literal=password=s3cret"
    )
    secret = json.loads(kubectl("get", "secret", "creds", "-n", namespace, "-o", "json"))
    assert secret["type"] == "Opaque" and secret["data"]["password"] == "czNjcmV0"
    assert "configmap/cfg created" in kubectl(
        "create", "configmap", "cfg", "-n", namespace, "--from-literal=a=1", "--from-literal=b=2"
    )
    assert kubectl("get", "configmap", "cfg", "-n", namespace, "-o", "jsonpath={.data.b}") == "2"
    duplicate = kubectl.fails("create", "configmap", "cfg", "-n", namespace, "--from-literal=a=1")
    assert 'configmaps "cfg" already exists' in duplicate.stderr


def test_server_side_apply(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    path = tmp_path / "ssa.yaml"
    path.write_text(DEPLOYMENT.replace("name: web", "name: ssa", 1))
    assert "serverside-applied" in kubectl(
        "apply", "--server-side", "-n", namespace, "-f", str(path)
    )
    assert "serverside-applied" in kubectl(
        "apply", "--server-side", "-n", namespace, "-f", str(path)
    )
    got = json.loads(
        kubectl("get", "deployment", "ssa", "-n", namespace, "-o", "json", "--show-managed-fields")
    )
    managers = {(m["manager"], m["operation"]) for m in got["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers
    kubectl("scale", "deployment", "ssa", "-n", namespace, "--replicas=7")
    path.write_text(
        DEPLOYMENT.replace("name: web", "name: ssa", 1).replace("replicas: 2", "replicas: 3")
    )
    conflict = kubectl.fails("apply", "--server-side", "-n", namespace, "-f", str(path))
    assert "conflict" in conflict.stderr.lower()
    kubectl("apply", "--server-side", "--force-conflicts", "-n", namespace, "-f", str(path))
    assert (
        kubectl("get", "deployment", "ssa", "-n", namespace, "-o", "jsonpath={.spec.replicas}")
        == "3"
    )


def test_errors_come_back_as_status(kubectl: Kubectl, namespace: str) -> None:
    missing = kubectl.fails("get", "deployment", "nope", "-n", namespace)
    assert 'Error from server (NotFound): deployments.apps "nope" not found' in missing.stderr
    bad = DEPLOYMENT.replace("replicas: 2", "replicas: 2\n  bogus: 1")
    strict = kubectl.fails("apply", "-n", namespace, "-f", "-", input=bad)
    assert 'unknown field "spec.bogus"' in strict.stderr
    invalid = DEPLOYMENT.replace("matchLabels: {app: web}", "matchLabels: {app: other}")
    result = kubectl.fails("apply", "-n", namespace, "-f", "-", input=invalid)
    assert "Invalid" in result.stderr or "invalid" in result.stderr
