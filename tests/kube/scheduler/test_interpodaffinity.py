"""InterPodAffinity: required affinity/anti-affinity, existing pods' anti-affinity, scoring."""

from __future__ import annotations

from typing import Any

from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework.interface import Handle
from openeks.kube.scheduler.framework.status import Code
from openeks.kube.scheduler.plugins.interpodaffinity.plugin import InterPodAffinity
from tests.kube.scheduler.builders import FakeListers, node, pod, reasons, run_filter, run_score

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
NODES = [node("a1", zone="a"), node("a2", zone="a"), node("b1", zone="b")]


def term(app: str, key: str, **extra: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key, **extra}


def affinity(kind: str, *terms: dict[str, Any], preferred: bool = False) -> dict[str, Any]:
    if preferred:
        weighted = [{"weight": 10, "podAffinityTerm": t} for t in terms]
        return {kind: {"preferredDuringSchedulingIgnoredDuringExecution": weighted}}
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


def setup(
    running: list[dict[str, Any]], listers: FakeListers | None = None
) -> tuple[InterPodAffinity, list[Any]]:
    cache = Cache.from_objects(NODES, running)
    return InterPodAffinity(Handle(cache, listers or FakeListers())), cache.nodes()


def test_required_affinity_keeps_the_pod_in_the_zone_of_matching_pods() -> None:
    pl, infos = setup([pod(labels={"app": "db"}, node_name="a2")])
    p = pod(affinity=affinity("podAffinity", term("db", ZONE)))
    got = run_filter(pl, p, infos)
    assert reasons(got) == {"b1": "node(s) didn't match pod affinity rules"}
    assert got["b1"].code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE  # type: ignore[union-attr]


def test_required_affinity_with_no_matching_pods_fails_everywhere() -> None:
    pl, infos = setup([])
    got = run_filter(pl, pod(affinity=affinity("podAffinity", term("db", ZONE))), infos)
    assert len(reasons(got)) == 3


def test_the_first_pod_of_a_self_affine_group_may_go_anywhere() -> None:
    pl, infos = setup([])
    p = pod(labels={"app": "db"}, affinity=affinity("podAffinity", term("db", ZONE)))
    assert reasons(run_filter(pl, p, infos)) == {}


def test_required_anti_affinity_keeps_the_pod_off_hosts_with_matching_pods() -> None:
    pl, infos = setup([pod(labels={"app": "web"}, node_name="a1")])
    p = pod(labels={"app": "web"}, affinity=affinity("podAntiAffinity", term("web", HOST)))
    got = run_filter(pl, p, infos)
    assert reasons(got) == {"a1": "node(s) didn't match pod anti-affinity rules"}
    assert got["a1"].code == Code.UNSCHEDULABLE  # type: ignore[union-attr]


def test_existing_pods_anti_affinity_repels_matching_newcomers() -> None:
    guard = pod(
        labels={"app": "guard"},
        node_name="b1",
        affinity=affinity("podAntiAffinity", term("web", ZONE)),
    )
    pl, infos = setup([guard])
    got = run_filter(pl, pod(labels={"app": "web"}), infos)
    assert reasons(got) == {"b1": "node(s) didn't satisfy existing pods anti-affinity rules"}
    assert reasons(run_filter(pl, pod(labels={"app": "db"}), infos)) == {}


def test_namespaces_limit_which_pods_a_term_sees() -> None:
    pl, infos = setup([pod(labels={"app": "db"}, namespace="other", node_name="a1")])
    here = pod(affinity=affinity("podAffinity", term("db", ZONE)))
    assert len(reasons(run_filter(pl, here, infos))) == 3
    there = pod(affinity=affinity("podAffinity", term("db", ZONE, namespaces=["other"])))
    assert reasons(run_filter(pl, there, infos)) == {
        "b1": "node(s) didn't match pod affinity rules"
    }


def test_namespace_selector_is_resolved_through_namespace_labels() -> None:
    listers = FakeListers(namespaces={"other": {"team": "x"}, "default": {}})
    pl, infos = setup([pod(labels={"app": "db"}, namespace="other", node_name="a1")], listers)
    p = pod(
        affinity=affinity(
            "podAffinity", term("db", ZONE, namespaceSelector={"matchLabels": {"team": "x"}})
        )
    )
    assert reasons(run_filter(pl, p, infos)) == {"b1": "node(s) didn't match pod affinity rules"}


def test_preferred_affinity_scores_the_zone_of_matching_pods_higher() -> None:
    pl, infos = setup([pod(labels={"app": "db"}, node_name="a1")])
    p = pod(affinity=affinity("podAffinity", term("db", ZONE), preferred=True))
    assert run_score(pl, p, infos) == {"a1": 100, "a2": 100, "b1": 0}


def test_preferred_anti_affinity_scores_the_zone_of_matching_pods_lower() -> None:
    pl, infos = setup([pod(labels={"app": "db"}, node_name="a1")])
    p = pod(affinity=affinity("podAntiAffinity", term("db", ZONE), preferred=True))
    assert run_score(pl, p, infos) == {"a1": 0, "a2": 0, "b1": 100}


def test_existing_pods_required_affinity_attracts_matching_pods_with_hard_weight() -> None:
    sticky = pod(
        labels={"app": "x"}, node_name="b1", affinity=affinity("podAffinity", term("web", HOST))
    )
    pl, infos = setup([sticky])
    assert run_score(pl, pod(labels={"app": "web"}), infos) == {"a1": 0, "a2": 0, "b1": 100}


def test_no_affinity_anywhere_skips_the_plugin() -> None:
    pl, infos = setup([pod(labels={"app": "db"}, node_name="a1")])
    assert run_score(pl, pod(), infos) == {}
    assert reasons(run_filter(pl, pod(), infos)) == {}
