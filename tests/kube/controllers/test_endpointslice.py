"""The EndpointSlice controller slices a Service's pods, at most 100 to a slice."""

from __future__ import annotations

from typing import Any

from openeks.kube.client import Client
from openeks.kube.client.resources import ENDPOINTSLICES, PODS, SERVICES
from openeks.kube.controllers.common import slices as sl
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
TEMPLATE = {
    "metadata": {"generateName": "svc-", "namespace": "ns", "labels": {sl.SERVICE_NAME: "svc"}},
    "addressType": "IPv4",
}
PORTS = [{"name": "http", "port": 8080, "protocol": "TCP"}]


def _ep(i: int) -> Obj:
    return {
        "addresses": [f"10.0.{i // 250}.{i % 250}"],
        "conditions": {"ready": True},
        "targetRef": {"kind": "Pod", "uid": f"u{i}"},
    }


def test_endpoints_are_cut_into_slices_of_at_most_a_hundred() -> None:
    desired = {sl.ports_key(PORTS): (PORTS, [_ep(i) for i in range(250)])}
    plan = sl.plan([], desired, TEMPLATE)
    assert [len(s["endpoints"]) for s in plan.create] == [100, 100, 50]
    assert all(s["ports"] == PORTS for s in plan.create)


def test_existing_slices_keep_their_endpoints_and_fill_up_before_new_ones() -> None:
    old = {
        **TEMPLATE,
        "metadata": {**TEMPLATE["metadata"], "name": "svc-a"},
        "ports": PORTS,
        "endpoints": [_ep(i) for i in range(3)],
    }
    desired = {sl.ports_key(PORTS): (PORTS, [_ep(i) for i in range(1, 5)])}
    plan = sl.plan([old], desired, TEMPLATE)
    assert not plan.create and not plan.delete
    assert [e["targetRef"]["uid"] for e in plan.update[0]["endpoints"]] == ["u1", "u2", "u3", "u4"]


def test_no_endpoints_leaves_one_placeholder_slice() -> None:
    plan = sl.plan([], {}, TEMPLATE)
    assert len(plan.create) == 1 and plan.create[0]["endpoints"] == []


async def _slices(client: Client, ns: str, name: str) -> list[Obj]:
    items = (await client.list(ENDPOINTSLICES, ns, label_selector=f"{sl.SERVICE_NAME}={name}"))[
        "items"
    ]
    return list(items)


async def _endpoints(client: Client, ns: str, name: str, count: int) -> list[Obj] | None:
    eps = [e for s in await _slices(client, ns, name) for e in s.get("endpoints") or ()]
    return eps if len(eps) == count else None


async def test_slices_follow_pod_readiness_and_termination(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "api"},
        "spec": {
            "selector": {"app": "api"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        },
    }
    await client.create(SERVICES, service, ns)
    unready: set[str] = set()
    for name in ("api-1", "api-2"):
        await client.create(PODS, pod_manifest(name, ns, {"app": "api"}), ns)
    async with (
        FakeKubelet(
            client,
            "slice-node",
            zone="zone-a",
            ready=lambda p: p["metadata"]["name"] not in unready,
        ) as kubelet,
        controllers(api, "endpointslice"),
    ):
        eps = await eventually(lambda: _endpoints(client, ns, "api", 2))
        (slice_,) = await _slices(client, ns, "api")
        assert slice_["addressType"] == "IPv4"
        assert slice_["metadata"]["labels"][sl.MANAGED_BY] == sl.CONTROLLER
        assert slice_["metadata"]["ownerReferences"][0]["kind"] == "Service"
        assert slice_["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
        assert all(e["zone"] == "zone-a" and e["nodeName"] == "slice-node" for e in eps)
        assert all(
            e["conditions"] == {"ready": True, "serving": True, "terminating": False} for e in eps
        )

        unready.add("api-1")
        kubelet.poke(await client.get(PODS, "api-1", ns))

        async def api1_not_ready() -> bool:
            eps = await _endpoints(client, ns, "api", 2) or []
            return any(
                e["targetRef"]["name"] == "api-1" and not e["conditions"]["ready"] for e in eps
            )

        await eventually(api1_not_ready)
        assert "api" in kubectl("get", "endpointslices", "-n", ns)
