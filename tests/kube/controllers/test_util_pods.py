"""Pod readiness, availability and the order pods are deleted in."""

from __future__ import annotations

import datetime
from typing import Any

from openeks.kube.api import meta
from openeks.kube.controllers.util import pods as podutil

Obj = dict[str, Any]
NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)


def ago(seconds: float) -> str:
    return meta.rfc3339(NOW - datetime.timedelta(seconds=seconds))


def pod(
    name: str,
    *,
    node: str = "n1",
    phase: str = "Running",
    ready_for: float | None = 100,
    created: float = 1000,
    restarts: int = 0,
    cost: str | None = None,
) -> Obj:
    conditions = []
    if ready_for is not None:
        conditions.append({"type": "Ready", "status": "True", "lastTransitionTime": ago(ready_for)})
    annotations = {podutil.DELETION_COST_ANNOTATION: cost} if cost is not None else {}
    return {
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "creationTimestamp": ago(created),
            "annotations": annotations,
        },
        "spec": {"nodeName": node},
        "status": {
            "phase": phase,
            "conditions": conditions,
            "containerStatuses": [{"restartCount": restarts}],
        },
    }


def test_a_pod_is_available_once_ready_for_min_ready_seconds() -> None:
    p = pod("a", ready_for=10)
    assert podutil.is_available(p, 0, NOW)
    assert podutil.is_available(p, 9, NOW)
    assert not podutil.is_available(p, 10, NOW)
    assert not podutil.is_available(pod("b", ready_for=None), 0, NOW)


def test_active_pods_are_neither_finished_nor_being_deleted() -> None:
    assert podutil.is_active(pod("a"))
    assert not podutil.is_active(pod("a", phase="Succeeded"))
    deleting = pod("a")
    deleting["metadata"]["deletionTimestamp"] = ago(0)
    assert not podutil.is_active(deleting)


def names(pods: list[Obj]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


def test_pods_are_ranked_for_deletion_as_upstream() -> None:
    ranked = podutil.rank_for_deletion(
        [
            pod("ready-old", ready_for=10_000, created=20_000),
            pod("unassigned", node="", phase="Pending", ready_for=None),
            pod("running-not-ready", ready_for=None),
            pod("pending", phase="Pending", ready_for=None),
            pod("unknown", phase="Unknown", ready_for=None),
            pod("ready-new", ready_for=5, created=6),
        ],
        [],
        NOW,
    )
    assert names(ranked) == [
        "unassigned",
        "pending",
        "unknown",
        "running-not-ready",
        "ready-new",
        "ready-old",
    ]


def test_deletion_cost_then_crowded_nodes_come_before_age() -> None:
    cheap = pod("cheap", cost="-5", node="n2")
    crowded = [pod("c1", node="n1"), pod("c2", node="n1")]
    lonely = pod("lonely", node="n3")
    ranked = podutil.rank_for_deletion([lonely, *crowded, cheap], [lonely, *crowded, cheap], NOW)
    assert names(ranked)[0] == "cheap"
    assert set(names(ranked)[1:3]) == {"c1", "c2"}
    assert names(ranked)[3] == "lonely"


def test_similar_ages_tie_in_log_buckets_and_restarts_decide() -> None:
    # Ready 100s and 120s ago fall in the same power-of-two bucket of nanoseconds: the
    # UID breaks the tie (restarts are not looked at), as upstream.
    a = pod("a", ready_for=100, restarts=0)
    b = pod("b", ready_for=120, restarts=3)
    assert names(podutil.rank_for_deletion([a, b], [], NOW)) == ["a", "b"]
    assert names(podutil.rank_for_deletion([b, a], [], NOW)) == ["a", "b"]
    c = pod("c", ready_for=100, created=100, restarts=0)
    d = pod("d", ready_for=100, created=100, restarts=3)
    assert names(podutil.rank_for_deletion([c, d], [], NOW)) == ["d", "c"]
    # Without a reference time, exact times decide: the most recently ready goes first.
    assert names(podutil.rank_for_deletion([b, a], [], None)) == ["a", "b"]


def test_pods_to_delete_does_not_sort_when_all_go() -> None:
    pods = [pod("x", ready_for=1), pod("y", phase="Pending", ready_for=None)]
    assert names(podutil.pods_to_delete(pods, [], 2, NOW)) == ["x", "y"]
    assert names(podutil.pods_to_delete(pods, [], 1, NOW)) == ["y"]


def test_pods_from_a_template_carry_labels_owner_and_generate_name() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}, "annotations": {"a": "1"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    parent = {"metadata": {"name": "web-abc", "namespace": "ns"}}
    ref = {"kind": "ReplicaSet", "name": "web-abc", "uid": "u", "controller": True}
    p = podutil.pod_from_template(template, parent, ref)
    assert p["metadata"] == {
        "generateName": "web-abc-",
        "labels": {"app": "web"},
        "annotations": {"a": "1"},
        "ownerReferences": [ref],
        "namespace": "ns",
    }
    assert p["spec"] == template["spec"] and p["spec"] is not template["spec"]
