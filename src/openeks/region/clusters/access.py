"""Inside a new cluster: waiting for its endpoint, and what EKS access policies grant.

EKS access policies are enforced by RBAC objects the region keeps in each cluster: the
token review answers an IAM principal with groups `openeks:eks:<PolicyName>` (cluster
scope) or `openeks:eks:<PolicyName>:<namespace>` (namespace scope), and these bindings
give those groups the matching ClusterRole — AmazonEKSClusterAdminPolicy → cluster-admin,
AmazonEKSAdminPolicy → admin, AmazonEKSEditPolicy → edit, AmazonEKSViewPolicy → view.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

import aiohttp

from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import builtin_resources
from openeks.kube.client import Client, load_kubeconfig
from openeks.region.clusters.plan import ClusterPlan
from openeks.region.state import RegionState

Doc = dict[str, Any]

POLICY_ROLES = {
    "AmazonEKSClusterAdminPolicy": "cluster-admin",
    "AmazonEKSAdminPolicy": "admin",
    "AmazonEKSEditPolicy": "edit",
    "AmazonEKSViewPolicy": "view",
}
GROUP_PREFIX = "openeks:eks:"
_RBAC = {
    (r.group, r.plural): r for r in builtin_resources() if r.group == "rbac.authorization.k8s.io"
}
CLUSTER_ROLE_BINDINGS = _RBAC[("rbac.authorization.k8s.io", "clusterrolebindings")]
ROLE_BINDINGS = _RBAC[("rbac.authorization.k8s.io", "rolebindings")]


async def wait_ready(cluster: ClusterPlan, timeout: float) -> bool:
    """True once `/readyz` answers through the cluster's endpoint."""
    ctx = ssl.create_default_context(cafile=str(cluster.pki_dir / "ca.crt"))
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(
                    f"{cluster.endpoint_url}/readyz", timeout=aiohttp.ClientTimeout(total=2)
                ) as r:
                    if r.status == 200:
                        return True
            except (aiohttp.ClientError, TimeoutError, OSError):
                pass
            await asyncio.sleep(0.2)
    return False


def _binding(kind: str, name: str, role: str, group: str, namespace: str = "") -> Doc:
    meta: Doc = {"name": name, "labels": {"app.kubernetes.io/managed-by": "openeks-eks"}}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    }


async def _ensure(client: Client, res: Any, body: Doc) -> None:
    try:
        await client.create(res, body)
    except ApiError as e:
        if e.code != 409:
            raise


async def bootstrap(cluster: ClusterPlan, state: RegionState) -> None:
    """Cluster-scope policy bindings, then the namespace-scope ones access entries ask for."""
    async with Client(load_kubeconfig(cluster.admin_kubeconfig)) as client:
        for policy, role in POLICY_ROLES.items():
            name = f"{GROUP_PREFIX}{policy}"
            await _ensure(
                client, CLUSTER_ROLE_BINDINGS, _binding("ClusterRoleBinding", name, role, name)
            )
    await sync_bindings(cluster, state)


async def sync_bindings(cluster: ClusterPlan, state: RegionState) -> None:
    wanted: set[tuple[str, str]] = set()
    for record in await state.list("accessentries", f"{cluster.settings.name}/"):
        for association in record.value.get("policies") or ():
            policy = association["policyArn"].rsplit("/", 1)[-1]
            scope = association.get("accessScope") or {}
            if policy in POLICY_ROLES and scope.get("type") == "namespace":
                for namespace in scope.get("namespaces") or ():
                    wanted.add((policy, namespace))
    if not wanted:
        return
    async with Client(load_kubeconfig(cluster.admin_kubeconfig)) as client:
        for policy, namespace in sorted(wanted):
            group = f"{GROUP_PREFIX}{policy}:{namespace}"
            body = _binding(
                "RoleBinding", f"{GROUP_PREFIX}{policy}", POLICY_ROLES[policy], group, namespace
            )
            try:
                await _ensure(client, ROLE_BINDINGS, body)
            except ApiError as e:
                if e.code != 404:  # the namespace does not exist (yet)
                    raise
