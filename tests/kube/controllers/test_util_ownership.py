"""Claiming objects: adopt matching orphans, release owned strays, leave others alone."""

from __future__ import annotations

from typing import Any

import pytest

from openeks.kube.api import labels
from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import PODS, REPLICASETS
from openeks.kube.controllers.util.ownership import (
    ControllerRefManager,
    controller_of,
    controller_ref,
    is_controlled_by,
)
from tests.kube.controllers.workloads_support import FakeClient

Obj = dict[str, Any]

OWNER: Obj = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "metadata": {"name": "web", "namespace": "ns", "uid": "owner"},
}


def pod(name: str, app: str = "web", owner: str | None = None, **meta: Any) -> Obj:
    refs = [{"kind": "ReplicaSet", "name": "x", "uid": owner, "controller": True}] if owner else []
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "labels": {"app": app},
            "ownerReferences": refs,
            **meta,
        },
    }


def manager(client: FakeClient, owner: Obj = OWNER) -> ControllerRefManager:
    return ControllerRefManager(
        client,  # type: ignore[arg-type]
        PODS,
        owner,
        REPLICASETS,
        controller_ref(owner, "apps/v1", "ReplicaSet"),
        labels.parse("app=web"),
    )


def test_a_controller_ref_is_a_blocking_controller_reference() -> None:
    ref = controller_ref(OWNER, "apps/v1", "ReplicaSet")
    assert ref == {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "web",
        "uid": "owner",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert is_controlled_by({"metadata": {"ownerReferences": [ref]}}, OWNER)
    assert controller_of({"metadata": {"ownerReferences": [{**ref, "controller": False}]}}) is None


async def test_claim_keeps_adopts_releases_and_ignores() -> None:
    objects = [
        pod("mine", owner="owner"),
        pod("orphan"),
        pod("stray", app="db", owner="owner"),
        pod("theirs", owner="someone-else"),
        pod("dying", deletionTimestamp="2020-01-01T00:00:00Z"),
        pod("elsewhere", namespace="other"),
    ]
    client = FakeClient([OWNER, *objects])
    claimed = await manager(client).claim(objects)
    assert sorted(p["metadata"]["name"] for p in claimed) == ["mine", "orphan"]
    assert [(a[0], a[2]) for a in client.actions] == [
        ("patch", "orphan"),
        ("patch", "stray"),
    ]
    adopted = next(p for p in claimed if p["metadata"]["name"] == "orphan")
    assert is_controlled_by(adopted, OWNER)


async def test_an_owner_being_deleted_neither_adopts_nor_releases() -> None:
    deleting = {
        **OWNER,
        "metadata": {**OWNER["metadata"], "deletionTimestamp": "2020-01-01T00:00:00Z"},
    }
    client = FakeClient([deleting, pod("orphan"), pod("stray", app="db", owner="owner")])
    claimed = await manager(client, deleting).claim(
        [pod("orphan"), pod("stray", app="db", owner="owner")]
    )
    assert claimed == [] and client.actions == []


async def test_adoption_is_refused_when_the_owner_was_replaced() -> None:
    client = FakeClient([{**OWNER, "metadata": {**OWNER["metadata"], "uid": "new"}}, pod("orphan")])
    with pytest.raises(ApiError, match="original ns/web is gone"):
        await manager(client).claim([pod("orphan")])
