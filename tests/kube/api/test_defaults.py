"""Defaulting, checked against upstream's defaults_test.go cases and real cluster output."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from openeks.kube.api.defaults import apply_create_defaults, apply_defaults

Obj = dict[str, Any]


def defaulted(group: str, kind: str, obj: Obj, version: str = "v1") -> Obj:
    out = copy.deepcopy(obj)
    apply_defaults(group, version, kind, out)
    return out


def nginx_template(**spec: Any) -> Obj:
    return {
        "metadata": {"labels": {"app": "nginx"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx"}], **spec},
    }


def test_kubectl_create_deployment_gets_the_fields_a_real_cluster_adds() -> None:
    deployment = defaulted(
        "apps",
        "Deployment",
        {
            "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
            "spec": {"selector": {"matchLabels": {"app": "nginx"}}, "template": nginx_template()},
        },
    )
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["revisionHistoryLimit"] == 10
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    pod_spec = spec["template"]["spec"]
    assert {k: v for k, v in pod_spec.items() if k != "containers"} == {
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
    }
    assert pod_spec["containers"][0] == {
        "name": "nginx",
        "image": "nginx",
        "imagePullPolicy": "Always",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def test_pod_templates_do_not_get_pod_only_defaults() -> None:
    template = defaulted("apps", "ReplicaSet", {"spec": {"template": nginx_template()}})
    assert "enableServiceLinks" not in template["spec"]["template"]["spec"]
    pod = defaulted("", "Pod", {"spec": nginx_template()["spec"]})
    assert pod["spec"]["enableServiceLinks"] is True


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("registry.k8s.io/pause:3.10", "IfNotPresent"),
        ("localhost:5000/app", "Always"),
        ("localhost:5000/app:v1", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:1.27@sha256:" + "b" * 64, "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    pod = defaulted("", "Pod", {"spec": {"containers": [{"name": "c", "image": image}]}})
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_an_explicit_pull_policy_is_kept() -> None:
    container = {"name": "c", "image": "nginx", "imagePullPolicy": "Never"}
    pod = defaulted("", "Pod", {"spec": {"containers": [container]}})
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_pod_requests_default_to_limits_resource_by_resource() -> None:
    resources = {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}
    pod = defaulted(
        "",
        "Pod",
        {"spec": {"containers": [{"name": "c", "image": "i", "resources": resources}]}},
    )
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {
        "cpu": "500m",
        "memory": "1Gi",
    }


def test_container_members_get_their_defaults() -> None:
    container = {
        "name": "c",
        "image": "i:1",
        "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5},
        "lifecycle": {"preStop": {"httpGet": {"port": 8080, "path": "/stop"}}},
    }
    out = defaulted("", "Pod", {"spec": {"initContainers": [container], "containers": [container]}})
    for c in (out["spec"]["initContainers"][0], out["spec"]["containers"][0]):
        assert [p["protocol"] for p in c["ports"]] == ["TCP", "UDP"]
        assert c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
        assert c["livenessProbe"] == {
            "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
            "timeoutSeconds": 1,
            "periodSeconds": 10,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
        assert c["readinessProbe"]["periodSeconds"] == 5
        assert c["lifecycle"]["preStop"]["httpGet"] == {
            "port": 8080,
            "path": "/stop",
            "scheme": "HTTP",
        }


def test_volumes_get_their_source_defaults() -> None:
    volumes = [
        {"name": "scratch"},
        {"name": "conf", "configMap": {"name": "c"}},
        {"name": "creds", "secret": {"secretName": "s", "defaultMode": 256}},
        {"name": "host", "hostPath": {"path": "/var/log"}},
        {
            "name": "info",
            "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]},
        },
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        {
            "name": "eph",
            "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}},
        },
    ]
    out = defaulted("", "Pod", {"spec": {"containers": [], "volumes": volumes}})["spec"]["volumes"]
    assert out[0] == {"name": "scratch", "emptyDir": {}}
    assert out[1]["configMap"]["defaultMode"] == 420
    assert out[2]["secret"]["defaultMode"] == 256
    assert out[3]["hostPath"] == {"path": "/var/log", "type": ""}
    assert out[4]["downwardAPI"]["defaultMode"] == 420
    assert out[4]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"] == "v1"
    assert out[5]["projected"]["defaultMode"] == 420
    assert out[5]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600
    assert out[6]["ephemeral"]["volumeClaimTemplate"]["spec"]["volumeMode"] == "Filesystem"


def test_host_network_pods_get_host_ports() -> None:
    spec = {
        "hostNetwork": True,
        "containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 9000}]}],
    }
    pod = defaulted("", "Pod", {"spec": spec})
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 9000


def test_a_cluster_ip_service_gets_upstreams_defaults() -> None:
    service = defaulted(
        "", "Service", {"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    )
    assert service["spec"] == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack",
        "ipFamilies": ["IPv4"],
    }


def test_node_port_and_load_balancer_services_get_external_traffic_defaults() -> None:
    node_port = defaulted(
        "", "Service", {"spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http"}]}}
    )
    assert node_port["spec"]["externalTrafficPolicy"] == "Cluster"
    assert node_port["spec"]["ports"][0]["targetPort"] == "http"
    assert "allocateLoadBalancerNodePorts" not in node_port["spec"]
    lb = defaulted(
        "",
        "Service",
        {
            "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}},
        },
    )
    assert lb["spec"]["allocateLoadBalancerNodePorts"] is True
    assert lb["spec"]["externalTrafficPolicy"] == "Cluster"
    assert lb["status"]["loadBalancer"]["ingress"][0]["ipMode"] == "VIP"


def test_client_ip_affinity_gets_the_three_hour_timeout() -> None:
    service = defaulted(
        "", "Service", {"spec": {"sessionAffinity": "ClientIP", "ports": [{"port": 1}]}}
    )
    assert service["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_headless_services_without_selector_are_dual_stack_as_upstream() -> None:
    service = defaulted("", "Service", {"spec": {"clusterIP": "None"}})
    assert service["spec"]["clusterIPs"] == ["None"]
    assert service["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert service["spec"]["ipFamilies"] == ["IPv4", "IPv6"]
    with_selector = defaulted(
        "", "Service", {"spec": {"clusterIP": "None", "selector": {"a": "b"}}}
    )
    assert with_selector["spec"]["ipFamilyPolicy"] == "SingleStack"
    assert with_selector["spec"]["ipFamilies"] == ["IPv4"]


def test_external_name_services_get_no_ip_fields() -> None:
    service = defaulted(
        "", "Service", {"spec": {"type": "ExternalName", "externalName": "db.example.com"}}
    )
    assert "ipFamilies" not in service["spec"]
    assert "internalTrafficPolicy" not in service["spec"]


def test_stateful_sets_get_update_strategy_retention_and_claim_defaults() -> None:
    sts = defaulted(
        "apps",
        "StatefulSet",
        {
            "spec": {
                "template": nginx_template(),
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}],
            }
        },
    )
    spec = sts["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 0, "maxUnavailable": 1},
    }
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert spec["replicas"] == 1
    assert spec["revisionHistoryLimit"] == 10
    claim = spec["volumeClaimTemplates"][0]
    assert claim["spec"]["volumeMode"] == "Filesystem"
    assert claim["status"] == {"phase": "Pending"}


def test_an_explicit_rolling_update_type_keeps_rolling_update_unset() -> None:
    sts = defaulted("apps", "StatefulSet", {"spec": {"updateStrategy": {"type": "RollingUpdate"}}})
    assert sts["spec"]["updateStrategy"] == {"type": "RollingUpdate"}


def test_daemon_sets_roll_one_pod_at_a_time() -> None:
    ds = defaulted("apps", "DaemonSet", {"spec": {"template": nginx_template()}})
    assert ds["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert ds["spec"]["revisionHistoryLimit"] == 10


@pytest.mark.parametrize(
    ("given", "completions", "parallelism"),
    [({}, 1, 1), ({"completions": 5}, 5, 1), ({"parallelism": 3}, None, 3)],
)
def test_job_completions_and_parallelism_default_as_upstream(
    given: Obj, completions: int | None, parallelism: int
) -> None:
    job = defaulted("batch", "Job", {"spec": {"template": nginx_template(), **given}})
    assert job["spec"].get("completions") == completions
    assert job["spec"]["parallelism"] == parallelism


def test_jobs_get_backoff_mode_suspend_and_replacement_defaults() -> None:
    job = defaulted(
        "batch", "Job", {"metadata": {"name": "pi"}, "spec": {"template": nginx_template()}}
    )
    spec = job["spec"]
    assert spec["backoffLimit"] == 6
    assert spec["completionMode"] == "NonIndexed"
    assert spec["suspend"] is False
    assert spec["podReplacementPolicy"] == "TerminatingOrFailed"
    assert spec["manualSelector"] is False
    assert job["metadata"]["labels"] == {"app": "nginx"}
    with_policy = defaulted(
        "batch",
        "Job",
        {
            "spec": {
                "podFailurePolicy": {"rules": [{"onPodConditions": [{"type": "DisruptionTarget"}]}]}
            }
        },
    )
    assert with_policy["spec"]["podReplacementPolicy"] == "Failed"
    assert (
        with_policy["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"]
        == "True"
    )
    per_index = defaulted("batch", "Job", {"spec": {"backoffLimitPerIndex": 1}})
    assert per_index["spec"]["backoffLimit"] == 2**31 - 1


def test_cron_jobs_default_but_their_job_template_gets_only_pod_defaults() -> None:
    cron = defaulted(
        "batch",
        "CronJob",
        {
            "spec": {
                "schedule": "* * * * *",
                "jobTemplate": {"spec": {"template": nginx_template()}},
            }
        },
    )
    spec = cron["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"]) == ("Allow", False)
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 1)
    job_spec = spec["jobTemplate"]["spec"]
    assert "backoffLimit" not in job_spec
    assert job_spec["template"]["spec"]["restartPolicy"] == "Always"


def test_replication_controllers_take_selector_and_labels_from_the_template() -> None:
    rc = defaulted("", "ReplicationController", {"spec": {"template": nginx_template()}})
    assert rc["spec"]["selector"] == {"app": "nginx"}
    assert rc["metadata"]["labels"] == {"app": "nginx"}
    assert rc["spec"]["replicas"] == 1


def test_namespaces_get_their_name_label_and_phase_and_on_create_the_finalizer() -> None:
    ns = defaulted("", "Namespace", {"metadata": {"name": "team-a"}})
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert ns["status"] == {"phase": "Active"}
    assert "spec" not in ns
    apply_create_defaults("", "v1", "Namespace", ns)
    assert ns["spec"] == {"finalizers": ["kubernetes"]}


def test_core_kinds_with_simple_defaults() -> None:
    assert defaulted("", "Secret", {})["type"] == "Opaque"
    pvc = defaulted("", "PersistentVolumeClaim", {"spec": {}})
    assert (pvc["spec"]["volumeMode"], pvc["status"]["phase"]) == ("Filesystem", "Pending")
    pv = defaulted("", "PersistentVolume", {"spec": {"hostPath": {"path": "/d"}}})
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["spec"]["hostPath"]["type"] == ""
    node = defaulted("", "Node", {"status": {"capacity": {"cpu": "4"}}})
    assert node["status"]["allocatable"] == {"cpu": "4"}
    endpoints = defaulted("", "Endpoints", {"subsets": [{"ports": [{"port": 80}]}]})
    assert endpoints["subsets"][0]["ports"][0]["protocol"] == "TCP"
    limit_range = defaulted(
        "",
        "LimitRange",
        {
            "spec": {
                "limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "1Mi"}}]
            }
        },
    )
    item = limit_range["spec"]["limits"][0]
    assert item["default"] == {"cpu": "2"}
    assert item["defaultRequest"] == {"cpu": "2", "memory": "1Mi"}


def test_other_groups_defaults() -> None:
    slice_ = defaulted("discovery.k8s.io", "EndpointSlice", {"ports": [{"port": 80}]})
    assert slice_["ports"] == [{"port": 80, "name": "", "protocol": "TCP"}]
    policy = defaulted(
        "networking.k8s.io", "NetworkPolicy", {"spec": {"egress": [{"ports": [{"port": 53}]}]}}
    )
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP"
    binding = defaulted(
        "rbac.authorization.k8s.io",
        "RoleBinding",
        {
            "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}],
        },
    )
    assert binding["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert [s["apiGroup"] for s in binding["subjects"]] == ["rbac.authorization.k8s.io", ""]
    storage_class = defaulted("storage.k8s.io", "StorageClass", {"provisioner": "x"})
    assert (storage_class["reclaimPolicy"], storage_class["volumeBindingMode"]) == (
        "Delete",
        "Immediate",
    )
    hpa = defaulted("autoscaling", "HorizontalPodAutoscaler", {"spec": {"maxReplicas": 3}}, "v2")
    assert hpa["spec"]["minReplicas"] == 1
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {
        "type": "Utilization",
        "averageUtilization": 80,
    }


def test_hpa_behavior_is_filled_only_when_given() -> None:
    hpa = defaulted(
        "autoscaling",
        "HorizontalPodAutoscaler",
        {"spec": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}},
        "v2",
    )
    behavior = hpa["spec"]["behavior"]
    assert behavior["scaleDown"] == {
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        "stabilizationWindowSeconds": 60,
    }
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert len(behavior["scaleUp"]["policies"]) == 2


@pytest.mark.parametrize(
    ("group", "kind", "obj"),
    [
        ("apps", "Deployment", {"spec": {"template": nginx_template()}}),
        ("", "Pod", {"spec": nginx_template()["spec"]}),
        ("", "Service", {"spec": {"ports": [{"port": 80}]}}),
        ("batch", "Job", {"spec": {"template": nginx_template()}}),
        ("apps", "StatefulSet", {"spec": {"template": nginx_template()}}),
    ],
)
def test_defaulting_twice_changes_nothing(group: str, kind: str, obj: Obj) -> None:
    once = defaulted(group, kind, obj)
    assert defaulted(group, kind, once) == once


def test_kinds_without_defaults_are_left_alone() -> None:
    lease = {"spec": {"holderIdentity": "x"}}
    assert defaulted("coordination.k8s.io", "Lease", lease) == lease
    cm = {"metadata": {"name": "c"}}
    assert defaulted("", "ConfigMap", cm) == cm
