"""Fargate profiles on the API side: CreateFargateProfile, DescribeFargateProfile,
ListFargateProfiles, DeleteFargateProfile.

A profile is the document `fargateprofiles/<cluster>/<name>`: the FargateProfile shape
(boto3 form, `createdAt` ISO) plus `"openeks": {requestToken, requestHash}`. The backend
never runs pods: CreateFargateProfile validates (`fargatevalidation`) and writes the
profile with status CREATING; the region's Fargate controller moves it to ACTIVE once the
cluster's admission webhook knows it. DeleteFargateProfile moves it to DELETING; the
controller stops the profile's pods and removes the document.

EKS's rules kept here: profiles are immutable (there is no update operation); the
cluster must be ACTIVE; a cluster has at most ten profiles; while one profile of a
cluster is CREATING or DELETING no other may be created, and while one is DELETING no
other may be deleted (ResourceInUseException naming the busy profile). Two concurrent
requests are settled after the write: the later one (higher store revision) backs out,
so the rule holds without a cluster-wide lock. DeleteCluster is refused while profiles
remain (`ensure_no_profiles`).

`clientRequestToken` makes CreateFargateProfile idempotent as CreateCluster is: the same
request with the same token answers the profile as it is.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from typing import Any

from botocore.model import Shape

from openeks.aws.eks import errors, fargatevalidation, shapes
from openeks.aws.eks.documents import (
    FARGATE_PROFILES,
    children,
    load_cluster,
    now_iso,
    request_hash,
    scoped,
)
from openeks.aws.eks.pagination import page
from openeks.aws.service import RequestContext, load_model
from openeks.region.state import Exists, Missing, Record, RegionState

Doc = dict[str, Any]

MAX_PROFILES = 10
BUSY = ("CREATING", "DELETING")


@functools.cache
def _shape() -> Shape:
    return load_model("eks").shape_for("FargateProfile")


def profile_shape(doc: Doc) -> Doc:
    """A profile document as boto3 users read it."""
    result: Doc = shapes.render(_shape(), doc)
    return result


def profile_arn(region: str, account: str, cluster: str, name: str) -> str:
    return f"arn:aws:eks:{region}:{account}:fargateprofile/{cluster}/{name}/{uuid.uuid4()}"


async def _profiles(state: RegionState, cluster: str) -> list[Record]:
    return await children(state, FARGATE_PROFILES, cluster)


def _short(record: Record) -> str:
    return record.name.split("/", 1)[1]


def _rival(records: list[Record], mine: str, statuses: tuple[str, ...]) -> Record | None:
    """The first (oldest write) profile other than `mine` in one of `statuses`."""
    busy = [r for r in records if r.name != mine and r.value.get("status") in statuses]
    return min(busy, key=lambda r: r.revision) if busy else None


# -- CreateFargateProfile ----------------------------------------------------------------


def _replays(existing: Doc, params: Doc) -> bool:
    private = existing.get("openeks") or {}
    token = params.get("clientRequestToken")
    return bool(token) and (private.get("requestToken"), private.get("requestHash")) == (
        token,
        request_hash(params),
    )


def _check_cluster_ready(cluster: Doc, profile: str) -> None:
    status = cluster.get("status")
    if status == "UPDATING":
        raise errors.fargate_cluster_updating("create", profile, cluster["name"])
    if status != "ACTIVE":
        raise errors.fargate_cluster_not_active(cluster["name"])


def _check_room(records: list[Record], cluster: str, profile: str) -> None:
    rival = _rival(records, scoped(cluster, profile), BUSY)
    if rival is not None:
        raise errors.fargate_profile_busy(
            "create", profile, cluster, _short(rival), rival.value["status"]
        )
    if len(records) >= MAX_PROFILES:
        raise errors.fargate_profile_limit(cluster, MAX_PROFILES)


def _profile_document(
    params: Doc, context: RequestContext, checked: fargatevalidation.Checked
) -> Doc:
    cluster, name = params["clusterName"], params["fargateProfileName"]
    return {
        "fargateProfileName": name,
        "fargateProfileArn": profile_arn(context.region, context.account_id, cluster, name),
        "clusterName": cluster,
        "createdAt": now_iso(),
        "podExecutionRoleArn": params["podExecutionRoleArn"],
        "subnets": checked.subnets,
        "selectors": checked.selectors,
        "status": "CREATING",
        "tags": dict(params.get("tags") or {}),
        "openeks": {
            "requestToken": params.get("clientRequestToken"),
            "requestHash": request_hash(params),
        },
    }


async def _write_new(state: RegionState, doc: Doc) -> Record:
    """Create the profile, then back out if a concurrent request made another profile
    busy first."""
    cluster, name = doc["clusterName"], doc["fargateProfileName"]
    try:
        mine = await state.create(FARGATE_PROFILES, scoped(cluster, name), doc)
    except Exists:
        raise errors.fargate_profile_exists(cluster) from None
    rival = _rival(await _profiles(state, cluster), mine.name, BUSY)
    if rival is not None and rival.revision < mine.revision:
        with contextlib.suppress(Missing):
            await state.delete(FARGATE_PROFILES, mine.name)
        raise errors.fargate_profile_busy(
            "create", name, cluster, _short(rival), rival.value["status"]
        )
    return mine


async def create_fargate_profile(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    cluster_name, name = params["clusterName"], params["fargateProfileName"]
    cluster = (await load_cluster(state, cluster_name)).value
    existing = await state.get(FARGATE_PROFILES, scoped(cluster_name, name))
    if existing is not None:
        if _replays(existing.value, params):
            return {"fargateProfile": profile_shape(existing.value)}
        raise errors.fargate_profile_exists(cluster_name)
    _check_cluster_ready(cluster, name)
    _check_room(await _profiles(state, cluster_name), cluster_name, name)
    checked = await fargatevalidation.check_request(
        state, params, cluster, context.account_id, context.request_id
    )
    created = await _write_new(state, _profile_document(params, context, checked))
    return {"fargateProfile": profile_shape(created.value)}


# -- DescribeFargateProfile, ListFargateProfiles -----------------------------------------


async def load_profile(state: RegionState, cluster: str, name: str) -> Record:
    await load_cluster(state, cluster)
    record = await state.get(FARGATE_PROFILES, scoped(cluster, name))
    if record is None:
        raise errors.fargate_profile_not_found(cluster, name)
    return record


async def describe_fargate_profile(state: RegionState, params: Doc) -> Doc:
    record = await load_profile(state, params["clusterName"], params["fargateProfileName"])
    return {"fargateProfile": profile_shape(record.value)}


async def list_fargate_profiles(state: RegionState, params: Doc) -> Doc:
    cluster = params["clusterName"]
    await load_cluster(state, cluster)
    names = sorted(_short(record) for record in await _profiles(state, cluster))
    items, token = page(
        names,
        lambda name: name,
        f"fargate-profiles/{cluster}",
        params.get("maxResults"),
        params.get("nextToken"),
    )
    result: Doc = {"fargateProfileNames": items}
    if token:
        result["nextToken"] = token
    return result


# -- DeleteFargateProfile ----------------------------------------------------------------


def _set_status(status: str, previous: str | None = None) -> Any:
    def change(doc: Doc) -> Doc:
        if previous is None or doc.get("status") == previous:
            doc["status"] = status
        return doc

    return change


async def _mark_deleting(state: RegionState, record: Record, cluster: str, name: str) -> Record:
    """Move the profile to DELETING, then back out if a concurrent request started
    deleting another profile first."""
    before = record.value.get("status")
    try:
        mine = await state.mutate(FARGATE_PROFILES, record.name, _set_status("DELETING"))
    except Missing:
        raise errors.fargate_profile_not_found(cluster, name) from None
    rival = _rival(await _profiles(state, cluster), mine.name, ("DELETING",))
    if rival is not None and rival.revision < mine.revision:
        with contextlib.suppress(Missing):
            await state.mutate(
                FARGATE_PROFILES, mine.name, _set_status(str(before or "ACTIVE"), "DELETING")
            )
        raise errors.fargate_profile_busy("Delete", name, cluster, _short(rival), "DELETING")
    return mine


async def delete_fargate_profile(state: RegionState, params: Doc) -> Doc:
    cluster_name, name = params["clusterName"], params["fargateProfileName"]
    record = await load_profile(state, cluster_name, name)
    if record.value.get("status") in BUSY:
        raise errors.fargate_profile_not_active(cluster_name, name)
    cluster = (await load_cluster(state, cluster_name)).value
    if cluster.get("status") == "UPDATING":
        raise errors.fargate_cluster_updating("Delete", name, cluster_name)
    rival = _rival(await _profiles(state, cluster_name), record.name, ("DELETING",))
    if rival is not None:
        raise errors.fargate_profile_busy("Delete", name, cluster_name, _short(rival), "DELETING")
    deleted = await _mark_deleting(state, record, cluster_name, name)
    return {"fargateProfile": profile_shape(deleted.value)}


# -- DeleteCluster -------------------------------------------------------------------------


async def ensure_no_profiles(state: RegionState, cluster: str) -> None:
    """DeleteCluster's check: EKS refuses to delete a cluster that still has profiles."""
    if await _profiles(state, cluster):
        raise errors.cluster_has_fargate_profiles(cluster)
