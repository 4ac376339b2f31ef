"""UpdateClusterConfig: logging, endpoint access, VPC subnets and security groups,
authentication mode, upgrade policy, deletion protection and zonal shift.

None of these needs the control plane rolled, so each is checked, applied to the
cluster document at once and recorded as an Update that is already Successful (see
`updates` for version updates, which the cluster controller carries out). EKS's rules:
exactly one kind of change per request ("Only one type of update can be allowed."),
none while the cluster is not ACTIVE or has an update in progress, and a request that
changes nothing is refused with EKS's own sentence for it. Moving the authentication
mode to one that includes the EKS API gives the cluster creator its admin access entry,
as EKS does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from openeks.aws.eks import access, errors, shapes, validation
from openeks.aws.eks.documents import CLUSTERS, UPDATES, load_cluster, scoped
from openeks.aws.eks.updates import check_updatable, new_update, replayed, still_active
from openeks.aws.service import RequestContext
from openeks.region.state import Missing, RegionState

Doc = dict[str, Any]
Apply = Callable[[Doc], None]
_ENDPOINT_KEYS = ("endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs")
_VPC_KEYS = ("subnetIds", "securityGroupIds")
_UNSUPPORTED_UPDATES = (
    "computeConfig",
    "kubernetesNetworkConfig",
    "storageConfig",
    "remoteNetworkConfig",
    "controlPlaneScalingConfig",
    "kubeApiServerConfig",
    "kubeSchedulerConfig",
    "kubeControllerManagerConfig",
)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def requested_kinds(params: Doc) -> list[str]:
    """The kinds of update a request asks for (EKS allows exactly one)."""
    name = params["name"]
    for member in _UNSUPPORTED_UPDATES:
        if params.get(member) is not None:
            raise errors.invalid_parameter(f"{member} is not supported by openeks", name)
    vpc = params.get("resourcesVpcConfig") or {}
    if vpc.get("controlPlaneEgressMode") not in (None, "AWS_MANAGED"):
        raise errors.invalid_parameter("controlPlaneEgressMode is not supported by openeks", name)
    wanted = {
        "LoggingUpdate": params.get("logging") is not None,
        "EndpointAccessUpdate": any(vpc.get(key) is not None for key in _ENDPOINT_KEYS),
        "VpcConfigUpdate": any(vpc.get(key) is not None for key in _VPC_KEYS),
        "AccessConfigUpdate": (params.get("accessConfig") or {}).get("authenticationMode")
        is not None,
        "UpgradePolicyUpdate": (params.get("upgradePolicy") or {}).get("supportType") is not None,
        "DeletionProtectionUpdate": params.get("deletionProtection") is not None,
        "ZonalShiftConfigUpdate": params.get("zonalShiftConfig") is not None,
    }
    return [kind for kind, asked in wanted.items() if asked]


def _logging_change(cluster: Doc, params: Doc) -> tuple[list[Doc], Apply]:
    current = validation.enabled_log_types(cluster.get("logging"))
    enabled = validation.enabled_log_types(params["logging"], current)
    if enabled == current:
        raise errors.logging_unchanged(cluster["name"])
    value = _compact({"clusterLogging": params["logging"].get("clusterLogging") or []})

    def apply(doc: Doc) -> None:
        doc["logging"] = validation.logging_document(enabled)

    return [{"type": "ClusterLogging", "value": value}], apply


def _endpoint_change(cluster: Doc, params: Doc) -> tuple[list[Doc], Apply]:
    name = cluster["name"]
    current, request = cluster["resourcesVpcConfig"], params["resourcesVpcConfig"]
    merged = {
        key: current.get(key) if request.get(key) is None else request[key]
        for key in _ENDPOINT_KEYS
    }
    merged["publicAccessCidrs"] = list(merged["publicAccessCidrs"] or ["0.0.0.0/0"])
    validation.check_public_cidrs(merged["publicAccessCidrs"], name)
    validation.check_endpoint_access(
        merged["endpointPublicAccess"], merged["endpointPrivateAccess"], name
    )
    if all(merged[key] == current.get(key) for key in _ENDPOINT_KEYS):
        raise errors.endpoint_unchanged(
            name,
            bool(merged["endpointPrivateAccess"]),
            bool(merged["endpointPublicAccess"]),
            merged["publicAccessCidrs"],
        )
    update_params = [
        {"type": "EndpointPublicAccess", "value": str(merged["endpointPublicAccess"]).lower()},
        {"type": "EndpointPrivateAccess", "value": str(merged["endpointPrivateAccess"]).lower()},
        {"type": "PublicAccessCidrs", "value": _compact(merged["publicAccessCidrs"])},
    ]

    def apply(doc: Doc) -> None:
        doc["resourcesVpcConfig"].update(merged)

    return update_params, apply


async def _vpc_change(
    state: RegionState, cluster: Doc, params: Doc, context: RequestContext
) -> tuple[list[Doc], Apply]:
    name = cluster["name"]
    current, request = cluster["resourcesVpcConfig"], params["resourcesVpcConfig"]
    update_params: list[Doc] = []
    changes: Doc = {}
    if request.get("subnetIds") is not None:
        subnets = list(dict.fromkeys(request["subnetIds"]))
        vpc = await validation.check_subnets(state, subnets, name, context.request_id)
        if vpc["VpcId"] != current.get("vpcId"):
            raise errors.invalid_parameter("Subnets specified must belong to the same VPC", name)
        changes["subnetIds"] = subnets
        update_params.append({"type": "Subnets", "value": _compact(subnets)})
    if request.get("securityGroupIds") is not None:
        groups = list(dict.fromkeys(request["securityGroupIds"]))
        validation.check_security_groups(groups, name)
        changes["securityGroupIds"] = groups
        update_params.append({"type": "SecurityGroups", "value": _compact(groups)})
    if all(current.get(key) == value for key, value in changes.items()):
        # (openeks wording)
        raise errors.invalid_parameter(
            "Cluster is already at the desired configuration with the subnets and security "
            "groups provided",
            name,
        )

    def apply(doc: Doc) -> None:
        doc["resourcesVpcConfig"].update(changes)

    return update_params, apply


def _access_change(cluster: Doc, params: Doc) -> tuple[list[Doc], Apply]:
    target = params["accessConfig"]["authenticationMode"]
    current = (cluster.get("accessConfig") or {}).get("authenticationMode") or "CONFIG_MAP"
    validation.check_auth_mode_change(current, target, cluster["name"])

    def apply(doc: Doc) -> None:
        doc.setdefault("accessConfig", {})["authenticationMode"] = target

    return [{"type": "AuthenticationMode", "value": target}], apply


def _simple_change(kind: str, params: Doc) -> tuple[list[Doc], Apply]:
    """Upgrade policy, deletion protection, zonal shift: set as asked."""
    if kind == "UpgradePolicyUpdate":
        member, param_type = "upgradePolicy", "UpgradePolicy"
        value: Any = {"supportType": params["upgradePolicy"]["supportType"]}
    elif kind == "DeletionProtectionUpdate":
        member, param_type = "deletionProtection", "DeletionProtection"
        value = bool(params["deletionProtection"])
    else:
        member, param_type = "zonalShiftConfig", "ZonalShiftConfig"
        value = {"enabled": bool(params["zonalShiftConfig"].get("enabled"))}
    shown = str(value).lower() if isinstance(value, bool) else _compact(value)

    def apply(doc: Doc) -> None:
        doc[member] = value

    return [{"type": param_type, "value": shown}], apply


async def _change_for(
    kind: str, state: RegionState, cluster: Doc, params: Doc, context: RequestContext
) -> tuple[list[Doc], Apply]:
    if kind == "LoggingUpdate":
        return _logging_change(cluster, params)
    if kind == "EndpointAccessUpdate":
        return _endpoint_change(cluster, params)
    if kind == "VpcConfigUpdate":
        return await _vpc_change(state, cluster, params, context)
    if kind == "AccessConfigUpdate":
        return _access_change(cluster, params)
    return _simple_change(kind, params)


async def update_cluster_config(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    name = params["name"]
    cluster = (await load_cluster(state, name)).value
    kinds = requested_kinds(params)
    if len(kinds) > 1:
        raise errors.one_update_type(name)
    if not kinds:
        # (openeks wording)
        raise errors.invalid_parameter("The request specifies no configuration to update", name)
    kind = kinds[0]
    earlier = await replayed(state, name, params)
    if earlier is not None:
        return {"update": shapes.update(earlier)}
    await check_updatable(state, cluster, kind)
    update_params, apply = await _change_for(kind, state, cluster, params, context)

    def change(doc: Doc) -> Doc:
        still_active(kind, name, doc)
        apply(doc)
        return doc

    try:
        await state.mutate(CLUSTERS, name, change)
    except Missing:
        raise errors.cluster_not_found(name) from None
    update = new_update(kind, update_params, "Successful", params)
    await state.create(UPDATES, scoped(name, update["id"]), update)
    if kind == "AccessConfigUpdate":
        await access.bootstrap_creator(state, name)
    return {"update": shapes.update(update)}
