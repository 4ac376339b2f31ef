"""Managed node groups: EKS's defaults and the checks it makes beyond the service model.

The edge has already checked the request against botocore's model (required members,
label and taint lengths, enums such as the taint effect and capacity type); what remains
is EKS's own rules, each raising InvalidParameterException (or InvalidRequestException
where EKS answers that) with EKS's sentence where it is known:

- scaling: min ≤ desired ≤ max ("minSize can't be greater than desiredSize" at create,
  "Minimum capacity 3 can't be greater than desired size 2" on update); missing members
  default to min 1, max 2, desired 2, filled so that the members given stay valid;
- instance types must be ones openeks knows (`openeks.kube.node.instancetypes`, default
  t3.medium) and suit the AMI type's architecture ("[t3.medium] is not a valid instance
  type for requested amiType AL2_ARM_64"); AL2 AMIs stop at Kubernetes 1.32, as on EKS;
- labels and taints follow Kubernetes' syntax; at most 50 taints, unique by key and effect;
- updateConfig takes maxUnavailable (1 to 100, default 1) or maxUnavailablePercentage;
- the node role must be an IAM role of this account; subnets must exist, not repeat and
  lie in the cluster's VPC;
- version defaults to the cluster's, may trail it by up to three minors but never lead it;
  the AMI release version is the one openeks ships per minor (`release_version`).

The runtime of a node group's nodes is chosen, like the control plane's mode, by a name
EKS has no field for: the label or tag `openeks.io/runtime` = `runc` (default) or
`simulated`, read once at creation (`openeks.runtime`); later label or tag changes do
not move running nodes to another runtime.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from openeks.aws.eks import errors
from openeks.aws.eks.versions import Versions
from openeks.kube.node.instancetypes import INSTANCE_TYPES
from openeks.region.state import RegionState

Doc = dict[str, Any]

DEFAULT_SCALING = {"minSize": 1, "maxSize": 2, "desiredSize": 2}
DEFAULT_INSTANCE_TYPE = "t3.medium"
DEFAULT_AMI_TYPE = "AL2023_x86_64_STANDARD"
DEFAULT_CAPACITY_TYPE = "ON_DEMAND"
DEFAULT_DISK_SIZE = 20
DEFAULT_MAX_UNAVAILABLE = 1
AMI_RELEASE = "20261101"
"""The build date of the one node image openeks ships per Kubernetes minor."""
MAX_TAINTS = 50
MAX_INSTANCE_TYPES = 20
MAX_UNAVAILABLE = 100
VERSION_SKEW = 3
RUNTIME_KEY = "openeks.io/runtime"
RUNTIMES = ("runc", "simulated")
AL2_LAST_MINOR = (1, 32)
_X86 = ("AL2_x86_64", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_x86_64_FIPS")
_ARM = ("AL2_ARM_64", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_ARM_64_FIPS")
AMI_ARCHITECTURES: dict[str, str] = {
    **dict.fromkeys(_X86, "amd64"),
    **dict.fromkeys(_ARM, "arm64"),
}
"""AMI type -> the architecture its instances need; accelerated (GPU, Neuron) AMI types
are absent: no instance type openeks knows has an accelerator."""
_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ROLE_ARN = re.compile(r"^arn:aws:iam::(?P<account>\d{12}):role/(?:[^/]+/)*(?P<name>[^/]+)$")


@dataclass(frozen=True)
class Names:
    """The cluster and node group a request is about, for error fields."""

    cluster: str
    nodegroup: str

    def invalid(self, message: str) -> errors.AwsError:
        return errors.nodegroup_parameter(message, self.cluster, self.nodegroup)

    def refused(self, message: str) -> errors.AwsError:
        return errors.nodegroup_request(message, self.cluster, self.nodegroup)


def check_unsupported(params: Mapping[str, Any], names: Names) -> None:
    """Refuse what the model offers and openeks does not run. (openeks wording)"""
    if params.get("warmPoolConfig") is not None:
        raise names.invalid("warmPoolConfig is not supported by openeks")
    if params.get("capacityType") == "CAPACITY_BLOCK":
        raise names.invalid("capacityType CAPACITY_BLOCK is not supported by openeks")
    ami_type = str(params.get("amiType") or "")
    if ami_type.startswith("WINDOWS_"):
        raise names.invalid(f"amiType {ami_type} is not supported by openeks")


# -- scaling -------------------------------------------------------------------------


def creation_scaling(requested: Mapping[str, Any] | None, names: Names) -> Doc:
    """The scaling config of a new node group: EKS's defaults for what is missing."""
    given = {k: v for k, v in (requested or {}).items() if v is not None}
    low = given.get("minSize", DEFAULT_SCALING["minSize"])
    high = given.get("maxSize", max(DEFAULT_SCALING["maxSize"], low, given.get("desiredSize", 0)))
    desired = given.get("desiredSize", min(max(DEFAULT_SCALING["desiredSize"], low), high))
    if low > desired:
        raise names.invalid("minSize can't be greater than desiredSize")
    if desired > high:
        raise names.invalid("desiredSize can't be greater than maxSize")
    return {"minSize": low, "maxSize": high, "desiredSize": desired}


def updated_scaling(current: Mapping[str, Any], requested: Mapping[str, Any], names: Names) -> Doc:
    """The scaling config after an update that names some of its members."""
    merged = {k: current[k] if requested.get(k) is None else requested[k] for k in DEFAULT_SCALING}
    low, high, desired = merged["minSize"], merged["maxSize"], merged["desiredSize"]
    if low > desired:
        raise names.invalid(f"Minimum capacity {low} can't be greater than desired size {desired}")
    if desired > high:
        # (openeks wording, after the sentence above)
        raise names.invalid(f"Desired capacity {desired} can't be greater than max size {high}")
    return merged


# -- instances -----------------------------------------------------------------------


def check_instance_types(types: list[str], ami_type: str, names: Names) -> None:
    if len(types) > MAX_INSTANCE_TYPES:
        # (openeks wording)
        raise names.invalid(f"A node group can have at most {MAX_INSTANCE_TYPES} instance types")
    for name in types:
        if name not in INSTANCE_TYPES:
            # (openeks wording)
            raise names.invalid(f"Instance type {name} is not supported by openeks")
    if ami_type == "CUSTOM":
        return
    architecture = AMI_ARCHITECTURES.get(ami_type)
    unfit = [t for t in types if INSTANCE_TYPES[t].architecture != architecture]
    if unfit:
        raise names.invalid(
            f"[{', '.join(unfit)}] is not a valid instance type for requested amiType {ami_type}"
        )


def check_ami_version(ami_type: str, version: str, names: Names) -> None:
    if ami_type.startswith("AL2_") and minor_key(version) > AL2_LAST_MINOR:
        # (openeks wording)
        raise names.invalid(
            f"AMI type {ami_type} is not supported for Kubernetes version {version}"
        )


def check_disk_size(size: int, names: Names) -> None:
    if size < 1:
        # (openeks wording)
        raise names.invalid(f"diskSize {size} is invalid; it must be at least 1 GiB")


# -- labels and taints ---------------------------------------------------------------


def _qualified_name(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_NAME.match(name))


def check_labels(labels: Mapping[str, str], names: Names) -> None:
    for key, value in labels.items():
        if not _qualified_name(key):
            # (openeks wording)
            raise names.invalid(f"Label key {key} is not a valid Kubernetes label key")
        if len(value) > 63 or not _NAME.match(value):
            # (openeks wording)
            raise names.invalid(f"Label value {value} for key {key} is not a valid label value")


def taint_id(taint: Mapping[str, Any]) -> tuple[str, str]:
    return str(taint.get("key")), str(taint.get("effect"))


def check_taints(taints: Iterable[Mapping[str, Any]], names: Names) -> list[Doc]:
    """The taints as stored ({key, value?, effect}), checked."""
    checked: dict[tuple[str, str], Doc] = {}
    for taint in taints:
        key, value, effect = taint.get("key"), taint.get("value"), taint.get("effect")
        if not key or not effect:
            # (openeks wording)
            raise names.invalid("A taint needs both a key and an effect")
        if not _qualified_name(key):
            # (openeks wording)
            raise names.invalid(f"Taint key {key} is not a valid Kubernetes taint key")
        if value is not None and (len(value) > 63 or not _NAME.match(value)):
            # (openeks wording)
            raise names.invalid(f"Taint value {value} for key {key} is not a valid taint value")
        if (key, effect) in checked:
            # (openeks wording)
            raise names.invalid(f"Duplicate taint with key {key} and effect {effect}")
        checked[(key, effect)] = {
            "key": key,
            "effect": effect,
            **({"value": value} if value is not None else {}),
        }
    if len(checked) > MAX_TAINTS:
        # (openeks wording)
        raise names.invalid(f"A node group can have at most {MAX_TAINTS} taints")
    return list(checked.values())


# -- updates -------------------------------------------------------------------------


def update_config(
    requested: Mapping[str, Any] | None, current: Mapping[str, Any] | None, names: Names
) -> Doc:
    """The node group's updateConfig: maxUnavailable or maxUnavailablePercentage (the
    one given replaces the other) and the update strategy."""
    requested = requested or {}
    count, percent = requested.get("maxUnavailable"), requested.get("maxUnavailablePercentage")
    if count is not None and percent is not None:
        # (openeks wording)
        raise names.invalid(
            "Only one of maxUnavailable and maxUnavailablePercentage can be specified"
        )
    if count is not None and count > MAX_UNAVAILABLE:
        # (openeks wording)
        raise names.invalid(f"maxUnavailable must be less than or equal to {MAX_UNAVAILABLE}")
    result: Doc = dict(current or {"maxUnavailable": DEFAULT_MAX_UNAVAILABLE})
    if count is not None:
        result.pop("maxUnavailablePercentage", None)
        result["maxUnavailable"] = count
    if percent is not None:
        result.pop("maxUnavailable", None)
        result["maxUnavailablePercentage"] = percent
    if requested.get("updateStrategy") is not None:
        result["updateStrategy"] = requested["updateStrategy"]
    return result


# -- role and subnets ----------------------------------------------------------------


async def check_node_role(state: RegionState, arn: str, account: str, names: Names) -> None:
    """The node role must be an existing IAM role of this account."""
    found = _ROLE_ARN.match(arn)
    if found is None:
        raise names.invalid(f"Invalid Role Arn: '{arn}'")
    record = await state.get("roles", found["name"])
    if found["account"] != account or record is None or record.value.get("Arn") != arn:
        # (openeks wording: IAM's sentence for a missing role)
        raise names.invalid(f"The role with name {found['name']} cannot be found.")


async def check_subnets(
    state: RegionState, subnet_ids: list[str], vpc_id: str, names: Names, request_id: str
) -> None:
    """The node group's subnets must exist, not repeat, and lie in the cluster's VPC."""
    if not subnet_ids:
        # (openeks wording)
        raise names.invalid("Subnets can't be empty")
    if len(set(subnet_ids)) != len(subnet_ids):
        raise names.invalid("One or more subnets are duplicate")
    for subnet_id in subnet_ids:
        record = await state.get("subnets", subnet_id)
        if record is None:
            raise errors.nodegroup_subnet_not_found(
                subnet_id, names.cluster, names.nodegroup, request_id
            )
        if record.value.get("VpcId") != vpc_id:
            # (openeks wording)
            raise names.invalid(f"Subnet {subnet_id} is not in the cluster's VPC {vpc_id}")


# -- versions ------------------------------------------------------------------------


def minor_key(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor.split(".")[0] or 0)


def release_version(version: str) -> str:
    """The AMI release openeks ships for a Kubernetes minor ("1.37.0-20261101")."""
    return f"{version}.0-{AMI_RELEASE}"


def release_minor(release: str) -> str | None:
    found = re.match(r"^(\d+\.\d+)\.\d+-\d{8}$", release)
    return found[1] if found else None


def check_version(
    version: str, cluster_version: str, served: Versions, names: Names, *, lowest: str | None = None
) -> None:
    """`version` must be served, not newer than the cluster's, at most three minors
    behind it, and not older than `lowest` (the node group's current version)."""
    if not served.supported(version):
        raise names.invalid(f"unsupported Kubernetes version {version}")
    if minor_key(version) > minor_key(cluster_version):
        # (openeks wording)
        raise names.invalid(
            f"Requested Nodegroup version {version} is invalid. Nodegroup version must not be "
            f"newer than cluster version {cluster_version}"
        )
    if lowest is not None and minor_key(version) < minor_key(lowest):
        # (openeks wording)
        raise names.invalid(
            f"Requested Nodegroup version {version} is invalid. Nodegroup version cannot be "
            f"downgraded from {lowest}"
        )
    major, minor = minor_key(version)
    cluster_major, cluster_minor = minor_key(cluster_version)
    if major != cluster_major or cluster_minor - minor > VERSION_SKEW:
        # (openeks wording)
        raise names.invalid(
            f"Requested Nodegroup version {version} is invalid. Nodegroup version can be at "
            f"most {VERSION_SKEW} minor versions older than cluster version {cluster_version}"
        )


def check_release(release: str | None, version: str, names: Names) -> str:
    """The release version to run: `release` if it is the one for `version`."""
    allowed = release_version(version)
    if release is not None and release != allowed:
        raise names.invalid(
            f"Requested Nodegroup release version {release} is invalid. Allowed release "
            f"version is {allowed}"
        )
    return allowed


# -- runtime -------------------------------------------------------------------------


def runtime(labels: Mapping[str, str], tags: Mapping[str, str], names: Names) -> str:
    """ "simulated" or "runc", from the label or tag `openeks.io/runtime`."""
    chosen = {value for value in (labels.get(RUNTIME_KEY), tags.get(RUNTIME_KEY)) if value}
    for value in chosen:
        if value not in RUNTIMES:
            # (openeks wording)
            raise names.invalid(
                f"The label or tag {RUNTIME_KEY} must be one of [{', '.join(RUNTIMES)}], "
                f"not {value}"
            )
    if len(chosen) > 1:
        # (openeks wording)
        raise names.invalid(f"The label and the tag {RUNTIME_KEY} disagree")
    return chosen.pop() if chosen else "runc"
