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
