"""Instance types: EKS max pods and the EKS AMI's reservations, against published figures."""

from __future__ import annotations

import pytest

from openeks.kube.node.instancetypes import (
    INSTANCE_TYPES,
    cpu_reserved_millis,
    lookup,
    memory_reserved_mib,
    node_resources,
)

# From awslabs/amazon-eks-ami files/eni-max-pods.txt.
ENI_MAX_PODS = {
    "t3.nano": 4,
    "t3.micro": 4,
    "t3.small": 11,
    "t3.medium": 17,
    "t3.large": 35,
    "t3.xlarge": 58,
    "t3.2xlarge": 58,
    "t3a.small": 8,
    "m5.large": 29,
    "m5.xlarge": 58,
    "m5.2xlarge": 58,
    "m5.4xlarge": 234,
    "m5.8xlarge": 234,
    "m5.12xlarge": 234,
    "m5.16xlarge": 737,
    "m5.24xlarge": 737,
    "m6i.large": 29,
    "m6i.32xlarge": 737,
    "c5.large": 29,
    "c5.9xlarge": 234,
    "c5.18xlarge": 737,
    "c6i.large": 29,
    "c6i.32xlarge": 737,
    "r5.large": 29,
    "r5.4xlarge": 234,
    "r5.24xlarge": 737,
    "r6i.16xlarge": 737,
}


def test_the_table_covers_at_least_thirty_common_types() -> None:
    assert len(INSTANCE_TYPES) >= 30
    for family in ("t3", "m5", "m6i", "c5", "r5"):
        assert f"{family}.large" in INSTANCE_TYPES


@pytest.mark.parametrize(("name", "max_pods"), sorted(ENI_MAX_PODS.items()))
def test_max_pods_match_the_eks_eni_table(name: str, max_pods: int) -> None:
    assert lookup(name).max_pods == max_pods


@pytest.mark.parametrize(
    ("vcpus", "millis"),
    [(1, 60), (2, 70), (4, 80), (8, 90), (16, 110), (48, 190), (96, 310)],
)
def test_cpu_reservation_follows_the_tiers(vcpus: int, millis: int) -> None:
    assert cpu_reserved_millis(vcpus) == millis


def test_memory_reservation_is_255_mib_plus_11_per_pod() -> None:
    assert memory_reserved_mib(29) == 574
    assert memory_reserved_mib(110) == 1465


def test_m5_large_capacity_and_allocatable() -> None:
    res = node_resources(lookup("m5.large"))
    assert res.capacity == {
        "cpu": "2",
        "ephemeral-storage": "20959212Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": "8388608Ki",
        "pods": "29",
    }
    assert res.allocatable["cpu"] == "1930m"
    # 8 GiB - (574 Mi kube-reserved + 100 Mi eviction threshold)
    assert res.allocatable["memory"] == f"{8388608 - 674 * 1024}Ki"
    # what a 20 GiB EKS root volume reports: capacity - 1 Gi - 10 % (float32, as kubelet)
    assert res.allocatable["ephemeral-storage"] == "18242267924"
    assert res.allocatable["pods"] == "29"


def test_a_max_pods_override_changes_pods_but_not_the_reservation() -> None:
    res = node_resources(lookup("m5.large"), max_pods=110)
    assert res.capacity["pods"] == res.allocatable["pods"] == "110"
    assert res.allocatable["memory"] == f"{8388608 - 674 * 1024}Ki"


def test_an_unknown_type_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown instance type 'm99\.huge'"):
        lookup("m99.huge")
