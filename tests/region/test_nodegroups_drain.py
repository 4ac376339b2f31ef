"""Draining a node: evictions through the API, PodDisruptionBudget refusals retried until
the drain timeout, then PodEvictionFailure, or deletion when forced."""

from __future__ import annotations

from typing import Any

import pytest

from openeks.kube.api.errors import ApiError
from openeks.region.nodegroups import drain as drain_module
from openeks.region.nodegroups.drain import PodEvictionFailure, drain


def pod(name: str, owner: str = "ReplicaSet", phase: str = "Running") -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "apps",
            "ownerReferences": [{"kind": owner, "name": "x", "uid": "u"}],
        },
        "status": {"phase": phase},
    }


BUDGET = "Cannot evict pod as it would violate the pod's disruption budget."


class FakeClient:
    """Pods on one node; evictions refused (429) while `blocked` names the pod."""

    def __init__(self, pods: list[dict[str, Any]], blocked: set[str]) -> None:
        self.pods = {p["metadata"]["name"]: p for p in pods}
        self.blocked = blocked
        self.cordoned = False
        self.evicted: list[str] = []
        self.deleted: list[str] = []

    async def patch(self, res: Any, name: str, patch: Any, *args: Any, **kw: Any) -> Any:
        self.cordoned = patch == {"spec": {"unschedulable": True}}

    async def list(self, res: Any, *args: Any, **kw: Any) -> Any:
        return {"items": list(self.pods.values())}

    async def create(self, res: Any, body: Any, ns: str, *, subresource: str, name: str) -> Any:
        assert subresource == "eviction"
        if name in self.blocked:
            raise ApiError(BUDGET, code=429, reason="TooManyRequests")
        self.evicted.append(name)
        del self.pods[name]

    async def delete(self, res: Any, name: str, ns: str, **kw: Any) -> Any:
        self.deleted.append(name)
        del self.pods[name]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drain_module, "RETRY", 0.01)


async def test_a_drain_cordons_and_evicts_all_but_daemonset_and_finished_pods() -> None:
    pods = [pod("a"), pod("b"), pod("ds", "DaemonSet"), pod("done", phase="Succeeded")]
    client = FakeClient(pods, set())
    await drain(client, "n1", timeout=1)  # type: ignore[arg-type]
    assert client.cordoned
    assert sorted(client.evicted) == ["a", "b"]
    assert sorted(client.pods) == ["done", "ds"]


async def test_a_budget_that_never_allows_it_is_a_pod_eviction_failure() -> None:
    client = FakeClient([pod("a"), pod("guarded")], {"guarded"})
    with pytest.raises(PodEvictionFailure, match="guarded"):
        await drain(client, "n1", timeout=0.05)  # type: ignore[arg-type]
    assert client.evicted == ["a"] and "guarded" in client.pods


async def test_force_deletes_what_could_not_be_evicted() -> None:
    client = FakeClient([pod("guarded")], {"guarded"})
    await drain(client, "n1", timeout=0.05, force=True)  # type: ignore[arg-type]
    assert client.deleted == ["guarded"] and not client.pods
