"""The checks EKS makes beyond what the service model can express, with its messages.

The edge has already checked every request against botocore's model (required members,
lengths, enums, the cluster name pattern); what remains needs the region's state or
EKS's own rules: the cluster role must exist in this account and trust
`eks.amazonaws.com`, subnets must exist, share a VPC and span two availability zones,
the service CIDR must be a private /12 to /24 outside the VPC, endpoint access cannot be
switched off entirely, authentication modes only move towards the EKS API, access entry
usernames and groups stay out of reserved prefixes.

Features the model offers that openeks does not run (Outposts, EKS Auto Mode, envelope
encryption, hybrid nodes, IPv6, control plane tiers and component tuning) are refused
with InvalidParameterException instead of being silently accepted.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from openeks.aws.eks import errors
from openeks.region.state import RegionState

Doc = dict[str, Any]

CONTROL_PLANE_TAG = "openeks.io/control-plane"
MODES = {"three-zone": "three-zone", "single-zone": "single-zone"}
MAX_SECURITY_GROUPS = 5
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
AUTH_MODE_ORDER = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
RESERVED_USERNAME_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
ENTRY_TYPES = ("STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX")
_PRIVATE_BLOCKS = tuple(
    ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_ROLE_ARN = re.compile(
    r"^arn:aws:iam::(?P<account>\d{12}):role/(?P<path>(?:[^/]+/)*)(?P<name>[^/]+)$"
)
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\*?$|^[a-z0-9]\*?$|^\*$")


def _unsupported(member: str, cluster: str) -> errors.AwsError:
    # (openeks wording)
    return errors.invalid_parameter(f"{member} is not supported by openeks", cluster)


def check_unsupported(params: Mapping[str, Any], cluster: str) -> None:
    """Refuse the model's features that openeks does not run."""
    enabled = {
        "outpostConfig": params.get("outpostConfig") is not None,
        "encryptionConfig": bool(params.get("encryptionConfig")),
        "remoteNetworkConfig": bool(params.get("remoteNetworkConfig")),
        "computeConfig": bool((params.get("computeConfig") or {}).get("enabled")),
        "storageConfig": bool(
            ((params.get("storageConfig") or {}).get("blockStorage") or {}).get("enabled")
        ),
        "kubeApiServerConfig": params.get("kubeApiServerConfig") is not None,
        "kubeSchedulerConfig": params.get("kubeSchedulerConfig") is not None,
        "kubeControllerManagerConfig": params.get("kubeControllerManagerConfig") is not None,
        "controlPlaneScalingConfig": (params.get("controlPlaneScalingConfig") or {}).get("tier")
        not in (None, "standard"),
    }
    network = params.get("kubernetesNetworkConfig") or {}
    enabled["kubernetesNetworkConfig.ipFamily ipv6"] = network.get("ipFamily") == "ipv6"
    enabled["kubernetesNetworkConfig.elasticLoadBalancing"] = bool(
        (network.get("elasticLoadBalancing") or {}).get("enabled")
    )
    egress = (params.get("resourcesVpcConfig") or {}).get("controlPlaneEgressMode")
    enabled["resourcesVpcConfig.controlPlaneEgressMode"] = egress not in (None, "AWS_MANAGED")
    for member, on in enabled.items():
        if on:
            raise _unsupported(member, cluster)


# -- the cluster role ----------------------------------------------------------------


def _trusts_eks(policy_text: str) -> bool:
    try:
        policy = json.loads(urllib.parse.unquote(policy_text))
    except ValueError:
        return False
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return any(_allows_eks(s) for s in statements or () if isinstance(s, dict))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows_eks(statement: Doc) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    actions = _as_list(statement.get("Action"))
    if not {"sts:AssumeRole", "sts:*", "*"} & set(actions):
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    services = _as_list(principal.get("Service"))
    return "eks.amazonaws.com" in services or "*" in _as_list(principal.get("AWS"))


async def check_role(state: RegionState, arn: str, account: str, cluster: str) -> None:
    """The cluster role must be a role of this account that eks.amazonaws.com may assume."""
    found = _ROLE_ARN.match(arn)
    if found is None:
        raise errors.invalid_role_arn(arn, cluster)
    record = await state.get("roles", found["name"])
    if (
        found["account"] != account
        or record is None
        or record.value.get("Arn") != arn
        or not _trusts_eks(str(record.value.get("AssumeRolePolicyDocument") or ""))
    ):
        raise errors.role_not_assumable(arn, cluster)


# -- networking ----------------------------------------------------------------------


async def check_subnets(
    state: RegionState, subnet_ids: list[str], cluster: str, request_id: str
) -> Doc:
    """The VPC (document) the subnets belong to; they must exist, share one VPC and span
    at least two availability zones."""
    subnets: list[Doc] = []
    for subnet_id in dict.fromkeys(subnet_ids):
        record = await state.get("subnets", subnet_id)
        if record is None:
            raise errors.subnet_not_found(subnet_id, cluster, request_id)
        subnets.append(record.value)
    vpc_ids = {subnet["VpcId"] for subnet in subnets}
    if len(vpc_ids) > 1:
        # (openeks wording)
        raise errors.invalid_parameter("Subnets specified must belong to the same VPC", cluster)
    if len({subnet["AvailabilityZone"] for subnet in subnets}) < 2:
        raise errors.subnets_in_one_zone(cluster)
    vpc = await state.get("vpcs", vpc_ids.pop())
    return vpc.value if vpc is not None else {"VpcId": subnets[0]["VpcId"]}


def vpc_blocks(vpc: Doc) -> list[ipaddress.IPv4Network]:
    blocks = [vpc.get("CidrBlock")] + [
        a.get("CidrBlock") for a in vpc.get("CidrBlockAssociationSet") or ()
    ]
    return [ipaddress.IPv4Network(b) for b in dict.fromkeys(blocks) if b]


def service_cidr(requested: str | None, vpc: Doc, cluster: str) -> str:
    """The service CIDR: as requested (private, /12 to /24, outside the VPC), else
    10.100.0.0/16, or 172.20.0.0/16 when the VPC uses 10.0.0.0/8 addresses."""
    blocks = vpc_blocks(vpc)
    if requested is None:
        default = ipaddress.IPv4Network("10.100.0.0/16")
        if any(block.overlaps(ipaddress.IPv4Network("10.0.0.0/8")) for block in blocks):
            default = ipaddress.IPv4Network("172.20.0.0/16")
        return str(default)
    try:
        network = ipaddress.IPv4Network(requested, strict=True)
    except ValueError:
        # (openeks wording)
        raise errors.invalid_parameter(
            f"The serviceIpv4Cidr {requested} is not a valid IPv4 CIDR block", cluster
        ) from None
    if not any(network.subnet_of(block) for block in _PRIVATE_BLOCKS):
        raise errors.invalid_parameter(
            f"The serviceIpv4Cidr {requested} must be within 10.0.0.0/8, 172.16.0.0/12 or "
            "192.168.0.0/16",
            cluster,
        )
    if not 12 <= network.prefixlen <= 24:
        raise errors.invalid_parameter(
            f"The serviceIpv4Cidr {requested} must have a prefix length between /12 and /24",
            cluster,
        )
    if any(network.overlaps(block) for block in blocks):
        raise errors.invalid_parameter(
            f"The serviceIpv4Cidr {requested} overlaps with the CIDR blocks of VPC "
            f"{vpc.get('VpcId')}",
            cluster,
        )
    return str(network)


def check_public_cidrs(cidrs: Iterable[str], cluster: str) -> None:
    bad = []
    for cidr in cidrs:
        try:
            ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            bad.append(cidr)
    if bad:
        # (openeks wording)
        raise errors.invalid_parameter(
            f"The following CIDRs are invalid in publicAccessCidrs: [{', '.join(bad)}]", cluster
        )


def check_endpoint_access(public: bool, private: bool, cluster: str) -> None:
    if not public and not private:
        # (openeks wording)
        raise errors.invalid_parameter(
            "The cluster endpoint must have public access, private access or both enabled",
            cluster,
        )


def check_security_groups(ids: list[str], cluster: str) -> None:
    if len(ids) > MAX_SECURITY_GROUPS:
        # (openeks wording)
        raise errors.invalid_parameter(
            f"A cluster can have at most {MAX_SECURITY_GROUPS} security groups", cluster
        )


# -- tags, logging, access configuration -----------------------------------------------


def control_plane_mode(tags: Mapping[str, str], cluster: str) -> str:
    """ "three-zone" unless the tag `openeks.io/control-plane` asks for "single-zone"."""
    value = tags.get(CONTROL_PLANE_TAG)
    if value is None:
        return "three-zone"
    if value not in MODES:
        raise errors.invalid_parameter(
            f"The tag {CONTROL_PLANE_TAG} must be one of [three-zone, single-zone], not {value}",
            cluster,
        )
    return MODES[value]


def enabled_log_types(logging: Mapping[str, Any] | None, base: Iterable[str] = ()) -> list[str]:
    """The log types enabled after applying `logging`'s setups, in order, over `base`."""
    enabled = set(base)
    for setup in (logging or {}).get("clusterLogging") or ():
        types = set(setup.get("types") or ())
        if setup.get("enabled"):
            enabled |= types
        else:
            enabled -= types
    return [t for t in LOG_TYPES if t in enabled]


def logging_document(enabled: list[str]) -> Doc:
    """The Logging shape EKS reports: enabled types first, then the disabled ones."""
    disabled = [t for t in LOG_TYPES if t not in enabled]
    setups = []
    if enabled:
        setups.append({"types": enabled, "enabled": True})
    if disabled:
        setups.append({"types": disabled, "enabled": False})
    return {"clusterLogging": setups}


def check_access_config(mode: str, bootstrap: bool, cluster: str) -> None:
    if mode == "CONFIG_MAP" and not bootstrap:
        raise errors.invalid_parameter(
            "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication "
            "mode is set to CONFIG_MAP",
            cluster,
        )


def check_auth_mode_change(current: str, target: str, cluster: str) -> None:
    """Only one step towards the EKS API at a time: CONFIG_MAP → API_AND_CONFIG_MAP → API."""
    if AUTH_MODE_ORDER.index(target) != AUTH_MODE_ORDER.index(current) + 1:
        raise errors.unsupported_auth_mode_update(current, target, cluster)


# -- access entries ------------------------------------------------------------------


def check_entry_type(entry_type: str, cluster: str) -> None:
    if entry_type not in ENTRY_TYPES:
        # (openeks wording)
        raise errors.invalid_parameter(
            f"The access entry type {entry_type} is not valid. Valid types are "
            f"[{', '.join(ENTRY_TYPES)}]",
            cluster,
        )


def check_username(username: str, cluster: str) -> None:
    for prefix in RESERVED_USERNAME_PREFIXES:
        if username.startswith(prefix):
            raise errors.invalid_parameter(f"The username must not begin with {prefix}", cluster)
    for placeholder in ("{{SessionNameRaw}}", "{{SessionName}}"):
        index = username.find(placeholder)
        if index >= 0 and ":" not in username[:index]:
            # (openeks wording)
            raise errors.invalid_parameter(
                f"The username {username} is invalid: a colon must come before {placeholder}",
                cluster,
            )


def check_groups(groups: Iterable[str], cluster: str) -> None:
    for group in groups:
        if group.startswith("system:"):
            raise errors.invalid_parameter(
                f"The kubernetes group name {group} is invalid, it cannot start with system:",
                cluster,
            )


def check_scope(scope: Mapping[str, Any], cluster: str) -> Doc:
    """The access scope as stored: {"type": "cluster"} or a namespace scope."""
    kind = scope.get("type")
    namespaces = list(dict.fromkeys(scope.get("namespaces") or ()))
    if kind == "cluster":
        if namespaces:
            # (openeks wording)
            raise errors.invalid_parameter(
                "namespaces cannot be specified when the access scope type is cluster", cluster
            )
        return {"type": "cluster", "namespaces": []}
    if kind != "namespace" or not namespaces:
        raise errors.invalid_parameter(
            "At least one namespace must be specified when the access scope type is namespace",
            cluster,
        )
    for namespace in namespaces:
        if len(namespace) > 63 or not _NAMESPACE.match(namespace):
            raise errors.invalid_parameter(f"The namespace {namespace} is not valid", cluster)
    return {"type": "namespace", "namespaces": namespaces}
