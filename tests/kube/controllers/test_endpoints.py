"""The Endpoints controller publishes a Service's pods, ready or not, on the right ports."""

from __future__ import annotations

from typing import Any

from openeks.kube.client import Client
from openeks.kube.client.resources import ENDPOINTS, PODS, SERVICES
from openeks.kube.controllers.common import endpointutil as eu
from openeks.kube.controllers.endpoints import truncate
from tests.kube.controllers.lifecycle_support import (  # noqa: F401
    FakeKubelet,
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


def _pod(name: str, ports: list[Obj] | None = None) -> Obj:
    pod = pod_manifest(name, "ns")
    pod["metadata"]["uid"] = f"uid-{name}"
    pod["spec"]["containers"][0]["ports"] = ports or []
    return pod


def test_named_target_ports_resolve_through_container_ports() -> None:
    pod = _pod(
        "a",
        [
            {"name": "http", "containerPort": 8080},
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
        ],
    )
    assert eu.find_port(pod, {"port": 80, "targetPort": "http"}) == 8080
    assert eu.find_port(pod, {"port": 53, "targetPort": "dns", "protocol": "UDP"}) == 53
    assert eu.find_port(pod, {"port": 53, "targetPort": "dns"}) is None
    assert eu.find_port(pod, {"port": 80, "targetPort": 9090}) == 9090


def test_addresses_with_the_same_ports_share_a_subset() -> None:
    http = {"name": "http", "port": 8080, "protocol": "TCP"}
    alt = {"name": "http", "port": 9090, "protocol": "TCP"}
    a = {"ip": "10.0.0.2", "targetRef": {"uid": "a"}}
    b = {"ip": "10.0.0.1", "targetRef": {"uid": "b"}}
    c = {"ip": "10.0.0.3", "targetRef": {"uid": "c"}}
    subsets = eu.repack_subsets([(a, True, http), (b, False, http), (c, True, alt)])
    assert subsets == [
        {"addresses": [a], "notReadyAddresses": [b], "ports": [http]},
        {"addresses": [c], "ports": [alt]},
    ]


def test_more_than_a_thousand_addresses_are_truncated_ready_first() -> None:
    subsets = [
        {
            "addresses": [{"ip": str(i)} for i in range(900)],
            "notReadyAddresses": [{"ip": f"n{i}"} for i in range(300)],
        }
    ]
    assert truncate(subsets)
    assert len(subsets[0]["addresses"]) == 900 and len(subsets[0]["notReadyAddresses"]) == 100


def _service(name: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"tier": "web"}},
        "spec": {
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            **spec,
        },
    }


async def _endpoints(client: Client, ns: str, name: str, ready: int, unready: int) -> Obj | None:
    ep: Obj = await client.get(ENDPOINTS, name, ns)
    subsets = ep.get("subsets") or []
    got = (
        sum(len(s.get("addresses") or ()) for s in subsets),
        sum(len(s.get("notReadyAddresses") or ()) for s in subsets),
    )
    return ep if got == (ready, unready) else None


async def test_endpoints_follow_pod_readiness(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    await client.create(SERVICES, _service("web"), ns)
    unready: set[str] = set()
    for name in ("web-1", "web-2"):
        pod = pod_manifest(name, ns, {"app": "web"})
        pod["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
        await client.create(PODS, pod, ns)
    async with (
        FakeKubelet(
            client, "ep-node", ready=lambda p: p["metadata"]["name"] not in unready
        ) as kubelet,
        controllers(api, "endpoints"),
    ):
        ep = await eventually(lambda: _endpoints(client, ns, "web", 2, 0))
        subset = ep["subsets"][0]
        assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
        assert {a["targetRef"]["name"] for a in subset["addresses"]} == {"web-1", "web-2"}
        assert all(a["nodeName"] == "ep-node" for a in subset["addresses"])
        assert ep["metadata"]["labels"] == {"tier": "web"}
        assert eu.TRIGGER_TIME in ep["metadata"]["annotations"]
        assert "endpointslice.kubernetes.io/skip-mirror" not in ep["metadata"]["labels"]

        unready.add("web-2")
        kubelet.poke(await client.get(PODS, "web-2", ns))
        ep = await eventually(lambda: _endpoints(client, ns, "web", 1, 1))
        assert ep["subsets"][0]["notReadyAddresses"][0]["targetRef"]["name"] == "web-2"
        assert ":8080" in kubectl("get", "endpoints", "web", "-n", ns)

        await client.delete(SERVICES, "web", ns)
        await eventually(lambda: _gone(client, ns, "web"))


async def _gone(client: Client, ns: str, name: str) -> bool:
    return not any(
        e["metadata"]["name"] == name for e in (await client.list(ENDPOINTS, ns))["items"]
    )


async def test_services_without_selectors_are_left_alone(
    api: ApiServerProcess, client: Client
) -> None:
    ns = await new_namespace(client)
    svc = _service("manual")
    del svc["spec"]["selector"]
    await client.create(SERVICES, svc, ns)
    own = {
        "metadata": {"name": "manual"},
        "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}],
    }
    await client.create(ENDPOINTS, own, ns)
    async with controllers(api, "endpoints"):
        import asyncio

        await asyncio.sleep(1)
        ep = await client.get(ENDPOINTS, "manual", ns)
        assert ep["subsets"][0]["addresses"] == [{"ip": "192.0.2.1"}]


async def test_a_headless_service_publishes_hostnames_and_is_labelled(
    api: ApiServerProcess, client: Client
) -> None:
    ns = await new_namespace(client)
    await client.create(SERVICES, _service("db", clusterIP="None", ports=[]), ns)
    pod = pod_manifest("db-0", ns, {"app": "db"}, hostname="db-0", subdomain="db")
    await client.create(PODS, pod, ns)
    async with FakeKubelet(client, "ep-node-2"), controllers(api, "endpoints"):
        ep = await eventually(lambda: _endpoints(client, ns, "db", 1, 0))
    assert ep["subsets"][0]["addresses"][0]["hostname"] == "db-0"
    assert "ports" not in ep["subsets"][0]
    assert ep["metadata"]["labels"][eu.HEADLESS] == ""
