"""The scheduler against a real API server: binding, spreading, failures, leader election.

One `openeks kube up` per module (its own scheduler and controllers off); each test runs
its Scheduler in-process against the admin kubeconfig, in its own namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, ClientConfig, load_kubeconfig
from openeks.kube.client.resources import EVENTS, LEASES, NAMESPACES, NODES, PODS, REPLICASETS
from openeks.kube.scheduler import Scheduler, SchedulerConfig
from tests.support.apiserver import ApiServerProcess

Obj = dict[str, Any]
_ns = itertools.count(1)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    data = tmp_path_factory.mktemp("scheduler-e2e")
    with ApiServerProcess(Path(data), extra=["--no-scheduler", "--no-controllers"]) as server:
        yield server


@pytest.fixture
async def client(api: ApiServerProcess) -> AsyncIterator[Client]:
    async with Client(load_kubeconfig(api.kubeconfig)) as c:
        for name, zone in (("zone-a-1", "a"), ("zone-b-1", "b")):
            with contextlib.suppress(ApiError):
                await c.create(NODES, node(name, zone, cpu="2"))
        yield c


@pytest.fixture
async def namespace(client: Client) -> str:
    name = f"sched-{next(_ns)}"
    await client.create(
        NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    return name


def node(name: str, zone: str, cpu: str) -> Obj:
    alloc = {"cpu": cpu, "memory": "8Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone},
        },
        "status": {"allocatable": alloc, "capacity": alloc},
    }


def pod(name: str, cpu: str = "100m", labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox", "resources": {"requests": {"cpu": cpu}}}
            ],
            **spec,
        },
    }


@contextlib.asynccontextmanager
async def running(config: ClientConfig, **options: Any) -> AsyncIterator[Scheduler]:
    options.setdefault("leader_elect", False)
    scheduler = Scheduler(SchedulerConfig(config, **options))
    task = asyncio.create_task(scheduler.run())
    try:
        yield scheduler
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def node_of(client: Client, namespace: str, name: str) -> str:
    got = await client.get(PODS, name, namespace)
    return str(got["spec"].get("nodeName") or "")


async def test_pods_get_bound_to_nodes(
    api: ApiServerProcess, client: Client, namespace: str
) -> None:
    async with running(load_kubeconfig(api.kubeconfig)):
        for i in range(3):
            await client.create(PODS, pod(f"p{i}"), namespace)

        async def all_bound() -> bool:
            return all([await node_of(client, namespace, f"p{i}") for i in range(3)])

        await eventually(all_bound)
    got = await client.get(PODS, "p0", namespace)
    scheduled = [c for c in got["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert scheduled and scheduled[0]["status"] == "True"


async def test_replicas_of_a_replicaset_spread_over_both_zones(
    api: ApiServerProcess, client: Client, namespace: str
) -> None:
    rs = await client.create(
        REPLICASETS,
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 4,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        },
        namespace,
    )
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "web",
        "uid": rs["metadata"]["uid"],
        "controller": True,
    }
    async with running(load_kubeconfig(api.kubeconfig)):
        for i in range(4):
            body = pod(f"web-{i}", labels={"app": "web"})
            body["metadata"]["ownerReferences"] = [owner]
            await client.create(PODS, body, namespace)
            await eventually(lambda i=i: _bound(client, namespace, f"web-{i}"))  # type: ignore[misc]
    placed = [await node_of(client, namespace, f"web-{i}") for i in range(4)]
    assert sorted(placed) == ["zone-a-1", "zone-a-1", "zone-b-1", "zone-b-1"]


async def _bound(client: Client, namespace: str, name: str) -> bool:
    return bool(await node_of(client, namespace, name))


async def test_a_pod_too_big_for_every_node_waits_then_lands_on_a_bigger_node(
    api: ApiServerProcess, client: Client, namespace: str
) -> None:
    expected = (
        "0/2 nodes are available: 2 Insufficient cpu. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )
    async with running(load_kubeconfig(api.kubeconfig)):
        await client.create(PODS, pod("big", cpu="4"), namespace)

        async def failed_event() -> bool:
            events = (await client.list(EVENTS, namespace))["items"]
            return any(e["reason"] == "FailedScheduling" for e in events)

        await eventually(failed_event)
        events = (await client.list(EVENTS, namespace))["items"]
        warning = next(e for e in events if e["reason"] == "FailedScheduling")
        assert warning["type"] == "Warning"
        assert warning["message"] == expected
        assert warning["source"]["component"] == "default-scheduler"

        async def condition_set() -> bool:
            got = await client.get(PODS, "big", namespace)
            conds = got["status"].get("conditions") or []
            return any(c["type"] == "PodScheduled" and c.get("message") for c in conds)

        await eventually(condition_set)
        got = await client.get(PODS, "big", namespace)
        cond = next(c for c in got["status"]["conditions"] if c["type"] == "PodScheduled")
        assert (cond["status"], cond["reason"], cond["message"]) == (
            "False",
            "Unschedulable",
            expected,
        )
        assert not got["spec"].get("nodeName")
        await client.create(NODES, node("zone-c-big", "c", cpu="8"))
        try:
            await eventually(lambda: _bound(client, namespace, "big"))
            assert await node_of(client, namespace, "big") == "zone-c-big"
        finally:
            await client.delete(PODS, "big", namespace, grace_period=0)
            await client.delete(NODES, "zone-c-big")


async def test_pods_for_another_scheduler_are_left_alone(
    api: ApiServerProcess, client: Client, namespace: str
) -> None:
    async with running(load_kubeconfig(api.kubeconfig)):
        await client.create(PODS, pod("theirs", schedulerName="other"), namespace)
        await client.create(PODS, pod("ours"), namespace)
        await eventually(lambda: _bound(client, namespace, "ours"))
        await asyncio.sleep(0.5)
        assert await node_of(client, namespace, "theirs") == ""
        events = (await client.list(EVENTS, namespace))["items"]
        assert not [e for e in events if e["involvedObject"]["name"] == "theirs"]


async def test_with_leader_election_only_the_leader_binds(
    api: ApiServerProcess, client: Client, namespace: str
) -> None:
    config = load_kubeconfig(api.kubeconfig)
    async with (
        running(config, leader_elect=True, identity="first") as first,
        running(config, leader_elect=True, identity="second") as second,
    ):
        for i in range(4):
            await client.create(PODS, pod(f"p{i}"), namespace)
        for i in range(4):
            await eventually(lambda i=i: _bound(client, namespace, f"p{i}"))  # type: ignore[misc]
        lease = await client.get(LEASES, "kube-scheduler", "kube-system")
        holder = lease["spec"]["holderIdentity"]
        leader, follower = (first, second) if holder == "first" else (second, first)
        assert leader.stats.bound == 4
        assert follower.stats.bound == 0
        assert follower.loop is None
