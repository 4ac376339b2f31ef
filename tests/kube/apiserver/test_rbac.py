"""RBAC with real kubectl: roles, bindings, denials in upstream's words, can-i, escalation."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from openeks.kube.apiserver import pki
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    with ApiServerProcess(tmp_path_factory.mktemp("rbac")) as api:
        yield api


@pytest.fixture(scope="module")
def admin(server: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    k = Kubectl(server.kubeconfig, tmp_path_factory.mktemp("admin-home"))
    for ns in ("team-a", "team-b"):
        k("create", "namespace", ns)
        k("create", "configmap", "settings", "-n", ns, "--from-literal=a=1")
    return k


def user_kubectl(server: ApiServerProcess, home: Path, user: str, groups: list[str]) -> Kubectl:
    ca = pki.KeyPair(
        (server.data_dir / "pki" / "ca.crt").read_bytes(),
        (server.data_dir / "pki" / "ca.key").read_bytes(),
    )
    pair = pki.issue_client(ca, user, groups)
    cfg = yaml.safe_load(server.kubeconfig.read_text())
    cfg["users"][0]["user"] = {
        "client-certificate-data": base64.b64encode(pair.cert_pem).decode(),
        "client-key-data": base64.b64encode(pair.key_pem).decode(),
    }
    home.mkdir(parents=True, exist_ok=True)
    path = home / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return Kubectl(path, home)


def test_a_role_binding_grants_one_namespace_only(
    server: ApiServerProcess, admin: Kubectl, tmp_path: Path
) -> None:
    dev = user_kubectl(server, tmp_path / "dev", "dana", ["dev"])
    denied = dev.fails("get", "configmaps", "-n", "team-a")
    assert (
        'configmaps is forbidden: User "dana" cannot list resource "configmaps" in API group "" '
        'in the namespace "team-a"' in denied.stderr
    )
    admin(
        "create",
        "role",
        "cm-reader",
        "-n",
        "team-a",
        "--verb=get,list,watch",
        "--resource=configmaps",
    )
    admin("create", "rolebinding", "dev-reads", "-n", "team-a", "--role=cm-reader", "--group=dev")
    assert "settings" in dev("get", "configmaps", "-n", "team-a")
    assert "settings" in dev("get", "configmap", "settings", "-n", "team-a")
    other = dev.fails("get", "configmap", "settings", "-n", "team-b")
    assert (
        'configmaps "settings" is forbidden: User "dana" cannot get resource "configmaps"'
        in other.stderr
    )
    write = dev.fails("delete", "configmap", "settings", "-n", "team-a")
    assert "cannot delete resource" in write.stderr


def test_can_i_and_can_i_list(server: ApiServerProcess, admin: Kubectl, tmp_path: Path) -> None:
    admin(
        "create",
        "role",
        "pod-viewer",
        "-n",
        "team-b",
        "--verb=get,list",
        "--resource=pods,pods/log",
    )
    admin("create", "rolebinding", "eve-views", "-n", "team-b", "--role=pod-viewer", "--user=eve")
    eve = user_kubectl(server, tmp_path / "eve", "eve", [])
    assert eve.run("auth", "can-i", "list", "pods", "-n", "team-b").stdout.strip() == "yes"
    assert (
        eve.run("auth", "can-i", "get", "pods", "--subresource=log", "-n", "team-b").stdout.strip()
        == "yes"
    )
    assert (
        eve.run("auth", "can-i", "delete", "pods", "-n", "team-b", check=False).stdout.strip()
        == "no"
    )
    assert (
        eve.run("auth", "can-i", "list", "pods", "-n", "team-a", check=False).stdout.strip() == "no"
    )
    listing = eve("auth", "can-i", "--list", "-n", "team-b")
    assert "pods" in listing and "selfsubjectreviews.authentication.k8s.io" in listing
    assert admin("auth", "can-i", "*", "*").strip() == "yes"


def test_discovery_and_whoami_work_for_any_user(server: ApiServerProcess, tmp_path: Path) -> None:
    nobody = user_kubectl(server, tmp_path / "nobody", "nobody", [])
    assert "namespaces" in nobody("api-resources")
    assert "nobody" in nobody("auth", "whoami")


def test_nobody_grants_what_they_do_not_hold(
    server: ApiServerProcess, admin: Kubectl, tmp_path: Path
) -> None:
    admin(
        "create",
        "role",
        "role-admin",
        "-n",
        "team-a",
        "--verb=create,get,list,update,delete",  # not "*": that would include escalate and bind
        "--resource=roles,rolebindings",
    )
    admin(
        "create", "rolebinding", "frank-admin", "-n", "team-a", "--role=role-admin", "--user=frank"
    )
    frank = user_kubectl(server, tmp_path / "frank", "frank", ["ops"])
    result = frank.fails(
        "create", "role", "secrets", "-n", "team-a", "--verb=get", "--resource=secrets"
    )
    assert (
        'user "frank" (groups=["ops" "system:authenticated"]) is attempting to grant RBAC '
        "permissions not currently held" in result.stderr
    )
    assert '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}' in result.stderr
    # What frank holds he may grant.
    frank("create", "role", "roles-too", "-n", "team-a", "--verb=get", "--resource=roles")
    binding = frank.fails(
        "create", "rolebinding", "sneaky", "-n", "team-a", "--clusterrole=admin", "--user=frank"
    )
    assert "attempting to grant RBAC permissions not currently held" in binding.stderr


def test_cluster_roles_aggregate(admin: Kubectl) -> None:
    manifest = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- apiGroups: [example.com]
  resources: [widgets]
  verbs: [get, list, watch]
"""
    admin("apply", "-f", "-", input=manifest)
    import time

    deadline = time.monotonic() + 10
    while "widgets" not in admin("get", "clusterrole", "view", "-o", "yaml"):
        assert time.monotonic() < deadline, "view never aggregated the new role"
        time.sleep(0.3)
