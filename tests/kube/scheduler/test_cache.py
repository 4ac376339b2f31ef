"""The node-info cache: incremental accounting, assumed pods, node order, label index."""

from __future__ import annotations

from openeks.kube.api import labels
from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework.types import PodInfo
from tests.kube.scheduler.builders import node, pod


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_pods_bound_to_a_node_are_added_to_its_requested_resources() -> None:
    cache = Cache.from_objects([node("a")])
    p = pod(cpu="500m", memory="1Gi", node_name="a")
    cache.add_pod(p)
    info = cache.get("a")
    assert info is not None
    assert (info.req_cpu, info.req_memory, len(info.pods)) == (500, 1 << 30, 1)
    cache.remove_pod(p["metadata"]["uid"])
    assert (info.req_cpu, info.req_memory, len(info.pods)) == (0, 0, 0)


def test_an_updated_pod_replaces_its_old_accounting() -> None:
    cache = Cache.from_objects([node("a"), node("b")])
    p = pod(cpu="500m", node_name="a")
    cache.add_pod(p)
    moved = {**p, "spec": {**p["spec"], "nodeName": "b"}}
    cache.update_pod(moved)
    assert cache.get("a").req_cpu == 0  # type: ignore[union-attr]
    assert cache.get("b").req_cpu == 500  # type: ignore[union-attr]


def test_finished_pods_free_their_resources() -> None:
    cache = Cache.from_objects([node("a")])
    p = pod(cpu="1", node_name="a")
    cache.add_pod(p)
    cache.update_pod({**p, "status": {"phase": "Succeeded"}})
    assert cache.get("a").req_cpu == 0  # type: ignore[union-attr]


def test_an_assumed_pod_counts_at_once_and_is_confirmed_by_the_informer() -> None:
    cache = Cache.from_objects([node("a")])
    p = pod(cpu="1")
    cache.assume(PodInfo(p), "a")
    assert cache.is_assumed(p["metadata"]["uid"])
    assert cache.get("a").req_cpu == 1000  # type: ignore[union-attr]
    cache.finish_binding(p["metadata"]["uid"])
    cache.add_pod({**p, "spec": {**p["spec"], "nodeName": "a"}})
    assert not cache.is_assumed(p["metadata"]["uid"])
    assert cache.get("a").req_cpu == 1000  # type: ignore[union-attr]


def test_a_failed_bind_forgets_the_assumed_pod() -> None:
    cache = Cache.from_objects([node("a")])
    p = pod(cpu="1")
    cache.assume(PodInfo(p), "a")
    cache.forget(p["metadata"]["uid"])
    assert cache.get("a").req_cpu == 0  # type: ignore[union-attr]
    assert not cache.is_assumed(p["metadata"]["uid"])


def test_an_unconfirmed_assumed_pod_expires_after_its_ttl() -> None:
    clock = Clock()
    cache = Cache(assumed_ttl=30, clock=clock)
    cache.add_node(node("a"))
    p = pod(cpu="1")
    cache.assume(PodInfo(p), "a")
    clock.now = 100
    assert cache.cleanup_expired() == []  # binding still in flight: never expires
    cache.finish_binding(p["metadata"]["uid"])
    clock.now = 120
    assert cache.cleanup_expired() == []
    clock.now = 131
    assert cache.cleanup_expired() == [p["metadata"]["uid"]]
    assert cache.get("a").req_cpu == 0  # type: ignore[union-attr]


def test_nodes_are_listed_with_zones_interleaved() -> None:
    nodes = [node("a1", zone="a"), node("a2", zone="a"), node("a3", zone="a"), node("b1", zone="b")]
    cache = Cache.from_objects(nodes)
    assert [n.name for n in cache.nodes()] == ["a1", "b1", "a2", "a3"]
    cache.remove_node("a1")
    assert [n.name for n in cache.nodes()] == ["a2", "b1", "a3"]


def test_pods_on_a_node_not_yet_seen_are_kept_until_it_arrives() -> None:
    cache = Cache()
    cache.add_pod(pod(cpu="1", node_name="late"))
    assert cache.get("late") is None and cache.num_nodes == 0
    cache.add_node(node("late"))
    assert cache.get("late").req_cpu == 1000  # type: ignore[union-attr]


def test_matching_counts_group_pods_by_label_set() -> None:
    cache = Cache.from_objects([node("a"), node("b")])
    for n, app in (("a", "web"), ("a", "web"), ("b", "web"), ("b", "db")):
        cache.add_pod(pod(labels={"app": app}, node_name=n))
    cache.add_pod(pod(labels={"app": "web"}, namespace="other", node_name="b"))
    sel = labels.parse("app=web")
    assert dict(cache.matching_counts("default", sel)) == {"a": 2, "b": 1}
    assert dict(cache.matching_counts("default", labels.parse("app in (web,db)"))) == {
        "a": 2,
        "b": 2,
    }


def test_terminating_pods_are_not_counted_for_spreading() -> None:
    cache = Cache.from_objects([node("a")])
    p = pod(labels={"app": "web"}, node_name="a")
    p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    cache.add_pod(p)
    assert dict(cache.matching_counts("default", labels.parse("app=web"))) == {}
    assert len(cache.get("a").pods) == 1  # type: ignore[union-attr]


def test_zone_counts_follow_pods_and_node_relabelling() -> None:
    cache = Cache()
    cache.add_pod(pod(labels={"app": "web"}, node_name="early"))  # node not seen yet
    cache.add_node(node("a", zone="z1"))
    cache.add_pod(pod(labels={"app": "web"}, node_name="a"))
    sel = labels.parse("app=web")
    zone = "topology.kubernetes.io/zone"
    assert cache.topology_counts("default", sel, zone) == {"z1": 1}
    cache.add_node(node("early", zone="z2"))
    assert cache.topology_counts("default", sel, zone) == {"z1": 1, "z2": 1}
    cache.update_node(node("a", zone="z2"))
    assert cache.topology_counts("default", sel, zone) == {"z2": 2}
    cache.remove_node("early")
    assert cache.topology_counts("default", sel, zone) == {"z2": 1}
    assert cache.topology_counts("default", sel, "custom/key") is None
    assert cache.all_nodes_have(zone)
