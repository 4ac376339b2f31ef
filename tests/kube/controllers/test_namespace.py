"""The namespace controller empties a deleted namespace and then lets it go."""

from __future__ import annotations

from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client
from openeks.kube.client.resources import CONFIGMAPS, NAMESPACES, PODS, SECRETS
from openeks.kube.controllers.common.nsdeleter import update_conditions
from tests.kube.controllers.lifecycle_support import (  # noqa: F401
    api_fixture,
    client_fixture,
    controllers,
    eventually,
    kubectl_fixture,
    new_namespace,
    pod_manifest,
)
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl

Obj = dict[str, Any]


def test_conditions_are_all_written_with_the_ok_form_for_what_is_fine() -> None:
    status: Obj = {}
    failures = {
        "NamespaceContentRemaining": ("SomeResourcesRemain", "Some resources are remaining: x")
    }
    assert update_conditions(status, failures, "2024-01-01T00:00:00Z")
    by_type = {c["type"]: c for c in status["conditions"]}
    assert by_type["NamespaceContentRemaining"]["status"] == "True"
    assert by_type["NamespaceFinalizersRemaining"] == {
        "type": "NamespaceFinalizersRemaining",
        "status": "False",
        "lastTransitionTime": "2024-01-01T00:00:00Z",
        "reason": "ContentHasNoFinalizers",
        "message": "All content-preserving finalizers finished",
    }
    assert not update_conditions(status, failures, "2024-01-01T00:00:09Z")


async def _gone(client: Client, name: str) -> bool:
    try:
        await client.get(NAMESPACES, name)
    except ApiError as e:
        return e.code == 404
    return False


async def test_kubectl_delete_namespace_removes_its_content(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    await client.create(CONFIGMAPS, {"metadata": {"name": "a"}, "data": {"k": "v"}}, ns)
    await client.create(SECRETS, {"metadata": {"name": "s"}, "stringData": {"k": "v"}}, ns)
    await client.create(PODS, pod_manifest("p", ns), ns)  # unscheduled: goes at once
    async with controllers(api, "namespace"):
        kubectl("delete", "namespace", ns, "--timeout=30s")
        assert await _gone(client, ns)


async def test_finalizers_keep_a_namespace_terminating_with_upstreams_conditions(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    held = {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    await client.create(CONFIGMAPS, held, ns)
    async with controllers(api, "namespace"):
        await client.delete(NAMESPACES, ns)

        async def conditions() -> dict[str, Obj]:
            got = await client.get(NAMESPACES, ns)
            by_type = {c["type"]: c for c in (got.get("status") or {}).get("conditions") or ()}
            return (
                by_type
                if by_type.get("NamespaceFinalizersRemaining", {}).get("status") == "True"
                else {}
            )

        by_type = await eventually(conditions)
        assert by_type["NamespaceFinalizersRemaining"]["reason"] == "SomeFinalizersRemain"
        assert by_type["NamespaceFinalizersRemaining"]["message"] == (
            "Some content in the namespace has finalizers remaining: "
            "example.com/hold in 1 resource instances"
        )
        assert by_type["NamespaceContentRemaining"]["message"] == (
            "Some resources are remaining: configmaps. has 1 resource instances"
        )
        assert by_type["NamespaceDeletionDiscoveryFailure"]["reason"] == "ResourcesDiscovered"
        assert "Terminating" in kubectl("get", "namespace", ns)

        await client.patch(CONFIGMAPS, "held", {"metadata": {"finalizers": None}}, ns)
        await eventually(lambda: _gone(client, ns), timeout=20)
