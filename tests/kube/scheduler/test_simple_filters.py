"""NodeName, NodeUnschedulable, TaintToleration and NodePorts, on plain dicts."""

from __future__ import annotations

from typing import Any

from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework.status import Code
from openeks.kube.scheduler.framework.types import NodeInfo
from tests.kube.scheduler.builders import node, plugin, pod, reasons, run_filter, run_score

NO_SCHEDULE = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
PREFER = {"key": "flaky", "value": "yes", "effect": "PreferNoSchedule"}


def infos(*nodes: dict[str, Any]) -> list[NodeInfo]:
    return Cache.from_objects(list(nodes)).nodes()


def test_a_pod_naming_a_node_fits_only_that_node() -> None:
    nodes = [node("a"), node("b")]
    pl = plugin("NodeName", nodes)
    got = run_filter(pl, pod(nodeName="b"), infos(*nodes))
    assert reasons(got) == {"a": "node(s) didn't match the requested node name"}
    assert got["a"].code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE  # type: ignore[union-attr]


def test_a_pod_without_node_name_fits_every_node() -> None:
    nodes = [node("a"), node("b")]
    assert reasons(run_filter(plugin("NodeName", nodes), pod(), infos(*nodes))) == {}


def test_a_cordoned_node_rejects_pods_that_do_not_tolerate_it() -> None:
    nodes = [node("a", unschedulable=True), node("b")]
    got = run_filter(plugin("NodeUnschedulable", nodes), pod(), infos(*nodes))
    assert reasons(got) == {"a": "node(s) were unschedulable"}


def test_a_cordoned_node_accepts_a_pod_tolerating_the_unschedulable_taint() -> None:
    nodes = [node("a", unschedulable=True)]
    toleration = {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}
    got = run_filter(
        plugin("NodeUnschedulable", nodes), pod(tolerations=[toleration]), infos(*nodes)
    )
    assert reasons(got) == {}


def test_an_untolerated_no_schedule_taint_rejects_the_pod() -> None:
    nodes = [node("a", taints=[NO_SCHEDULE]), node("b")]
    got = run_filter(plugin("TaintToleration", nodes), pod(), infos(*nodes))
    assert reasons(got) == {"a": "node(s) had untolerated taint(s)"}
    assert got["a"].code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE  # type: ignore[union-attr]


def test_a_matching_toleration_lets_the_pod_onto_a_tainted_node() -> None:
    nodes = [node("a", taints=[NO_SCHEDULE])]
    for toleration in (
        {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Exists"},
        {"operator": "Exists"},
    ):
        p = pod(tolerations=[toleration])
        assert reasons(run_filter(plugin("TaintToleration", nodes), p, infos(*nodes))) == {}


def test_a_toleration_with_the_wrong_value_or_effect_does_not_help() -> None:
    nodes = [node("a", taints=[NO_SCHEDULE])]
    for toleration in (
        {"key": "dedicated", "operator": "Equal", "value": "cpu"},
        {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"},
    ):
        got = run_filter(
            plugin("TaintToleration", nodes), pod(tolerations=[toleration]), infos(*nodes)
        )
        assert reasons(got) == {"a": "node(s) had untolerated taint(s)"}


def test_prefer_no_schedule_taints_are_not_filtered_but_score_lower() -> None:
    nodes = [
        node("a", taints=[PREFER]),
        node("b"),
        node("c", taints=[PREFER, {**PREFER, "key": "x"}]),
    ]
    pl = plugin("TaintToleration", nodes)
    assert reasons(run_filter(pl, pod(), infos(*nodes))) == {}
    assert run_score(pl, pod(), infos(*nodes)) == {"a": 50, "b": 100, "c": 0}


def test_tolerated_prefer_no_schedule_taints_do_not_lower_the_score() -> None:
    nodes = [node("a", taints=[PREFER]), node("b")]
    p = pod(tolerations=[{"key": "flaky", "operator": "Exists", "effect": "PreferNoSchedule"}])
    assert run_score(plugin("TaintToleration", nodes), p, infos(*nodes)) == {"a": 100, "b": 100}


def _with_port(port: int, ip: str = "") -> dict[str, Any]:
    p = pod()
    spec_port: dict[str, Any] = {"containerPort": 80, "hostPort": port}
    if ip:
        spec_port["hostIP"] = ip
    p["spec"]["containers"][0]["ports"] = [spec_port]
    return p


def test_a_host_port_already_used_on_the_node_rejects_the_pod() -> None:
    nodes = [node("a"), node("b")]
    running = _with_port(8080)
    running["spec"]["nodeName"] = "a"
    cache_nodes = Cache.from_objects(nodes, [running]).nodes()
    got = run_filter(plugin("NodePorts", nodes, [running]), _with_port(8080), cache_nodes)
    assert reasons(got) == {"a": "node(s) didn't have free ports for the requested pod ports"}
    other_port = run_filter(plugin("NodePorts", nodes, [running]), _with_port(9090), cache_nodes)
    assert reasons(other_port) == {}


def test_host_ports_on_different_specific_ips_do_not_conflict() -> None:
    nodes = [node("a")]
    running = _with_port(8080, "10.0.0.1")
    running["spec"]["nodeName"] = "a"
    cache_nodes = Cache.from_objects(nodes, [running]).nodes()
    got = run_filter(
        plugin("NodePorts", nodes, [running]), _with_port(8080, "10.0.0.2"), cache_nodes
    )
    assert reasons(got) == {}
    got = run_filter(plugin("NodePorts", nodes, [running]), _with_port(8080), cache_nodes)
    assert reasons(got) == {"a": "node(s) didn't have free ports for the requested pod ports"}
