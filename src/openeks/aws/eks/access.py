"""Access entries: which IAM principals may use a cluster, under which Kubernetes
username and groups (CreateAccessEntry, DescribeAccessEntry, ListAccessEntries,
UpdateAccessEntry, DeleteAccessEntry), and the cluster creator's bootstrap entry.

An entry is the document `accessentries/<cluster>/<entry name>` (the AccessEntry shape,
plus the private `policies` its policy associations live in and `openeks.requestToken`).
EKS's rules: the cluster's authentication mode must include the EKS API; the principal
must be an existing IAM user or role of the account (or the account root) and appear in
one entry only; STANDARD entries take a username (default: the user's ARN, or the
role's assumed-role ARN ending in `{{SessionName}}`) and groups outside `system:`; the
node types (EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX) take neither, need a role, and get
EKS's node username and groups.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from openeks.aws.eks import errors, identity, policies, shapes, validation
from openeks.aws.eks.documents import (
    ACCESS_ENTRIES,
    CLUSTERS,
    children,
    entry_doc_name,
    load_cluster,
    now_iso,
)
from openeks.aws.eks.pagination import page
from openeks.aws.service import RequestContext
from openeks.region.state import Exists, Missing, Record, RegionState

Doc = dict[str, Any]

NODE_USERNAMES = {
    "EC2_LINUX": "system:node:{{EC2PrivateDNSName}}",
    "EC2_WINDOWS": "system:node:{{EC2PrivateDNSName}}",
    "FARGATE_LINUX": "system:node:{{SessionName}}",
}
NODE_GROUPS = {
    "EC2_LINUX": ["system:nodes"],
    "EC2_WINDOWS": ["system:nodes", "eks:kube-proxy-windows"],
    "FARGATE_LINUX": ["system:node-proxier", "system:nodes"],
}


# -- lookups -------------------------------------------------------------------------


def uses_api(cluster: Doc) -> bool:
    mode = (cluster.get("accessConfig") or {}).get("authenticationMode")
    return mode in ("API", "API_AND_CONFIG_MAP")


async def api_cluster(state: RegionState, name: str) -> Doc:
    """The cluster, which must exist and authenticate through the EKS API."""
    cluster = (await load_cluster(state, name)).value
    if not uses_api(cluster):
        raise errors.auth_mode_without_api(name)
    return cluster


async def load_entry(state: RegionState, cluster: str, principal_arn: str) -> Record:
    await api_cluster(state, cluster)
    record = await state.get(ACCESS_ENTRIES, entry_doc_name(cluster, principal_arn))
    if record is None:
        raise errors.entry_not_found(cluster)
    return record


# -- building entries ----------------------------------------------------------------


def default_username(principal_arn: str, entry_type: str) -> str:
    if entry_type in NODE_USERNAMES:
        return NODE_USERNAMES[entry_type]
    parts = identity.principal_parts(principal_arn)
    if parts is not None and parts[1] == "role":
        account, _, name = parts
        return f"arn:aws:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}"
    return principal_arn


def entry_arn(cluster: Doc, principal_arn: str) -> str:
    _, _, _, region, account, _ = str(cluster["arn"]).split(":", 5)
    parts = identity.principal_parts(principal_arn) or (account, "user", principal_arn)
    owner, kind, name = parts
    if kind == "root":
        name = "root"
    return (
        f"arn:aws:eks:{region}:{account}:access-entry/{cluster['name']}/{kind}/{owner}/"
        f"{name}/{uuid.uuid4()}"
    )


def new_entry(
    cluster: Doc,
    principal_arn: str,
    *,
    entry_type: str = "STANDARD",
    username: str | None = None,
    groups: list[str] | None = None,
    tags: dict[str, str] | None = None,
    token: str | None = None,
) -> Doc:
    when = now_iso()
    if entry_type in NODE_GROUPS:
        groups = list(NODE_GROUPS[entry_type])
    return {
        "clusterName": cluster["name"],
        "principalArn": principal_arn,
        "kubernetesGroups": list(dict.fromkeys(groups or ())),
        "accessEntryArn": entry_arn(cluster, principal_arn),
        "createdAt": when,
        "modifiedAt": when,
        "tags": dict(tags or {}),
        "username": username or default_username(principal_arn, entry_type),
        "type": entry_type,
        "policies": [],
        "openeks": {"requestToken": token},
    }


async def check_principal(state: RegionState, cluster: Doc, principal_arn: str, kind: str) -> None:
    """The principal must be the account root or an existing user or role of the
    cluster's account (only roles for node entry types)."""
    parts = identity.principal_parts(principal_arn)
    account = str(cluster["arn"]).split(":")[4]
    invalid = errors.invalid_parameter(errors.INVALID_PRINCIPAL, cluster["name"])
    if parts is None or parts[0] != account or "/aws-service-role/" in principal_arn:
        raise invalid
    if kind != "STANDARD" and parts[1] != "role":
        raise invalid
    if parts[1] == "root":
        return
    record = await state.get("users" if parts[1] == "user" else "roles", parts[2])
    if record is None or record.value.get("Arn") != principal_arn:
        raise invalid


# -- operations ----------------------------------------------------------------------


async def create_access_entry(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    name, principal_arn = params["clusterName"], params["principalArn"]
    cluster = await api_cluster(state, name)
    doc_name = entry_doc_name(name, principal_arn)
    existing = await state.get(ACCESS_ENTRIES, doc_name)
    token = params.get("clientRequestToken")
    if existing is not None:
        if token and (existing.value.get("openeks") or {}).get("requestToken") == token:
            return {"accessEntry": shapes.access_entry(existing.value)}
        raise errors.entry_in_use(name)
    entry_type = params.get("type") or "STANDARD"
    validation.check_entry_type(entry_type, name)
    if entry_type != "STANDARD" and (params.get("kubernetesGroups") or params.get("username")):
        raise errors.invalid_parameter(errors.STANDARD_ONLY, name)
    if params.get("username"):
        validation.check_username(params["username"], name)
    validation.check_groups(params.get("kubernetesGroups") or (), name)
    await check_principal(state, cluster, principal_arn, entry_type)
    entry = new_entry(
        cluster,
        principal_arn,
        entry_type=entry_type,
        username=params.get("username"),
        groups=params.get("kubernetesGroups"),
        tags=params.get("tags"),
        token=token,
    )
    try:
        await state.create(ACCESS_ENTRIES, doc_name, entry)
    except Exists:
        raise errors.entry_in_use(name) from None
    return {"accessEntry": shapes.access_entry(entry)}


async def describe_access_entry(state: RegionState, params: Doc) -> Doc:
    record = await load_entry(state, params["clusterName"], params["principalArn"])
    return {"accessEntry": shapes.access_entry(record.value)}


async def list_access_entries(state: RegionState, params: Doc) -> Doc:
    name = params["clusterName"]
    await api_cluster(state, name)
    wanted = params.get("associatedPolicyArn")
    if wanted is not None and policies.name_of(wanted) is None:
        raise errors.invalid_parameter(f"The policyArn {wanted} is not a valid access policy", name)
    principals = sorted(
        record.value["principalArn"]
        for record in await children(state, ACCESS_ENTRIES, name)
        if wanted is None or any(p["policyArn"] == wanted for p in record.value["policies"])
    )
    items, token = page(
        principals,
        lambda arn: arn,
        f"access-entries/{name}",
        params.get("maxResults"),
        params.get("nextToken"),
    )
    result: Doc = {"accessEntries": items}
    if token:
        result["nextToken"] = token
    return result


async def update_access_entry(state: RegionState, params: Doc) -> Doc:
    name, principal_arn = params["clusterName"], params["principalArn"]
    record = await load_entry(state, name, principal_arn)
    groups, username = params.get("kubernetesGroups"), params.get("username")
    if record.value["type"] != "STANDARD" and (groups or username):
        raise errors.invalid_parameter(errors.STANDARD_ONLY, name)
    if username:
        validation.check_username(username, name)
    validation.check_groups(groups or (), name)

    def change(entry: Doc) -> Doc:
        if groups is not None and entry["type"] == "STANDARD":
            entry["kubernetesGroups"] = list(dict.fromkeys(groups))
        if username:
            entry["username"] = username
        entry["modifiedAt"] = now_iso()
        return entry

    try:
        updated = await state.mutate(ACCESS_ENTRIES, record.name, change)
    except Missing:
        raise errors.entry_not_found(name) from None
    return {"accessEntry": shapes.access_entry(updated.value)}


async def delete_access_entry(state: RegionState, params: Doc) -> None:
    record = await load_entry(state, params["clusterName"], params["principalArn"])
    try:
        await state.delete(ACCESS_ENTRIES, record.name)
    except Missing:
        raise errors.entry_not_found(params["clusterName"]) from None


# -- the cluster creator -------------------------------------------------------------


async def creator_principal(state: RegionState, creator_arn: str) -> str:
    """The IAM principal of the identity that created a cluster (a role session → its
    role, with the role's path)."""
    principal = identity.principal_for_lookup(creator_arn)
    parts = identity.principal_parts(principal)
    if parts is not None and parts[1] == "role":
        role = await state.get("roles", parts[2])
        if role is not None:
            return str(role.value["Arn"])
    return principal


async def bootstrap_creator(state: RegionState, cluster_name: str) -> None:
    """Give the cluster creator an admin access entry, as EKS does when
    `bootstrapClusterCreatorAdminPermissions` is set and the EKS API is enabled (at
    creation, or later when the authentication mode first includes the API)."""
    record = await state.get(CLUSTERS, cluster_name)
    if record is None:
        return
    cluster = record.value
    creator = (cluster.get("openeks") or {}).get("creator")
    access = cluster.get("accessConfig") or {}
    if not creator or not access.get("bootstrapClusterCreatorAdminPermissions"):
        return
    if not uses_api(cluster):
        return
    principal = await creator_principal(state, creator)
    entry = new_entry(cluster, principal)
    when = entry["createdAt"]
    entry["policies"] = [
        {
            "policyArn": policies.CLUSTER_ADMIN,
            "accessScope": {"type": "cluster", "namespaces": []},
            "associatedAt": when,
            "modifiedAt": when,
        }
    ]
    with contextlib.suppress(Exists):
        await state.create(ACCESS_ENTRIES, entry_doc_name(cluster_name, principal), entry)
