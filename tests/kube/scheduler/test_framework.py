"""The framework runtime: feasible-node search, FailedScheduling messages, scoring, registry."""

from __future__ import annotations

import random
from typing import Any

import pytest

from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.diagnosis import FitError
from openeks.kube.scheduler.framework.interface import FilterPlugin, Handle
from openeks.kube.scheduler.framework.profile import default_profile
from openeks.kube.scheduler.framework.registry import Registry
from openeks.kube.scheduler.framework.runtime import num_feasible_nodes_to_find
from openeks.kube.scheduler.framework.status import Status
from openeks.kube.scheduler.framework.types import PodInfo
from openeks.kube.scheduler.plugins.registry import in_tree_registry
from openeks.kube.scheduler.schedule_one import NoNodesAvailable, schedule_pod
from tests.kube.scheduler.builders import framework, node, pod


def failure_message(
    nodes: list[dict[str, Any]],
    p: dict[str, Any],
    running: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
) -> str:
    fw, cache = framework(nodes, list(running))
    state = CycleState()
    info = PodInfo(p)
    with pytest.raises(FitError) as raised:
        schedule_pod(fw, cache, state, info)
    fit = raised.value
    fit.diagnosis.post_filter_msg = fw.run_post_filter(
        state, info, fit.diagnosis.node_to_status
    ).message
    return fit.message()


def test_more_cpu_than_any_node_has_says_preemption_is_not_helpful() -> None:
    nodes = [node("a", cpu="2"), node("b", cpu="2"), node("c", cpu="2")]
    assert failure_message(nodes, pod(cpu="3")) == (
        "0/3 nodes are available: 3 Insufficient cpu. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )


def test_full_nodes_without_lower_priority_pods_say_no_preemption_victims() -> None:
    nodes = [node("a", cpu="2"), node("b", cpu="2"), node("c", cpu="2")]
    running = [pod(cpu="1500m", node_name=n) for n in "abc"]
    assert failure_message(nodes, pod(cpu="1"), running) == (
        "0/3 nodes are available: 3 Insufficient cpu. "
        "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )


def test_reasons_are_counted_sorted_and_joined() -> None:
    nodes = [
        node("a", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}]),
        node("b", cpu="1"),
        node("c", cpu="1"),
        node("d", labels={"x": "y"}, cpu="1"),
    ]
    p = pod(cpu="2", nodeSelector={"x": "y"})
    assert failure_message(nodes, p) == (
        "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s), "
        "2 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."
    )


def test_preemption_policy_never_is_not_eligible() -> None:
    nodes = [node("a", cpu="1")]
    assert failure_message(nodes, pod(cpu="2", preemptionPolicy="Never")) == (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: not eligible due to preemptionPolicy=Never."
    )


def test_a_prefilter_result_reports_the_other_nodes_as_not_satisfying_the_plugin() -> None:
    nodes = [node("a", cpu="1"), node("b")]
    pin = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a"]}]}
                ]
            }
        }
    }
    assert failure_message(nodes, pod(cpu="2", affinity=pin)) == (
        "0/2 nodes are available: 1 Insufficient cpu, "
        "1 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )


def test_no_nodes_at_all_is_its_own_error() -> None:
    fw, cache = framework([])
    with pytest.raises(NoNodesAvailable, match="no nodes available to schedule pods"):
        schedule_pod(fw, cache, CycleState(), PodInfo(pod()))


def test_percentage_of_nodes_to_score_is_adaptive_with_a_floor_of_100() -> None:
    assert num_feasible_nodes_to_find(None, 50) == 50
    assert num_feasible_nodes_to_find(None, 100) == 100
    assert num_feasible_nodes_to_find(None, 1000) == 420
    assert num_feasible_nodes_to_find(None, 5000) == 500
    assert num_feasible_nodes_to_find(None, 200) == 100
    assert num_feasible_nodes_to_find(10, 1000) == 100
    assert num_feasible_nodes_to_find(100, 1000) == 1000


def test_filtering_stops_after_enough_feasible_nodes_and_rotates_the_start() -> None:
    nodes = [node(f"n{i:03d}", zone="abc"[i % 3]) for i in range(300)]
    fw, cache = framework(nodes)
    feasible, _ = fw.find_feasible(CycleState(), PodInfo(pod()), cache.nodes())
    assert len(feasible) == 144  # 300 nodes: 50% - 300/125 = 48%
    again, _ = fw.find_feasible(CycleState(), PodInfo(pod()), cache.nodes())
    assert {n.name for n in feasible}.isdisjoint(n.name for n in again)


def test_the_least_loaded_node_wins() -> None:
    nodes = [node("a"), node("b"), node("c")]
    running = [pod(cpu="2", memory="8Gi", node_name="a"), pod(cpu="1", memory="1Gi", node_name="b")]
    fw, cache = framework(nodes, running)
    assert schedule_pod(fw, cache, CycleState(), PodInfo(pod(cpu="100m"))) == "c"


def test_ties_are_broken_at_random() -> None:
    nodes = [node(n) for n in "abcd"]
    fw, cache = framework(nodes)
    random.seed(7)
    chosen = {schedule_pod(fw, cache, CycleState(), PodInfo(pod())) for _ in range(40)}
    assert len(chosen) > 1


def test_batch_filters_agree_with_per_node_filters() -> None:
    rng = random.Random(3)
    taint = {"key": "k", "value": "v", "effect": "NoSchedule"}
    nodes = [
        node(
            f"n{i}",
            cpu=rng.choice(["1", "2", "4"]),
            pods=rng.choice(["1", "2", "110"]),
            taints=[taint] if rng.random() < 0.3 else None,
            unschedulable=rng.random() < 0.2,
        )
        for i in range(40)
    ]
    running = [
        pod(cpu=rng.choice(["100m", "1"]), node_name=f"n{rng.randrange(40)}") for _ in range(30)
    ]
    fw, cache = framework(nodes, running)
    for p in (pod(cpu="1500m"), pod(), pod(cpu="500m", tolerations=[{"operator": "Exists"}])):
        info = PodInfo(p)
        for pl in fw.filter_plugins:
            state = CycleState()
            for pre in fw.pre_filter_plugins:
                pre.pre_filter(state, info, cache.nodes())
            failed: dict[str, Status] = {}
            passed = pl.filter_nodes(state, info, cache.nodes(), failed)
            singly = {n.name: pl.filter(state, info, n) for n in cache.nodes()}
            assert {n.name for n in passed} == {k for k, v in singly.items() if v is None}
            assert {k: v.reasons for k, v in failed.items()} == {
                k: v.reasons for k, v in singly.items() if v is not None
            }


class AlwaysNo(FilterPlugin):
    NAME = "AlwaysNo"

    def filter(self, state: CycleState, pod: PodInfo, node: Any) -> Status | None:
        from openeks.kube.scheduler.framework.status import unschedulable

        return unschedulable("never here")


def test_out_of_tree_plugins_register_by_name() -> None:
    registry = in_tree_registry().merge(Registry({"AlwaysNo": AlwaysNo}))
    profile = default_profile()
    profile.plugins.append("AlwaysNo")
    from openeks.kube.scheduler.framework.runtime import Framework

    cache = Cache.from_objects([node("a")])
    fw = Framework(profile, registry, Handle(cache))
    with pytest.raises(FitError, match="1 never here"):
        schedule_pod(fw, cache, CycleState(), PodInfo(pod()))
    with pytest.raises(ValueError, match="already exists"):
        registry.register("AlwaysNo", AlwaysNo)
    with pytest.raises(ValueError, match="does not exist"):
        Registry().new("Nope", Handle(cache))
