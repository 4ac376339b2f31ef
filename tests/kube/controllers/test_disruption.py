"""The disruption controller computes PodDisruptionBudget status as upstream does."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from openeks.kube.client import Client
from openeks.kube.client.resources import DEPLOYMENTS, PDBS, PODS, REPLICASETS
from openeks.kube.controllers.common import pdb as pdbmath
from tests.kube.controllers.lifecycle_support import (  # noqa: F401
    FakeKubelet,
    api_fixture,
    client_fixture,
    controllers,
    eventually,
    kubectl_fixture,
    new_namespace,
    pod_manifest,
)
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl

Obj = dict[str, Any]
NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("spec", "expected", "desired"),
    [
        ({"minAvailable": 2}, 5, 2),
        ({"minAvailable": "50%"}, 5, 3),
        ({"maxUnavailable": 1}, 5, 4),
        ({"maxUnavailable": "30%"}, 5, 3),
        ({"maxUnavailable": "100%"}, 5, 0),
        ({"maxUnavailable": 7}, 5, 0),
    ],
)
def test_desired_healthy_rounds_percentages_up(spec: Obj, expected: int, desired: int) -> None:
    assert pdbmath.desired_healthy(spec, expected) == desired


def test_a_budget_with_spare_pods_allows_disruptions() -> None:
    pdb = {"metadata": {"generation": 2}, "status": {}}
    status = pdbmath.build_status(pdb, pdbmath.Counts(3, 2, 3), NOW)
    assert status is not None
    assert status["disruptionsAllowed"] == 1 and status["observedGeneration"] == 2
    (cond,) = status["conditions"]
    assert (cond["type"], cond["status"], cond["reason"]) == (
        "DisruptionAllowed",
        "True",
        "SufficientPods",
    )
    assert pdbmath.build_status({**pdb, "status": status}, pdbmath.Counts(3, 2, 3), NOW) is None
    worse = pdbmath.build_status({**pdb, "status": status}, pdbmath.Counts(2, 2, 3), NOW)
    assert worse is not None and worse["conditions"][0]["reason"] == "InsufficientPods"


def test_a_bad_percentage_is_an_error() -> None:
    with pytest.raises(pdbmath.PdbError):
        pdbmath.desired_healthy({"maxUnavailable": "half"}, 4)


def _owner(obj: Obj, kind: str, api_version: str = "apps/v1") -> Obj:
    m = obj["metadata"]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": m["name"],
        "uid": m["uid"],
        "controller": True,
    }


def _replicaset(name: str, replicas: int, owner: Obj | None = None) -> Obj:
    m: Obj = {"name": name, "labels": {"app": "db"}}
    if owner:
        m["ownerReferences"] = [owner]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": m,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


async def _status(client: Client, ns: str, name: str, **want: int) -> Obj | None:
    status: Obj = (await client.get(PDBS, name, ns)).get("status") or {}
    return status if all(status.get(k) == v for k, v in want.items()) else None


async def test_budgets_count_pods_and_their_controllers_scale(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    deployment = await client.create(
        DEPLOYMENTS,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "db"},
            "spec": {
                "replicas": 4,
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        },
        ns,
    )
    rs = await client.create(
        REPLICASETS, _replicaset("db-1", 3, _owner(deployment, "Deployment")), ns
    )
    for i in range(3):
        pod = pod_manifest(f"db-{i}", ns, {"app": "db"})
        pod["metadata"]["ownerReferences"] = [_owner(rs, "ReplicaSet")]
        await client.create(PODS, pod, ns)
    await client.create(
        PDBS,
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "min2"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
        },
        ns,
    )
    await client.create(
        PDBS,
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "max25"},
            "spec": {"maxUnavailable": "25%", "selector": {"matchLabels": {"app": "db"}}},
        },
        ns,
    )
    async with FakeKubelet(client, "pdb-node"), controllers(api, "disruption"):
        status = await eventually(lambda: _status(client, ns, "min2", currentHealthy=3))
        assert (status["desiredHealthy"], status["expectedPods"], status["disruptionsAllowed"]) == (
            2,
            3,
            1,
        )
        assert status["observedGeneration"] == 1
        assert status["conditions"][0]["reason"] == "SufficientPods"
        # maxUnavailable: expected pods = the Deployment's 4 replicas; 25% of 4 = 1 → 3 must stay.
        status = await eventually(lambda: _status(client, ns, "max25", currentHealthy=3))
        assert (status["desiredHealthy"], status["expectedPods"], status["disruptionsAllowed"]) == (
            3,
            4,
            0,
        )
        assert status["conditions"][0]["reason"] == "InsufficientPods"
        out = kubectl("get", "pdb", "min2", "-n", ns)
        assert "min2" in out and "1" in out.splitlines()[1]


async def test_percentages_need_controllers(api: ApiServerProcess, client: Client) -> None:
    ns = await new_namespace(client)
    await client.create(PODS, pod_manifest("lonely", ns, {"app": "lonely"}), ns)
    await client.create(
        PDBS,
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "pct"},
            "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "lonely"}}},
        },
        ns,
    )
    async with controllers(api, "disruption"):
        status = await eventually(lambda: _status(client, ns, "pct", expectedPods=0))
        assert status["disruptionsAllowed"] == 0
