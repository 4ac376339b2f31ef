"""StatefulSets: pod identity and storage (unit), and end to end with the real kubectl:
ordered creation, scaling down from the top, rolling updates, history and undo."""

from __future__ import annotations

import json
from typing import Any

from openeks.kube.controllers.statefulset import StatefulSetController
from openeks.kube.controllers.util import stateful as st
from tests.kube.controllers.workloads_support import (  # noqa: F401
    ControlPlane,
    FakeClient,
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

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 3
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"""


def sts(**spec: Any) -> Obj:
    return {
        "metadata": {"name": "web", "namespace": "ns", "uid": "u-1"},
        "spec": {
            "replicas": 3,
            "serviceName": "nginx",
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": []}},
            "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {}}],
            **spec,
        },
    }


# -- identity --------------------------------------------------------------------------------
def test_a_new_pod_has_its_ordinal_identity_and_claims() -> None:
    pod = st.new_pod(sts(), 2)
    assert pod["metadata"]["name"] == "web-2"
    assert pod["metadata"]["generateName"] == "web-"
    assert pod["metadata"]["labels"] == {
        "app": "nginx",
        "statefulset.kubernetes.io/pod-name": "web-2",
        "apps.kubernetes.io/pod-index": "2",
    }
    assert pod["spec"]["hostname"] == "web-2"
    assert pod["spec"]["subdomain"] == "nginx"
    assert pod["spec"]["volumes"] == [
        {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-2"}}
    ]
    ref = pod["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["controller"]) == ("StatefulSet", "web", True)
    assert st.identity_matches(sts(), pod) and st.storage_matches(sts(), pod)
    claim = st.claims_for(sts(), 2)["www"]
    assert claim["metadata"]["name"] == "www-web-2"
    assert claim["metadata"]["labels"] == {"app": "nginx"}


def test_ordinals_below_the_partition_keep_the_current_revision() -> None:
    current = sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    update = sts()
    update["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    low = st.new_versioned_pod(current, update, "web-a", "web-b", 1)
    high = st.new_versioned_pod(current, update, "web-a", "web-b", 2)
    assert low["metadata"]["labels"]["controller-revision-hash"] == "web-a"
    assert "v" not in low["metadata"]["labels"]
    assert high["metadata"]["labels"]["controller-revision-hash"] == "web-b"
    assert high["metadata"]["labels"]["v"] == "2"


def test_claim_owners_follow_the_retention_policy() -> None:
    policy = {"whenDeleted": "Delete", "whenScaled": "Delete"}
    s = sts(persistentVolumeClaimRetentionPolicy=policy, replicas=2)
    kept = {"metadata": {"name": "web-1", "uid": "p-1"}}
    gone = {"metadata": {"name": "web-2", "uid": "p-2"}}
    claim: Obj = {"metadata": {"name": "www-web-1"}}
    assert st.update_claim_owners(claim, s, kept)
    assert [r["uid"] for r in claim["metadata"]["ownerReferences"]] == ["u-1"]
    claim = {"metadata": {"name": "www-web-2"}}
    assert st.update_claim_owners(claim, s, gone)
    assert [r["uid"] for r in claim["metadata"]["ownerReferences"]] == ["p-2"]
    assert not st.update_claim_owners(claim, s, gone)
    retain = sts()
    assert st.update_claim_owners(claim, retain, gone)
    assert "ownerReferences" not in claim["metadata"]


# -- one sync at a time ---------------------------------------------------------------------
def sts_object(**spec: Any) -> Obj:
    obj = sts(**spec)
    obj["apiVersion"], obj["kind"] = "apps/v1", "StatefulSet"
    obj["metadata"]["generation"] = 1
    obj["spec"]["template"]["spec"]["containers"] = [{"name": "c", "image": "nginx"}]
    return obj


def run_pod(client: FakeClient, name: str, ready: bool = True) -> None:
    pod = client.store[("pods", "ns", name)]
    pod["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    pod["metadata"]["resourceVersion"] += "1"


def created_pods(client: FakeClient) -> list[str]:
    return [name for _, _, name, _ in client.writes("create", "pods")]


async def test_ordered_ready_creates_one_pod_per_sync_and_waits_for_readiness() -> None:
    ctl, client, recorder = controller_with(StatefulSetController, [sts_object()])
    await ctl.reconcile("ns/web")
    [(_, _, revision_name, revision)] = client.writes("create", "controllerrevisions")
    assert revision["revision"] == 1
    assert revision["data"]["spec"]["template"]["$patch"] == "replace"
    assert [n for _, _, n, _ in client.writes("create", "persistentvolumeclaims")] == ["www-web-0"]
    assert created_pods(client) == ["web-0"]
    pod = client.writes("create", "pods")[0][3]
    assert pod["metadata"]["labels"]["controller-revision-hash"] == revision_name
    assert ("Normal", "SuccessfulCreate", "create Pod web-0 in StatefulSet web successful") in (
        recorder.events
    )
    status = client.writes("update_status", "statefulsets")[-1][3]["status"]
    assert status["replicas"] == 1 and status["updateRevision"] == revision_name
    sync_client_into_informers(ctl, client)
    await ctl.reconcile("ns/web")
    assert created_pods(client) == ["web-0"]
    run_pod(client, "web-0")
    sync_client_into_informers(ctl, client)
    await ctl.reconcile("ns/web")
    assert created_pods(client) == ["web-0", "web-1"]
    assert len(client.writes("create", "controllerrevisions")) == 1


async def test_parallel_creates_every_pod_at_once() -> None:
    ctl, client, _ = controller_with(
        StatefulSetController, [sts_object(podManagementPolicy="Parallel")]
    )
    await ctl.reconcile("ns/web")
    assert sorted(created_pods(client)) == ["web-0", "web-1", "web-2"]


async def test_scale_down_deletes_the_highest_ordinal_first_one_at_a_time() -> None:
    ctl, client, _ = controller_with(StatefulSetController, [sts_object(replicas=3)])
    for _ in range(3):
        await ctl.reconcile("ns/web")
        for name in created_pods(client):
            run_pod(client, name)
        sync_client_into_informers(ctl, client)
    assert created_pods(client) == ["web-0", "web-1", "web-2"]
    client.store[("statefulsets", "ns", "web")]["spec"]["replicas"] = 1
    client.store[("statefulsets", "ns", "web")]["metadata"]["resourceVersion"] += "1"
    sync_client_into_informers(ctl, client)
    await ctl.reconcile("ns/web")
    assert [n for _, _, n, _ in client.writes("delete", "pods")] == ["web-2"]


async def test_a_rolling_update_stops_at_the_partition() -> None:
    spec = {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}
    ctl, client, _ = controller_with(StatefulSetController, [sts_object(**spec)])
    for _ in range(3):
        await ctl.reconcile("ns/web")
        for name in created_pods(client):
            run_pod(client, name)
        sync_client_into_informers(ctl, client)
    set_obj = client.store[("statefulsets", "ns", "web")]
    set_obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    set_obj["metadata"]["resourceVersion"] += "1"
    sync_client_into_informers(ctl, client)
    await ctl.reconcile("ns/web")
    assert [n for _, _, n, _ in client.writes("delete", "pods")] == ["web-2"]
    sync_client_into_informers(ctl, client)
    await ctl.reconcile("ns/web")
    recreated = client.writes("create", "pods")[-1][3]
    assert recreated["metadata"]["name"] == "web-2"
    assert recreated["spec"]["containers"][0]["image"] == "nginx:2"
    run_pod(client, "web-2")
    sync_client_into_informers(ctl, client)
    await ctl.reconcile("ns/web")
    assert [n for _, _, n, _ in client.writes("delete", "pods")] == ["web-2"]
    status = client.writes("update_status", "statefulsets")[-1][3]["status"]
    assert status["updatedReplicas"] == 1 and status["currentReplicas"] == 2


# -- end to end ------------------------------------------------------------------------------
def get(kubectl: Kubectl, *args: str) -> Obj:
    result: Obj = json.loads(kubectl("get", *args, "-o", "json"))
    return result


def pod_names(kubectl: Kubectl, ns: str) -> list[str]:
    return sorted(p["metadata"]["name"] for p in get(kubectl, "pods", "-n", ns)["items"])


def test_pods_are_created_in_order_each_after_the_previous_is_ready(
    kubectl: Kubectl, plane: ControlPlane, namespace: str
) -> None:
    plane.hold(namespace, "web-0")
    kubectl("apply", "-n", namespace, "-f", "-", input=STATEFULSET)
    wait_for(lambda: pod_names(kubectl, namespace) == ["web-0"])
    result = kubectl.run(
        "rollout", "status", "statefulset/web", "-n", namespace, "--timeout=1s", check=False
    )
    assert result.returncode != 0
    assert "Waiting for 3 pods to be ready..." in result.stdout
    assert pod_names(kubectl, namespace) == ["web-0"]
    plane.release(namespace, "web-0")
    out = kubectl("rollout", "status", "statefulset/web", "-n", namespace, "--timeout=60s")
    assert "partitioned roll out complete: 3 new pods have been updated..." in out
    assert pod_names(kubectl, namespace) == ["web-0", "web-1", "web-2"]
    pods = {p["metadata"]["name"]: p for p in get(kubectl, "pods", "-n", namespace)["items"]}
    assert (
        pods["web-0"]["metadata"]["creationTimestamp"]
        <= pods["web-1"]["metadata"]["creationTimestamp"]
    )
    assert pods["web-1"]["spec"]["hostname"] == "web-1"
    assert pods["web-1"]["spec"]["subdomain"] == "nginx"
    labels = pods["web-1"]["metadata"]["labels"]
    assert labels["statefulset.kubernetes.io/pod-name"] == "web-1"
    assert labels["apps.kubernetes.io/pod-index"] == "1"
    claims = sorted(c["metadata"]["name"] for c in get(kubectl, "pvc", "-n", namespace)["items"])
    assert claims == ["www-web-0", "www-web-1", "www-web-2"]
    status = get(kubectl, "statefulset", "web", "-n", namespace)["status"]
    assert status["replicas"] == status["readyReplicas"] == status["availableReplicas"] == 3
    assert status["currentReplicas"] == status["updatedReplicas"] == 3
    assert (
        status["currentRevision"] == status["updateRevision"] == labels["controller-revision-hash"]
    )
    events = kubectl("get", "events", "-n", namespace)
    assert "create Pod web-0 in StatefulSet web successful" in events
    assert "create Claim www-web-0 Pod web-0 in StatefulSet web success" in events


def test_scaling_down_removes_the_highest_ordinals_and_keeps_claims(
    kubectl: Kubectl, plane: ControlPlane, namespace: str
) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=STATEFULSET)
    kubectl("rollout", "status", "statefulset/web", "-n", namespace, "--timeout=60s")
    kubectl("scale", "statefulset/web", "--replicas=1", "-n", namespace)
    wait_for(lambda: pod_names(kubectl, namespace) == ["web-0"])
    claims = sorted(c["metadata"]["name"] for c in get(kubectl, "pvc", "-n", namespace)["items"])
    assert claims == ["www-web-0", "www-web-1", "www-web-2"]
    events = kubectl("get", "events", "-n", namespace)
    assert "delete Pod web-2 in StatefulSet web successful" in events


def test_a_rolling_update_replaces_pods_and_undo_goes_back(
    kubectl: Kubectl, plane: ControlPlane, namespace: str
) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=STATEFULSET)
    kubectl("rollout", "status", "statefulset/web", "-n", namespace, "--timeout=60s")
    first = get(kubectl, "statefulset", "web", "-n", namespace)["status"]["updateRevision"]
    kubectl("set", "image", "statefulset/web", "nginx=nginx:1.28", "-n", namespace)
    kubectl("rollout", "status", "statefulset/web", "-n", namespace, "--timeout=60s")

    def rolled() -> bool:
        status = get(kubectl, "statefulset", "web", "-n", namespace)["status"]
        return status.get("currentRevision") == status.get("updateRevision") != first

    wait_for(rolled)
    images = {
        p["spec"]["containers"][0]["image"] for p in get(kubectl, "pods", "-n", namespace)["items"]
    }
    assert images == {"nginx:1.28"}
    history = kubectl("rollout", "history", "statefulset/web", "-n", namespace)
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    kubectl("rollout", "undo", "statefulset/web", "-n", namespace)
    wait_for(
        lambda: (
            {
                p["spec"]["containers"][0]["image"]
                for p in get(kubectl, "pods", "-n", namespace)["items"]
            }
            == {"nginx:1.27"}
        )
    )
    kubectl("rollout", "status", "statefulset/web", "-n", namespace, "--timeout=60s")
    status = get(kubectl, "statefulset", "web", "-n", namespace)["status"]
    assert status["updateRevision"] == first
    revisions = get(kubectl, "controllerrevisions", "-n", namespace)["items"]
    by_name = {r["metadata"]["name"]: r["revision"] for r in revisions}
    assert by_name[first] == 3
