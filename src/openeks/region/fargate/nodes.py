"""Fargate's micro-VMs: one dedicated node per pod, sized to it, in the profile's subnets.

A Fargate node is a node agent run by the supervisor in its subnet's zone, registered as
`fargate-<EC2 host name of its address>` with the label
`eks.amazonaws.com/compute-type=fargate`, the taint of the same key (so nothing but its
own pod lands there: the scheduler binds the pod directly), room for exactly one pod,
and the pod's Fargate size as its capacity. What the region keeps of it is a
`fargatenodes/<cluster>/<pod uid>` document, so a restarted region finds its nodes.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from openeks.kube.apiserver.kubeconfig import issue_for
from openeks.region.fargate.selectors import PROFILE_LABEL
from openeks.region.fargate.sizing import FargateSize
from openeks.region.instances.agents import Agent
from openeks.region.state import RegionState
from openeks.region.vpc.documents import now_iso
from openeks.region.vpc.interfaces import private_dns_name
from openeks.region.vpc.ipam import allocate_block, allocate_ip, release
from openeks.region.zones import AddressAllocator

Doc = dict[str, Any]
KIND = "fargatenodes"
COMPUTE_TYPE = "eks.amazonaws.com/compute-type"
RUNTIME_TAG = "openeks.io/runtime"
KUBELET_PORT = 10250


def record_name(cluster: str, uid: str) -> str:
    return f"{cluster}/{uid}"


def process_name(cluster: str, uid: str) -> str:
    return f"fargate/{cluster}/{uid}"


def _owner(cluster: str, uid: str, part: str) -> str:
    return f"fargate/{cluster}/{uid}/{part}"


async def allocate(
    state: RegionState, region: str, cluster: str, pod: Doc, profile: Doc, size: FargateSize
) -> Doc:
    """Addresses for the pod's node in one of the profile's subnets; its record."""
    uid = pod["metadata"]["uid"]
    subnets = list(profile["subnets"])
    subnet_id = subnets[zlib.crc32(uid.encode()) % len(subnets)]
    subnet = await state.get("subnets", subnet_id)
    assert subnet is not None, subnet_id
    address = await allocate_ip(state, subnet_id, _owner(cluster, uid, "eni"))
    block = await allocate_block(state, subnet_id, 30, _owner(cluster, uid, "pods"))
    tags = profile.get("tags") or {}
    doc = {
        "cluster": cluster,
        "uid": uid,
        "namespace": pod["metadata"]["namespace"],
        "pod": pod["metadata"]["name"],
        "profile": profile["fargateProfileName"],
        "node": "fargate-" + private_dns_name(address, region),
        "address": address,
        "podBlock": block,
        "subnetId": subnet_id,
        "zone": subnet.value["AvailabilityZone"],
        "cpu": size.cpu_quantity,
        "memory": size.memory_quantity,
        "capacity": size.annotation(),
        "runtime": "simulated" if tags.get(RUNTIME_TAG) == "simulated" else "runc",
        "createdAt": now_iso(),
    }
    await state.put(KIND, record_name(cluster, uid), doc)
    return doc


async def free(state: RegionState, record: Doc) -> None:
    for part in ("eni", "pods"):
        await release(state, record["subnetId"], _owner(record["cluster"], record["uid"], part))


def agent(record: Doc, data_dir: Path, allocator: AddressAllocator) -> Agent:
    """The node agent of a Fargate node: one pod, sized, tainted, no service proxy."""
    cluster, uid = record["cluster"], record["uid"]
    folder = directory(record, data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    kubeconfig = folder / "kubeconfig"
    if not kubeconfig.exists():
        user = f"system:node:{record['node']}"
        issue_for(data_dir / "clusters" / cluster, user, ["system:nodes"], kubeconfig)
    name = process_name(cluster, uid)
    endpoint = allocator.endpoint(name, record["zone"], "kubelet", KUBELET_PORT)
    return Agent(
        directory=folder,
        name=record["node"],
        zone=record["zone"],
        instance_type="m5.large",
        runtime=record["runtime"],
        pod_cidr=record["podBlock"],
        address=endpoint.host,
        port=endpoint.port,
        max_pods=1,
        labels=((COMPUTE_TYPE, "fargate"), (PROFILE_LABEL, record["profile"])),
        taints=(f"{COMPUTE_TYPE}=fargate:NoSchedule",),
        extra=("--cpu", record["cpu"], "--memory", record["memory"], "--no-proxy"),
    )


def directory(record: Doc, data_dir: Path) -> Path:
    return data_dir / "fargate" / record["cluster"] / record["uid"]
