"""The scheduling queue: ordering, back-off, parking and moving on cluster events."""

from __future__ import annotations

import asyncio

from openeks.kube.scheduler.framework import events as ev
from openeks.kube.scheduler.queue import SchedulingQueue
from tests.kube.scheduler.builders import framework, node, pod


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_queue() -> tuple[SchedulingQueue, Clock]:
    fw, _ = framework([node("a")])
    clock = Clock()
    return SchedulingQueue(fw, clock=clock), clock


def test_higher_priority_pods_pop_first_then_older_ones() -> None:
    q, _ = make_queue()
    old, new, urgent = pod("old"), pod("new"), pod("urgent", priority=100)
    old["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    new["metadata"]["creationTimestamp"] = "2026-01-01T00:00:05Z"
    for p in (new, old, urgent):
        q.add(p)
    order = [q.pop_nowait().pod.name for _ in range(3)]  # type: ignore[union-attr]
    assert order == ["urgent", "old", "new"]


def test_pop_waits_for_a_pod() -> None:
    async def scenario() -> str:
        q, _ = make_queue()
        waiter = asyncio.create_task(q.pop())
        await asyncio.sleep(0.01)
        assert not waiter.done()
        q.add(pod("late"))
        return (await asyncio.wait_for(waiter, 1)).pod.name

    assert asyncio.run(scenario()) == "late"


def test_errors_back_off_exponentially_up_to_ten_seconds() -> None:
    q, clock = make_queue()
    q.add(pod("p"))
    for attempt, expected in ((1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (6, 10)):
        qpi = q.pop_nowait()
        assert qpi is not None and qpi.attempts == attempt
        q.requeue(qpi, set(), error=True)
        assert q.where(qpi.uid) == "backoff"
        clock.now += expected - 0.01
        assert q.flush_backoff_completed() == 0
        clock.now += 0.02
        assert q.flush_backoff_completed() == 1


def test_an_unschedulable_pod_waits_for_an_event_its_plugins_care_about() -> None:
    q, clock = make_queue()
    q.add(pod("big", cpu="100"))
    qpi = q.pop_nowait()
    assert qpi is not None
    q.requeue(qpi, {"NodeResourcesFit"}, error=False)
    assert q.where(qpi.uid) == "unschedulable"
    label_change = ev.ClusterEvent(ev.NODE, ev.Action.UPDATE_NODE_LABEL)
    assert q.on_event(label_change, node("a"), node("a")) == 0
    small = node("small", cpu="2")
    assert q.on_event(ev.NODE_ADD, None, small) == 0  # the hint: it would not fit there
    clock.now += 5
    assert q.on_event(ev.NODE_ADD, None, node("huge", cpu="200")) == 1
    assert q.where(qpi.uid) == "active"


def test_a_pod_moved_before_its_backoff_ends_waits_in_backoff() -> None:
    q, _ = make_queue()
    q.add(pod("p"))
    qpi = q.pop_nowait()
    assert qpi is not None
    q.requeue(qpi, {"NodeResourcesFit"}, error=False)
    assert q.on_event(ev.ASSIGNED_POD_DELETE, pod(node_name="a"), None) == 1
    assert q.where(qpi.uid) == "backoff"


def test_parked_pods_are_flushed_within_a_minute_anyway() -> None:
    q, clock = make_queue()
    q.add(pod("p"))
    qpi = q.pop_nowait()
    assert qpi is not None
    q.requeue(qpi, {"NodeAffinity"}, error=False)
    clock.now += 54
    assert q.flush_unschedulable_leftover() == 0
    clock.now += 2
    assert q.flush_unschedulable_leftover() == 1
    assert q.where(qpi.uid) == "active"


def test_status_only_updates_do_not_wake_a_parked_pod_but_spec_changes_do() -> None:
    q, clock = make_queue()
    p = pod("p", cpu="100")
    q.add(p)
    qpi = q.pop_nowait()
    assert qpi is not None
    q.requeue(qpi, {"NodeResourcesFit"}, error=False)
    clock.now += 20
    q.update({**p, "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled"}]}})
    assert q.where(qpi.uid) == "unschedulable"
    q.update({**p, "metadata": {**p["metadata"], "labels": {"new": "label"}}})
    assert q.where(qpi.uid) == "active"


def test_gated_pods_wait_until_their_gates_are_removed() -> None:
    q, _ = make_queue()
    gated = pod("g", schedulingGates=[{"name": "example.com/wait"}])
    q.add(gated)
    assert q.pop_nowait() is None
    assert q.where(gated["metadata"]["uid"]) == "unschedulable"
    assert q.on_event(ev.NODE_ADD, None, node("b")) == 0
    q.update({**gated, "spec": {**gated["spec"], "schedulingGates": []}})
    assert q.pop_nowait() is not None


def test_deleted_pods_leave_the_queue() -> None:
    q, _ = make_queue()
    p = pod("p")
    q.add(p)
    q.delete(p["metadata"]["uid"])
    assert q.pop_nowait() is None
