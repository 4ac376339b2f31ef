"""The ReplicaSet controller, one sync at a time against a fake client (upstream's style:
seed objects, run a sync, compare the writes), plus the real thing through kubectl."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openeks.kube.api.errors import ApiError
from openeks.kube.controllers.replicaset import ReplicaSetController
from tests.kube.controllers.workloads_support import (  # noqa: F401
    ControlPlane,
    api_fixture,
    controller_with,
    kubectl_fixture,
    namespace_fixture,
    observe,
    plane_fixture,
    wait_for,
)
from tests.support.kubectl import Kubectl

Obj = dict[str, Any]


def replica_set(replicas: int = 3, min_ready: int = 0, **meta: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "ns", "uid": "rs-uid", "generation": 2, **meta},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "front"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


def pod(name: str, *, owned: bool = True, ready: bool = True, **labels: str) -> Obj:
    refs = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web",
            "uid": "rs-uid",
            "controller": True,
        }
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "labels": labels or {"app": "web", "tier": "front"},
            **({"ownerReferences": refs} if owned else {}),
        },
        "spec": {"nodeName": "n1"},
        "status": {
            "phase": "Running",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": "2020-01-01T00:00:00Z",
                }
            ],
        },
    }


async def test_missing_pods_are_created_from_the_template_with_events() -> None:
    ctl, client, recorder = controller_with(ReplicaSetController, [replica_set(3)])
    await ctl.reconcile("ns/web")
    created = [a[3] for a in client.writes("create", "pods")]
    assert len(created) == 3
    first = created[0]
    assert first["metadata"]["generateName"] == "web-"
    assert first["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert first["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web",
            "uid": "rs-uid",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert first["spec"]["containers"] == [{"name": "c", "image": "busybox"}]
    assert [e[1] for e in recorder.events] == ["SuccessfulCreate"] * 3
    assert recorder.events[0][2] == "Created pod: web-00000"
    [(_, _, _, body)] = client.writes("update_status", "replicasets")
    assert body["status"] == {"replicas": 0, "observedGeneration": 2}


async def test_a_second_sync_does_not_create_again_before_the_pods_are_seen() -> None:
    ctl, client, _ = controller_with(ReplicaSetController, [replica_set(3)])
    await ctl.reconcile("ns/web")
    await ctl.reconcile("ns/web")
    assert len(client.writes("create", "pods")) == 3
    for _, _, _, body in client.writes("create", "pods"):
        observe(ctl, {**body, "metadata": {**body["metadata"], "namespace": "ns"}})
    assert ctl.expectations.satisfied("ns/web")


async def test_creations_go_in_slow_start_batches_and_stop_at_a_failure() -> None:
    ctl, client, recorder = controller_with(ReplicaSetController, [replica_set(10)])
    calls = {"n": 0}

    def fail(verb: str, resource: str, body: Any) -> ApiError | None:
        if verb == "create" and resource == "pods":
            calls["n"] += 1
            if calls["n"] == 5:
                return ApiError('pods "x" is forbidden: exceeded quota', 403, "Forbidden")
        return None

    client.fail = fail
    with pytest.raises(ApiError, match="exceeded quota"):
        await ctl.reconcile("ns/web")
    # Batches of 1, 2 and 4: the failure in the third batch stops the fourth.
    assert calls["n"] == 7
    assert ("Warning", "FailedCreate", 'Error creating: pods "x" is forbidden: exceeded quota') in (
        recorder.events
    )
    status = client.writes("update_status", "replicasets")[-1][3]["status"]
    [condition] = status["conditions"]
    assert (condition["type"], condition["reason"]) == ("ReplicaFailure", "FailedCreate")
    # Only the six successful creations are still expected.
    assert ctl.expectations.pending("ns/web") == (6, 0)


async def test_surplus_pods_are_deleted_worst_first() -> None:
    pods = [pod("ready-1"), pod("ready-2"), pod("not-ready", ready=False)]
    ctl, client, recorder = controller_with(ReplicaSetController, [replica_set(2), *pods])
    await ctl.reconcile("ns/web")
    assert [a[2] for a in client.writes("delete", "pods")] == ["not-ready"]
    assert ("Normal", "SuccessfulDelete", "Deleted pod: not-ready") in recorder.events
    assert ctl.expectations.pending("ns/web") == (0, 1)
    observe(ctl, pods[2], "DELETED")
    assert ctl.expectations.satisfied("ns/web")


async def test_orphans_are_adopted_and_strays_released() -> None:
    orphan = pod("orphan", owned=False)
    stray = pod("stray", app="other")
    ctl, client, _ = controller_with(ReplicaSetController, [replica_set(1), orphan, stray])
    await ctl.reconcile("ns/web")
    patches = {a[2]: a[3] for a in client.writes("patch", "pods")}
    assert patches["orphan"]["metadata"]["ownerReferences"][0]["uid"] == "rs-uid"
    assert patches["orphan"]["metadata"]["uid"] == "uid-orphan"
    assert patches["stray"] == {
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": "rs-uid"}],
            "uid": "uid-stray",
        }
    }
    assert client.writes("create", "pods") == [] and client.writes("delete", "pods") == []


async def test_status_counts_labels_readiness_and_availability() -> None:
    pods = [pod("a"), pod("b", ready=False), pod("c", app="web")]
    ctl, client, _ = controller_with(ReplicaSetController, [replica_set(3, min_ready=10), *pods])
    await ctl.reconcile("ns/web")
    status = client.writes("update_status", "replicasets")[-1][3]["status"]
    assert status == {
        "replicas": 3,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "observedGeneration": 2,
    }
    ctl2, client2, _ = controller_with(ReplicaSetController, [replica_set(3), *pods])
    ctl2.rs_informer.store["ns/web"]["status"] = status
    await ctl2.reconcile("ns/web")
    assert client2.writes("update_status") == []


# -- end to end ------------------------------------------------------------------------------
REPLICASET = """\
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: front}
spec:
  replicas: 2
  selector: {matchLabels: {app: front}}
  template:
    metadata: {labels: {app: front}}
    spec:
      containers: [{name: c, image: busybox}]
"""


def test_a_replica_set_keeps_its_pods_running(
    kubectl: Kubectl, plane: ControlPlane, namespace: str
) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=REPLICASET)

    def ready() -> bool:
        rs = json.loads(kubectl("get", "rs", "front", "-n", namespace, "-o", "json"))
        return rs.get("status", {}).get("readyReplicas") == 2

    wait_for(ready)
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"]
    victim = pods[0]["metadata"]["name"]
    kubectl("delete", "pod", victim, "-n", namespace)
    wait_for(ready)
    names = {
        p["metadata"]["name"]
        for p in json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"]
    }
    assert victim not in names and len(names) == 2
    table = kubectl("get", "rs", "front", "-n", namespace)
    assert table.split("\n")[1].split()[1:4] == ["2", "2", "2"]
