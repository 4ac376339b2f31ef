"""The scheduling loop without an API server: assume, async bind, failures."""

from __future__ import annotations

import asyncio
from typing import Any

from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.interface import BindPlugin, Handle
from openeks.kube.scheduler.framework.profile import default_profile
from openeks.kube.scheduler.framework.registry import Registry
from openeks.kube.scheduler.framework.runtime import Framework
from openeks.kube.scheduler.framework.status import Status, error
from openeks.kube.scheduler.framework.types import PodInfo
from openeks.kube.scheduler.plugins.registry import in_tree_registry
from openeks.kube.scheduler.queue import SchedulingQueue
from openeks.kube.scheduler.schedule_one import SchedulingLoop
from tests.kube.scheduler.builders import node, pod


class FakeBinder(BindPlugin):
    NAME = "FakeBinder"
    fail = False
    gate: asyncio.Event | None = None
    bound: list[tuple[str, str]] = []

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        if FakeBinder.gate is not None:
            await FakeBinder.gate.wait()
        if FakeBinder.fail:
            return error("pods x not found")
        FakeBinder.bound.append((pod.name, node_name))
        return None


def setup(nodes: list[dict[str, Any]], objects: dict[str, dict[str, Any]]) -> SchedulingLoop:
    FakeBinder.bound = []
    FakeBinder.fail = False
    FakeBinder.gate = None
    profile = default_profile().without("DefaultBinder")
    profile.plugins.append("FakeBinder")
    cache = Cache.from_objects(nodes)
    fw = Framework(
        profile, in_tree_registry().merge(Registry({"FakeBinder": FakeBinder})), Handle(cache)
    )
    return SchedulingLoop(fw, cache, SchedulingQueue(fw), None, objects.get)


async def test_a_pod_is_assumed_before_its_bind_returns() -> None:
    p = pod("p", cpu="1")
    loop = setup([node("a")], {"default/p": p})
    FakeBinder.gate = asyncio.Event()
    loop.queue.add(p)
    loop.schedule_one(loop.queue.pop_nowait())  # type: ignore[arg-type]
    assert loop.cache.is_assumed(p["metadata"]["uid"])
    assert loop.cache.get("a").req_cpu == 1000  # type: ignore[union-attr]
    FakeBinder.gate.set()
    await loop.wait_binds()
    assert FakeBinder.bound == [("p", "a")]
    assert loop.stats.bound == 1


async def test_binds_run_while_the_next_pods_are_scheduled() -> None:
    pods = {f"default/p{i}": pod(f"p{i}") for i in range(5)}
    loop = setup([node("a"), node("b")], pods)
    FakeBinder.gate = asyncio.Event()
    for p in pods.values():
        loop.queue.add(p)
    while (qpi := loop.queue.pop_nowait()) is not None:
        loop.schedule_one(qpi)
    assert loop.stats.scheduled == 5 and loop.stats.bound == 0
    FakeBinder.gate.set()
    await loop.wait_binds()
    assert loop.stats.bound == 5


async def test_a_failed_bind_forgets_the_pod_and_retries_it_with_backoff() -> None:
    p = pod("p", cpu="1")
    loop = setup([node("a")], {"default/p": p})
    FakeBinder.fail = True
    loop.queue.add(p)
    loop.schedule_one(loop.queue.pop_nowait())  # type: ignore[arg-type]
    await loop.wait_binds()
    assert not loop.cache.is_assumed(p["metadata"]["uid"])
    assert loop.cache.get("a").req_cpu == 0  # type: ignore[union-attr]
    assert loop.queue.where(p["metadata"]["uid"]) == "backoff"


async def test_a_failed_bind_of_a_deleted_pod_is_not_retried() -> None:
    p = pod("p")
    loop = setup([node("a")], {})
    FakeBinder.fail = True
    loop.queue.add(p)
    loop.schedule_one(loop.queue.pop_nowait())  # type: ignore[arg-type]
    await loop.wait_binds()
    assert loop.queue.where(p["metadata"]["uid"]) == ""


async def test_a_pod_that_fits_nowhere_is_parked_as_unschedulable() -> None:
    p = pod("p", cpu="64")
    loop = setup([node("a")], {"default/p": p})
    loop.queue.add(p)
    loop.schedule_one(loop.queue.pop_nowait())  # type: ignore[arg-type]
    assert loop.queue.where(p["metadata"]["uid"]) == "unschedulable"
    assert loop.stats.unschedulable == 1
