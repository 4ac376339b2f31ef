"""The garbage collector deletes or orphans dependents as the owner's deletion asks."""

from __future__ import annotations

import asyncio
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client
from openeks.kube.client.resources import CONFIGMAPS, SECRETS
from openeks.kube.controllers.common.gcgraph import Graph
from tests.kube.controllers.lifecycle_support import (  # noqa: F401
    api_fixture,
    client_fixture,
    controllers,
    eventually,
    kubectl_fixture,
    new_namespace,
)
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl

Obj = dict[str, Any]


def _meta(uid: str, name: str, owners: list[Obj] | None = None, **extra: Any) -> Obj:
    return {
        "metadata": {
            "uid": uid,
            "name": name,
            "namespace": "ns",
            "ownerReferences": owners or [],
            **extra,
        }
    }


def _ref(uid: str, name: str, block: bool = False) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": name,
        "uid": uid,
        "blockOwnerDeletion": block,
    }


def test_an_unseen_owner_becomes_a_virtual_node_to_verify() -> None:
    g = Graph()
    work = g.observe("v1", "ConfigMap", _meta("c", "child", [_ref("p", "parent")]))
    assert [n.uid for n in work.delete] == ["p"]
    assert g.nodes["p"].virtual
    g.observe("v1", "ConfigMap", _meta("p", "parent"))
    assert not g.nodes["p"].virtual
    assert {d.uid for d in g.nodes["p"].dependents} == {"c"}


def test_forgetting_an_owner_queues_its_dependents() -> None:
    g = Graph()
    g.observe("v1", "ConfigMap", _meta("p", "parent"))
    g.observe("v1", "ConfigMap", _meta("c", "child", [_ref("p", "parent")]))
    work = g.forget("p")
    assert [n.uid for n in work.delete] == ["c"]


def test_foreground_deletion_marks_the_owner_and_queues_dependents_and_itself() -> None:
    g = Graph()
    old = _meta("p", "parent")
    g.observe("v1", "ConfigMap", old)
    g.observe("v1", "ConfigMap", _meta("c", "child", [_ref("p", "parent", block=True)]))
    new = _meta(
        "p", "parent", deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["foregroundDeletion"]
    )
    work = g.observe("v1", "ConfigMap", new, old)
    assert {n.uid for n in work.delete} == {"c", "p"}
    assert g.nodes["p"].deleting_dependents
    assert [d.uid for d in g.nodes["p"].blocking_dependents()] == ["c"]


def test_orphan_finalizer_queues_the_owner_for_orphaning() -> None:
    g = Graph()
    old = _meta("p", "parent")
    g.observe("v1", "ConfigMap", old)
    new = _meta("p", "parent", deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["orphan"])
    assert [n.uid for n in g.observe("v1", "ConfigMap", new, old).orphan] == ["p"]


async def _family(client: Client, ns: str) -> tuple[Obj, Obj, Obj]:
    """parent ConfigMap ← child Secret ← grandchild ConfigMap (all blocking)."""
    parent = await client.create(CONFIGMAPS, {"metadata": {"name": "parent"}}, ns)
    child = await client.create(
        SECRETS,
        {"metadata": {"name": "child", "ownerReferences": [_owner(parent, "ConfigMap")]}},
        ns,
    )
    grandchild = await client.create(
        CONFIGMAPS,
        {"metadata": {"name": "grandchild", "ownerReferences": [_owner(child, "Secret")]}},
        ns,
    )
    return parent, child, grandchild


def _owner(obj: Obj, kind: str) -> Obj:
    m = obj["metadata"]
    return {
        "apiVersion": "v1",
        "kind": kind,
        "name": m["name"],
        "uid": m["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


async def _exists(client: Client, res: Any, name: str, ns: str) -> bool:
    try:
        await client.get(res, name, ns)
    except ApiError as e:
        if e.code == 404:
            return False
        raise
    return True


async def test_background_deletion_takes_dependents_and_theirs(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    await _family(client, ns)
    async with controllers(api, "garbagecollector"):
        kubectl("delete", "configmap", "parent", "-n", ns)

        async def all_gone() -> bool:
            return not await _exists(client, SECRETS, "child", ns) and not await _exists(
                client, CONFIGMAPS, "grandchild", ns
            )

        await eventually(all_gone)


async def test_foreground_deletion_waits_for_dependents(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    await _family(client, ns)
    async with controllers(api, "garbagecollector"):
        result = await asyncio.to_thread(
            kubectl,
            "delete",
            "configmap",
            "parent",
            "-n",
            ns,
            "--cascade=foreground",
            "--timeout=30s",
        )
        assert "deleted" in result
        assert not await _exists(client, CONFIGMAPS, "parent", ns)
        assert not await _exists(client, SECRETS, "child", ns)
        assert not await _exists(client, CONFIGMAPS, "grandchild", ns)


async def test_orphan_deletion_leaves_dependents_without_the_reference(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    await _family(client, ns)
    async with controllers(api, "garbagecollector"):
        await asyncio.to_thread(
            kubectl, "delete", "configmap", "parent", "-n", ns, "--cascade=orphan", "--timeout=30s"
        )
        assert not await _exists(client, CONFIGMAPS, "parent", ns)
        child = await client.get(SECRETS, "child", ns)
        assert not child["metadata"].get("ownerReferences")
        await asyncio.sleep(1)
        assert await _exists(client, CONFIGMAPS, "grandchild", ns)


async def test_dependents_of_an_owner_deleted_while_the_collector_was_down_go_on_start(
    api: ApiServerProcess, client: Client
) -> None:
    ns = await new_namespace(client)
    await _family(client, ns)
    await client.delete(CONFIGMAPS, "parent", ns)
    async with controllers(api, "garbagecollector"):
        await eventually(lambda: _missing(client, ns))


async def _missing(client: Client, ns: str) -> bool:
    return not await _exists(client, SECRETS, "child", ns)
