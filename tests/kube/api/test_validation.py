"""Validation, with the messages a real API server returns (upstream's Go tests and output)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from openeks.kube.api.defaults import apply_defaults
from openeks.kube.api.validation import FieldError, aggregate, is_cluster_scoped, validate

Obj = dict[str, Any]

DNS_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def check(group: str, kind: str, obj: Obj, old: Obj | None = None) -> list[str]:
    """Default like the API server does, validate, and return upstream's error strings."""
    new = copy.deepcopy(obj)
    apply_defaults(group, "v1", kind, new)
    if old is not None:
        old = copy.deepcopy(old)
        apply_defaults(group, "v1", kind, old)
    return [str(e) for e in validate(group, "v1", kind, new, old=old)]


def meta(name: str = "web", **extra: Any) -> Obj:
    return {"name": name, "namespace": "default", **extra}


def stored(obj: Obj, group: str = "", kind: str = "Pod") -> Obj:
    """An object as the server stored it: defaulted, with a resourceVersion."""
    out = copy.deepcopy(obj)
    apply_defaults(group, "v1", kind, out)
    out["metadata"]["resourceVersion"] = "7"
    return out


def pod(*containers: Obj, **spec: Any) -> Obj:
    return {
        "metadata": meta(),
        "spec": {"containers": list(containers) or [{"name": "nginx", "image": "nginx"}], **spec},
    }


def template(labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    return {
        "metadata": {"labels": {"app": "web"} if labels is None else labels},
        "spec": {"containers": [{"name": "c", "image": "i"}], **spec},
    }


def deployment(**spec: Any) -> Obj:
    base: Obj = {"selector": {"matchLabels": {"app": "web"}}, "template": template()}
    base.update(spec)
    return {"metadata": meta(), "spec": base}


# -- errors ----------------------------------------------------------------------------------


def test_a_field_error_formats_as_upstreams_error_and_error_body() -> None:
    error = FieldError("FieldValueInvalid", "metadata.name", "Foo", "bad")
    assert str(error) == 'metadata.name: Invalid value: "Foo": bad'
    assert error.body == 'Invalid value: "Foo": bad'
    assert error.message == "bad"
    assert error.reason == "FieldValueInvalid"
    assert str(FieldError("FieldValueRequired", "spec.containers", "", "")) == (
        "spec.containers: Required value"
    )
    assert aggregate([error, error]) == str(error)
    assert aggregate([error, FieldError("FieldValueForbidden", "spec", "", "no")]) == (
        '[metadata.name: Invalid value: "Foo": bad, spec: Forbidden: no]'
    )


# -- object meta -------------------------------------------------------------------------------


def test_a_valid_pod_has_no_errors() -> None:
    assert check("", "Pod", pod()) == []


def test_names_follow_the_kinds_rule() -> None:
    bad = pod()
    bad["metadata"]["name"] = "Web"
    assert check("", "Pod", bad) == [f'metadata.name: Invalid value: "Web": {DNS_SUBDOMAIN}']
    assert check("", "Namespace", {"metadata": {"name": "a.b"}}) == [
        'metadata.name: Invalid value: "a.b": must not contain dots'
    ]
    assert check("", "Service", {"metadata": meta("1web"), "spec": {"clusterIP": "None"}}) == [
        'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case '
        "alphanumeric characters or '-', start with an alphabetic character, and end with an "
        "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
        "'[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


def test_a_missing_name_and_namespace_are_required() -> None:
    obj = pod()
    obj["metadata"] = {"generateName": "web-"}
    assert check("", "Pod", obj) == [
        "metadata.name: Required value: name or generateName is required",
        "metadata.namespace: Required value",
    ]


def test_cluster_scoped_kinds_may_not_have_a_namespace() -> None:
    assert check("", "Namespace", {"metadata": {"name": "a", "namespace": "b"}}) == [
        "metadata.namespace: Forbidden: not allowed on this type"
    ]
    assert is_cluster_scoped("rbac.authorization.k8s.io", "ClusterRole") is True
    assert is_cluster_scoped("apps", "Deployment") is False
    assert is_cluster_scoped("example.com", "Widget") is None


def test_rbac_names_only_need_to_be_path_segments() -> None:
    role = {"metadata": {"name": "system:aggregate-to-edit"}}
    assert check("rbac.authorization.k8s.io", "ClusterRole", role) == []
    assert check("rbac.authorization.k8s.io", "ClusterRole", {"metadata": {"name": "a/b"}}) == [
        "metadata.name: Invalid value: \"a/b\": may not contain '/'"
    ]


def test_labels_and_annotations_are_checked() -> None:
    obj = pod()
    obj["metadata"]["labels"] = {"app": "a b", "-x": "y"}
    obj["metadata"]["annotations"] = {"big": "x" * (256 * 1024)}
    errors = check("", "Pod", obj)
    assert errors == [
        'metadata.labels: Invalid value: "-x": name part must consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
        "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        'metadata.labels: Invalid value: "a b": a valid label must be an empty string or '
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
        "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        "metadata.annotations: Too long: may not be more than 262144 bytes",
    ]


def test_finalizers_must_be_standard_or_qualified() -> None:
    obj = pod()
    obj["metadata"]["finalizers"] = ["kubernetes", "example.com/cleanup", "custom"]
    assert check("", "Pod", obj) == [
        'metadata.finalizers[2]: Invalid value: "custom": name is neither a standard finalizer '
        "name nor is it fully qualified"
    ]


def test_identity_fields_are_immutable_on_update() -> None:
    old = stored(pod())
    new = copy.deepcopy(old)
    new["metadata"]["name"] = "other"
    new["metadata"]["uid"] = "u2"
    assert check("", "Pod", new, old)[:2] == [
        'metadata.name: Invalid value: "other": field is immutable',
        'metadata.uid: Invalid value: "u2": field is immutable',
    ]


def test_an_update_needs_a_resource_version() -> None:
    old = stored(pod())
    new = copy.deepcopy(old)
    del new["metadata"]["resourceVersion"]
    assert check("", "Pod", new, old) == [
        'metadata.resourceVersion: Invalid value: "": must be specified for an update'
    ]


# -- pods ----------------------------------------------------------------------------------------


def test_a_pod_needs_containers() -> None:
    obj = pod()
    obj["spec"]["containers"] = []
    assert check("", "Pod", obj) == ["spec.containers: Required value"]


def test_container_names_and_images_are_checked() -> None:
    errors = check(
        "",
        "Pod",
        pod(
            {"image": "i"},
            {"name": "Bad_Name", "image": "i"},
            {"name": "c"},
            {"name": "c", "image": "i"},
        ),
    )
    assert errors == [
        "spec.containers[0].name: Required value",
        f'spec.containers[1].name: Invalid value: "Bad_Name": {DNS_LABEL}',
        "spec.containers[2].image: Required value",
        'spec.containers[3].name: Duplicate value: "c"',
    ]


def test_ports_are_checked() -> None:
    container = {
        "name": "c",
        "image": "i",
        "ports": [
            {"containerPort": 0},
            {"containerPort": 70000, "name": "http"},
            {"containerPort": 80, "name": "http", "protocol": "HTTP"},
        ],
    }
    assert check("", "Pod", pod(container)) == [
        "spec.containers[0].ports[0].containerPort: Required value",
        "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and "
        "65535, inclusive",
        'spec.containers[0].ports[2].name: Duplicate value: "http"',
        'spec.containers[0].ports[2].protocol: Unsupported value: "HTTP": supported values: '
        '"SCTP", "TCP", "UDP"',
    ]


def test_restart_and_dns_policies_must_be_known() -> None:
    errors = check("", "Pod", pod(restartPolicy="Sometimes", dnsPolicy="Google"))
    assert errors == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"OnFailure", "Never"',
        'spec.dnsPolicy: Unsupported value: "Google": supported values: '
        '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]


def test_requests_may_not_exceed_limits() -> None:
    container = {
        "name": "c",
        "image": "i",
        "resources": {
            "limits": {"cpu": "500m", "memory": "1Gi"},
            "requests": {"cpu": "1", "memory": "1024Mi"},
        },
    }
    assert check("", "Pod", pod(container)) == [
        'spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal '
        "to cpu limit of 500m"
    ]


def test_extended_resources_need_equal_integer_requests_and_limits() -> None:
    container = {
        "name": "c",
        "image": "i",
        "resources": {"limits": {"example.com/gpu": "2"}, "requests": {"example.com/gpu": "1"}},
    }
    assert check("", "Pod", pod(container)) == [
        'spec.containers[0].resources.requests: Invalid value: "1": must be equal to '
        "example.com/gpu limit of 2"
    ]
    container["resources"] = {"requests": {"foo": "1"}}
    assert check("", "Pod", pod(container)) == [
        'spec.containers[0].resources.requests[foo]: Invalid value: "foo": must be a standard '
        "resource type or fully qualified",
        'spec.containers[0].resources.requests[foo]: Invalid value: "foo": must be a standard '
        "resource for containers",
    ]


def test_volume_mounts_must_name_a_volume() -> None:
    container = {"name": "c", "image": "i", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}
    assert check("", "Pod", pod(container)) == [
        'spec.containers[0].volumeMounts[0].name: Not found: "data"'
    ]


def test_volumes_need_exactly_one_source() -> None:
    volumes = [
        {"name": "a", "secret": {"secretName": "s"}, "configMap": {"name": "c"}},
        {"name": "b", "persistentVolumeClaim": {}},
        {"name": "c", "emptyDir": {}},
        {"name": "c", "emptyDir": {}},
        {"name": "b", "emptyDir": {}},
    ]
    assert check("", "Pod", pod(volumes=volumes)) == [
        "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type",
        "spec.volumes[1].persistentVolumeClaim.claimName: Required value",
        'spec.volumes[3].name: Duplicate value: "c"',
    ]


def test_probes_are_checked_where_upstream_checks_them() -> None:
    container = {"name": "c", "image": "i", "livenessProbe": {"successThreshold": 2}}
    assert check("", "Pod", pod(container)) == [
        "spec.containers[0].livenessProbe: Required value: must specify a handler type",
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
    ]
    init = {"name": "i", "image": "i", "readinessProbe": {"exec": {"command": ["true"]}}}
    assert check("", "Pod", pod(initContainers=[init])) == [
        "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers "
        "without restartPolicy=Always"
    ]


def test_tolerations_are_checked() -> None:
    errors = check("", "Pod", pod(tolerations=[{"operator": "Equal", "value": "x"}]))
    assert errors == [
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when '
        '`key` is empty, which means "match all values and all keys"'
    ]


def test_pod_updates_may_only_change_images_and_a_few_fields() -> None:
    old = stored(pod())
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.27"
    new["spec"]["activeDeadlineSeconds"] = 30
    new["spec"]["tolerations"] = [{"key": "k", "operator": "Exists"}]
    assert check("", "Pod", new, old) == []
    new["spec"]["restartPolicy"] = "Never"
    errors = check("", "Pod", new, old)
    assert len(errors) == 1
    assert errors[0].startswith(
        "spec: Forbidden: pod updates may not change fields other than "
        "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        "`spec.tolerations` (only additions to existing tolerations),"
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)\n"
    )
    assert '-  "restartPolicy": "Always",' in errors[0]
    assert '+  "restartPolicy": "Never",' in errors[0]


def test_pod_updates_may_not_add_containers_or_raise_the_deadline() -> None:
    old = stored(pod(activeDeadlineSeconds=10))
    new = copy.deepcopy(old)
    new["spec"]["activeDeadlineSeconds"] = 20
    assert check("", "Pod", new, old) == [
        "spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous "
        "value"
    ]
    new = copy.deepcopy(old)
    new["spec"]["containers"].append({"name": "b", "image": "b"})
    assert check("", "Pod", new, old)[-1] == (
        "spec.containers: Forbidden: pod updates may not add or remove containers"
    )


def test_ephemeral_containers_cannot_be_set_on_create() -> None:
    obj = pod(ephemeralContainers=[{"name": "debug", "image": "busybox"}])
    assert check("", "Pod", obj) == ["spec.ephemeralContainers: Forbidden: cannot be set on create"]


# -- workloads -----------------------------------------------------------------------------------


def test_a_valid_deployment_has_no_errors() -> None:
    assert check("apps", "Deployment", deployment()) == []


def test_the_selector_must_match_the_template_labels() -> None:
    assert check("apps", "Deployment", deployment(template=template({"app": "other"}))) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: '
        "`selector` does not match template `labels`"
    ]


def test_a_missing_selector_is_required_and_matches_nothing() -> None:
    obj = deployment()
    del obj["spec"]["selector"]
    assert check("apps", "Deployment", obj) == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`",
    ]


def test_rolling_update_bounds_are_checked() -> None:
    obj = deployment(
        replicas=-1, strategy={"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}
    )
    assert check("apps", "Deployment", obj) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0%: may not be 0 when "
        "`maxSurge` is 0",
    ]
    obj = deployment(strategy={"rollingUpdate": {"maxUnavailable": "150%"}})
    assert check("apps", "Deployment", obj) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater "
        "than 100%"
    ]


def test_workload_templates_must_restart_always() -> None:
    obj = deployment(template=template(restartPolicy="Never"))
    assert check("apps", "Deployment", obj) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'
    ]


def test_template_pod_specs_are_validated() -> None:
    obj = deployment(
        template={"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}
    )
    assert check("apps", "Deployment", obj) == [
        "spec.template.spec.containers[0].image: Required value"
    ]


def test_an_apps_selector_is_immutable() -> None:
    old = stored(deployment(), "apps", "Deployment")
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "fe"}}
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "fe"
    assert check("apps", "Deployment", new, old) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":'
        '"web", "tier":"fe"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is '
        "immutable"
    ]


def test_an_empty_replica_set_selector_is_invalid() -> None:
    obj = {"metadata": meta(), "spec": {"selector": {}, "template": template()}}
    assert check("apps", "ReplicaSet", obj) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
        "deployment"
    ]


def test_daemon_sets_may_not_surge_and_be_unavailable_at_once() -> None:
    obj = deployment(updateStrategy={"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}})
    assert check("apps", "DaemonSet", obj) == [
        "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when "
        "maxUnavailable is non-zero"
    ]


def test_stateful_set_names_are_dns_labels_and_most_of_the_spec_is_fixed() -> None:
    obj = deployment(serviceName="web")
    obj["metadata"]["name"] = "web.v1"
    assert check("apps", "StatefulSet", obj) == [
        'metadata.name: Invalid value: "web.v1": must not contain dots'
    ]
    old = stored(deployment(serviceName="web"), "apps", "StatefulSet")
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 3
    assert check("apps", "StatefulSet", new, old) == []
    new["spec"]["serviceName"] = "other"
    assert check("apps", "StatefulSet", new, old) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
        "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden"
    ]


def test_replication_controllers_need_a_selector() -> None:
    obj = {"metadata": meta(), "spec": {"template": template({})}}
    assert check("", "ReplicationController", obj) == ["spec.selector: Required value"]


# -- services ------------------------------------------------------------------------------------


def service(**spec: Any) -> Obj:
    return {"metadata": meta(), "spec": {"selector": {"app": "web"}, **spec}}


def test_a_service_needs_ports_unless_headless() -> None:
    assert check("", "Service", service()) == ["spec.ports: Required value"]
    assert check("", "Service", service(clusterIP="None")) == []


def test_service_ports_are_checked() -> None:
    errors = check(
        "",
        "Service",
        service(
            ports=[
                {"port": 0, "name": "a"},
                {"port": 80, "name": "a"},
                {"port": 80, "name": "b", "targetPort": "HTTP"},
            ]
        ),
    )
    assert errors == [
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[1].name: Duplicate value: "a"',
        'spec.ports[2].targetPort: Invalid value: "HTTP": must contain only alpha-numeric '
        "characters (a-z, 0-9), and hyphens (-)",
        'spec.ports[2].targetPort: Invalid value: "HTTP": must contain at least one letter (a-z)',
        'spec.ports[2]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
        "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, "
        'StrVal:""}, NodePort:0}',
    ]


def test_service_type_and_node_ports_are_checked() -> None:
    assert check("", "Service", service(type="Public", ports=[{"port": 80}])) == [
        'spec.type: Unsupported value: "Public": supported values: "ClusterIP", "ExternalName", '
        '"LoadBalancer", "NodePort"'
    ]
    assert check("", "Service", service(ports=[{"port": 80, "nodePort": 30080}])) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    ]


def test_external_name_services_need_a_dns_name() -> None:
    obj = {"metadata": meta(), "spec": {"type": "ExternalName"}}
    assert check("", "Service", obj) == ["spec.externalName: Required value"]


def test_the_cluster_ip_may_not_change() -> None:
    old = stored(service(ports=[{"port": 80}], clusterIP="10.96.0.10"), "", "Service")
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.96.0.11"
    new["spec"]["clusterIPs"] = ["10.96.0.11"]
    assert check("", "Service", new, old) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set'
    ]


# -- config and secrets --------------------------------------------------------------------------


def test_config_map_keys_and_size_are_checked() -> None:
    obj = {"metadata": meta(), "data": {"a b": "x", "big": "y" * (1024 * 1024)}}
    assert check("", "ConfigMap", obj) == [
        'data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric '
        "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex "
        "used for validation is '[-._a-zA-Z0-9]+')",
        "[]: Too long: may not be more than 1048576 bytes",
    ]


def test_immutable_config_maps_cannot_change_data() -> None:
    old = stored({"metadata": meta(), "data": {"a": "1"}, "immutable": True}, "", "ConfigMap")
    new = copy.deepcopy(old)
    new["data"]["a"] = "2"
    assert check("", "ConfigMap", new, old) == [
        "data: Forbidden: field is immutable when `immutable` is set"
    ]


def test_secrets_are_checked_after_string_data_is_merged() -> None:
    obj = {"metadata": meta(), "type": "kubernetes.io/tls", "stringData": {"tls.crt": "c"}}
    assert check("", "Secret", obj) == ["data[tls.key]: Required value"]
    old = stored({"metadata": meta(), "data": {}}, "", "Secret")
    new = copy.deepcopy(old)
    new["type"] = "kubernetes.io/tls"
    new["data"] = {"tls.crt": "Yw==", "tls.key": "aw=="}
    assert check("", "Secret", new, old) == [
        'type: Invalid value: "kubernetes.io/tls": field is immutable'
    ]


def test_namespace_finalizers_are_checked() -> None:
    obj = {"metadata": {"name": "ns"}, "spec": {"finalizers": ["kubernetes", "bad"]}}
    assert check("", "Namespace", obj) == [
        'spec.finalizers: Invalid value: "bad": name is neither a standard finalizer name nor '
        "is it fully qualified"
    ]


# -- batch ---------------------------------------------------------------------------------------


def job(**spec: Any) -> Obj:
    return {"metadata": meta("pi"), "spec": {"template": template(restartPolicy="Never"), **spec}}


def test_a_valid_job_has_no_errors() -> None:
    assert check("batch", "Job", job()) == []


def test_job_counts_and_restart_policy_are_checked() -> None:
    obj = job(completions=-1, template=template())
    assert check("batch", "Job", obj) == [
        "spec.completions: Invalid value: -1: must be greater than or equal to 0",
        'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: '
        '"OnFailure", "Never"',
    ]


def test_a_manual_job_selector_must_match_the_template() -> None:
    obj = job(manualSelector=True, selector={"matchLabels": {"app": "other"}})
    assert check("batch", "Job", obj) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`"
    ]


def test_job_completions_are_immutable() -> None:
    old = stored(job(completions=2), "batch", "Job")
    new = copy.deepcopy(old)
    new["spec"]["completions"] = 3
    assert check("batch", "Job", new, old) == [
        "spec.completions: Invalid value: 3: field is immutable"
    ]


def cron(schedule: str, name: str = "tick") -> Obj:
    return {
        "metadata": meta(name),
        "spec": {
            "schedule": schedule,
            "jobTemplate": {"spec": {"template": template(restartPolicy="OnFailure")}},
        },
    }


@pytest.mark.parametrize(
    "schedule",
    [
        "* * * * *",
        "*/5 * * * *",
        "0 0 * * SUN",
        "0 9-17 * JAN-MAR mon-fri",
        "@hourly",
        "@every 1h30m",
        "0 0 1,15 * ?",
    ],
)
def test_standard_cron_schedules_are_accepted(schedule: str) -> None:
    assert check("batch", "CronJob", cron(schedule)) == []


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("*/5 * * *", "expected exactly 5 fields, found 4: [*/5 * * *]"),
        ("0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
    ],
)
def test_bad_cron_schedules_carry_the_parsers_message(schedule: str, message: str) -> None:
    assert check("batch", "CronJob", cron(schedule)) == [
        f'spec.schedule: Invalid value: "{schedule}": {message}'
    ]


def test_cron_schedules_may_not_carry_a_time_zone_and_names_are_short() -> None:
    assert check("batch", "CronJob", cron("TZ=UTC 0 * * * *")) == [
        'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in '
        "schedule, use timeZone field instead"
    ]
    long_name = "a" * 53
    assert check("batch", "CronJob", cron("@daily", long_name)) == [
        f'metadata.name: Invalid value: "{long_name}": must be no more than 52 characters'
    ]


def test_cron_time_zones_must_exist() -> None:
    obj = cron("@daily")
    obj["spec"]["timeZone"] = "Mars/Olympus"
    assert check("batch", "CronJob", obj) == [
        'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'
    ]


def test_validation_never_raises_on_malformed_input() -> None:
    garbage: Obj = {"metadata": "x", "spec": {"containers": "nope", "volumes": [1, None]}}
    errors = validate("", "v1", "Pod", garbage)
    assert "metadata.name: Required value: name or generateName is required" in map(str, errors)
    assert validate("apps", "v1", "Deployment", {"spec": {"replicas": "3"}})


def test_endpoints_may_not_point_at_loopback_except_the_api_servers_own() -> None:
    subsets = [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"port": 6443}]}]
    assert check("", "Endpoints", {"metadata": meta("db"), "subsets": subsets}) == [
        'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback '
        "range (127.0.0.0/8, ::1/128)"
    ]
    own = {"metadata": meta("kubernetes"), "subsets": subsets}
    assert check("", "Endpoints", own) == []
