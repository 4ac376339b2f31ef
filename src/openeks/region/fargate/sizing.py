"""How much capacity Fargate gives a pod, as EKS computes it ("Fargate Pod configuration
details" in the EKS user guide).

1. The init request is the largest request of any init container; the long-running
   request is the sum of the app containers' requests; the pod needs the larger of the
   two, for CPU and memory separately. (Restartable init containers, the native sidecars,
   run alongside the app containers, so they count with them and with every init
   container started after them, as Kubernetes counts a pod's effective request.)
2. A container without a request but with a limit requests its limit, as the API server
   defaults it.
3. Fargate adds 256 MiB of memory for the Kubernetes components (kubelet, kube-proxy,
   containerd).
4. The result is rounded up to the first of Fargate's vCPU/memory combinations, smallest
   vCPU first, that covers both: 0.25 vCPU with 0.5, 1 or 2 GB; 0.5 vCPU with 1 to 4 GB;
   1 vCPU with 2 to 8 GB; 2 vCPU with 4 to 16 GB and 4 vCPU with 8 to 30 GB in 1 GB steps;
   8 vCPU with 16 to 60 GB in 4 GB steps; 16 vCPU with 32 to 120 GB in 8 GB steps. So 1 vCPU
   and 8 GiB asks for 8.25 GB and gets "2vCPU 9GB". A pod with no requests gets the
   smallest, "0.25vCPU 0.5GB". Fargate's GB are GiB.

The chosen size is written to the pod's `CapacityProvisioned` annotation exactly as EKS
writes it ("0.25vCPU 0.5GB", "2vCPU 9GB") and enforced as the pod's limits. A pod that
needs more than 16 vCPU or 120 GB is not scheduled: its PodScheduled condition says
`POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from openeks.kube.api.validation.quantity import parse

Pod = Mapping[str, Any]
Container = Mapping[str, Any]

MIB = 2**20
GIB = 2**30
OVERHEAD_MEMORY = 256 * MIB
CAPACITY_ANNOTATION = "CapacityProvisioned"
TOO_BIG_REASON = "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE"
TOO_BIG_MESSAGE = "Your pod's cpu/memory requirements exceed the max Fargate configuration"


def _number(value: Fraction) -> str:
    return f"{float(value):g}"


@dataclass(frozen=True, order=True)
class FargateSize:
    """One of Fargate's vCPU/memory combinations (memory in GB, which are GiB)."""

    vcpu: Fraction
    memory_gb: Fraction

    def annotation(self) -> str:
        """The `CapacityProvisioned` annotation's value, as EKS writes it."""
        return f"{_number(self.vcpu)}vCPU {_number(self.memory_gb)}GB"

    @property
    def cpu_quantity(self) -> str:
        millis = int(self.vcpu * 1000)
        return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"

    @property
    def memory_quantity(self) -> str:
        mebibytes = int(self.memory_gb * 1024)
        return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"

    def limits(self) -> dict[str, str]:
        """The container resource limits that enforce this size."""
        return {"cpu": self.cpu_quantity, "memory": self.memory_quantity}


def _combinations() -> tuple[FargateSize, ...]:
    memories: dict[Fraction, Iterable[Fraction]] = {
        Fraction(1, 4): (Fraction(1, 2), Fraction(1), Fraction(2)),
        Fraction(1, 2): (Fraction(gb) for gb in range(1, 5)),
        Fraction(1): (Fraction(gb) for gb in range(2, 9)),
        Fraction(2): (Fraction(gb) for gb in range(4, 17)),
        Fraction(4): (Fraction(gb) for gb in range(8, 31)),
        Fraction(8): (Fraction(gb) for gb in range(16, 61, 4)),
        Fraction(16): (Fraction(gb) for gb in range(32, 121, 8)),
    }
    return tuple(FargateSize(vcpu, gb) for vcpu, gbs in memories.items() for gb in gbs)


COMBINATIONS = _combinations()
SMALLEST = COMBINATIONS[0]


@dataclass(frozen=True)
class PodRequest:
    """What a pod asks Fargate for: CPU in cores, memory in bytes (overhead included)."""

    cpu: Fraction
    memory: Fraction


def _amount(text: Any) -> Fraction:
    try:
        return parse(text).value
    except ValueError:
        return Fraction(0)


def container_request(container: Container, resource: str) -> Fraction:
    """The container's request for `resource`, or its limit when it has no request."""
    resources = container.get("resources") or {}
    for kind in ("requests", "limits"):
        value = (resources.get(kind) or {}).get(resource)
        if value is not None:
            return _amount(value)
    return Fraction(0)


def _effective(spec: Mapping[str, Any], resource: str) -> Fraction:
    sidecars = Fraction(0)
    init_peak = Fraction(0)
    for container in spec.get("initContainers") or ():
        request = container_request(container, resource)
        if container.get("restartPolicy") == "Always":
            sidecars += request
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, sidecars + request)
    apps = sum((container_request(c, resource) for c in spec.get("containers") or ()), Fraction(0))
    return max(init_peak, apps + sidecars)


def pod_request(pod: Pod) -> PodRequest:
    """The pod's CPU and memory need, with Fargate's 256 MiB added to the memory."""
    spec = pod.get("spec") or {}
    return PodRequest(_effective(spec, "cpu"), _effective(spec, "memory") + OVERHEAD_MEMORY)


def fit(request: PodRequest) -> FargateSize | None:
    """The smallest combination that covers `request`, or None if none does."""
    for size in COMBINATIONS:
        if size.vcpu >= request.cpu and size.memory_gb * GIB >= request.memory:
            return size
    return None


@dataclass(frozen=True)
class Sizing:
    """A pod's Fargate size, or why it has none."""

    request: PodRequest
    size: FargateSize | None

    @property
    def fits(self) -> bool:
        return self.size is not None

    @property
    def reason(self) -> str | None:
        return None if self.fits else TOO_BIG_REASON

    @property
    def message(self) -> str | None:
        return None if self.fits else TOO_BIG_MESSAGE


def size_pod(pod: Pod) -> Sizing:
    request = pod_request(pod)
    return Sizing(request, fit(request))


def provisioned(pod: Pod) -> FargateSize | None:
    """The size recorded in a pod's `CapacityProvisioned` annotation, if any."""
    text = ((pod.get("metadata") or {}).get("annotations") or {}).get(CAPACITY_ANNOTATION)
    if not text:
        return None
    return parse_annotation(str(text))


def parse_annotation(text: str) -> FargateSize | None:
    """ "0.25vCPU 0.5GB" → FargateSize(1/4, 1/2); None if it is not in that form."""
    parts = text.split()
    if len(parts) != 2 or not parts[0].endswith("vCPU") or not parts[1].endswith("GB"):
        return None
    try:
        return FargateSize(Fraction(parts[0][:-4]), Fraction(parts[1][:-2]))
    except ValueError:
        return None
