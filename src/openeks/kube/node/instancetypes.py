"""EC2 instance types and the Node capacity an EKS worker of each type reports.

The table holds AWS's published figures per type: vCPUs, memory (GiB), network
interfaces and IPv4 addresses per interface. From them, as the EKS AMI's bootstrap does:

- max pods = ENIs x (IPv4 per ENI - 1) + 2 (`eni-max-pods.txt`: the first address of
  each ENI is the node's, +2 for the host-network aws-node and kube-proxy pods);
- kube-reserved cpu = 6 % of the first core, 1 % of the second, 0.5 % of cores 3-4,
  0.25 % of every core above 4 (`get_cpu_millicores_to_reserve`);
- kube-reserved memory = 255 Mi + 11 Mi x max pods; ephemeral-storage 1 Gi;
- eviction thresholds memory.available < 100 Mi and nodefs.available < 10 %;
- allocatable = capacity - kube-reserved - eviction threshold, as kubelet computes it.

Memory capacity is the nominal size (a real instance reports its MemTotal, a few
percent less); ephemeral storage is the 20 GiB root volume EKS node groups default to,
as the filesystem reports it.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

GIB_IN_KIB = 1024 * 1024
MIB = 1024 * 1024
ROOT_VOLUME_KIB = 20959212
"""A 20 GiB gp3 root volume's xfs filesystem size, as a fresh EKS node reports it."""
EVICTION_MEMORY_MIB = 100
EVICTION_NODEFS_FRACTION = struct.unpack("f", struct.pack("f", 0.1))[0]
"""kubelet keeps the 10 % threshold as a float32, and so rounds with its error."""
KUBE_RESERVED_EPHEMERAL_BYTES = 1024 * MIB


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: float
    enis: int
    ipv4_per_eni: int
    architecture: str = "amd64"

    @property
    def max_pods(self) -> int:
        return self.enis * (self.ipv4_per_eni - 1) + 2


Size = tuple[str, int, float, int, int]


def _family(prefix: str, sizes: Sequence[Size], arch: str = "amd64") -> list[InstanceType]:
    return [InstanceType(f"{prefix}.{s}", c, m, e, i, arch) for s, c, m, e, i in sizes]


# (size, vCPUs, GiB, ENIs, IPv4 per ENI) — the EC2 User Guide's "IP addresses per ENI".
_M5: list[Size] = [
    ("large", 2, 8, 3, 10),
    ("xlarge", 4, 16, 4, 15),
    ("2xlarge", 8, 32, 4, 15),
    ("4xlarge", 16, 64, 8, 30),
    ("8xlarge", 32, 128, 8, 30),
    ("12xlarge", 48, 192, 8, 30),
    ("16xlarge", 64, 256, 15, 50),
    ("24xlarge", 96, 384, 15, 50),
]
_C5: list[Size] = [
    ("large", 2, 4, 3, 10),
    ("xlarge", 4, 8, 4, 15),
    ("2xlarge", 8, 16, 4, 15),
    ("4xlarge", 16, 32, 8, 30),
    ("9xlarge", 36, 72, 8, 30),
    ("12xlarge", 48, 96, 8, 30),
    ("18xlarge", 72, 144, 15, 50),
    ("24xlarge", 96, 192, 15, 50),
]
_C6I: list[Size] = [
    ("large", 2, 4, 3, 10),
    ("xlarge", 4, 8, 4, 15),
    ("2xlarge", 8, 16, 4, 15),
    ("4xlarge", 16, 32, 8, 30),
    ("8xlarge", 32, 64, 8, 30),
    ("12xlarge", 48, 96, 8, 30),
    ("16xlarge", 64, 128, 15, 50),
    ("24xlarge", 96, 192, 15, 50),
    ("32xlarge", 128, 256, 15, 50),
]
_R5: list[Size] = [(s, c, m * 2, e, i) for s, c, m, e, i in _M5]
_M6I: list[Size] = [*_M5[:3], ("4xlarge", 16, 64, 8, 30), ("8xlarge", 32, 128, 8, 30)]
_M6I += [("12xlarge", 48, 192, 8, 30), ("16xlarge", 64, 256, 15, 50)]
_M6I += [("24xlarge", 96, 384, 15, 50), ("32xlarge", 128, 512, 15, 50)]
_R6I: list[Size] = [(s, c, m * 2, e, i) for s, c, m, e, i in _M6I]
_T3: list[Size] = [
    ("nano", 2, 0.5, 2, 2),
    ("micro", 2, 1, 2, 2),
    ("small", 2, 2, 3, 4),
    ("medium", 2, 4, 3, 6),
    ("large", 2, 8, 3, 12),
    ("xlarge", 4, 16, 4, 15),
    ("2xlarge", 8, 32, 4, 15),
]
_T3A: list[Size] = [(s, c, m, 2 if s == "small" else e, i) for s, c, m, e, i in _T3]

INSTANCE_TYPES: dict[str, InstanceType] = {
    t.name: t
    for t in (
        _family("t3", _T3)
        + _family("t3a", _T3A)
        + _family("m5", _M5)
        + _family("m5a", _M5)
        + _family("m6i", _M6I)
        + _family("m6a", _M6I)
        + _family("m7i", _M6I)
        + _family("c5", _C5)
        + _family("c6i", _C6I)
        + _family("c7i", _C6I)
        + _family("r5", _R5)
        + _family("r6i", _R6I)
    )
}


def lookup(name: str) -> InstanceType:
    try:
        return INSTANCE_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(INSTANCE_TYPES))
        raise ValueError(f"unknown instance type {name!r}; known types: {known}") from None


# -- reservations (the EKS AMI bootstrap) --------------------------------------------------


def cpu_reserved_millis(vcpus: int) -> int:
    """get_cpu_millicores_to_reserve: tiered percentages of the node's millicores."""
    total = vcpus * 1000
    ranges = (0, 1000, 2000, 4000, total)
    hundredths_of_percent = (600, 100, 50, 25)
    reserved = 0
    for i, pct in enumerate(hundredths_of_percent):
        start, end = ranges[i], ranges[i + 1]
        if total > start:
            reserved += (min(total, end) - start) * pct // 100 // 100
    return reserved


def memory_reserved_mib(max_pods: int) -> int:
    """get_memory_mebibytes_to_reserve: 255 Mi + 11 Mi per pod."""
    return 11 * max_pods + 255


@dataclass(frozen=True)
class NodeResources:
    capacity: dict[str, str]
    allocatable: dict[str, str]


def node_resources(
    itype: InstanceType, max_pods: int | None = None, sized: dict[str, str] | None = None
) -> NodeResources:
    """Capacity and allocatable as a kubelet on the EKS AMI reports them; `sized` (cpu,
    memory) replaces the instance type's and is allocatable in full."""
    pods = itype.max_pods if max_pods is None else max_pods
    if sized:
        base = node_resources(itype, max_pods)
        return NodeResources({**base.capacity, **sized}, {**base.allocatable, **sized})
    memory_kib = int(itype.memory_gib * GIB_IN_KIB)
    storage_bytes = ROOT_VOLUME_KIB * 1024
    capacity = {
        "cpu": str(itype.vcpus),
        "ephemeral-storage": f"{ROOT_VOLUME_KIB}Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{memory_kib}Ki",
        "pods": str(pods),
    }
    # The reservation follows the ENI limit (the bootstrap's MAX_PODS), even when the
    # pod count is overridden, as the bootstrap does unless told otherwise.
    reserved_mib = memory_reserved_mib(itype.max_pods) + EVICTION_MEMORY_MIB
    eviction_storage = math.floor(storage_bytes * EVICTION_NODEFS_FRACTION)
    allocatable = {
        "cpu": f"{itype.vcpus * 1000 - cpu_reserved_millis(itype.vcpus)}m",
        "ephemeral-storage": str(storage_bytes - KUBE_RESERVED_EPHEMERAL_BYTES - eviction_storage),
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{memory_kib - reserved_mib * 1024}Ki",
        "pods": str(pods),
    }
    return NodeResources(capacity, allocatable)
