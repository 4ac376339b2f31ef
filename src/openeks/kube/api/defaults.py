"""Defaulting of built-in kinds, as upstream's versioned defaulters (Kubernetes 1.37).

`apply_defaults(group, version, kind, obj)` fills what upstream's `SetObjectDefaults_<Kind>`
fills when an object is decoded, on create and on update alike: it ports
`pkg/apis/{core,apps,batch,discovery,networking,rbac,storage,autoscaling}/v1*/defaults.go`
plus the declarative `+default` tags. Pod and pod-template defaults live in
`defaults_pod`, workload controllers (apps, batch) in `defaults_workloads`.

`apply_create_defaults` holds what upstream does in a strategy's `PrepareForCreate`
rather than in a defaulter, because it must not be re-applied on every update (the
namespace's `kubernetes` finalizer is removed during deletion and must stay removed).

Functions only fill fields that are absent; an object defaulted twice does not change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from openeks.kube.api.defaults_pod import (
    default_persistent_volume_source,
    default_pod,
    default_pod_template_spec,
    default_pvc_spec,
)
from openeks.kube.api.defaults_workloads import (
    default_cron_job,
    default_daemon_set,
    default_deployment,
    default_job,
    default_replica_set,
    default_stateful_set,
)

Obj = dict[str, Any]

DEFAULT_SERVICE_IP_FAMILY = "IPv4"
CLIENT_IP_AFFINITY_SECONDS = 10800


def _dict(parent: Obj | None, key: str) -> Obj | None:
    if parent is None:
        return None
    value = parent.get(key)
    return value if isinstance(value, dict) else None


def _child(parent: Obj, key: str) -> Obj:
    """parent[key] as a dict, created when absent or null."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = parent[key] = {}
    return value


def _items(parent: Obj | None, key: str) -> list[Obj]:
    value = parent.get(key) if parent is not None else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _missing(obj: Obj, key: str) -> bool:
    return obj.get(key) is None


def _empty(obj: Obj, key: str) -> bool:
    return obj.get(key) in (None, "")


# -- core/v1 ---------------------------------------------------------------------------------


def _pod_template(obj: Obj) -> None:
    default_pod_template_spec(_dict(obj, "template"))


def _replication_controller(obj: Obj) -> None:
    spec = _child(obj, "spec")
    template = _dict(spec, "template")
    labels = _dict(template, "metadata")
    labels = _dict(labels, "labels")
    if labels is not None:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = _child(obj, "metadata")
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    if _missing(spec, "replicas"):
        spec["replicas"] = 1
    default_pod_template_spec(template)


def _externally_accessible(spec: Obj) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(spec.get("externalIPs"))
    )


def _service(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if _empty(spec, "sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = _dict(spec, "sessionAffinityConfig")
        client_ip = _dict(config, "clientIP")
        if client_ip is None or _missing(client_ip, "timeoutSeconds"):
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": CLIENT_IP_AFFINITY_SECONDS}
            }
    if _empty(spec, "type"):
        spec["type"] = "ClusterIP"
    for port in _items(spec, "ports"):
        if _empty(port, "protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port", 0)
    if _externally_accessible(spec) and _empty(spec, "externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if _missing(spec, "internalTrafficPolicy") and spec["type"] in (
        "ClusterIP",
        "NodePort",
        "LoadBalancer",
    ):
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == "LoadBalancer":
        if _missing(spec, "allocateLoadBalancerNodePorts"):
            spec["allocateLoadBalancerNodePorts"] = True
        load_balancer = _dict(_dict(obj, "status"), "loadBalancer")
        for ingress in _items(load_balancer, "ingress"):
            if ingress.get("ip") and _missing(ingress, "ipMode"):
                ingress["ipMode"] = "VIP"
    default_service_ip_fields(spec)


def default_service_ip_fields(spec: Obj, default_family: str = DEFAULT_SERVICE_IP_FAMILY) -> None:
    """clusterIP/clusterIPs sync and the IP family fields, as the service registry fills
    them before allocating (`normalizeClusterIPs`, `initIPFamilyFields`) on a single-stack
    cluster. Allocation of the addresses themselves happens elsewhere."""
    cluster_ip = spec.get("clusterIP") or ""
    cluster_ips = [ip for ip in spec.get("clusterIPs") or [] if isinstance(ip, str)]
    if cluster_ip and not cluster_ips:
        spec["clusterIPs"] = cluster_ips = [cluster_ip]
    elif cluster_ips and not cluster_ip:
        spec["clusterIP"] = cluster_ip = cluster_ips[0]
    if spec.get("type") == "ExternalName":
        return
    families = spec.get("ipFamilies")
    families = list(families) if isinstance(families, list) else []
    if cluster_ip == "None" and not spec.get("selector"):
        if _missing(spec, "ipFamilyPolicy"):
            spec["ipFamilyPolicy"] = "RequireDualStack"
        if not families:
            families = [default_family]
        if len(families) < 2 and spec["ipFamilyPolicy"] != "SingleStack":
            families.append("IPv6" if families[0] == "IPv4" else "IPv4")
        spec["ipFamilies"] = families
        return
    for i, ip in enumerate(cluster_ips):
        if ip == "None":
            break
        if i >= len(families):
            families.append("IPv6" if _is_ipv6(ip) else "IPv4")
    if _missing(spec, "ipFamilyPolicy"):
        spec["ipFamilyPolicy"] = "RequireDualStack" if len(families) == 2 else "SingleStack"
    # A single-stack cluster never adds the second family to a headful service.
    spec["ipFamilies"] = families or [default_family]


def _is_ipv6(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).version == 6
    except ValueError:
        return False


def _namespace(obj: Obj) -> None:
    meta = _child(obj, "metadata")
    name = meta.get("name")
    if name:
        _child(meta, "labels")["kubernetes.io/metadata.name"] = name
    status = _child(obj, "status")
    if _empty(status, "phase"):
        status["phase"] = "Active"


def _secret(obj: Obj) -> None:
    if _empty(obj, "type"):
        obj["type"] = "Opaque"


def _pvc(obj: Obj) -> None:
    default_pvc_spec(_child(obj, "spec"))
    status = _child(obj, "status")
    if _empty(status, "phase"):
        status["phase"] = "Pending"


def _pv(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if _empty(spec, "persistentVolumeReclaimPolicy"):
        spec["persistentVolumeReclaimPolicy"] = "Retain"
    if _missing(spec, "volumeMode"):
        spec["volumeMode"] = "Filesystem"
    default_persistent_volume_source(spec)
    status = _child(obj, "status")
    if _empty(status, "phase"):
        status["phase"] = "Pending"


def _node(obj: Obj) -> None:
    status = _dict(obj, "status")
    if status is not None and _missing(status, "allocatable") and status.get("capacity"):
        status["allocatable"] = dict(status["capacity"])


def _endpoints(obj: Obj) -> None:
    for subset in _items(obj, "subsets"):
        for port in _items(subset, "ports"):
            if _empty(port, "protocol"):
                port["protocol"] = "TCP"


def _limit_range(obj: Obj) -> None:
    for item in _items(_dict(obj, "spec"), "limits"):
        if item.get("type") != "Container":
            continue
        default = dict(_dict(item, "default") or {})
        request = dict(_dict(item, "defaultRequest") or {})
        for key, value in (_dict(item, "max") or {}).items():
            default.setdefault(key, value)
        for key, value in default.items():
            request.setdefault(key, value)
        for key, value in (_dict(item, "min") or {}).items():
            request.setdefault(key, value)
        # Empty maps are what upstream's omitempty drops on the way out.
        if default:
            item["default"] = default
        if request:
            item["defaultRequest"] = request


# -- other groups ----------------------------------------------------------------------------


def _endpoint_slice(obj: Obj) -> None:
    for port in _items(obj, "ports"):
        if _missing(port, "name"):
            port["name"] = ""
        if _missing(port, "protocol"):
            port["protocol"] = "TCP"


def _network_policy(obj: Obj) -> None:
    spec = _child(obj, "spec")
    for direction in ("ingress", "egress"):
        for rule in _items(spec, direction):
            for port in _items(rule, "ports"):
                if _missing(port, "protocol"):
                    port["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _ingress_class(obj: Obj) -> None:
    parameters = _dict(_dict(obj, "spec"), "parameters")
    if parameters is not None and _missing(parameters, "scope"):
        parameters["scope"] = "Cluster"


def _role_binding(obj: Obj) -> None:
    role_ref = _child(obj, "roleRef")
    if _empty(role_ref, "apiGroup"):
        role_ref["apiGroup"] = "rbac.authorization.k8s.io"
    for subject in _items(obj, "subjects"):
        if _empty(subject, "apiGroup"):
            kind = subject.get("kind")
            if kind == "ServiceAccount":
                subject["apiGroup"] = ""
            elif kind in ("User", "Group"):
                subject["apiGroup"] = "rbac.authorization.k8s.io"


def _storage_class(obj: Obj) -> None:
    if _missing(obj, "reclaimPolicy"):
        obj["reclaimPolicy"] = "Delete"
    if _missing(obj, "volumeBindingMode"):
        obj["volumeBindingMode"] = "Immediate"


def _csi_driver(obj: Obj) -> None:
    spec = _child(obj, "spec")
    for key, value in (
        ("attachRequired", True),
        ("podInfoOnMount", False),
        ("storageCapacity", False),
        ("fsGroupPolicy", "ReadWriteOnceWithFSType"),
        ("requiresRepublish", False),
    ):
        if _missing(spec, key):
            spec[key] = value
    if not spec.get("volumeLifecycleModes"):
        spec["volumeLifecycleModes"] = ["Persistent"]


def _hpa_v1(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if _missing(spec, "minReplicas"):
        spec["minReplicas"] = 1


_SCALE_UP_RULES: Obj = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
_SCALE_DOWN_RULES: Obj = {
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}


def _hpa_v2(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if _missing(spec, "minReplicas"):
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            }
        ]
    behavior = _dict(spec, "behavior")
    if behavior is not None:
        for key, defaults in (("scaleUp", _SCALE_UP_RULES), ("scaleDown", _SCALE_DOWN_RULES)):
            rules = _dict(behavior, key) or {}
            merged = {k: (list(v) if isinstance(v, list) else v) for k, v in defaults.items()}
            merged.update({k: v for k, v in rules.items() if v is not None})
            behavior[key] = merged


_DEFAULTERS: dict[tuple[str, str], Callable[[Obj], None]] = {
    ("", "Pod"): default_pod,
    ("", "PodTemplate"): _pod_template,
    ("", "ReplicationController"): _replication_controller,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("", "Secret"): _secret,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "PersistentVolume"): _pv,
    ("", "Node"): _node,
    ("", "Endpoints"): _endpoints,
    ("", "LimitRange"): _limit_range,
    ("apps", "Deployment"): default_deployment,
    ("apps", "ReplicaSet"): default_replica_set,
    ("apps", "DaemonSet"): default_daemon_set,
    ("apps", "StatefulSet"): default_stateful_set,
    ("batch", "Job"): default_job,
    ("batch", "CronJob"): default_cron_job,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
    ("networking.k8s.io", "NetworkPolicy"): _network_policy,
    ("networking.k8s.io", "IngressClass"): _ingress_class,
    ("rbac.authorization.k8s.io", "RoleBinding"): _role_binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _role_binding,
    ("storage.k8s.io", "StorageClass"): _storage_class,
    ("storage.k8s.io", "CSIDriver"): _csi_driver,
}
_VERSIONED_DEFAULTERS: dict[tuple[str, str, str], Callable[[Obj], None]] = {
    ("autoscaling", "v1", "HorizontalPodAutoscaler"): _hpa_v1,
    ("autoscaling", "v2", "HorizontalPodAutoscaler"): _hpa_v2,
}


def apply_defaults(group: str, version: str, kind: str, obj: dict[str, Any]) -> None:
    """Fill upstream's defaults into `obj` (in place); kinds without defaults are untouched."""
    defaulter = _VERSIONED_DEFAULTERS.get((group, version, kind)) or _DEFAULTERS.get((group, kind))
    if defaulter is not None:
        defaulter(obj)


def apply_create_defaults(group: str, version: str, kind: str, obj: dict[str, Any]) -> None:
    """What upstream's strategies set on create only (`PrepareForCreate`), after defaults.

    Namespace: status is reset to Active and the `kubernetes` finalizer is ensured.
    """
    if (group, kind) == ("", "Namespace"):
        obj["status"] = {"phase": "Active"}
        spec = _child(obj, "spec")
        finalizers = spec.get("finalizers")
        finalizers = list(finalizers) if isinstance(finalizers, list) else []
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")
        spec["finalizers"] = finalizers
