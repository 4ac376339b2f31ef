"""EKS's error codes and the sentences the real service answers with.

Every message that a client might match on lives here, once, so the modules that
enforce a rule only say which rule broke. Wording follows what AWS returns (collected
from SDK error logs, the AWS CLI and the EKS user guide); where AWS's exact sentence
could not be found, the message says plainly what is wrong in the same style and is
marked "(openeks wording)" in a comment.

EKS errors carry modeled members besides `message` (`clusterName`, `nodegroupName`,
...): they are passed as `fields=` and rendered by the rest-json protocol.
"""

from __future__ import annotations

from openeks.aws.errors import (
    AwsError,
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)

__all__ = [
    "AwsError",
    "BadRequestException",
    "InvalidParameterException",
    "InvalidRequestException",
    "NotFoundException",
    "ResourceInUseException",
    "ResourceNotFoundException",
]


class NotFoundException(AwsError):
    """The tagging operations' "no such resource" (not ResourceNotFoundException)."""

    STATUS = 404


class BadRequestException(AwsError):
    """The tagging operations' malformed request."""

    STATUS = 400


def _cluster(name: str) -> dict[str, str]:
    return {"clusterName": name}


# -- clusters ------------------------------------------------------------------------


def cluster_not_found(name: str) -> AwsError:
    return ResourceNotFoundException(f"No cluster found for name: {name}.", fields=_cluster(name))


def cluster_exists(name: str) -> AwsError:
    return ResourceInUseException(
        f"Cluster already exists with name: {name}", fields=_cluster(name)
    )


def cluster_has_nodegroups(name: str, nodegroups: list[str]) -> AwsError:
    return ResourceInUseException(
        "Cluster has nodegroups attached",
        fields={"clusterName": name, "nodegroupName": ",".join(nodegroups)},
    )


def delete_during_update(name: str) -> AwsError:
    return ResourceInUseException(
        f"Cannot delete because cluster {name} currently has an update in progress",
        fields=_cluster(name),
    )


def deletion_protected(name: str) -> AwsError:
    # (openeks wording)
    return InvalidRequestException(
        f"Cluster {name} has deletion protection enabled. Disable deletion protection "
        "with UpdateClusterConfig before deleting the cluster.",
        fields=_cluster(name),
    )


def unsupported_version(version: str, cluster: str | None = None) -> AwsError:
    fields = _cluster(cluster) if cluster else None
    return InvalidParameterException(f"unsupported Kubernetes version {version}", fields=fields)


def unsupported_upgrade(current: str, target: str, cluster: str) -> AwsError:
    return InvalidParameterException(
        f"Unsupported Kubernetes minor version update from {current} to {target}",
        fields=_cluster(cluster),
    )


def invalid_parameter(message: str, cluster: str | None = None) -> AwsError:
    return InvalidParameterException(message, fields=_cluster(cluster) if cluster else None)


def role_not_assumable(arn: str, cluster: str) -> AwsError:
    return InvalidParameterException(
        f"Role with arn: {arn}, could not be assumed because it does not exist or the "
        "trusted entity is not correct",
        fields=_cluster(cluster),
    )


def invalid_role_arn(arn: str, cluster: str) -> AwsError:
    return InvalidParameterException(f"Invalid Role Arn: '{arn}'", fields=_cluster(cluster))


def subnet_not_found(subnet_id: str, cluster: str, request_id: str) -> AwsError:
    # EKS passes EC2's answer through, service call details and all.
    return InvalidParameterException(
        f"The subnet ID '{subnet_id}' does not exist (Service: AmazonEC2; Status Code: 400; "
        f"Error Code: InvalidSubnetID.NotFound; Request ID: {request_id}; Proxy: null)",
        fields=_cluster(cluster),
    )


def subnets_in_one_zone(cluster: str) -> AwsError:
    return InvalidParameterException(
        "Subnets specified must be in at least two different AZs", fields=_cluster(cluster)
    )


def bad_next_token() -> AwsError:
    # (openeks wording)
    return InvalidParameterException("The nextToken provided is invalid.")


# -- updates -------------------------------------------------------------------------


def update_in_progress(kind: str, cluster: str, update_id: str) -> AwsError:
    return ResourceInUseException(
        f"Cannot {kind} because cluster {cluster} currently has update {update_id} in progress",
        fields=_cluster(cluster),
    )


def cluster_not_active(kind: str, cluster: str, status: str) -> AwsError:
    # (openeks wording)
    return ResourceInUseException(
        f"Cannot {kind} because cluster {cluster} is in {status} status, not ACTIVE",
        fields=_cluster(cluster),
    )


def update_not_found(update_id: str, cluster: str) -> AwsError:
    # (openeks wording)
    return ResourceNotFoundException(
        f"No update found for ID: {update_id}.", fields=_cluster(cluster)
    )


def one_update_type(cluster: str) -> AwsError:
    return InvalidParameterException(
        "Only one type of update can be allowed.", fields=_cluster(cluster)
    )


def logging_unchanged(cluster: str) -> AwsError:
    return InvalidParameterException(
        "No changes needed for the logging config provided", fields=_cluster(cluster)
    )


def endpoint_unchanged(cluster: str, private: bool, public: bool, cidrs: list[str]) -> AwsError:
    return InvalidParameterException(
        "Cluster is already at the desired configuration with endpointPrivateAccess: "
        f"{str(private).lower()} , endpointPublicAccess: {str(public).lower()}, and Public "
        f"Endpoint Restrictions: [{', '.join(cidrs)}]",
        fields=_cluster(cluster),
    )


def unsupported_auth_mode_update(current: str, target: str, cluster: str) -> AwsError:
    return InvalidParameterException(
        f"Unsupported authentication mode update from {current} to {target}",
        fields=_cluster(cluster),
    )


# -- Fargate profiles ----------------------------------------------------------------

FARGATE_PROFILE_EXISTS = "A Fargate Profile already exists with this name in this cluster."
FARGATE_NEEDS_SELECTOR = "Fargate Profile requires at least one selector."
FARGATE_SELECTOR_NEEDS_NAMESPACE = (
    "Fargate Profile must have at least one selector with at least one namespace value."
)
FARGATE_TOO_MANY_LABELS = "Request contains Selector with more than 5 Label pairs"
FARGATE_NOT_ACTIVE = "Fargate Profile is currently not in Active State."


def _profile(cluster: str, profile: str) -> dict[str, str]:
    return {"clusterName": cluster, "fargateProfileName": profile}


def fargate_profile_not_found(cluster: str, profile: str) -> AwsError:
    return ResourceNotFoundException(
        f"No Fargate Profile found with name: {profile}.", fields=_profile(cluster, profile)
    )


def fargate_profile_exists(cluster: str) -> AwsError:
    return ResourceInUseException(FARGATE_PROFILE_EXISTS, fields=_cluster(cluster))


def fargate_cluster_not_active(cluster: str) -> AwsError:
    return InvalidRequestException(
        f"Cluster '{cluster}' is not in ACTIVE status", fields=_cluster(cluster)
    )


def fargate_profile_busy(
    verb: str, profile: str, cluster: str, other: str, status: str
) -> AwsError:
    """Another profile of the cluster is CREATING or DELETING (`verb`: "create" or
    "Delete", capitalised as EKS writes each)."""
    return ResourceInUseException(
        f"Cannot {verb} Fargate Profile {profile} because cluster {cluster} currently has "
        f"Fargate profile {other} in status {status}",
        fields=_cluster(cluster),
    )


def fargate_cluster_updating(verb: str, profile: str, cluster: str) -> AwsError:
    return ResourceInUseException(
        f"Cannot {verb} Fargate Profile {profile} because cluster {cluster} currently has an "
        "update in progress",
        fields=_cluster(cluster),
    )


def fargate_profile_not_active(cluster: str, profile: str) -> AwsError:
    return InvalidRequestException(FARGATE_NOT_ACTIVE, fields=_cluster(cluster))


def fargate_invalid(message: str, cluster: str, profile: str) -> AwsError:
    return InvalidParameterException(message, fields=_profile(cluster, profile))


def fargate_subnet_not_private(subnet_id: str, cluster: str, profile: str) -> AwsError:
    message = f"Subnet {subnet_id} provided in Fargate Profile is not a private subnet"
    return fargate_invalid(message, cluster, profile)


def fargate_profile_limit(cluster: str, limit: int) -> AwsError:
    # (openeks wording)
    return AwsError(
        f"Cluster {cluster} already has the maximum of {limit} Fargate Profiles",
        code="ResourceLimitExceededException",
        status=400,
        fields=_cluster(cluster),
    )


def cluster_has_fargate_profiles(cluster: str) -> AwsError:
    return ResourceInUseException(
        "Cluster has Fargate Profiles in ACTIVE/CREATING state", fields=_cluster(cluster)
    )


# -- access entries ------------------------------------------------------------------

AUTH_MODE_WITHOUT_API = (
    "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
    "to perform this operation."
)
ENTRY_IN_USE = "The specified access entry resource is already in use on this cluster."
ENTRY_NOT_FOUND = (
    "The specified principalArn could not be found. You can view your available access "
    "entries with 'list-access-entries'."
)
INVALID_PRINCIPAL = "The specified principalArn is invalid: invalid principal."
STANDARD_ONLY = 'This operation can only be performed on Access Entries with a type of "STANDARD".'


def auth_mode_without_api(cluster: str) -> AwsError:
    return InvalidRequestException(AUTH_MODE_WITHOUT_API, fields=_cluster(cluster))


def entry_in_use(cluster: str) -> AwsError:
    return ResourceInUseException(ENTRY_IN_USE, fields=_cluster(cluster))


def entry_not_found(cluster: str) -> AwsError:
    return ResourceNotFoundException(ENTRY_NOT_FOUND, fields=_cluster(cluster))


def policy_not_associated(cluster: str) -> AwsError:
    return ResourceNotFoundException(
        "The specified policyArn is not associated with the access entry.",
        fields=_cluster(cluster),
    )


def resource_not_found_for_tags() -> AwsError:
    return NotFoundException("Resource was not found")


# -- node groups ---------------------------------------------------------------------


def _nodegroup(cluster: str, nodegroup: str) -> dict[str, str]:
    return {"clusterName": cluster, "nodegroupName": nodegroup}


def nodegroup_not_found(cluster: str, nodegroup: str) -> AwsError:
    return ResourceNotFoundException(
        f"No node group found for name: {nodegroup}.", fields=_nodegroup(cluster, nodegroup)
    )


def nodegroup_exists(cluster: str, nodegroup: str) -> AwsError:
    return ResourceInUseException(
        f"NodeGroup already exists with name {nodegroup} and cluster name {cluster}",
        fields=_nodegroup(cluster, nodegroup),
    )


def cluster_not_ready(cluster: str, nodegroup: str) -> AwsError:
    return InvalidRequestException(
        f"Cluster '{cluster}' is not in ACTIVE status", fields=_nodegroup(cluster, nodegroup)
    )


def nodegroup_parameter(message: str, cluster: str, nodegroup: str) -> AwsError:
    return InvalidParameterException(message, fields=_nodegroup(cluster, nodegroup))


def nodegroup_request(message: str, cluster: str, nodegroup: str) -> AwsError:
    return InvalidRequestException(message, fields=_nodegroup(cluster, nodegroup))


def nodegroup_subnet_not_found(
    subnet_id: str, cluster: str, nodegroup: str, request_id: str
) -> AwsError:
    error = subnet_not_found(subnet_id, cluster, request_id)
    error.fields["nodegroupName"] = nodegroup
    return error


def nodegroup_update_in_progress(cluster: str, nodegroup: str, update_id: str) -> AwsError:
    # (openeks wording)
    return ResourceInUseException(
        f"Nodegroup {nodegroup} in cluster {cluster} currently has update {update_id} in progress",
        fields=_nodegroup(cluster, nodegroup),
    )


def nodegroups_behind(cluster: str, nodegroups: list[str], version: str) -> AwsError:
    # EKS's sentence; the error code is an assumption (the status is 400)
    return InvalidRequestException(
        f"Nodegroups {','.join(nodegroups)} must be updated to match cluster version {version} "
        "before updating cluster version",
        fields=_cluster(cluster),
    )


def nodegroup_not_updatable(cluster: str, nodegroup: str, status: str) -> AwsError:
    # (openeks wording)
    return ResourceInUseException(
        f"Nodegroup {nodegroup} cannot be updated while it is in {status} status",
        fields=_nodegroup(cluster, nodegroup),
    )
