"""Printers for core/v1 resources other than pods, events and volumes.

Each function ports the upstream `print<Kind>` of the same name. Where upstream prints a
field that the API server defaults when it decodes an object (a Service's `type`, a
Secret's `type`, a Namespace's phase...), the printer applies the same default, so an
object stored without it prints as upstream would print it after decoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import (
    column,
    integer,
    join_host_port,
    layout_container_cells,
    mapping,
    meta,
    name_of,
    pod_template_containers,
    seq,
    text,
    translate_timestamp_since,
)
from openeks.kube.api.printers.descriptions import doc
from openeks.kube.api.printers.labels import format_labels
from openeks.kube.api.printers.printer import Printer
from openeks.kube.api.printers.quantity import canonical_quantity

NAME = column("Name", "string", doc("ObjectMeta.name"), format="name")
AGE = column("Age", "string", doc("ObjectMeta.creationTimestamp"))
CONTAINERS = column("Containers", "string", "Names of each container in the template.", priority=1)
IMAGES = column(
    "Images", "string", "Images referenced by each container in the template.", priority=1
)


def age(obj: Mapping[str, Any], now: datetime) -> str:
    """The AGE cell: time since `metadata.creationTimestamp`."""
    return translate_timestamp_since(meta(obj).get("creationTimestamp"), now)


# --- nodes ---------------------------------------------------------------------------

_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"


def node_roles(node: Mapping[str, Any]) -> list[str]:
    """`findNodeRoles`: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role` values."""
    roles = set()
    for key, value in mapping(meta(node).get("labels")).items():
        if key.startswith(_NODE_ROLE_PREFIX) and key[len(_NODE_ROLE_PREFIX) :]:
            roles.add(key[len(_NODE_ROLE_PREFIX) :])
        elif key == _NODE_ROLE_LABEL and text(value):
            roles.add(text(value))
    return sorted(roles)


def _node_address(node: Mapping[str, Any], kind: str) -> str:
    for address in seq(mapping(node.get("status")).get("addresses")):
        if mapping(address).get("type") == kind:
            return text(mapping(address).get("address"))
    return "<none>"


def node_cells(node: Mapping[str, Any], now: datetime) -> list[Any]:
    status = mapping(node.get("status"))
    ready = None
    for condition in seq(status.get("conditions")):
        if mapping(condition).get("type") == "Ready":
            ready = mapping(condition)  # upstream keys conditions by type: the last one wins
    if ready is None:
        states = ["Unknown"]
    else:
        states = ["Ready" if ready.get("status") == "True" else "NotReady"]
    if mapping(node.get("spec")).get("unschedulable") is True:
        states.append("SchedulingDisabled")
    info = mapping(status.get("nodeInfo"))
    return [
        name_of(node),
        ",".join(states),
        ",".join(node_roles(node)) or "<none>",
        age(node, now),
        text(info.get("kubeletVersion")),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        text(info.get("osImage")) or "<unknown>",
        text(info.get("kernelVersion")) or "<unknown>",
        text(info.get("containerRuntimeVersion")) or "<unknown>",
    ]


NODE = Printer(
    (
        NAME,
        column("Status", "string", "The status of the node"),
        column("Roles", "string", "The roles of the node"),
        AGE,
        column("Version", "string", doc("NodeSystemInfo.kubeletVersion")),
        column("Internal-IP", "string", doc("NodeStatus.addresses"), priority=1),
        column("External-IP", "string", doc("NodeStatus.addresses"), priority=1),
        column("OS-Image", "string", doc("NodeSystemInfo.osImage"), priority=1),
        column("Kernel-Version", "string", doc("NodeSystemInfo.kernelVersion"), priority=1),
        column(
            "Container-Runtime",
            "string",
            doc("NodeSystemInfo.containerRuntimeVersion"),
            priority=1,
        ),
    ),
    node_cells,
)

# --- namespaces, config maps, secrets, service accounts ------------------------------

NAMESPACE = Printer(
    (NAME, column("Status", "string", "The status of the namespace"), AGE),
    lambda ns, now: [
        name_of(ns),
        text(mapping(ns.get("status")).get("phase")) or "Active",  # SetDefaults_NamespaceStatus
        age(ns, now),
    ],
)

CONFIG_MAP = Printer(
    (NAME, column("Data", "string", doc("ConfigMap.data")), AGE),
    lambda cm, now: [
        name_of(cm),
        len(mapping(cm.get("data"))) + len(mapping(cm.get("binaryData"))),
        age(cm, now),
    ],
)

SECRET = Printer(
    (
        NAME,
        column("Type", "string", doc("Secret.type")),
        column("Data", "string", doc("Secret.data")),
        AGE,
    ),
    lambda secret, now: [
        name_of(secret),
        text(secret.get("type")) or "Opaque",  # SetDefaults_Secret
        len(mapping(secret.get("data"))),
        age(secret, now),
    ],
)

SERVICE_ACCOUNT = Printer(
    (NAME, column("Secrets", "string", doc("ServiceAccount.secrets")), AGE),
    lambda sa, now: [name_of(sa), len(seq(sa.get("secrets"))), age(sa, now)],
)

# --- services and endpoints ----------------------------------------------------------


def _load_balancer_addresses(service: Mapping[str, Any]) -> str:
    """`loadBalancerStatusStringer` with `wide` set (the server never truncates)."""
    ingress = seq(mapping(mapping(service.get("status")).get("loadBalancer")).get("ingress"))
    found = set()
    for entry in ingress:
        entry = mapping(entry)
        if text(entry.get("ip")):
            found.add(text(entry.get("ip")))
        elif text(entry.get("hostname")):
            found.add(text(entry.get("hostname")))
    return ",".join(sorted(found))


def service_external_ip(service: Mapping[str, Any]) -> str:
    """`getServiceExternalIP`."""
    spec = mapping(service.get("spec"))
    external_ips = [text(ip) for ip in seq(spec.get("externalIPs"))]
    kind = text(spec.get("type")) or "ClusterIP"  # SetDefaults_Service
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) if external_ips else "<none>"
    if kind == "LoadBalancer":
        lb_ips = _load_balancer_addresses(service)
        if external_ips:
            return ",".join(([*lb_ips.split(",")] if lb_ips else []) + external_ips)
        return lb_ips or "<pending>"
    if kind == "ExternalName":
        return text(spec.get("externalName"))
    return "<unknown>"


def service_ports(ports: Any) -> str:
    """`makePortString`: `port/PROTO` or `port:nodePort/PROTO`, comma-joined."""
    pieces = []
    for port in seq(ports):
        port = mapping(port)
        protocol = text(port.get("protocol")) or "TCP"  # SetDefaults_Service
        node_port = integer(port.get("nodePort"))
        if node_port > 0:
            pieces.append(f"{integer(port.get('port'))}:{node_port}/{protocol}")
        else:
            pieces.append(f"{integer(port.get('port'))}/{protocol}")
    return ",".join(pieces)


def service_cells(service: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = mapping(service.get("spec"))
    cluster_ips = [text(ip) for ip in seq(spec.get("clusterIPs"))]
    if not cluster_ips and text(spec.get("clusterIP")):
        cluster_ips = [text(spec.get("clusterIP"))]  # SetDefaults_Service
    return [
        name_of(service),
        text(spec.get("type")) or "ClusterIP",
        cluster_ips[0] if cluster_ips else "<none>",
        service_external_ip(service),
        service_ports(spec.get("ports")) or "<none>",
        age(service, now),
        format_labels(spec.get("selector")),
    ]


SERVICE = Printer(
    (
        NAME,
        column("Type", "string", doc("ServiceSpec.type")),
        column("Cluster-IP", "string", doc("ServiceSpec.clusterIP")),
        column("External-IP", "string", doc("ServiceSpec.externalIPs")),
        column("Port(s)", "string", doc("ServiceSpec.ports")),
        AGE,
        column("Selector", "string", doc("ServiceSpec.selector"), priority=1),
    ),
    service_cells,
)


def format_endpoints(endpoints: Mapping[str, Any]) -> str:
    """`formatEndpoints` for all ports: up to three `ip:port`, then "+ N more..."."""
    subsets = seq(endpoints.get("subsets"))
    if not subsets:
        return "<none>"
    shown: list[str] = []
    limit, more, count = 3, False, 0
    for subset in subsets:
        subset = mapping(subset)
        addresses = [text(mapping(a).get("ip")) for a in seq(subset.get("addresses"))]
        ports = seq(subset.get("ports"))
        for port in ports if ports else [None]:
            count += len(addresses)
            for ip in addresses:
                if len(shown) == limit:
                    more = True
                    break
                if port is None:  # headless services may have no ports
                    shown.append(ip)
                else:
                    shown.append(join_host_port(ip, integer(mapping(port).get("port"))))
    rendered = ",".join(shown)
    return f"{rendered} + {count - limit} more..." if more else rendered


ENDPOINTS = Printer(
    (NAME, column("Endpoints", "string", doc("Endpoints.subsets")), AGE),
    lambda ep, now: [name_of(ep), format_endpoints(ep), age(ep, now)],
)

# --- replication controllers and resource quotas -------------------------------------


def replication_controller_cells(rc: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = mapping(rc.get("spec")), mapping(rc.get("status"))
    names, images = layout_container_cells(pod_template_containers(spec.get("template")))
    return [
        name_of(rc),
        integer(spec.get("replicas"), 1),  # SetDefaults_ReplicationController
        integer(status.get("replicas")),
        integer(status.get("readyReplicas")),
        age(rc, now),
        names,
        images,
        format_labels(spec.get("selector")),
    ]


REPLICATION_CONTROLLER = Printer(
    (
        NAME,
        column("Desired", "integer", doc("ReplicationControllerSpec.replicas")),
        column("Current", "integer", doc("ReplicationControllerStatus.replicas")),
        column("Ready", "integer", doc("ReplicationControllerStatus.readyReplicas")),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", "string", doc("ReplicationControllerSpec.selector"), priority=1),
    ),
    replication_controller_cells,
)


def resource_quota_cells(quota: Mapping[str, Any], now: datetime) -> list[Any]:
    """`printResourceQuota`: `name: used/hard` per resource, `limits.*` in their own cell."""
    status = mapping(quota.get("status"))
    hard, used = mapping(status.get("hard")), mapping(status.get("used"))
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        pieces = resource.split(".")
        target = limits if len(pieces) > 1 and pieces[0] == "limits" else requests
        usage = canonical_quantity(used.get(resource))
        target.append(f"{resource}: {usage}/{canonical_quantity(hard[resource])}")
    return [name_of(quota), ", ".join(requests), ", ".join(limits), age(quota, now)]


RESOURCE_QUOTA = Printer(
    (
        NAME,
        column(
            "Request",
            "string",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        column(
            "Limit",
            "string",
            "Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node.",
        ),
        AGE,
    ),
    resource_quota_cells,
)

POD_TEMPLATE = Printer(
    (
        NAME,
        column("Containers", "string", "Names of each container in the template."),
        column("Images", "string", "Images referenced by each container in the template."),
        column("Pod Labels", "string", "The labels for the pod template."),
    ),
    lambda pt, now: [
        name_of(pt),
        *layout_container_cells(pod_template_containers(pt.get("template"))),
        format_labels(mapping(mapping(pt.get("template")).get("metadata")).get("labels")),
    ],
)

PRINTERS = {
    ("", "nodes"): NODE,
    ("", "namespaces"): NAMESPACE,
    ("", "configmaps"): CONFIG_MAP,
    ("", "secrets"): SECRET,
    ("", "serviceaccounts"): SERVICE_ACCOUNT,
    ("", "services"): SERVICE,
    ("", "endpoints"): ENDPOINTS,
    ("", "replicationcontrollers"): REPLICATION_CONTROLLER,
    ("", "resourcequotas"): RESOURCE_QUOTA,
    ("", "podtemplates"): POD_TEMPLATE,
}
