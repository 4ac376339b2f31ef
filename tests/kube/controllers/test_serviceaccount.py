"""The service account controller keeps a `default` ServiceAccount in every namespace."""

from __future__ import annotations

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client
from openeks.kube.client.resources import SERVICEACCOUNTS
from tests.kube.controllers.lifecycle_support import (  # noqa: F401
    api_fixture,
    client_fixture,
    controllers,
    eventually,
    kubectl_fixture,
    new_namespace,
)
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl


async def _default(client: Client, ns: str) -> str:
    try:
        sa = await client.get(SERVICEACCOUNTS, "default", ns)
    except ApiError as e:
        if e.code == 404:
            return ""
        raise
    return str(sa["metadata"]["uid"])


async def test_a_new_namespace_gets_a_default_service_account_that_comes_back(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    async with controllers(api, "serviceaccount"):
        ns = await new_namespace(client)
        first = await eventually(lambda: _default(client, ns))
        assert "default" in kubectl("get", "serviceaccounts", "-n", ns)
        kubectl("delete", "serviceaccount", "default", "-n", ns)
        second = await eventually(lambda: _default(client, ns))
        assert second != first
