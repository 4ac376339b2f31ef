"""NodeAffinity: nodeSelector, required terms with every operator, matchFields, preferred."""

from __future__ import annotations

from typing import Any

from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.types import PodInfo
from tests.kube.scheduler.builders import node, plugin, pod, reasons, run_filter, run_score

MISMATCH = "node(s) didn't match Pod's node affinity/selector"


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
        }
    }


def expr(key: str, op: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return out


NODES = [
    node("a", labels={"disk": "ssd", "gen": "3"}),
    node("b", labels={"disk": "hdd", "gen": "5"}),
    node("c", labels={"gen": "7"}),
]


def fits(p: dict[str, Any]) -> list[str]:
    got = run_filter(plugin("NodeAffinity", NODES), p, Cache.from_objects(NODES).nodes())
    return sorted(n for n, st in got.items() if st is None)


def test_node_selector_must_match_every_label() -> None:
    assert fits(pod(nodeSelector={"disk": "ssd"})) == ["a"]
    assert fits(pod(nodeSelector={"disk": "ssd", "gen": "5"})) == []


def test_a_pod_without_node_affinity_fits_everywhere() -> None:
    assert fits(pod()) == ["a", "b", "c"]


def test_required_operators_in_notin_exists_doesnotexist_gt_lt() -> None:
    assert fits(
        pod(affinity=required({"matchExpressions": [expr("disk", "In", "ssd", "nvme")]}))
    ) == ["a"]
    assert fits(pod(affinity=required({"matchExpressions": [expr("disk", "NotIn", "ssd")]}))) == [
        "b",
        "c",
    ]
    assert fits(pod(affinity=required({"matchExpressions": [expr("disk", "Exists")]}))) == [
        "a",
        "b",
    ]
    assert fits(pod(affinity=required({"matchExpressions": [expr("disk", "DoesNotExist")]}))) == [
        "c"
    ]
    assert fits(pod(affinity=required({"matchExpressions": [expr("gen", "Gt", "4")]}))) == [
        "b",
        "c",
    ]
    assert fits(pod(affinity=required({"matchExpressions": [expr("gen", "Lt", "6")]}))) == [
        "a",
        "b",
    ]


def test_terms_are_ored_and_expressions_anded() -> None:
    either = required(
        {"matchExpressions": [expr("disk", "In", "ssd")]},
        {"matchExpressions": [expr("gen", "In", "7")]},
    )
    assert fits(pod(affinity=either)) == ["a", "c"]
    both = required({"matchExpressions": [expr("disk", "Exists"), expr("gen", "Gt", "4")]})
    assert fits(pod(affinity=both)) == ["b"]


def test_an_empty_term_matches_nothing() -> None:
    assert fits(pod(affinity=required({}))) == []


def test_node_selector_and_affinity_must_both_hold() -> None:
    p = pod(
        nodeSelector={"gen": "5"}, affinity=required({"matchExpressions": [expr("disk", "Exists")]})
    )
    assert fits(p) == ["b"]


def test_the_failure_reason_is_upstreams() -> None:
    got = run_filter(
        plugin("NodeAffinity", NODES),
        pod(nodeSelector={"disk": "ssd"}),
        Cache.from_objects(NODES).nodes(),
    )
    assert reasons(got) == {"b": MISMATCH, "c": MISMATCH}


def test_match_fields_on_metadata_name_narrow_the_candidates_in_prefilter() -> None:
    pl: Any = plugin("NodeAffinity", NODES)
    p = PodInfo(pod(affinity=required({"matchFields": [expr("metadata.name", "In", "b")]})))
    result, st = pl.pre_filter(CycleState(), p, Cache.from_objects(NODES).nodes())
    assert st is None and result.node_names == {"b"}
    assert fits(pod(affinity=required({"matchFields": [expr("metadata.name", "NotIn", "b")]}))) == [
        "a",
        "c",
    ]


def test_preferred_terms_score_by_weight_normalised_to_100() -> None:
    preferred = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 2, "preference": {"matchExpressions": [expr("disk", "In", "ssd")]}},
                {"weight": 8, "preference": {"matchExpressions": [expr("gen", "Gt", "4")]}},
            ]
        }
    }
    got = run_score(
        plugin("NodeAffinity", NODES), pod(affinity=preferred), Cache.from_objects(NODES).nodes()
    )
    assert got == {"a": 25, "b": 100, "c": 100}


def test_a_pod_without_preferences_skips_scoring() -> None:
    assert run_score(plugin("NodeAffinity", NODES), pod(), Cache.from_objects(NODES).nodes()) == {}
