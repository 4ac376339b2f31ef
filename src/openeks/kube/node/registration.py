"""The Node object this agent registers and keeps: labels, spec, status (mostly pure).

Labels are what kubelet sets on an EKS worker (`kubernetes.io/hostname`, `/os`,
`/arch`, the `topology.kubernetes.io` zone and region, `node.kubernetes.io/instance-type`
and their deprecated `beta.` / `failure-domain.beta.` twins), `openeks.io/simulated=true`
on simulated nodes, then the configured ones. Capacity and allocatable come from the
instance type (`instancetypes`). Conditions are kubelet's four with its reasons and
messages; a condition's lastTransitionTime moves only when its status does.

`register` creates the Node, or — when it exists, after a restart — patches its labels
and status back to what this agent reports, as kubelet does. Taints are only set at
creation: after that they belong to the cluster's users and controllers.
"""

from __future__ import annotations

import hashlib
import os
import platform
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import NODES
from openeks.kube.client.rest import Client
from openeks.kube.node.config import NodeConfig
from openeks.kube.node.instancetypes import NodeResources

Obj = dict[str, Any]
SIMULATED_LABEL = "openeks.io/simulated"
CONDITIONS = (
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


@dataclass(frozen=True)
class HostInfo:
    machine_id: str
    system_uuid: str
    boot_id: str
    kernel_version: str
    os_image: str


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        key, _, value = line.partition("=")
        if key == "PRETTY_NAME":
            return value.strip().strip('"')
    return "Linux"


def host_info(node_name: str, simulated: bool) -> HostInfo:
    """Identity of the machine; simulated nodes get stable made-up ids from their name."""
    digest = hashlib.sha256(node_name.encode()).hexdigest()
    if simulated:
        machine_id, boot_id = digest[:32], str(uuid.uuid4())
    else:
        machine_id = _read("/etc/machine-id") or digest[:32]
        boot_id = _read("/proc/sys/kernel/random/boot_id") or str(uuid.uuid4())
    system_uuid = "ec2" + digest[3:8] + "-" + digest[8:12] + "-" + digest[12:16] + "-"
    system_uuid += digest[16:20] + "-" + digest[20:32]
    return HostInfo(machine_id, system_uuid, boot_id, platform.release(), _os_image())


def node_labels(config: NodeConfig, arch: str, simulated: bool) -> dict[str, str]:
    labels = {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/instance-type": config.instance_type,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": config.name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": config.instance_type,
    }
    if config.zone:
        labels["topology.kubernetes.io/zone"] = config.zone
        labels["failure-domain.beta.kubernetes.io/zone"] = config.zone
    region = config.resolved_region
    if region:
        labels["topology.kubernetes.io/region"] = region
        labels["failure-domain.beta.kubernetes.io/region"] = region
    if simulated:
        labels[SIMULATED_LABEL] = "true"
    labels.update(config.labels)
    return labels


def node_conditions(now: str, old: list[Obj] | None = None) -> list[Obj]:
    previous = {c.get("type"): c for c in old or ()}
    out = []
    for kind, status, reason, message in CONDITIONS:
        before = previous.get(kind) or {}
        changed = before.get("status") != status
        out.append(
            {
                "type": kind,
                "status": status,
                "lastHeartbeatTime": now,
                "lastTransitionTime": now if changed else before.get("lastTransitionTime", now),
                "reason": reason,
                "message": message,
            }
        )
    return out


@dataclass
class NodeFacts:
    """Everything the Node object is made of besides the config."""

    resources: NodeResources
    arch: str
    runtime_version: str
    kubelet_version: str
    port: int
    host: HostInfo
    simulated: bool


def node_status(config: NodeConfig, facts: NodeFacts, now: str, old: Obj | None = None) -> Obj:
    old = old or {}
    return {
        "capacity": dict(facts.resources.capacity),
        "allocatable": dict(facts.resources.allocatable),
        "conditions": node_conditions(now, old.get("conditions")),
        "addresses": [
            {"type": "InternalIP", "address": config.address},
            {"type": "Hostname", "address": config.name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": facts.port}},
        "nodeInfo": {
            "machineID": facts.host.machine_id,
            "systemUUID": facts.host.system_uuid,
            "bootID": facts.host.boot_id,
            "kernelVersion": facts.host.kernel_version,
            "osImage": facts.host.os_image,
            "containerRuntimeVersion": facts.runtime_version,
            "kubeletVersion": facts.kubelet_version,
            "operatingSystem": "linux",
            "architecture": facts.arch,
        },
    }


def node_object(config: NodeConfig, facts: NodeFacts) -> Obj:
    spec: Obj = {
        "providerID": config.provider_id or f"openeks:///{config.zone or 'local'}/{config.name}"
    }
    if config.pod_cidr:
        spec["podCIDR"] = config.pod_cidr
        spec["podCIDRs"] = [config.pod_cidr]
    if config.taints:
        spec["taints"] = [dict(t) for t in config.taints]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": config.name,
            "labels": node_labels(config, facts.arch, facts.simulated),
            "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": spec,
        "status": node_status(config, facts, meta.rfc3339(meta.now())),
    }


async def register(client: Client, node: Obj) -> Obj:
    """Create the Node, or bring an existing one (our restart) up to date."""
    try:
        created: Obj = await client.create(NODES, node)
        return created
    except ApiError as e:
        if e.code != 409:
            raise
    name = node["metadata"]["name"]
    existing = await client.get(NODES, name)
    patch: Obj = {"metadata": {"labels": node["metadata"]["labels"]}}
    missing = {k: v for k, v in node["spec"].items() if k in ("podCIDR", "podCIDRs", "providerID")}
    missing = {k: v for k, v in missing.items() if not (existing.get("spec") or {}).get(k)}
    if missing:
        patch["spec"] = missing
    await client.patch(NODES, name, patch)
    status = dict(node["status"])
    status["conditions"] = node_conditions(
        meta.rfc3339(meta.now()), (existing.get("status") or {}).get("conditions")
    )
    updated: Obj = await client.patch(NODES, name, {"status": status}, subresource="status")
    return updated


def architecture() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
