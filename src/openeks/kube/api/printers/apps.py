"""Printers for apps/v1: Deployments, ReplicaSets, StatefulSets, DaemonSets, revisions.

Replica counts are integers except where upstream prints `ready/desired` strings
(Deployment and StatefulSet READY). A missing `spec.replicas` prints as 1, the value the
API server defaults it to. Selectors print as label selector strings; a Deployment prints
an unparsable one as "<invalid>", the other kinds as "<error>" (upstream uses two helpers).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import (
    TableConversionError,
    column,
    integer,
    layout_container_cells,
    mapping,
    meta,
    name_of,
    pod_template_containers,
    seq,
    text,
)
from openeks.kube.api.printers.core import AGE, CONTAINERS, IMAGES, NAME, age
from openeks.kube.api.printers.descriptions import doc
from openeks.kube.api.printers.labels import (
    InvalidSelector,
    format_label_selector,
    format_labels,
    selector_string,
)
from openeks.kube.api.printers.printer import Printer

_EXT = "extensions/v1beta1 "


def _spec_status(obj: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    return mapping(obj.get("spec")), mapping(obj.get("status"))


def deployment_cells(deployment: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec_status(deployment)
    try:
        selector = selector_string(spec.get("selector"))
    except InvalidSelector:
        selector = "<invalid>"
    names, images = layout_container_cells(pod_template_containers(spec.get("template")))
    return [
        name_of(deployment),
        f"{integer(status.get('readyReplicas'))}/{integer(spec.get('replicas'), 1)}",
        integer(status.get("updatedReplicas")),
        integer(status.get("availableReplicas")),
        age(deployment, now),
        names,
        images,
        selector,
    ]


DEPLOYMENT = Printer(
    (
        NAME,
        column("Ready", "string", "Number of the pod with ready state"),
        column("Up-to-date", "string", doc(_EXT + "DeploymentStatus.updatedReplicas")),
        column("Available", "string", doc(_EXT + "DeploymentStatus.availableReplicas")),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", "string", doc(_EXT + "DeploymentSpec.selector"), priority=1),
    ),
    deployment_cells,
)


def replica_set_cells(rs: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec_status(rs)
    names, images = layout_container_cells(pod_template_containers(spec.get("template")))
    return [
        name_of(rs),
        integer(spec.get("replicas"), 1),
        integer(status.get("replicas")),
        integer(status.get("readyReplicas")),
        age(rs, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


REPLICA_SET = Printer(
    (
        NAME,
        column("Desired", "integer", doc(_EXT + "ReplicaSetSpec.replicas")),
        column("Current", "integer", doc(_EXT + "ReplicaSetStatus.replicas")),
        column("Ready", "integer", doc(_EXT + "ReplicaSetStatus.readyReplicas")),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", "string", doc(_EXT + "ReplicaSetSpec.selector"), priority=1),
    ),
    replica_set_cells,
)


def stateful_set_cells(sts: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec_status(sts)
    names, images = layout_container_cells(pod_template_containers(spec.get("template")))
    return [
        name_of(sts),
        f"{integer(status.get('readyReplicas'))}/{integer(spec.get('replicas'), 1)}",
        age(sts, now),
        names,
        images,
    ]


STATEFUL_SET = Printer(
    (
        NAME,
        column("Ready", "string", "Number of the pod with ready state"),
        AGE,
        CONTAINERS,
        IMAGES,
    ),
    stateful_set_cells,
)


def daemon_set_cells(ds: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec_status(ds)
    template_spec = mapping(mapping(spec.get("template")).get("spec"))
    names, images = layout_container_cells(template_spec.get("containers"))
    return [
        name_of(ds),
        integer(status.get("desiredNumberScheduled")),
        integer(status.get("currentNumberScheduled")),
        integer(status.get("numberReady")),
        integer(status.get("updatedNumberScheduled")),
        integer(status.get("numberAvailable")),
        format_labels(template_spec.get("nodeSelector")),
        age(ds, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


DAEMON_SET = Printer(
    (
        NAME,
        column("Desired", "integer", doc(_EXT + "DaemonSetStatus.desiredNumberScheduled")),
        column("Current", "integer", doc(_EXT + "DaemonSetStatus.currentNumberScheduled")),
        column("Ready", "integer", doc(_EXT + "DaemonSetStatus.numberReady")),
        column("Up-to-date", "integer", doc(_EXT + "DaemonSetStatus.updatedNumberScheduled")),
        column("Available", "integer", doc(_EXT + "DaemonSetStatus.numberAvailable")),
        column("Node Selector", "string", doc("PodSpec.nodeSelector")),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", "string", doc(_EXT + "DaemonSetSpec.selector"), priority=1),
    ),
    daemon_set_cells,
)


def controller_name(obj: Mapping[str, Any]) -> str:
    """The owning controller as `kind.group/name` (`formatResourceName`), or "<none>"."""
    for ref in seq(meta(obj).get("ownerReferences")):
        ref = mapping(ref)
        if ref.get("controller") is not True:
            continue
        api_version = text(ref.get("apiVersion"))
        if api_version.count("/") > 1:
            raise TableConversionError(f"unexpected GroupVersion string: {api_version}")
        group = api_version.partition("/")[0] if "/" in api_version else ""
        kind, name = text(ref.get("kind")), text(ref.get("name"))
        if not group and not kind:
            return name
        group_kind = f"{kind}.{group}" if group else kind
        return f"{group_kind.lower()}/{name}"
    return "<none>"


CONTROLLER_REVISION = Printer(
    (
        NAME,
        column("Controller", "string", "Controller of the object"),
        column("Revision", "string", doc("ControllerRevision.revision")),
        AGE,
    ),
    lambda cr, now: [name_of(cr), controller_name(cr), integer(cr.get("revision")), age(cr, now)],
)

PRINTERS = {
    ("apps", "deployments"): DEPLOYMENT,
    ("apps", "replicasets"): REPLICA_SET,
    ("apps", "statefulsets"): STATEFUL_SET,
    ("apps", "daemonsets"): DAEMON_SET,
    ("apps", "controllerrevisions"): CONTROLLER_REVISION,
}
