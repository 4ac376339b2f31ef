"""The node lifecycle controller marks silent nodes, taints them and evicts their pods."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator
from typing import Any

from openeks.kube.api import meta
from openeks.kube.client import Client
from openeks.kube.client.resources import EVENTS, NODES, PODS
from openeks.kube.controllers.base import Controller
from openeks.kube.controllers.common import nodehealth, taints
from openeks.kube.controllers.nodelifecycle import NodeLifecycleController
from tests.kube.controllers.lifecycle_support import (  # noqa: F401
    api_fixture,
    client_fixture,
    controllers,
    eventually,
    new_namespace,
    pod_manifest,
    ready_node,
    renew_lease,
)
from tests.support.apiserver import ApiServerProcess

Obj = dict[str, Any]
T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
UNREACHABLE = {"key": taints.UNREACHABLE, "effect": "NoExecute"}


def test_tolerations_match_taints_by_key_value_and_effect() -> None:
    assert taints.tolerates({"key": taints.UNREACHABLE, "operator": "Exists"}, UNREACHABLE)
    assert taints.tolerates({"operator": "Exists"}, UNREACHABLE)
    assert not taints.tolerates(
        {"key": taints.UNREACHABLE, "operator": "Exists", "effect": "NoSchedule"}, UNREACHABLE
    )
    assert taints.tolerates(
        {"key": "k", "value": "v"}, {"key": "k", "value": "v", "effect": "NoExecute"}
    )
    assert not taints.tolerates(
        {"key": "k", "value": "w"}, {"key": "k", "value": "v", "effect": "NoExecute"}
    )


def test_the_shortest_matching_toleration_decides_when_a_pod_goes() -> None:
    tolerations = [
        {
            "key": taints.UNREACHABLE,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
        {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 20},
    ]
    tolerated, used = taints.matching_tolerations([UNREACHABLE], tolerations)
    assert tolerated and taints.min_toleration_seconds(used) == 20
    assert taints.min_toleration_seconds([{"operator": "Exists"}]) is None
    assert taints.matching_tolerations([UNREACHABLE], []) == (False, [])


def test_conditions_call_for_taints_and_recovery_removes_them() -> None:
    node = ready_node("n")
    node["status"]["conditions"][0]["status"] = "Unknown"
    node["spec"] = {"taints": [{"key": "dedicated", "effect": "NoSchedule"}]}
    wanted = taints.reconcile_taints(node, "2024-01-01T00:00:00Z")
    assert wanted == [
        {"key": "dedicated", "effect": "NoSchedule"},
        {"key": taints.UNREACHABLE, "effect": "NoExecute", "timeAdded": "2024-01-01T00:00:00Z"},
        {"key": taints.UNREACHABLE, "effect": "NoSchedule"},
    ]
    node["spec"]["taints"] = wanted
    node["status"]["conditions"][0]["status"] = "True"
    assert taints.reconcile_taints(node, "2024-01-01T00:00:09Z") == [
        {"key": "dedicated", "effect": "NoSchedule"}
    ]


def test_a_node_not_heard_from_for_the_grace_period_goes_unknown() -> None:
    node = ready_node("n")
    node["metadata"]["creationTimestamp"] = meta.rfc3339(T0)
    lease = {"spec": {"renewTime": "2024-01-01T00:00:00.000000Z"}}
    health = nodehealth.observe(None, node, lease, T0)
    assert (
        nodehealth.stale_conditions(node, health, T0 + datetime.timedelta(seconds=39), 40, 60)
        is None
    )
    later = T0 + datetime.timedelta(seconds=41)
    health = nodehealth.observe(health, node, lease, later)
    conditions = nodehealth.stale_conditions(node, health, later, 40, 60)
    assert conditions is not None
    by_type = {c["type"]: c for c in conditions}
    assert by_type["Ready"]["status"] == "Unknown"
    assert by_type["Ready"]["reason"] == "NodeStatusUnknown"
    assert by_type["Ready"]["message"] == "Kubelet stopped posting node status."
    assert by_type["MemoryPressure"]["reason"] == "NodeStatusNeverUpdated"
    renewed = {"spec": {"renewTime": "2024-01-01T00:00:40.000000Z"}}
    health = nodehealth.observe(health, node, renewed, later)
    assert nodehealth.stale_conditions(node, health, later, 40, 60) is None


def _fast(c: Controller) -> None:
    if isinstance(c, NodeLifecycleController):
        c.monitor_period = 0.2
        c.grace_period = 2.0


@contextlib.asynccontextmanager
async def _renewing(client: Client, node: str) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            await renew_lease(client, node)
            await asyncio.sleep(0.5)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _running(
    client: Client, ns: str, name: str, node: str, tolerations: list[Obj] | None = None
) -> None:
    pod = await client.create(
        PODS, pod_manifest(name, ns, nodeName=node, tolerations=tolerations or []), ns
    )
    now = meta.rfc3339(meta.now())
    pod["status"] = {
        "phase": "Running",
        "podIP": "10.9.0.1",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
    }
    await client.update_status(PODS, pod)


async def _node(client: Client, name: str) -> Obj:
    got: Obj = await client.get(NODES, name)
    return got


async def test_a_silent_node_is_tainted_and_pods_go_when_their_toleration_ends(
    api: ApiServerProcess, client: Client
) -> None:
    ns = await new_namespace(client)
    await client.create(NODES, ready_node("silent"))
    await client.create(NODES, ready_node("alive"))
    await renew_lease(client, "silent")
    short = [
        {
            "key": taints.UNREACHABLE,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 2,
        }
    ]
    await _running(client, ns, "brief", "silent", short)
    await _running(client, ns, "patient", "silent")  # DefaultTolerationSeconds: 300 s
    async with _renewing(client, "alive"), controllers(api, "nodelifecycle", tune=_fast):

        async def unknown() -> Obj | None:
            node = await _node(client, "silent")
            return node if taints.condition_status(node, "Ready") == "Unknown" else None

        node = await eventually(unknown, timeout=15)
        ready = nodehealth.ready_condition(node)
        assert ready is not None and ready["reason"] == "NodeStatusUnknown"
        tainted = await eventually(lambda: _taint_keys(client, "silent"))
        assert tainted == {(taints.UNREACHABLE, "NoExecute"), (taints.UNREACHABLE, "NoSchedule")}
        assert taints.condition_status(await _node(client, "alive"), "Ready") == "True"

        patient = await client.get(PODS, "patient", ns)
        assert any(
            c["type"] == "Ready" and c["status"] == "False" for c in patient["status"]["conditions"]
        )
        brief = await eventually(lambda: _deleting(client, ns, "brief"), timeout=15)
        assert any(c["type"] == "DisruptionTarget" for c in brief["status"]["conditions"])
        assert not (await client.get(PODS, "patient", ns))["metadata"].get("deletionTimestamp")
        assert await eventually(
            lambda: _event(
                client, ns, "TaintManagerEviction", f"Marking for deletion Pod {ns}/brief"
            )
        )
        assert await eventually(
            lambda: _event(
                client, "default", "NodeNotReady", "Node silent status is now: NodeNotReady"
            )
        )

        async with _renewing(client, "silent"):
            node = await _node(client, "silent")
            now = meta.rfc3339(meta.now())
            node["status"]["conditions"] = [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ]
            await client.update_status(NODES, node)
            await eventually(lambda: _untainted(client, "silent"))


async def _taint_keys(client: Client, name: str) -> set[tuple[str, str]]:
    node = await _node(client, name)
    return {(t["key"], t["effect"]) for t in (node.get("spec") or {}).get("taints") or ()}


async def _untainted(client: Client, name: str) -> bool:
    return not await _taint_keys(client, name)


async def _deleting(client: Client, ns: str, name: str) -> Obj | None:
    pod: Obj = await client.get(PODS, name, ns)
    return pod if pod["metadata"].get("deletionTimestamp") else None


async def _event(client: Client, ns: str, reason: str, message: str) -> bool:
    events = (await client.list(EVENTS, ns))["items"]
    return any(e.get("reason") == reason and e.get("message") == message for e in events)
