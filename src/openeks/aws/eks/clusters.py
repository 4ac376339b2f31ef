"""Cluster lifecycle on the API side: CreateCluster, DescribeCluster, ListClusters,
DeleteCluster.

The backend never runs a control plane. CreateCluster validates the request as EKS
does and writes `clusters/<name>` with status CREATING; the region's cluster controller
starts the control plane, fills in `endpoint`, `certificateAuthority` and
`identity.oidc.issuer`, and moves the status to ACTIVE (or FAILED with a health issue).
DeleteCluster moves the status to DELETING (refused while node groups remain or an
update is in progress, as EKS refuses it; a second DeleteCluster while DELETING answers
the cluster as it is); the controller tears the control plane down and removes the
document (and the cluster's updates and access entries).

The control plane's shape is chosen at creation by a tag, because EKS has no field for
it: `openeks.io/control-plane=single-zone` asks for the small single-zone (sqlite-backed)
control plane meant for development; without the tag (or with `three-zone`) a cluster
gets the default highly available control plane across three availability zones. The
choice is kept in the private `openeks.mode` and does not change afterwards.

`clientRequestToken` makes CreateCluster idempotent: repeating the same request with the
same token answers the cluster as it is now; anything else that names an existing
cluster is ResourceInUseException, as for any duplicate name.
"""

from __future__ import annotations

from typing import Any

from openeks.aws.eks import access, errors, shapes, validation
from openeks.aws.eks.documents import (
    CLUSTERS,
    NODEGROUPS,
    PLATFORM_VERSION,
    UPDATES,
    children,
    cluster_arn,
    forget_children,
    load_cluster,
    now_iso,
    random_hex,
    request_hash,
)
from openeks.aws.eks.fargate import ensure_no_profiles
from openeks.aws.eks.pagination import page
from openeks.aws.eks.versions import Versions
from openeks.aws.service import RequestContext
from openeks.region.state import Exists, Missing, RegionState

Doc = dict[str, Any]


def _vpc_config(request: Doc, vpc: Doc) -> Doc:
    public = request.get("endpointPublicAccess")
    private = request.get("endpointPrivateAccess")
    return {
        "subnetIds": list(dict.fromkeys(request.get("subnetIds") or ())),
        "securityGroupIds": list(dict.fromkeys(request.get("securityGroupIds") or ())),
        "clusterSecurityGroupId": f"sg-{random_hex(17)}",
        "vpcId": vpc["VpcId"],
        "endpointPublicAccess": True if public is None else public,
        "endpointPrivateAccess": False if private is None else private,
        "publicAccessCidrs": list(request.get("publicAccessCidrs") or ["0.0.0.0/0"]),
    }


def _access_config(params: Doc, name: str) -> Doc:
    requested = params.get("accessConfig") or {}
    mode = requested.get("authenticationMode") or "CONFIG_MAP"
    bootstrap = requested.get("bootstrapClusterCreatorAdminPermissions")
    bootstrap = True if bootstrap is None else bootstrap
    validation.check_access_config(mode, bootstrap, name)
    return {"authenticationMode": mode, "bootstrapClusterCreatorAdminPermissions": bootstrap}


async def _validated_vpc(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    name, request = params["name"], params["resourcesVpcConfig"]
    vpc = await validation.check_subnets(
        state, list(request.get("subnetIds") or ()), name, context.request_id
    )
    validation.check_security_groups(list(request.get("securityGroupIds") or ()), name)
    validation.check_public_cidrs(request.get("publicAccessCidrs") or (), name)
    config = _vpc_config(request, vpc)
    validation.check_endpoint_access(
        config["endpointPublicAccess"], config["endpointPrivateAccess"], name
    )
    return {"config": config, "vpc": vpc}


def _cluster_document(
    params: Doc, context: RequestContext, version: str, vpc: Doc, vpc_config: Doc
) -> Doc:
    name = params["name"]
    tags = dict(params.get("tags") or {})
    network = params.get("kubernetesNetworkConfig") or {}
    token = params.get("clientRequestToken")
    doc: Doc = {
        "name": name,
        "arn": cluster_arn(context.region, context.account_id, name),
        "createdAt": now_iso(),
        "version": version,
        "roleArn": params["roleArn"],
        "resourcesVpcConfig": vpc_config,
        "kubernetesNetworkConfig": {
            "serviceIpv4Cidr": validation.service_cidr(network.get("serviceIpv4Cidr"), vpc, name),
            "ipFamily": "ipv4",
            "elasticLoadBalancing": {"enabled": False},
        },
        "logging": validation.logging_document(validation.enabled_log_types(params.get("logging"))),
        "status": "CREATING",
        "platformVersion": PLATFORM_VERSION,
        "tags": tags,
        "health": {"issues": []},
        "accessConfig": _access_config(params, name),
        "upgradePolicy": {
            "supportType": (params.get("upgradePolicy") or {}).get("supportType") or "EXTENDED"
        },
        "deletionProtection": bool(params.get("deletionProtection")),
        "openeks": {
            "desiredVersion": version,
            "mode": validation.control_plane_mode(tags, name),
            "creator": context.principal.arn if context.principal else "",
            "requestToken": token,
            "requestHash": request_hash(params),
            "bootstrapSelfManagedAddons": params.get("bootstrapSelfManagedAddons") is not False,
        },
    }
    if token:
        doc["clientRequestToken"] = token
    if params.get("zonalShiftConfig") is not None:
        doc["zonalShiftConfig"] = {"enabled": bool(params["zonalShiftConfig"].get("enabled"))}
    if params.get("controlPlaneScalingConfig") is not None:
        doc["controlPlaneScalingConfig"] = {"tier": "standard"}
    return doc


def _replays(existing: Doc, params: Doc) -> bool:
    """Whether `params` repeats the request that created `existing`, token and all."""
    private = existing.get("openeks") or {}
    token = params.get("clientRequestToken")
    return (
        bool(token)
        and private.get("requestToken") == token
        and (private.get("requestHash") == request_hash(params))
    )


async def create_cluster(
    state: RegionState, versions: Versions, params: Doc, context: RequestContext
) -> Doc:
    name = params["name"]
    existing = await state.get(CLUSTERS, name)
    if existing is not None:
        if _replays(existing.value, params):
            return {"cluster": shapes.cluster(existing.value)}
        raise errors.cluster_exists(name)
    validation.check_unsupported(params, name)
    version = params.get("version") or versions.default
    versions.check_supported(version, name)
    await validation.check_role(state, params["roleArn"], context.account_id, name)
    checked = await _validated_vpc(state, params, context)
    doc = _cluster_document(params, context, version, checked["vpc"], checked["config"])
    try:
        await state.create(CLUSTERS, name, doc)
    except Exists:
        raise errors.cluster_exists(name) from None
    await forget_children(state, name)
    await access.bootstrap_creator(state, name)
    return {"cluster": shapes.cluster(doc)}


async def describe_cluster(state: RegionState, params: Doc) -> Doc:
    record = await load_cluster(state, params["name"])
    return {"cluster": shapes.cluster(record.value)}


async def list_clusters(state: RegionState, params: Doc) -> Doc:
    names = sorted(record.name for record in await state.list(CLUSTERS))
    items, token = page(
        names, lambda name: name, "clusters", params.get("maxResults"), params.get("nextToken")
    )
    result: Doc = {"clusters": items}
    if token:
        result["nextToken"] = token
    return result


async def delete_cluster(state: RegionState, params: Doc) -> Doc:
    name = params["name"]
    record = await load_cluster(state, name)
    if record.value.get("deletionProtection"):
        raise errors.deletion_protected(name)
    nodegroups = [r.name.split("/", 1)[1] for r in await children(state, NODEGROUPS, name)]
    if nodegroups:
        raise errors.cluster_has_nodegroups(name, sorted(nodegroups))
    await ensure_no_profiles(state, name)
    if record.value.get("status") == "DELETING":
        return {"cluster": shapes.cluster(record.value)}
    if any(u.value.get("status") == "InProgress" for u in await children(state, UPDATES, name)):
        raise errors.delete_during_update(name)

    def change(doc: Doc) -> Doc:
        doc["status"] = "DELETING"
        return doc

    try:
        deleted = await state.mutate(CLUSTERS, name, change)
    except Missing:
        raise errors.cluster_not_found(name) from None
    return {"cluster": shapes.cluster(deleted.value)}
