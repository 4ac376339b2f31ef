"""DaemonSets: placement and update arithmetic (unit), and end to end with the real
kubectl on two fake nodes."""

from __future__ import annotations

import datetime
import json
from typing import Any

from openeks.kube.controllers.daemonset import DaemonSetController
from openeks.kube.controllers.util import daemon
from tests.kube.controllers.workloads_support import (  # noqa: F401
    ControlPlane,
    api_fixture,
    controller_with,
    kubectl_fixture,
    namespace_fixture,
    plane_fixture,
    sync_client_into_informers,
    wait_for,
)
from tests.support.kubectl import Kubectl

Obj = dict[str, Any]

DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - name: agent
        image: busybox
"""


def ds(**template_spec: Any) -> Obj:
    return {
        "metadata": {"name": "agent", "namespace": "ns", "uid": "u-1"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "a", "image": "busybox"}], **template_spec},
            },
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        },
    }


def node(name: str, labels: dict[str, str] | None = None, taints: list[Obj] | None = None) -> Obj:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


# -- placement -------------------------------------------------------------------------------
def test_daemon_pods_tolerate_node_problems_as_upstream_adds() -> None:
    template = daemon.pod_template(ds(), "abc")
    tolerations = template["spec"]["tolerations"]
    assert tolerations == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert template["metadata"]["labels"]["controller-revision-hash"] == "abc"
    host = daemon.pod_template(ds(hostNetwork=True), "abc")["spec"]["tolerations"]
    assert host[-1]["key"] == "node.kubernetes.io/network-unavailable"


def test_nodes_are_chosen_by_selector_affinity_and_taints() -> None:
    assert daemon.should_run(node("a"), ds()) == (True, True)
    picky = ds(nodeSelector={"disk": "ssd"})
    assert daemon.should_run(node("a"), picky) == (False, False)
    assert daemon.should_run(node("a", {"disk": "ssd"}), picky) == (True, True)
    no_schedule = node("a", taints=[{"key": "gpu", "effect": "NoSchedule"}])
    assert daemon.should_run(no_schedule, ds()) == (False, True)
    no_execute = node("a", taints=[{"key": "gpu", "effect": "NoExecute"}])
    assert daemon.should_run(no_execute, ds()) == (False, False)
    tolerant = ds(tolerations=[{"key": "gpu", "operator": "Exists"}])
    assert daemon.should_run(no_execute, tolerant) == (True, True)
    cordoned = node(
        "a", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    )
    assert daemon.should_run(cordoned, ds()) == (True, True)
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}
                ]
            }
        }
    }
    assert daemon.should_run(node("a", {"zone": "a"}), ds(affinity=affinity))[0] is False
    assert daemon.should_run(node("a", {"zone": "b"}), ds(affinity=affinity))[0] is True


def test_pods_are_pinned_with_a_match_fields_affinity_replacing_node_terms() -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "z", "operator": "Exists"}]}]
            }
        }
    }
    pinned = daemon.node_affinity_for(affinity, "node-1")
    assert pinned["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}
        ]
    }
    assert daemon.target_node({"spec": {"affinity": pinned}}) == "node-1"
    assert daemon.target_node({"spec": {"nodeName": "n2", "affinity": pinned}}) == "n2"


def _pod(name: str, hash_: str, ready: bool = True) -> Obj:
    return {
        "metadata": {
            "name": name,
            "labels": {"controller-revision-hash": hash_},
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        "spec": {"nodeName": "n"},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_a_rolling_update_replaces_at_most_max_unavailable_old_pods() -> None:
    now = datetime.datetime.now(datetime.UTC)
    pods = {f"n{i}": [_pod(f"p{i}", "old")] for i in range(4)}
    plan = daemon.plan_rolling_update(ds(), pods, "new", 0, 1, {}, now)
    assert plan.delete == ["p0"] and plan.create_on == []
    pods["n0"] = [_pod("q0", "new", ready=False)]
    plan = daemon.plan_rolling_update(ds(), pods, "new", 0, 1, {}, now)
    assert plan.delete == []
    pods["n1"] = [_pod("p1", "old", ready=False)]
    plan = daemon.plan_rolling_update(ds(), pods, "new", 0, 2, {}, now)
    assert plan.delete == ["p1"]


def test_a_surging_update_creates_new_pods_before_deleting_old_ones() -> None:
    now = datetime.datetime.now(datetime.UTC)
    pods = {"n0": [_pod("p0", "old")], "n1": [_pod("p1", "old")]}
    plan = daemon.plan_rolling_update(ds(), pods, "new", 1, 0, {}, now)
    assert plan.create_on == ["n0"] and plan.delete == []
    pods["n0"].append(_pod("q0", "new"))
    plan = daemon.plan_rolling_update(ds(), pods, "new", 1, 0, {}, now)
    assert plan.delete == ["p0"] and plan.create_on == ["n1"]


# -- one sync at a time ---------------------------------------------------------------------
def ds_object(**template_spec: Any) -> Obj:
    obj = ds(**template_spec)
    obj["apiVersion"], obj["kind"] = "apps/v1", "DaemonSet"
    obj["metadata"]["generation"] = 1
    obj["spec"]["revisionHistoryLimit"] = 10
    return obj


def node_object(name: str, **kwargs: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Node", **node(name, **kwargs)}


async def test_a_pod_is_created_for_each_eligible_node_pinned_to_it() -> None:
    tainted = node_object("c", taints=[{"key": "gpu", "effect": "NoSchedule"}])
    objects = [ds_object(), node_object("a"), node_object("b"), tainted]
    ctl, client, recorder = controller_with(DaemonSetController, objects)
    await ctl.reconcile("ns/agent")
    [(_, _, revision_name, revision)] = client.writes("create", "controllerrevisions")
    hash_ = revision["metadata"]["labels"]["controller-revision-hash"]
    assert revision_name == f"agent-{hash_}"
    created = [body for _, _, _, body in client.writes("create", "pods")]
    targets = sorted(daemon.target_node(p) or "" for p in created)
    assert targets == ["a", "b"]
    for pod in created:
        assert pod["metadata"]["labels"]["controller-revision-hash"] == hash_
        assert "nodeName" not in pod["spec"]
    assert [e[1] for e in recorder.events] == ["SuccessfulCreate", "SuccessfulCreate"]
    status = client.writes("update_status", "daemonsets")[-1][3]["status"]
    assert status["desiredNumberScheduled"] == 2 and status["currentNumberScheduled"] == 0
    await ctl.reconcile("ns/agent")
    assert len(client.writes("create", "pods")) == 2  # expectations hold the second sync


async def test_pods_on_nodes_that_no_longer_fit_are_deleted() -> None:
    picky = ds_object(nodeSelector={"role": "edge"})
    objects = [picky, node_object("a", labels={"role": "edge"}), node_object("b")]
    ctl, client, _ = controller_with(DaemonSetController, objects)
    await ctl.reconcile("ns/agent")
    assert [daemon.target_node(b) for _, _, _, b in client.writes("create", "pods")] == ["a"]
    sync_client_into_informers(ctl, client)
    a = client.store[("nodes", "", "a")]
    a["metadata"]["labels"] = {}
    a["metadata"]["resourceVersion"] += "1"
    sync_client_into_informers(ctl, client)
    await ctl.reconcile("ns/agent")
    assert len(client.writes("delete", "pods")) == 1
    status = client.writes("update_status", "daemonsets")[-1][3]["status"]
    assert status["desiredNumberScheduled"] == 0 and status["numberMisscheduled"] == 1


# -- end to end ------------------------------------------------------------------------------
def get(kubectl: Kubectl, *args: str) -> Obj:
    result: Obj = json.loads(kubectl("get", *args, "-o", "json"))
    return result


def test_one_pod_runs_on_each_of_two_nodes_and_updates_roll(
    kubectl: Kubectl, plane: ControlPlane, namespace: str
) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=DAEMONSET)
    out = kubectl("rollout", "status", "daemonset/agent", "-n", namespace, "--timeout=60s")
    assert 'daemon set "agent" successfully rolled out' in out
    pods = get(kubectl, "pods", "-n", namespace)["items"]
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["node-1", "node-2"]
    for pod in pods:
        terms = pod["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        assert terms[0]["matchFields"][0]["values"] == [pod["spec"]["nodeName"]]
    status = get(kubectl, "daemonset", "agent", "-n", namespace)["status"]
    assert status["desiredNumberScheduled"] == status["currentNumberScheduled"] == 2
    assert status["numberReady"] == status["numberAvailable"] == 2
    assert status["updatedNumberScheduled"] == 2 and status["numberMisscheduled"] == 0
    [revision] = get(kubectl, "controllerrevisions", "-n", namespace)["items"]
    hash_ = revision["metadata"]["labels"]["controller-revision-hash"]
    assert revision["metadata"]["name"] == f"agent-{hash_}"
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods} == {hash_}

    kubectl("set", "image", "daemonset/agent", "agent=busybox:1.37", "-n", namespace)
    out = kubectl("rollout", "status", "daemonset/agent", "-n", namespace, "--timeout=60s")
    assert 'daemon set "agent" successfully rolled out' in out

    def updated() -> bool:
        pods = get(kubectl, "pods", "-n", namespace)["items"]
        return sorted(p["spec"]["containers"][0]["image"] for p in pods) == ["busybox:1.37"] * 2

    wait_for(updated)
    history = kubectl("rollout", "history", "daemonset/agent", "-n", namespace)
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
