"""The AWS-managed access policies, as ListAccessPolicies names them.

Access policies are fixed sets of Kubernetes permissions that EKS authorizes for the
principals they are associated with. Their names and ARNs are AWS's
(`arn:aws:eks::aws:cluster-access-policy/<Name>`); what each permits is enforced inside
the cluster through the groups `identity.policy_groups` derives from associations.
Policies AWS reserves for its own service-linked roles (Auto Mode, hybrid nodes,
insights) are listed, as AWS lists them, but cannot be associated.
"""

from __future__ import annotations

from typing import Any

from openeks.aws.eks import errors
from openeks.aws.eks.pagination import page

Doc = dict[str, Any]

ARN_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
CLUSTER_ADMIN = f"{ARN_PREFIX}AmazonEKSClusterAdminPolicy"

ASSOCIABLE = (
    "AmazonAIOpsAssistantPolicy",
    "AmazonARCRegionSwitchScalingPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSSecretReaderPolicy",
    "AmazonEKSViewPolicy",
)
SERVICE_LINKED_ONLY = (
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStorageClusterPolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSClusterInsightsPolicy",
    "AmazonEKSComputeClusterPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSHybridPolicy",
    "AmazonEKSLoadBalancingClusterPolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingClusterPolicy",
    "AmazonEKSNetworkingPolicy",
)
NAMES = tuple(sorted(ASSOCIABLE + SERVICE_LINKED_ONLY))


def arn(name: str) -> str:
    return f"{ARN_PREFIX}{name}"


def name_of(policy_arn: str) -> str | None:
    """The policy's name if `policy_arn` is one of the access policies, else None."""
    if not policy_arn.startswith(ARN_PREFIX):
        return None
    name = policy_arn.removeprefix(ARN_PREFIX)
    return name if name in NAMES else None


def check_associable(policy_arn: str, cluster: str) -> None:
    name = name_of(policy_arn)
    if name is None:
        # (openeks wording)
        raise errors.invalid_parameter(
            f"The policyArn {policy_arn} is not a valid access policy", cluster
        )
    if name in SERVICE_LINKED_ONLY:
        # (openeks wording)
        raise errors.invalid_parameter(
            f"The access policy {name} can only be associated with an AWS service-linked role",
            cluster,
        )


def list_access_policies(params: Doc) -> Doc:
    """ListAccessPolicies: every policy, by name, paginated."""
    items, token = page(
        list(NAMES),
        lambda name: name,
        "access-policies",
        params.get("maxResults"),
        params.get("nextToken"),
    )
    result: Doc = {"accessPolicies": [{"name": name, "arn": arn(name)} for name in items]}
    if token:
        result["nextToken"] = token
    return result
