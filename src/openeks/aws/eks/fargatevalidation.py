"""The checks CreateFargateProfile makes beyond the service model, with EKS's messages.

A profile has one to five selectors; each names a namespace and at most five labels, and
namespaces, label keys and label values may use the `*` and `?` wildcards on top of the
characters Kubernetes allows (`openeks.region.fargate.selectors` does the matching). The
pod execution role must be a role of the cluster's account. Subnets must exist, belong to
the cluster's VPC and be private: Fargate pods get no public address, so EKS refuses a
subnet with a route to an internet gateway. openeks has no route tables; a subnet is
public when it assigns public addresses on launch (`MapPublicIpOnLaunch`, true for the
default VPC's subnets, false for subnets made with CreateSubnet). Without `subnets` a
profile takes the cluster's private subnets, as the EKS console preselects them.

Messages EKS is known to answer come from `errors`; the others are marked "(openeks
wording)".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openeks.aws.eks import errors
from openeks.region.state import RegionState

Doc = dict[str, Any]

MAX_SELECTORS = 5
MAX_LABELS = 5
_ROLE_ARN = re.compile(r"^arn:aws:iam::(?P<account>\d{12}):role/(?:[^/]+/)*(?P<name>[^/]+)$")
_W = "a-z0-9*?"  # a namespace's characters, wildcards included
_NAMESPACE = re.compile(rf"^[{_W}]([-{_W}]*[{_W}])?$")
_NAME = "[A-Za-z0-9*?]([-A-Za-z0-9_.*?]*[A-Za-z0-9*?])?"
_LABEL_KEY = re.compile(rf"^([{_W}]([-.{_W}]*[{_W}])?/)?{_NAME}$")
_LABEL_VALUE = re.compile(rf"^({_NAME})?$")


@dataclass(frozen=True)
class Checked:
    """What a valid request resolves to: the selectors and subnets to store."""

    selectors: list[Doc]
    subnets: list[str]


# -- selectors -------------------------------------------------------------------------


def _invalid(message: str, cluster: str, profile: str) -> errors.AwsError:
    return errors.fargate_invalid(message, cluster, profile)


def _check_labels(labels: Mapping[str, str], cluster: str, profile: str) -> None:
    if len(labels) > MAX_LABELS:
        raise _invalid(errors.FARGATE_TOO_MANY_LABELS, cluster, profile)
    for key, value in labels.items():
        if len(key) > 316 or not _LABEL_KEY.match(key):
            # (openeks wording)
            raise _invalid(f"The label key {key} in a selector is not valid", cluster, profile)
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            # (openeks wording)
            raise _invalid(
                f"The label value {value} of key {key} in a selector is not valid", cluster, profile
            )


def check_selectors(selectors: list[Doc] | None, cluster: str, profile: str) -> list[Doc]:
    """The selectors as stored: `namespace`, and `labels` when the request has them."""
    if not selectors:
        raise _invalid(errors.FARGATE_NEEDS_SELECTOR, cluster, profile)
    if len(selectors) > MAX_SELECTORS:
        # (openeks wording)
        raise _invalid(f"Request contains more than {MAX_SELECTORS} Selectors", cluster, profile)
    stored = []
    for selector in selectors:
        namespace = selector.get("namespace")
        if not namespace:
            raise _invalid(errors.FARGATE_SELECTOR_NEEDS_NAMESPACE, cluster, profile)
        if len(namespace) > 63 or not _NAMESPACE.match(namespace):
            # (openeks wording)
            raise _invalid(
                f"The namespace {namespace} in a selector is not valid", cluster, profile
            )
        entry: Doc = {"namespace": namespace}
        if selector.get("labels") is not None:
            _check_labels(selector["labels"], cluster, profile)
            entry["labels"] = dict(selector["labels"])
        stored.append(entry)
    return stored


# -- the pod execution role ------------------------------------------------------------


async def check_pod_execution_role(
    state: RegionState, arn: str, account: str, cluster: str, profile: str
) -> None:
    """The role must be an existing role of the cluster's account."""
    found = _ROLE_ARN.match(arn)
    if found is None:
        # (openeks wording)
        raise _invalid(f"Invalid Pod Execution Role Arn: '{arn}'", cluster, profile)
    record = await state.get("roles", found["name"])
    if found["account"] != account or record is None or record.value.get("Arn") != arn:
        # (openeks wording)
        raise _invalid(
            f"Pod execution role with arn: {arn} does not exist in account {account}",
            cluster,
            profile,
        )


# -- subnets ---------------------------------------------------------------------------


def is_private(subnet: Doc) -> bool:
    return not subnet.get("MapPublicIpOnLaunch")


async def _subnet(
    state: RegionState, subnet_id: str, cluster: str, profile: str, request_id: str
) -> Doc:
    record = await state.get("subnets", subnet_id)
    if record is None:
        error = errors.subnet_not_found(subnet_id, cluster, request_id)
        error.fields["fargateProfileName"] = profile
        raise error
    return record.value


async def _requested_subnets(
    state: RegionState, subnet_ids: list[str], cluster: Doc, profile: str, request_id: str
) -> list[str]:
    name = cluster["name"]
    vpc_id = (cluster.get("resourcesVpcConfig") or {}).get("vpcId")
    for subnet_id in subnet_ids:
        subnet = await _subnet(state, subnet_id, name, profile, request_id)
        if vpc_id and subnet.get("VpcId") != vpc_id:
            # (openeks wording)
            raise _invalid(
                f"Subnet {subnet_id} provided in Fargate Profile is not in the cluster's VPC "
                f"{vpc_id}",
                name,
                profile,
            )
        if not is_private(subnet):
            raise errors.fargate_subnet_not_private(subnet_id, name, profile)
    return subnet_ids


async def _cluster_private_subnets(state: RegionState, cluster: Doc, profile: str) -> list[str]:
    private = []
    for subnet_id in (cluster.get("resourcesVpcConfig") or {}).get("subnetIds") or ():
        record = await state.get("subnets", subnet_id)
        if record is not None and is_private(record.value):
            private.append(subnet_id)
    if not private:
        # (openeks wording)
        raise _invalid(
            f"Cluster {cluster['name']} has no private subnets; specify the private subnets "
            "to launch Fargate pods into",
            cluster["name"],
            profile,
        )
    return private


async def check_subnets(
    state: RegionState, subnet_ids: list[str] | None, cluster: Doc, profile: str, request_id: str
) -> list[str]:
    """The profile's subnets: the requested ones (existing, in the cluster's VPC,
    private), else the cluster's private subnets."""
    if subnet_ids:
        unique = list(dict.fromkeys(subnet_ids))
        return await _requested_subnets(state, unique, cluster, profile, request_id)
    return await _cluster_private_subnets(state, cluster, profile)


async def check_request(
    state: RegionState, params: Doc, cluster: Doc, account: str, request_id: str
) -> Checked:
    """Every check of a CreateFargateProfile request, in EKS's order."""
    name, profile = cluster["name"], params["fargateProfileName"]
    selectors = check_selectors(params.get("selectors"), name, profile)
    await check_pod_execution_role(state, params["podExecutionRoleArn"], account, name, profile)
    subnets = await check_subnets(state, params.get("subnets"), cluster, profile, request_id)
    return Checked(selectors, subnets)
