"""API machinery at the protocol level: status codes, Status bodies, headers, semantics."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.apiserver import ApiServerProcess
from tests.support.rawclient import RawClient


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    with ApiServerProcess(
        tmp_path_factory.mktemp("machinery"), extra=["--compaction-interval", "1"]
    ) as api:
        yield api


@pytest.fixture(scope="module")
def api(server: ApiServerProcess) -> RawClient:
    client = RawClient(server.kubeconfig)
    client.post(
        "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "m"}}
    )
    return client


CM = "/api/v1/namespaces/m/configmaps"


def configmap(name: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, **meta},
        "data": {"a": "1"},
    }


def deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


def test_requests_without_credentials_get_401_but_health_and_version_answer(
    server: ApiServerProcess,
) -> None:
    anonymous = RawClient(server.kubeconfig, authenticated=False)
    r = anonymous.get("/api/v1/namespaces")
    assert r.status == 401
    assert r.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
    assert (
        anonymous.request("GET", "/api/v1/pods", headers={"Authorization": "Bearer nope"}).status
        == 401
    )
    assert anonymous.get("/readyz").body == b"ok"
    assert anonymous.get("/version").json()["gitVersion"].startswith("v1.")


def test_keys_certificates_and_kubeconfig_are_private(server: ApiServerProcess) -> None:
    files = [server.kubeconfig, *sorted((server.data_dir / "pki").iterdir())]
    assert any(f.name == "ca.key" for f in files)
    for f in files:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f


def test_unknown_resources_and_objects_are_404_status(api: RawClient) -> None:
    r = api.get("/api/v1/namespaces/m/widgets")
    assert r.status == 404 and r.json()["reason"] == "NotFound"
    r = api.get(f"{CM}/missing")
    assert r.status == 404
    assert r.json()["message"] == 'configmaps "missing" not found'
    assert r.json()["details"] == {"name": "missing", "kind": "configmaps"}
    assert (
        api.get("/apis/apps/v1/namespaces/m/deployments/nope").json()["details"]["group"] == "apps"
    )


def test_malformed_bodies_are_400(api: RawClient) -> None:
    r = api.post(CM, b"{not json")
    assert r.status == 400 and r.json()["reason"] == "BadRequest"
    r = api.post(CM, b"a: [b", headers={"Content-Type": "application/yaml"})
    assert r.status == 400
    r = api.post(CM, b"{}", headers={"Content-Type": "text/plain"})
    assert r.status == 415
    r = api.post(CM, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})
    assert r.status == 400
    r = api.post(
        CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": "nope"}
    )
    assert r.status == 400
    assert "cannot unmarshal string" in r.json()["message"]


def test_invalid_objects_are_422_with_field_causes(api: RawClient) -> None:
    bad = deployment("bad")
    bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    r = api.post("/apis/apps/v1/namespaces/m/deployments", bad)
    assert r.status == 422
    status = r.json()
    assert status["reason"] == "Invalid" and status["details"]["kind"] == "Deployment"
    assert status["message"].startswith('Deployment.apps "bad" is invalid: ')
    assert any(c["field"] == "spec.template.metadata.labels" for c in status["details"]["causes"])
    r = api.post(CM, configmap("Not_Valid"))
    assert r.status == 422
    assert r.json()["details"]["causes"][0]["field"] == "metadata.name"


def test_field_validation_strict_warn_and_ignore(api: RawClient) -> None:
    body = configmap("fv") | {"extra": 1}
    r = api.post(CM + "?fieldValidation=Strict", body)
    assert r.status == 400 and 'strict decoding error: unknown field "extra"' in r.json()["message"]
    r = api.post(CM + "?fieldValidation=Warn", body)
    assert r.status == 201 and r.warnings == ['299 - "unknown field \\"extra\\""']
    assert "extra" not in r.json()
    r = api.post(CM + "?fieldValidation=Ignore", configmap("fv2") | {"extra": 1})
    assert r.status == 201 and r.warnings == [] and "extra" not in r.json()
    dup = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fv3","name":"fv3"}}'
    r = api.post(CM + "?fieldValidation=Strict", dup)
    assert r.status == 400 and 'duplicate field "name"' in r.json()["message"]


def test_dry_run_writes_nothing(api: RawClient) -> None:
    r = api.post(CM + "?dryRun=All", configmap("dry"))
    assert r.status == 201 and r.json()["metadata"]["uid"]
    assert api.get(f"{CM}/dry").status == 404


def test_generate_name_and_generation(api: RawClient) -> None:
    r = api.post(
        CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}
    )
    name = r.json()["metadata"]["name"]
    assert r.status == 201 and name.startswith("gen-") and len(name) == 9
    d = api.post("/apis/apps/v1/namespaces/m/deployments", deployment("gen")).json()
    assert d["metadata"]["generation"] == 1
    path = "/apis/apps/v1/namespaces/m/deployments/gen"
    merge = "application/merge-patch+json"
    assert (
        api.patch(path, {"metadata": {"labels": {"x": "y"}}}, merge).json()["metadata"][
            "generation"
        ]
        == 1
    )
    assert api.patch(path, {"spec": {"replicas": 3}}, merge).json()["metadata"]["generation"] == 2
    status = {"status": {"replicas": 3, "observedGeneration": 2}, "spec": {"replicas": 9}}
    after = api.patch(path + "/status", status, merge).json()
    assert after["status"]["replicas"] == 3 and after["spec"]["replicas"] == 3
    assert api.patch(path, {"status": {"replicas": 7}}, merge).json()["status"]["replicas"] == 3


def test_optimistic_concurrency(api: RawClient) -> None:
    created = api.post(CM, configmap("cas")).json()
    stale = dict(created)
    assert api.put(f"{CM}/cas", created | {"data": {"a": "2"}}).status == 200
    r = api.put(f"{CM}/cas", stale | {"data": {"a": "3"}})
    assert r.status == 409 and r.json()["reason"] == "Conflict"
    assert "the object has been modified" in r.json()["message"]


def test_services_get_unique_cluster_ips_and_node_ports(api: RawClient) -> None:
    svc = "/api/v1/namespaces/m/services"
    ips = set()
    for i in range(20):
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": f"s{i}"},
            "spec": {"ports": [{"port": 80}]},
        }
        got = api.post(svc, body).json()
        ips.add(got["spec"]["clusterIP"])
        assert got["spec"]["clusterIPs"] == [got["spec"]["clusterIP"]]
        assert got["spec"]["ports"][0]["targetPort"] == 80
    assert len(ips) == 20 and all(ip.startswith("10.100.") for ip in ips)
    taken = next(iter(ips))
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "dup"},
        "spec": {"clusterIP": taken, "ports": [{"port": 80}]},
    }
    r = api.post(svc, body)
    assert r.status == 422 and "provided IP is already allocated" in r.json()["message"]
    node_port = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "np"},
        "spec": {"type": "NodePort", "ports": [{"port": 80}]},
    }
    port = api.post(svc, node_port).json()["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    again = node_port | {
        "metadata": {"name": "np2"},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": port}]},
    }
    assert api.post(svc, again).status == 422
    assert api.delete(f"{svc}/np").status == 200
    assert api.post(svc, again).status == 201
    assert (
        api.get("/api/v1/namespaces/default/services/kubernetes").json()["spec"]["clusterIP"]
        == "10.100.0.1"
    )


def test_finalizers_hold_a_deleted_object_until_removed(api: RawClient) -> None:
    api.post(CM, configmap("held", finalizers=["example.com/hold"]))
    r = api.delete(f"{CM}/held")
    assert r.status == 200
    held = api.get(f"{CM}/held").json()
    assert (
        held["metadata"]["deletionTimestamp"]
        and held["metadata"]["deletionGracePeriodSeconds"] == 0
    )
    r = api.patch(
        f"{CM}/held",
        {"metadata": {"finalizers": ["example.com/hold", "new"]}},
        "application/merge-patch+json",
    )
    assert r.status == 422
    api.patch(f"{CM}/held", {"metadata": {"finalizers": None}}, "application/merge-patch+json")
    assert api.get(f"{CM}/held").status == 404


def test_propagation_policies_are_recorded_as_finalizers(api: RawClient) -> None:
    api.post(CM, configmap("orphan"))
    api.delete(
        f"{CM}/orphan", {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"}
    )
    assert api.get(f"{CM}/orphan").json()["metadata"]["finalizers"] == ["orphan"]
    api.post(CM, configmap("fg"))
    api.delete(f"{CM}/fg?propagationPolicy=Foreground")
    assert api.get(f"{CM}/fg").json()["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert api.delete(f"{CM}/x?propagationPolicy=Sideways").status in (404, 422)


def test_bound_pods_are_deleted_gracefully(api: RawClient) -> None:
    pods = "/api/v1/namespaces/m/pods"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]},
    }
    created = api.post(pods, pod).json()
    assert created["status"]["phase"] == "Pending" and created["status"]["qosClass"] == "BestEffort"
    assert created["spec"]["terminationGracePeriodSeconds"] == 30
    api.delete(f"{pods}/p")
    pending = api.get(f"{pods}/p").json()
    assert pending["metadata"]["deletionGracePeriodSeconds"] == 30
    api.delete(f"{pods}/p", {"gracePeriodSeconds": 0})
    assert api.get(f"{pods}/p").status == 404
    unbound = pod | {
        "metadata": {"name": "q"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    api.post(pods, unbound)
    api.delete(f"{pods}/q")
    assert api.get(f"{pods}/q").status == 404


def test_no_new_objects_in_missing_or_terminating_namespaces(api: RawClient) -> None:
    r = api.post("/api/v1/namespaces/ghost/configmaps", configmap("x"))
    assert r.status == 404 and r.json()["message"] == 'namespaces "ghost" not found'
    api.post(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "closing"}},
    )
    api.post(
        "/api/v1/namespaces/closing/configmaps", configmap("stuck", finalizers=["example.com/hold"])
    )
    api.delete("/api/v1/namespaces/closing")
    assert api.get("/api/v1/namespaces/closing").json()["status"]["phase"] == "Terminating"
    r = api.post("/api/v1/namespaces/closing/configmaps", configmap("late"))
    assert r.status == 403 and "because it is being terminated" in r.json()["message"]
    api.patch(
        "/api/v1/namespaces/closing/configmaps/stuck",
        {"metadata": {"finalizers": None}},
        "application/merge-patch+json",
    )
    deadline = time.monotonic() + 10
    while api.get("/api/v1/namespaces/closing").status != 404:
        assert time.monotonic() < deadline, "namespace never went away"
        time.sleep(0.2)


def test_tables_and_metadata_only_answers(api: RawClient) -> None:
    api.post(CM, configmap("tab"))
    table = api.get(CM, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert any(row["cells"][0] == "tab" for row in table["rows"])
    meta = api.get(
        f"{CM}/tab",
        headers={"Accept": "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"},
    ).json()
    assert meta["kind"] == "PartialObjectMetadata" and "data" not in meta
    assert api.get(CM, headers={"Accept": "application/vnd.kubernetes.protobuf"}).status == 406


def test_aggregated_discovery_and_openapi(api: RawClient) -> None:
    r = api.get(
        "/apis",
        headers={"Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"},
    )
    assert (
        r.headers["Content-Type"]
        == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )
    groups = {item["metadata"]["name"] for item in r.json()["items"]}
    assert {
        "apps",
        "batch",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "policy",
        "events.k8s.io",
    } <= groups
    index = api.get("/openapi/v3").json()["paths"]
    doc = api.get(index["apis/apps/v1"]["serverRelativeURL"]).json()
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in patch["parameters"])
    assert "io.k8s.api.apps.v1.Deployment" in doc["components"]["schemas"]


def test_events_are_served_in_both_versions(api: RawClient) -> None:
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "m"},
        "reason": "Tested",
        "message": "hello",
        "type": "Normal",
    }
    assert api.post("/api/v1/namespaces/m/events", event).status == 201
    new = api.get("/apis/events.k8s.io/v1/namespaces/m/events/e1").json()
    assert new["apiVersion"] == "events.k8s.io/v1" and new["note"] == "hello"
    assert new["regarding"]["name"] == "p"
    listed = api.get(
        "/api/v1/namespaces/m/events?fieldSelector=involvedObject.name%3Dp,reason%3DTested"
    ).json()
    assert [e["metadata"]["name"] for e in listed["items"]] == ["e1"]


def _watch_lines(api: RawClient, path: str, want: int, timeout: float = 10) -> list[dict[str, Any]]:
    resp = api.stream(path, timeout=timeout)
    assert resp.status == 200, resp.read()
    out = []
    while len(out) < want:
        line = resp.readline()
        if not line:
            break
        out.append(json.loads(line))
    resp.close()
    return out


def test_watch_with_initial_events_and_bookmarks(api: RawClient) -> None:
    api.post(CM, configmap("w1"))
    path = (
        f"{CM}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dw1"
    )
    events = _watch_lines(api, path, 2)
    assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == "w1"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    r = api.get(f"{CM}?watch=1&sendInitialEvents=true")
    assert r.status == 422


def test_watch_and_continue_from_compacted_revisions_are_410(api: RawClient) -> None:
    first = api.post(CM, configmap("old"))
    old_rv = first.json()["metadata"]["resourceVersion"]
    page = api.get(f"{CM}?limit=1").json()
    token = page["metadata"]["continue"]
    for i in range(3):
        api.post(CM, configmap(f"later-{i}"))
        time.sleep(1.1)
    events = _watch_lines(api, f"{CM}?watch=1&resourceVersion={int(old_rv) - 1}", 1)
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"
    r = api.get(f"{CM}?limit=1&continue={token}")
    assert r.status == 410


def test_pods_are_bound_to_nodes_once(api: RawClient) -> None:
    pods = "/api/v1/namespaces/m/pods"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "b"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    api.post(pods, pod)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "b"},
        "target": {"kind": "Node", "name": "n1"},
    }
    assert api.post(f"{pods}/b/binding", binding).status == 201
    bound = api.get(f"{pods}/b").json()
    assert bound["spec"]["nodeName"] == "n1"
    assert any(
        c["type"] == "PodScheduled" and c["status"] == "True" for c in bound["status"]["conditions"]
    )
    again = api.post(f"{pods}/b/binding", binding | {"target": {"kind": "Node", "name": "n2"}})
    assert again.status == 409 and 'already assigned to node "n1"' in again.json()["message"]
