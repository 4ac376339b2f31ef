"""The Deployment controller, one sync at a time against a fake client: the new
ReplicaSet, proportional scaling (upstream's TestScale cases), rolling steps and history
cleanup."""

from __future__ import annotations

from typing import Any

import pytest

from openeks.kube.controllers.deployment import DeploymentController, util
from openeks.kube.controllers.util.hashing import template_hash
from tests.kube.controllers.workloads_support import controller_with

Obj = dict[str, Any]

NEWER, NEW, OLD, OLDER = (
    "2020-01-04T00:00:00Z",
    "2020-01-03T00:00:00Z",
    "2020-01-02T00:00:00Z",
    "2020-01-01T00:00:00Z",
)
TEMPLATE = {"metadata": {"labels": {"app": "foo"}}, "spec": {"containers": [{"name": "c"}]}}


def deployment(replicas: int, surge: Any = 0, unavailable: Any = 0, **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "foo", "namespace": "ns", "uid": "d-uid", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "foo"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
            },
            "template": TEMPLATE,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            **spec,
        },
    }


def rs(
    name: str,
    replicas: int,
    created: str,
    *,
    image: str = "",
    available: int = 0,
    ann: dict[str, str] | None = None,
) -> Obj:
    template = {
        "metadata": {"labels": {"app": "foo", "pod-template-hash": name}},
        "spec": {"containers": [{"name": "c", **({"image": image} if image else {})}]},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"uid-{name}",
            "creationTimestamp": created,
            "labels": {"app": "foo"},
            "annotations": dict(ann or {}),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "foo",
                    "uid": "d-uid",
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "foo"}},
            "template": template,
        },
        "status": {"replicas": replicas, "availableReplicas": available},
    }


def sizes(client: Any) -> dict[str, int]:
    return {
        name: body["spec"]["replicas"]
        for _, _, name, body in client.writes("update", "replicasets")
    }


async def test_a_new_deployment_gets_a_replica_set_named_by_its_template_hash() -> None:
    d = deployment(3, "25%", "25%")
    ctl, client, recorder = controller_with(DeploymentController, [d])
    await ctl.reconcile("ns/foo")
    [(_, _, name, body)] = client.writes("create", "replicasets")
    hash_ = template_hash(TEMPLATE)
    assert name == f"foo-{hash_}"
    assert body["spec"]["replicas"] == 3
    assert body["spec"]["selector"] == {"matchLabels": {"app": "foo", "pod-template-hash": hash_}}
    assert body["spec"]["template"]["metadata"]["labels"] == {
        "app": "foo",
        "pod-template-hash": hash_,
    }
    assert body["metadata"]["labels"] == {"app": "foo", "pod-template-hash": hash_}
    assert body["metadata"]["annotations"] == {
        util.REVISION: "1",
        util.DESIRED_REPLICAS: "3",
        util.MAX_REPLICAS: "4",
    }
    assert ("Normal", "ScalingReplicaSet", f"Scaled up replica set foo-{hash_} from 0 to 3") in (
        recorder.events
    )
    d_status = client.writes("update_status", "deployments")[0][3]
    assert d_status["metadata"]["annotations"][util.REVISION] == "1"
    [progressing] = d_status["status"]["conditions"]
    assert progressing["reason"] == "NewReplicaSetCreated"
    assert progressing["message"] == f'Created new replica set "foo-{hash_}"'


@pytest.mark.parametrize(
    ("name", "old_replicas", "new_replicas", "rss", "want"),
    [
        ("5 -> 10", 5, 10, [("foo-v2", 2, NEW), ("foo-v1", 3, OLD)], {"foo-v2": 4, "foo-v1": 6}),
        ("5 -> 3", 5, 3, [("foo-v2", 2, NEW), ("foo-v1", 3, OLD)], {"foo-v2": 1, "foo-v1": 2}),
        ("9 -> 4", 9, 4, [("foo-v2", 8, NEW), ("foo-v1", 1, OLD)], {"foo-v2": 4, "foo-v1": 0}),
        (
            "7 -> 10",
            7,
            10,
            [("foo-v3", 2, NEW), ("foo-v2", 3, OLD), ("foo-v1", 2, OLDER)],
            {"foo-v3": 3, "foo-v2": 4, "foo-v1": 3},
        ),
        (
            "13 -> 8",
            13,
            8,
            [("foo-v3", 2, NEW), ("foo-v2", 8, OLD), ("foo-v1", 3, OLDER)],
            {"foo-v3": 1, "foo-v2": 5, "foo-v1": 2},
        ),
    ],
)
async def test_proportional_scaling_mid_rollout(
    name: str,
    old_replicas: int,
    new_replicas: int,
    rss: list[tuple[str, int, str]],
    want: dict[str, int],
) -> None:
    d = deployment(new_replicas)
    ann = {util.DESIRED_REPLICAS: str(old_replicas), util.MAX_REPLICAS: str(old_replicas)}
    objects = [rs(n, r, c, image=n, ann=ann) for n, r, c in rss]
    ctl, client, recorder = controller_with(DeploymentController, [d, *objects])
    new_rs, old_rss = objects[0], objects[1:]
    await ctl.scale(d, new_rs, old_rss)
    assert sizes(client) == want
    for rs_name, size in want.items():
        before = next(r for n, r, _ in rss if n == rs_name)
        if size != before:
            direction = "up" if size > before else "down"
            message = f"Scaled {direction} replica set {rs_name} from {before} to {size}"
            assert ("Normal", "ScalingReplicaSet", message) in recorder.events


async def test_a_rolling_step_surges_the_new_replica_set_first() -> None:
    d = deployment(3, "25%", "25%")
    old = rs("foo-old", 3, OLD, image="v1", available=3, ann={util.REVISION: "1"})
    ctl, client, _ = controller_with(DeploymentController, [d, old])
    await ctl.reconcile("ns/foo")
    [(_, _, _, created)] = client.writes("create", "replicasets")
    assert created["spec"]["replicas"] == 1
    assert created["metadata"]["annotations"][util.REVISION] == "2"
    assert client.writes("update", "replicasets") == []


async def test_old_replicas_go_once_new_ones_are_available() -> None:
    d = deployment(3, 1, 0)
    old = rs("foo-old", 3, OLD, image="v1", available=3, ann={util.REVISION: "1"})
    new = rs("foo-new", 1, NEW, available=1, ann={util.REVISION: "2", util.DESIRED_REPLICAS: "3"})
    new["spec"]["template"] = {
        **TEMPLATE,
        "metadata": {"labels": {"app": "foo", "pod-template-hash": "x"}},
    }
    old["metadata"]["annotations"][util.DESIRED_REPLICAS] = "3"
    ctl, client, _ = controller_with(DeploymentController, [d, old, new])
    await ctl.reconcile("ns/foo")
    assert sizes(client) == {"foo-old": 2}


async def test_history_beyond_the_limit_is_deleted_oldest_revision_first() -> None:
    d = deployment(1, 1, 0, revisionHistoryLimit=1)
    d["status"] = {
        "observedGeneration": 1,
        "replicas": 1,
        "updatedReplicas": 1,
        "availableReplicas": 1,
    }
    current = rs(
        "foo-cur", 1, NEWER, available=1, ann={util.REVISION: "4", util.DESIRED_REPLICAS: "1"}
    )
    current["spec"]["template"] = {
        **TEMPLATE,
        "metadata": {"labels": {"app": "foo", "pod-template-hash": "c"}},
    }
    old = [
        rs(f"foo-{i}", 0, created, image=str(i), ann={util.REVISION: str(i)})
        for i, created in ((1, OLDER), (2, OLD), (3, NEW))
    ]
    for o in old:
        o["status"] = {"replicas": 0}
    ctl, client, _ = controller_with(DeploymentController, [d, current, *old])
    await ctl.reconcile("ns/foo")
    assert [name for _, _, name, _ in client.writes("delete", "replicasets")] == ["foo-1", "foo-2"]


async def test_a_paused_deployment_scales_but_does_not_roll() -> None:
    d = deployment(5, 1, 0, paused=True)
    old = rs(
        "foo-old",
        3,
        OLD,
        image="v1",
        available=3,
        ann={util.REVISION: "1", util.DESIRED_REPLICAS: "3"},
    )
    ctl, client, _ = controller_with(DeploymentController, [d, old])
    await ctl.reconcile("ns/foo")
    assert client.writes("create", "replicasets") == []
    assert sizes(client) == {"foo-old": 5}
    conditions = client.writes("update_status", "deployments")[0][3]["status"]["conditions"]
    assert [(c["type"], c["status"], c["reason"]) for c in conditions] == [
        ("Progressing", "Unknown", "DeploymentPaused")
    ]
