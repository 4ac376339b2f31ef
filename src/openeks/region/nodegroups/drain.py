"""Draining a node before its instance goes: cordon, evict, wait — as `kubectl drain` does.

Pods are evicted through the `pods/eviction` subresource, so PodDisruptionBudgets are
respected: a 429 means "not now", and the eviction is retried until the pod goes or the
drain times out. DaemonSet pods and finished pods are left alone; terminating pods are
waited for. A drain that times out raises `PodEvictionFailure` (the error EKS reports
in a node group update), unless `force`, which deletes what is left.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client
from openeks.kube.client.resources import NODES, PODS

log = logging.getLogger(__name__)

Obj = dict[str, Any]
RETRY = 1.0


class PodEvictionFailure(Exception):
    """Pods of a node could not be evicted within the drain timeout."""


async def cordon(client: Client, node: str) -> None:
    try:
        await client.patch(NODES, node, {"spec": {"unschedulable": True}})
    except ApiError as e:
        if e.code != 404:
            raise


def _to_drain(pod: Obj) -> bool:
    """Pods a drain waits for: all but DaemonSet pods and finished ones."""
    if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
        return False
    owners = pod["metadata"].get("ownerReferences") or ()
    return not any(o.get("kind") == "DaemonSet" for o in owners)


async def _pods_on(client: Client, node: str) -> list[Obj]:
    listed = await client.list(PODS, field_selector=f"spec.nodeName={node}")
    return [p for p in listed.get("items") or () if _to_drain(p)]


async def _evict(client: Client, pod: Obj) -> bool:
    meta = pod["metadata"]
    eviction = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
    }
    try:
        await client.create(
            PODS, eviction, meta["namespace"], subresource="eviction", name=meta["name"]
        )
        return True
    except ApiError as e:
        if e.code == 404:
            return True
        if e.code == 429:
            return False
        raise


async def drain(client: Client, node: str, timeout: float, *, force: bool = False) -> None:
    """Cordon `node` and evict every pod on it; return once none is left."""
    await cordon(client, node)
    deadline = time.monotonic() + timeout
    while True:
        pods = await _pods_on(client, node)
        if not pods:
            return
        for pod in pods:
            if not pod["metadata"].get("deletionTimestamp"):
                await _evict(client, pod)
        if time.monotonic() > deadline:
            if not force:
                names = ", ".join(p["metadata"]["name"] for p in pods)
                raise PodEvictionFailure(
                    f"Reached max retries while trying to evict pods from nodes in node group"
                    f" (node {node}; pods {names})"
                )
            for pod in pods:
                meta = pod["metadata"]
                try:
                    await client.delete(PODS, meta["name"], meta["namespace"], grace_period=0)
                except ApiError as e:
                    if e.code != 404:
                        raise
            return
        await asyncio.sleep(RETRY)
