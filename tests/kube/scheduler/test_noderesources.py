"""NodeResourcesFit (filter, LeastAllocated/MostAllocated) and BalancedAllocation."""

from __future__ import annotations

from typing import Any

import pytest

from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework import resources as res
from openeks.kube.scheduler.framework.registry import ArgsError
from openeks.kube.scheduler.framework.status import Code
from tests.kube.scheduler.builders import node, plugin, pod, reasons, run_filter, run_score


def fit_reasons(
    nodes: list[dict[str, Any]],
    p: dict[str, Any],
    running: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
) -> dict[str, str]:
    infos = Cache.from_objects(nodes, list(running)).nodes()
    return reasons(run_filter(plugin("NodeResourcesFit", nodes, list(running)), p, infos))


def test_a_pod_asking_more_cpu_than_is_left_is_insufficient_cpu() -> None:
    nodes = [node("a", cpu="2")]
    running = [pod(cpu="1500m", node_name="a")]
    assert fit_reasons(nodes, pod(cpu="600m"), running) == {"a": "Insufficient cpu"}
    assert fit_reasons(nodes, pod(cpu="500m"), running) == {}


def test_all_insufficient_resources_are_reported() -> None:
    nodes = [node("a", cpu="1", memory="1Gi")]
    assert fit_reasons(nodes, pod(cpu="2", memory="2Gi")) == {
        "a": "Insufficient cpu, Insufficient memory"
    }


def test_more_than_allocatable_is_unresolvable_but_more_than_free_is_not() -> None:
    nodes = [node("a", cpu="2")]
    infos = Cache.from_objects(nodes, [pod(cpu="1", node_name="a")]).nodes()
    pl = plugin("NodeResourcesFit", nodes, [pod(cpu="1", node_name="a")])
    assert run_filter(pl, pod(cpu="3"), infos)["a"].code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE  # type: ignore[union-attr]
    assert run_filter(pl, pod(cpu="1500m"), infos)["a"].code == Code.UNSCHEDULABLE  # type: ignore[union-attr]


def test_a_full_node_has_too_many_pods_even_for_a_best_effort_pod() -> None:
    nodes = [node("a", pods="2")]
    running = [pod(node_name="a"), pod(node_name="a")]
    assert fit_reasons(nodes, pod(), running) == {"a": "Too many pods"}


def test_init_containers_count_as_their_maximum_not_their_sum() -> None:
    p = pod(cpu="500m")
    p["spec"]["initContainers"] = [
        {"name": "i1", "image": "x", "resources": {"requests": {"cpu": "1"}}},
        {"name": "i2", "image": "x", "resources": {"requests": {"cpu": "2"}}},
    ]
    assert res.pod_requests(p)["cpu"] == 2000
    assert fit_reasons([node("a", cpu="2")], p) == {}
    assert fit_reasons([node("a", cpu="1900m")], p) == {"a": "Insufficient cpu"}


def test_sidecar_init_containers_add_to_the_pod_and_to_later_init_containers() -> None:
    p = pod(cpu="500m")
    p["spec"]["initContainers"] = [
        {
            "name": "s",
            "image": "x",
            "restartPolicy": "Always",
            "resources": {"requests": {"cpu": "1"}},
        },
        {"name": "i", "image": "x", "resources": {"requests": {"cpu": "2"}}},
    ]
    # containers 0.5 + sidecar 1 = 1.5; init phase: sidecar 1 + init 2 = 3.
    assert res.pod_requests(p)["cpu"] == 3000


def test_pod_overhead_is_added_to_the_request() -> None:
    p = pod(cpu="1")
    p["spec"]["overhead"] = {"cpu": "250m"}
    assert res.pod_requests(p)["cpu"] == 1250
    assert fit_reasons([node("a", cpu="1200m")], p) == {"a": "Insufficient cpu"}


def test_ephemeral_storage_and_extended_resources_are_checked() -> None:
    p = pod()
    p["spec"]["containers"][0]["resources"] = {
        "requests": {"ephemeral-storage": "2Gi", "example.com/gpu": "1"}
    }
    small = node("a", extra={"ephemeral-storage": "1Gi"})
    assert fit_reasons([small], p) == {
        "a": "Insufficient ephemeral-storage, Insufficient example.com/gpu"
    }
    big = node("b", extra={"ephemeral-storage": "10Gi", "example.com/gpu": "2"})
    assert fit_reasons([big], p) == {}


def test_ignored_resources_are_not_checked() -> None:
    p = pod()
    p["spec"]["containers"][0]["resources"] = {"requests": {"example.com/gpu": "1"}}
    nodes = [node("a")]
    pl = plugin("NodeResourcesFit", nodes, args={"ignoredResources": ["example.com/gpu"]})
    assert reasons(run_filter(pl, p, Cache.from_objects(nodes).nodes())) == {}


def test_least_allocated_prefers_emptier_nodes_upstream_case() -> None:
    # upstream least_allocated_test: "nothing scheduled, resources requested, differently
    # sized nodes"
    nodes = [node("node1", cpu="4000m", memory="10000"), node("node2", cpu="6000m", memory="10000")]
    p = pod(cpu="3000m", memory="5000")
    got = run_score(plugin("NodeResourcesFit", nodes), p, Cache.from_objects(nodes).nodes())
    assert got == {"node1": 37, "node2": 50}


def test_least_allocated_counts_missing_requests_as_100m_and_200mi() -> None:
    nodes = [node("a", cpu="1000m", memory=str(400 * 1024 * 1024))]
    got = run_score(plugin("NodeResourcesFit", nodes), pod(), Cache.from_objects(nodes).nodes())
    assert got == {"a": (90 + 50) // 2}


def test_most_allocated_prefers_fuller_nodes() -> None:
    nodes = [node("node1", cpu="4000m", memory="10000"), node("node2", cpu="6000m", memory="10000")]
    args = {"scoringStrategy": {"type": "MostAllocated"}}
    pl = plugin("NodeResourcesFit", nodes, args=args)
    got = run_score(pl, pod(cpu="3000m", memory="5000"), Cache.from_objects(nodes).nodes())
    assert got == {"node1": (75 + 50) // 2, "node2": 50}


def test_bad_fit_arguments_are_rejected() -> None:
    with pytest.raises(ArgsError, match="Unsupported value"):
        plugin("NodeResourcesFit", [], args={"scoringStrategy": {"type": "Random"}})
    with pytest.raises(ArgsError, match="weight"):
        plugin(
            "NodeResourcesFit",
            [],
            args={"scoringStrategy": {"resources": [{"name": "cpu", "weight": 0}]}},
        )


def test_balanced_allocation_upstream_case() -> None:
    # upstream balanced_allocation_test: "nothing scheduled, resources requested,
    # differently sized nodes"
    nodes = [node("node1", cpu="4000m", memory="10000"), node("node2", cpu="6000m", memory="10000")]
    got = run_score(
        plugin("NodeResourcesBalancedAllocation", nodes),
        pod(cpu="3000m", memory="5000"),
        Cache.from_objects(nodes).nodes(),
    )
    assert got == {"node1": 87, "node2": 100}


def test_balanced_allocation_skips_best_effort_pods() -> None:
    nodes = [node("a")]
    pl = plugin("NodeResourcesBalancedAllocation", nodes)
    assert run_score(pl, pod(), Cache.from_objects(nodes).nodes()) == {}


def test_scores_are_memoised_per_node_generation_and_stay_correct() -> None:
    nodes = [node("a", cpu="4"), node("b", cpu="4")]
    cache = Cache.from_objects(nodes)
    pl = plugin("NodeResourcesFit", nodes)
    first = run_score(pl, pod(cpu="1", memory="1Gi"), cache.nodes())
    cache.add_pod(pod(cpu="2", memory="1Gi", node_name="a"))
    second = run_score(pl, pod(cpu="1", memory="1Gi"), cache.nodes())
    assert first["a"] == first["b"] == second["b"]
    assert second["a"] < first["a"]
