"""Discovery and metadata-only informers, against a real API server."""

from __future__ import annotations

import asyncio

from openeks.kube.client import Client
from openeks.kube.client.resources import CONFIGMAPS
from openeks.kube.controllers.common import discovery
from openeks.kube.controllers.common.metadata import metadata_informer
from tests.kube.controllers.lifecycle_support import (  # noqa: F401
    api_fixture,
    client_fixture,
    new_namespace,
)


async def test_aggregated_and_legacy_discovery_agree(client: Client) -> None:
    aggregated = await discovery.discover(client)
    legacy = discovery.Discovery()
    core, groups = await asyncio.gather(
        client.request("GET", "/api"), client.request("GET", "/apis")
    )
    await discovery._read_legacy(client, core, groups, legacy)

    def names(found: discovery.Discovery) -> set[tuple[str, str, str, bool]]:
        return {(r.info.group, r.info.version, r.info.plural, r.preferred) for r in found.resources}

    assert names(aggregated) == names(legacy)
    assert not aggregated.failed
    pods = aggregated.for_kind("v1", "Pod")
    assert pods is not None and pods.namespaced and "deletecollection" in pods.verbs
    assert pods.subresource("status") is not None
    deployments = aggregated.for_kind("apps/v1", "Deployment")
    assert deployments is not None and deployments.has_scale
    namespaced = {r.plural for r in aggregated.preferred(namespaced=True, verbs=("delete",))}
    assert {"pods", "configmaps", "deployments", "jobs", "leases"} <= namespaced
    assert "nodes" not in namespaced


async def test_a_metadata_informer_caches_only_metadata(client: Client) -> None:
    ns = await new_namespace(client)
    await client.create(CONFIGMAPS, {"metadata": {"name": "big"}, "data": {"k": "v" * 1000}}, ns)
    informer = metadata_informer(client, CONFIGMAPS, ns)
    informer.start()
    try:
        await informer.wait_synced(10)
        cached = informer.get(f"{ns}/big")
        assert cached is not None
        assert cached["kind"] == "PartialObjectMetadata" and "data" not in cached
        seen: list[str] = []
        informer.on(update=lambda old, new: seen.append(new["metadata"]["name"]))
        await client.patch(CONFIGMAPS, "big", {"metadata": {"labels": {"a": "b"}}}, ns)
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.1)
        assert seen == ["big"]
    finally:
        await informer.stop()
