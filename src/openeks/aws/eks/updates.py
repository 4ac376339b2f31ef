"""Cluster updates: UpdateClusterVersion, ListUpdates, DescribeUpdate, and what
UpdateClusterConfig (`configupdates`) shares with them.

Every change is recorded as an Update (`updates/<cluster>/<id>`), as EKS records them.
A version update is work for the cluster controller: the backend checks the step (one
minor up), writes the update InProgress, sets the cluster UPDATING with
`openeks.desiredVersion`, and the controller rolls the API servers, then marks the
update Successful (or Failed) and the cluster ACTIVE with its new `version`.
Configuration updates (logging, endpoint access, VPC subnets and security groups,
authentication mode, upgrade policy, deletion protection, zonal shift) have nothing to
roll out here: they are applied at once and recorded as already Successful.

EKS's rules: one kind of update per request; none while the cluster is not ACTIVE or has
an update in progress; a request that changes nothing is refused with EKS's message; a
repeated request with the same `clientRequestToken` answers the update it made.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from openeks.aws.eks import errors, shapes
from openeks.aws.eks.documents import (
    ADDONS,
    CLUSTERS,
    NODEGROUPS,
    PLATFORM_VERSION,
    UPDATES,
    children,
    load_cluster,
    now_iso,
    request_hash,
    scoped,
)
from openeks.aws.eks.pagination import page
from openeks.aws.eks.versions import Versions
from openeks.region.state import Missing, RegionState

Doc = dict[str, Any]


def new_update(kind: str, update_params: list[Doc], status: str, request: Doc) -> Doc:
    return {
        "id": str(uuid.uuid4()),
        "status": status,
        "type": kind,
        "params": update_params,
        "createdAt": now_iso(),
        "errors": [],
        "openeks": {
            "requestToken": request.get("clientRequestToken"),
            "requestHash": request_hash(request),
            "sequence": time.time_ns(),
        },
    }


async def replayed(state: RegionState, cluster: str, request: Doc) -> Doc | None:
    """The update an identical earlier request (same token) made, if any."""
    token = request.get("clientRequestToken")
    if not token:
        return None
    fingerprint = request_hash(request)
    for record in await children(state, UPDATES, cluster):
        private = record.value.get("openeks") or {}
        if private.get("requestToken") == token and private.get("requestHash") == fingerprint:
            return record.value
    return None


async def check_updatable(state: RegionState, cluster: Doc, kind: str) -> None:
    name = cluster["name"]
    for record in await children(state, UPDATES, name):
        if record.value.get("status") == "InProgress" and _belongs(record.value, None):
            raise errors.update_in_progress(kind, name, record.value["id"])
    if cluster.get("status") != "ACTIVE":
        raise errors.cluster_not_active(kind, name, str(cluster.get("status")))


def still_active(kind: str, name: str, doc: Doc) -> None:
    if doc.get("status") != "ACTIVE":
        raise errors.cluster_not_active(kind, name, str(doc.get("status")))


# -- version updates -----------------------------------------------------------------


async def update_cluster_version(state: RegionState, versions: Versions, params: Doc) -> Doc:
    name, target = params["name"], params["version"]
    cluster = (await load_cluster(state, name)).value
    earlier = await replayed(state, name, params)
    if earlier is not None:
        return {"update": shapes.update(earlier)}
    await check_updatable(state, cluster, "VersionUpdate")
    versions.check_upgrade(str(cluster["version"]), target, name)
    await _check_nodegroups_match(state, cluster)
    update = new_update(
        "VersionUpdate",
        [
            {"type": "Version", "value": target},
            {"type": "PlatformVersion", "value": PLATFORM_VERSION},
        ],
        "InProgress",
        params,
    )
    await state.create(UPDATES, scoped(name, update["id"]), update)

    def change(doc: Doc) -> Doc:
        still_active("VersionUpdate", name, doc)
        doc["status"] = "UPDATING"
        doc.setdefault("openeks", {})["desiredVersion"] = target
        return doc

    try:
        await state.mutate(CLUSTERS, name, change)
    except (errors.AwsError, Missing) as failure:
        await state.delete(UPDATES, scoped(name, update["id"]))
        if isinstance(failure, Missing):
            raise errors.cluster_not_found(name) from None
        raise
    return {"update": shapes.update(update)}


async def _check_nodegroups_match(state: RegionState, cluster: Doc) -> None:
    """EKS upgrades a cluster only once its node groups run the cluster's version."""
    behind = sorted(
        record.name.split("/", 1)[1]
        for record in await children(state, NODEGROUPS, cluster["name"])
        if record.value.get("version", cluster["version"]) != cluster["version"]
    )
    if behind:
        raise errors.nodegroups_behind(cluster["name"], behind, str(cluster["version"]))


# -- reading updates -----------------------------------------------------------------


async def _target(state: RegionState, params: Doc) -> tuple[str, str] | None:
    """The node group or add-on the request is about, which must exist, or None."""
    name = params["name"]
    for member, kind, what in (
        ("nodegroupName", NODEGROUPS, "nodegroup"),
        ("addonName", ADDONS, "addon"),
    ):
        target = params.get(member)
        if target is None:
            continue
        if await state.get(kind, scoped(name, target)) is None:
            # (openeks wording for add-ons; EKS's for node groups)
            message = (
                f"No node group found for name: {target}."
                if what == "nodegroup"
                else f"No addon: {target} found in cluster: {name}"
            )
            raise errors.ResourceNotFoundException(
                message, fields={"clusterName": name, f"{what}Name": target}
            )
        return what, target
    if params.get("capabilityName") is not None:
        raise errors.ResourceNotFoundException(
            f"No capability found for name: {params['capabilityName']}.",
            fields={"clusterName": name},
        )
    return None


def _belongs(update: Doc, target: tuple[str, str] | None) -> bool:
    private = update.get("openeks") or {}
    if target is None:
        return not private.get("nodegroup") and not private.get("addon")
    return private.get(target[0]) == target[1]


def _order(update: Doc) -> str:
    """Updates in the order they were made (creation time in nanoseconds, then id)."""
    sequence = (update.get("openeks") or {}).get("sequence") or 0
    return f"{int(sequence):020d}|{update['id']}"


async def list_updates(state: RegionState, params: Doc) -> Doc:
    name = params["name"]
    await load_cluster(state, name)
    target = await _target(state, params)
    updates = sorted(
        (r.value for r in await children(state, UPDATES, name) if _belongs(r.value, target)),
        key=_order,
    )
    items, token = page(
        updates,
        _order,
        f"updates/{name}",
        params.get("maxResults"),
        params.get("nextToken"),
    )
    result: Doc = {"updateIds": [u["id"] for u in items]}
    if token:
        result["nextToken"] = token
    return result


async def describe_update(state: RegionState, params: Doc) -> Doc:
    name, update_id = params["name"], params["updateId"]
    await load_cluster(state, name)
    target = await _target(state, params)
    record = await state.get(UPDATES, scoped(name, update_id))
    if record is None or not _belongs(record.value, target):
        raise errors.update_not_found(update_id, name)
    return {"update": shapes.update(record.value)}
