"""Quota arithmetic and usage: what upstream's evaluators charge for pods, services, claims."""

from __future__ import annotations

from typing import Any

from openeks.kube.api import quota as q

Obj = dict[str, Any]


def rl(**values: str) -> q.ResourceList:
    return q.from_json({k.replace("_", "."): v for k, v in values.items()})


def test_adding_keeps_the_format_of_a_non_zero_left_operand() -> None:
    assert q.to_json(q.add(rl(memory="0"), rl(memory="1Gi"))) == {"memory": "1Gi"}
    assert q.to_json(q.add(rl(cpu="500m"), rl(cpu="1500m"))) == {"cpu": "2"}
    assert q.to_json(q.add(rl(pods="1"), rl(cpu="1"))) == {"cpu": "1", "pods": "1"}


def test_subtraction_never_goes_negative_and_keeps_keys() -> None:
    out = q.subtract_non_negative(rl(cpu="1", pods="1"), rl(cpu="2", memory="1Gi"))
    assert q.to_json(out) == {"cpu": "0", "memory": "0", "pods": "1"}


def test_less_than_or_equal_names_what_exceeds() -> None:
    ok, exceeded = q.less_than_or_equal(rl(pods="3", cpu="1"), rl(pods="2", cpu="2", memory="1"))
    assert not ok and exceeded == ["pods"]
    assert q.less_than_or_equal(rl(pods="2"), rl(pods="2")) == (True, [])


def test_pretty_print_is_sorted_and_canonical() -> None:
    assert q.pretty(rl(requests_memory="1024Mi", pods="1", cpu="1000m")) == (
        "cpu=1,pods=1,requests.memory=1Gi"
    )


def pod(containers: list[Obj], **spec: Any) -> Obj:
    return {"metadata": {"name": "p"}, "spec": {"containers": containers, **spec}, "status": {}}


def container(name: str, requests: Obj | None = None, limits: Obj | None = None) -> Obj:
    resources: Obj = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"name": name, "image": "x", "resources": resources}


def test_pod_usage_sums_containers_and_takes_the_largest_init_container() -> None:
    p = pod(
        [
            container("a", {"cpu": "100m", "memory": "64Mi"}, {"cpu": "200m"}),
            container("b", {"cpu": "300m"}),
        ],
        initContainers=[container("i", {"cpu": "1"})],
    )
    assert q.to_json(q.pod_usage(p, 0)) == {
        "count/pods": "1",
        "cpu": "1",
        "limits.cpu": "200m",
        "memory": "64Mi",
        "pods": "1",
        "requests.cpu": "1",
        "requests.memory": "64Mi",
    }


def test_sidecars_add_to_the_pod_and_overhead_is_charged() -> None:
    sidecar = {**container("s", {"cpu": "100m"}), "restartPolicy": "Always"}
    p = pod([container("a", {"cpu": "200m"})], initContainers=[sidecar], overhead={"cpu": "10m"})
    assert q.to_json(q.pod_requests(p)) == {"cpu": "310m"}


def test_terminal_pods_only_count_as_objects() -> None:
    p = pod([container("a", {"cpu": "1"})])
    p["status"]["phase"] = "Succeeded"
    assert q.to_json(q.pod_usage(p, 0)) == {"count/pods": "1"}


def test_scopes_match_pods() -> None:
    best_effort = pod([container("a")])
    burstable = pod([container("a", {"memory": "1Mi"})], activeDeadlineSeconds=30)
    assert q.pod_matches_scope({"scopeName": "BestEffort"}, best_effort)
    assert not q.pod_matches_scope({"scopeName": "BestEffort"}, burstable)
    assert q.pod_matches_scope({"scopeName": "NotTerminating"}, best_effort)
    assert q.pod_matches_scope({"scopeName": "Terminating"}, burstable)
    high = pod([], priorityClassName="high")
    selector = {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}
    assert q.pod_matches_scope(selector, high)
    assert not q.pod_matches_scope(selector, best_effort)


def test_constraints_name_containers_missing_what_a_quota_tracks() -> None:
    p = pod([container("a", {"cpu": "1"}), container("b")], initContainers=[container("i")])
    assert q.pod_constraints(["limits.cpu", "pods", "requests.cpu"], p) == (
        "must specify limits.cpu for: a,b,i; requests.cpu for: b,i"
    )
    assert q.pod_constraints(["pods", "count/pods"], p) == ""


def test_service_usage_counts_node_ports_and_load_balancers() -> None:
    svc = {"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}}
    assert q.to_json(q.service_usage(svc)) == {
        "count/services": "1",
        "services": "1",
        "services.loadbalancers": "1",
        "services.nodeports": "2",
    }
    plain = q.service_usage({"spec": {"ports": [{"port": 80}]}})
    assert q.to_json(plain)["services.nodeports"] == "0"


def test_claim_usage_charges_storage_per_class() -> None:
    pvc = {"spec": {"storageClassName": "gold", "resources": {"requests": {"storage": "1.5Gi"}}}}
    assert q.to_json(q.pvc_usage(pvc)) == {
        "count/persistentvolumeclaims": "1",
        "gold.storageclass.storage.k8s.io/persistentvolumeclaims": "1",
        "gold.storageclass.storage.k8s.io/requests.storage": "1536Mi",
        "persistentvolumeclaims": "1",
        "requests.storage": "1536Mi",
    }


def test_matching_resources_per_evaluator() -> None:
    hard = ["pods", "requests.cpu", "services", "count/deployments.apps", "requests.storage",
            "requests.nvidia.com/gpu", "hugepages-2Mi"]  # fmt: skip
    assert q.matching_resources("pods", hard) == [
        "pods",
        "requests.cpu",
        "requests.nvidia.com/gpu",
        "hugepages-2Mi",
    ]
    assert q.matching_resources("services", hard) == ["services"]
    assert q.matching_resources("persistentvolumeclaims", hard) == ["requests.storage"]
    assert q.matching_resources("count/deployments.apps", hard) == ["count/deployments.apps"]
