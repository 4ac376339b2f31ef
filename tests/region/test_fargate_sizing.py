"""A pod's Fargate size, table-driven from the EKS user guide's rules and examples: the
larger of the biggest init container and the sum of the app containers, plus 256 MiB,
rounded up to the next vCPU/memory combination, written as EKS writes
`CapacityProvisioned`."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from openeks.region.fargate.sizing import (
    CAPACITY_ANNOTATION,
    COMBINATIONS,
    TOO_BIG_MESSAGE,
    TOO_BIG_REASON,
    FargateSize,
    fit,
    parse_annotation,
    pod_request,
    provisioned,
    size_pod,
)


def container(cpu: str | None = None, memory: str | None = None, **extra: Any) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return {"name": "c", "resources": {"requests": requests}, **extra}


def pod(*containers: dict[str, Any], init: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {
        "metadata": {"name": "p"},
        "spec": {"containers": list(containers), "initContainers": list(init)},
    }


@pytest.mark.parametrize(
    ("spec", "annotation"),
    [
        # No requests: the smallest combination.
        (pod({"name": "c"}), "0.25vCPU 0.5GB"),
        # The user guide: 1 vCPU and 8 GB + 256 MB has no 1 vCPU match.
        (pod(container("1", "8Gi")), "2vCPU 9GB"),
        # 0.5 vCPU and 750M + 256 MiB fits 1 GB.
        (pod(container("500m", "750M")), "0.5vCPU 1GB"),
        (pod(container("250m", "256Mi")), "0.25vCPU 0.5GB"),
        (pod(container("250m", "257Mi")), "0.25vCPU 1GB"),
        (pod(container("250m", "1792Mi")), "0.25vCPU 2GB"),
        (pod(container("250m", "1793Mi")), "0.5vCPU 3GB"),
        (pod(container("1500m", "1Gi")), "2vCPU 4GB"),
        (pod(container("2", "16Gi")), "4vCPU 17GB"),
        (pod(container("4", "30Gi")), "8vCPU 32GB"),
        (pod(container("8", "60Gi")), "16vCPU 64GB"),
        (pod(container("16", "119Gi")), "16vCPU 120GB"),
        # App containers add up; the biggest init container counts alone.
        (pod(container("500m"), container("500m"), container("500m")), "2vCPU 4GB"),
        (pod(container("500m", "1Gi"), init=(container("1", "512Mi"),)), "1vCPU 2GB"),
        (pod(container("250m"), init=(container("2"), container("1"))), "2vCPU 4GB"),
        (pod(container("250m", "3Gi"), init=(container("1", "1Gi"),)), "1vCPU 4GB"),
        # A limit without a request is the request, as the API server defaults it.
        (pod({"name": "c", "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}}), "1vCPU 3GB"),
        # Native sidecars run with the app containers.
        (
            pod(container("500m"), init=(container("500m", restartPolicy="Always"),)),
            "1vCPU 2GB",
        ),
    ],
)
def test_pods_get_the_next_valid_combination(spec: dict[str, Any], annotation: str) -> None:
    sizing = size_pod(spec)
    assert sizing.fits and sizing.size is not None
    assert sizing.size.annotation() == annotation
    assert sizing.reason is None and sizing.message is None


@pytest.mark.parametrize(
    "spec",
    [pod(container("16", "120Gi")), pod(container("17")), pod(init=(container("1", "200Gi"),))],
)
def test_pods_beyond_16_vcpu_or_120_gb_do_not_fit(spec: dict[str, Any]) -> None:
    sizing = size_pod(spec)
    assert sizing.size is None and not sizing.fits
    assert sizing.reason == TOO_BIG_REASON == "POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE"
    assert sizing.message == TOO_BIG_MESSAGE


def test_the_request_adds_256_mib_to_the_memory() -> None:
    request = pod_request(pod(container("250m", "1Gi")))
    assert request.cpu == Fraction(1, 4)
    assert request.memory == 1024 * 2**20 + 256 * 2**20


def test_the_combinations_are_those_fargate_offers() -> None:
    by_vcpu: dict[str, list[str]] = {}
    for size in COMBINATIONS:
        vcpu, memory = size.annotation().split()
        by_vcpu.setdefault(vcpu, []).append(memory.removesuffix("GB"))
    assert by_vcpu["0.25vCPU"] == ["0.5", "1", "2"]
    assert by_vcpu["0.5vCPU"] == ["1", "2", "3", "4"]
    assert by_vcpu["1vCPU"] == [str(gb) for gb in range(2, 9)]
    assert by_vcpu["2vCPU"] == [str(gb) for gb in range(4, 17)]
    assert by_vcpu["4vCPU"] == [str(gb) for gb in range(8, 31)]
    assert by_vcpu["8vCPU"] == [str(gb) for gb in range(16, 61, 4)]
    assert by_vcpu["16vCPU"] == [str(gb) for gb in range(32, 121, 8)]
    assert list(COMBINATIONS) == sorted(COMBINATIONS)


def test_sizes_become_limits_and_annotations_read_back() -> None:
    small = FargateSize(Fraction(1, 4), Fraction(1, 2))
    assert small.limits() == {"cpu": "250m", "memory": "512Mi"}
    assert FargateSize(Fraction(2), Fraction(9)).limits() == {"cpu": "2", "memory": "9Gi"}
    assert parse_annotation("2vCPU 9GB") == FargateSize(Fraction(2), Fraction(9))
    assert parse_annotation("0.25vCPU 0.5GB") == small
    assert parse_annotation("2 vCPU") is None and parse_annotation("xvCPU 1GB") is None
    annotated = {"metadata": {"annotations": {CAPACITY_ANNOTATION: "0.5vCPU 1GB"}}}
    assert provisioned(annotated) == FargateSize(Fraction(1, 2), Fraction(1))
    assert provisioned({"metadata": {}}) is None


def test_fit_takes_the_smallest_vcpu_first() -> None:
    from openeks.region.fargate.sizing import PodRequest

    size = fit(PodRequest(Fraction(1, 4), Fraction(3 * 2**30)))
    assert size is not None and size.annotation() == "0.5vCPU 3GB"
