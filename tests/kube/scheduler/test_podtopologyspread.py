"""PodTopologySpread: hard constraints (filter), soft constraints and system defaults (score)."""

from __future__ import annotations

from typing import Any

import pytest

from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework.interface import Handle
from openeks.kube.scheduler.framework.registry import ArgsError
from openeks.kube.scheduler.plugins.podtopologyspread.plugin import PodTopologySpread
from tests.kube.scheduler.builders import (
    FakeListers,
    node,
    pod,
    reasons,
    run_filter,
    run_score,
)

NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def constraint(
    key: str, max_skew: int = 1, when: str = "DoNotSchedule", **extra: Any
) -> dict[str, Any]:
    return {
        "maxSkew": max_skew,
        "topologyKey": key,
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": {"app": "web"}},
        **extra,
    }


def web(node_name: str = "", **spec: Any) -> dict[str, Any]:
    return pod(labels={"app": "web"}, node_name=node_name, **spec)


def setup(
    nodes: list[dict[str, Any]],
    running: list[dict[str, Any]],
    listers: FakeListers | None = None,
    args: dict[str, Any] | None = None,
) -> tuple[PodTopologySpread, list[Any]]:
    cache = Cache.from_objects(nodes, running)
    pl = PodTopologySpread(Handle(cache, listers or FakeListers()), args)
    return pl, cache.nodes()


NODES = [node("a1", zone="a"), node("a2", zone="a"), node("b1", zone="b"), node("b2", zone="b")]


def test_a_zone_with_more_matching_pods_than_max_skew_allows_is_filtered() -> None:
    running = [web("a1"), web("a2")]
    pl, infos = setup(NODES, running)
    got = run_filter(pl, web(topologySpreadConstraints=[constraint(ZONE)]), infos)
    assert reasons(got) == {"a1": NOT_MATCH, "a2": NOT_MATCH}


def test_max_skew_two_tolerates_one_extra() -> None:
    running = [web("a1")]
    pl, infos = setup(NODES, running)
    got = run_filter(pl, web(topologySpreadConstraints=[constraint(ZONE, max_skew=2)]), infos)
    assert reasons(got) == {}


def test_pods_not_matching_the_selector_are_not_counted() -> None:
    running = [pod(labels={"app": "db"}, node_name="a1"), pod(labels={"app": "db"}, node_name="a2")]
    pl, infos = setup(NODES, running)
    assert reasons(run_filter(pl, web(topologySpreadConstraints=[constraint(ZONE)]), infos)) == {}


def test_pods_in_other_namespaces_are_not_counted() -> None:
    running = [pod(labels={"app": "web"}, namespace="other", node_name="a1")]
    pl, infos = setup(NODES, running)
    got = run_filter(pl, web(topologySpreadConstraints=[constraint(HOST)]), infos)
    assert reasons(got) == {}


def test_a_node_missing_the_topology_key_is_unresolvable() -> None:
    nodes = [*NODES, node("nozone")]
    pl, infos = setup(nodes, [])
    got = run_filter(pl, web(topologySpreadConstraints=[constraint(ZONE)]), infos)
    assert reasons(got) == {"nozone": NOT_MATCH + " (missing required label)"}


def test_hostname_spreading_allows_only_the_emptiest_hosts() -> None:
    running = [web("a1"), web("a2"), web("b1")]
    pl, infos = setup(NODES, running)
    got = run_filter(pl, web(topologySpreadConstraints=[constraint(HOST)]), infos)
    assert sorted(reasons(got)) == ["a1", "a2", "b1"]


def test_min_domains_treats_the_global_minimum_as_zero_when_domains_are_missing() -> None:
    running = [web("a1")]
    pl, infos = setup(NODES, running)
    c = constraint(ZONE, minDomains=3)
    got = run_filter(pl, web(topologySpreadConstraints=[c]), infos)
    # two domains < minDomains 3 → min is 0: zone a would get skew 2 > 1, zone b skew 1.
    assert reasons(got) == {"a1": NOT_MATCH, "a2": NOT_MATCH}


def test_node_affinity_policy_honor_ignores_domains_the_pod_cannot_use() -> None:
    nodes = [node("a1", zone="a", labels={"pool": "x"}), node("b1", zone="b", labels={"pool": "y"})]
    pl, infos = setup(nodes, [web("b1"), web("b1")])
    p = web(topologySpreadConstraints=[constraint(ZONE)], nodeSelector={"pool": "x"})
    assert reasons(run_filter(pl, p, infos)) == {}


def test_soft_constraints_prefer_the_zone_with_fewer_matching_pods() -> None:
    running = [web("a1"), web("a2")]
    pl, infos = setup(NODES, running)
    p = web(topologySpreadConstraints=[constraint(ZONE, when="ScheduleAnyway")])
    got = run_score(pl, p, infos)
    assert got["b1"] == got["b2"] == 100
    assert got["a1"] == got["a2"] < 100


def test_soft_constraints_ignore_nodes_missing_the_key() -> None:
    nodes = [*NODES, node("nozone")]
    pl, infos = setup(nodes, [web("a1")])
    got = run_score(
        pl, web(topologySpreadConstraints=[constraint(ZONE, when="ScheduleAnyway")]), infos
    )
    assert got["nozone"] == 0
    assert got["b1"] == 100


def test_score_math_follows_upstream() -> None:
    # zone a: 2 matching, zone b: 0. weight = ln(2 domains + 2); score = cnt*w + (maxSkew-1)
    # raw: a = round(2*ln4) = 3, b = 0 → normalised: a = 100*(3+0-3)/3 = 0, b = 100.
    pl, infos = setup(NODES, [web("a1"), web("a2")])
    got = run_score(
        pl, web(topologySpreadConstraints=[constraint(ZONE, when="ScheduleAnyway")]), infos
    )
    assert got == {"a1": 0, "a2": 0, "b1": 100, "b2": 100}


def test_system_default_spreading_applies_to_replicaset_pods() -> None:
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-1", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}},
    }
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "web-1",
        "uid": "u",
        "controller": True,
    }

    def owned(node_name: str = "") -> dict[str, Any]:
        p = web(node_name)
        p["metadata"]["ownerReferences"] = [owner]
        return p

    listers = FakeListers(controllers={("default", "ReplicaSet", "web-1"): rs})
    pl, infos = setup(NODES, [owned("a1"), owned("a2")], listers)
    got = run_score(pl, owned(), infos)
    assert got["b1"] > got["a1"]


def test_a_pod_of_no_controller_or_service_is_not_default_spread() -> None:
    pl, infos = setup(NODES, [web("a1")])
    assert run_score(pl, web(), infos) == {}


def test_services_selecting_the_pod_give_the_default_selector() -> None:
    svc = {"metadata": {"name": "s", "namespace": "default"}, "spec": {"selector": {"app": "web"}}}
    pl, infos = setup(NODES, [web("a1"), web("a1")], FakeListers(services=[svc]))
    got = run_score(pl, web(), infos)
    assert got["a1"] < got["b1"]


def test_system_defaulting_rejects_explicit_default_constraints() -> None:
    with pytest.raises(ArgsError, match="must be empty"):
        PodTopologySpread(Handle(Cache()), {"defaultConstraints": [constraint(ZONE)]})
    with pytest.raises(ArgsError, match="must not define a selector"):
        PodTopologySpread(
            Handle(Cache()), {"defaultingType": "List", "defaultConstraints": [constraint(ZONE)]}
        )


def test_the_fast_scoring_path_matches_the_general_one() -> None:
    from openeks.kube.scheduler.framework.cycle_state import CycleState
    from openeks.kube.scheduler.framework.types import PodInfo
    from openeks.kube.scheduler.plugins.podtopologyspread import scoring

    nodes = [node(f"n{i}", zone="abc"[i % 3]) for i in range(12)]
    running = [web(f"n{i % 5}") for i in range(9)]
    pl, infos = setup(nodes, running)
    for constraints in (
        [constraint(HOST, when="ScheduleAnyway"), constraint(ZONE, 2, when="ScheduleAnyway")],
        [constraint(ZONE, 3, when="ScheduleAnyway"), constraint(HOST, 2, when="ScheduleAnyway")],
    ):
        p = PodInfo(web(topologySpreadConstraints=constraints))
        state = CycleState()
        assert pl.pre_score(state, p, infos) is None
        pre = state.read("PreScorePodTopologySpread")
        assert pre.uniform
        fast = scoring.score_nodes(pre, infos)
        pre.uniform = False
        assert scoring.score_nodes(pre, infos) == fast
