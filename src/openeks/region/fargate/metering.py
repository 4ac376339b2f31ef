"""Fargate usage and what it costs: vCPU-seconds and GB-seconds per pod and per namespace.

The region's Fargate scheduler records one usage document per pod it runs,
`fargateusage/<cluster>/<pod uid>`:

    {"namespace": "serverless", "pod": "web-7d4b9-x2x5q",
     "start": "2025-01-01T10:00:00+00:00", "end": null,   # null while running
     "vcpu": 0.25, "memoryGb": 0.5}                       # the CapacityProvisioned size

Fargate bills per second, from the moment the pod's image starts downloading until the
pod stops, with a one-minute minimum, for the provisioned vCPU and memory (not what the
containers use). A pod's duration is rounded up to the whole second, then to at least 60
seconds; a running pod is counted until `now`. Prices are AWS's published on-demand
rates for Linux/x86 in us-east-1: $0.04048 per vCPU-hour and $0.004445 per GB-hour.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

USAGE_KIND = "fargateusage"
MINIMUM_SECONDS = 60


@dataclass(frozen=True)
class Rates:
    """Prices in USD."""

    vcpu_hour: float = 0.04048
    """Per vCPU per hour (us-east-1, Linux/x86)."""
    gb_hour: float = 0.004445
    """Per GB of memory per hour (us-east-1, Linux/x86)."""


US_EAST_1 = Rates()


@dataclass(frozen=True)
class Usage:
    """One pod's Fargate run."""

    namespace: str
    pod: str
    start: datetime.datetime
    end: datetime.datetime | None
    vcpu: float
    memory_gb: float


def _moment(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def from_document(doc: Mapping[str, Any]) -> Usage:
    """A usage document (`fargateusage/<cluster>/<pod uid>`) as a `Usage`."""
    end = doc.get("end")
    return Usage(
        namespace=str(doc["namespace"]),
        pod=str(doc.get("pod") or ""),
        start=_moment(str(doc["start"])),
        end=_moment(str(end)) if end else None,
        vcpu=float(doc["vcpu"]),
        memory_gb=float(doc["memoryGb"]),
    )


def billed_seconds(usage: Usage, now: datetime.datetime) -> int:
    """Whole seconds billed: the run rounded up to the second, at least one minute."""
    end = usage.end or now
    elapsed = max((end - usage.start).total_seconds(), 0.0)
    return max(math.ceil(elapsed), MINIMUM_SECONDS)


def cost(vcpu_seconds: float, gb_seconds: float, rates: Rates = US_EAST_1) -> float:
    """USD for that much usage."""
    return (vcpu_seconds * rates.vcpu_hour + gb_seconds * rates.gb_hour) / 3600


@dataclass(frozen=True)
class NamespaceUsage:
    """Usage totals of one namespace (or of everything, for the total line)."""

    namespace: str
    pods: int
    running: int
    vcpu_seconds: float
    gb_seconds: float
    cost: float


def _total(
    namespace: str, runs: list[Usage], now: datetime.datetime, rates: Rates
) -> NamespaceUsage:
    seconds = [billed_seconds(run, now) for run in runs]
    vcpu_seconds = sum(run.vcpu * s for run, s in zip(runs, seconds, strict=True))
    gb_seconds = sum(run.memory_gb * s for run, s in zip(runs, seconds, strict=True))
    return NamespaceUsage(
        namespace=namespace,
        pods=len(runs),
        running=sum(1 for run in runs if run.end is None),
        vcpu_seconds=vcpu_seconds,
        gb_seconds=gb_seconds,
        cost=cost(vcpu_seconds, gb_seconds, rates),
    )


def by_namespace(
    usages: Iterable[Usage], now: datetime.datetime, rates: Rates = US_EAST_1
) -> list[NamespaceUsage]:
    """Totals per namespace, in namespace order."""
    groups: dict[str, list[Usage]] = {}
    for usage in usages:
        groups.setdefault(usage.namespace, []).append(usage)
    return [_total(ns, groups[ns], now, rates) for ns in sorted(groups)]


def overall(rows: Iterable[NamespaceUsage]) -> NamespaceUsage:
    """The sum of per-namespace totals (namespace "total")."""
    rows = list(rows)
    return NamespaceUsage(
        namespace="total",
        pods=sum(r.pods for r in rows),
        running=sum(r.running for r in rows),
        vcpu_seconds=sum(r.vcpu_seconds for r in rows),
        gb_seconds=sum(r.gb_seconds for r in rows),
        cost=sum(r.cost for r in rows),
    )


def usage_document(
    namespace: str, pod: str, start: datetime.datetime, vcpu: float, memory_gb: float
) -> dict[str, Any]:
    """The usage document of a pod that started running at `start`."""
    return {
        "namespace": namespace,
        "pod": pod,
        "start": start.isoformat(),
        "end": None,
        "vcpu": vcpu,
        "memoryGb": memory_gb,
    }


def finished(doc: Mapping[str, Any], end: datetime.datetime) -> dict[str, Any]:
    """`doc` with the pod's end recorded (kept if it was already)."""
    result = dict(doc)
    result["end"] = result.get("end") or end.isoformat()
    return result
