"""Who an authenticated AWS principal is inside a cluster: pure functions shared by the
EKS API backend and the token authenticator of each cluster's API server.

EKS maps a caller to Kubernetes in two steps, and so do we:

1. `principal_for_lookup(caller_arn)` turns the ARN STS reports for the caller into the
   IAM principal an access entry names. A role's temporary credentials show up as
   `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`; the access entry is for
   `arn:aws:iam::ACCT:role/ROLE` (an entry may carry a role path, which the assumed-role
   ARN does not: `matches()` compares account, kind and name, as EKS compares role ids).
2. `kubernetes_identity(entry, caller_arn, session_name)` expands the entry's username
   template (`{{SessionName}}`, `{{SessionNameRaw}}`, `{{AccountID}}`,
   `{{EC2PrivateDNSName}}`) and lists the groups: the entry's `kubernetesGroups`, plus one
   group per associated access policy, `openeks:eks:<PolicyName>` for cluster scope and
   `openeks:eks:<PolicyName>:<namespace>` for each namespace of a namespace scope. The
   cluster's RBAC binds those groups to the policies' permissions.

In the CONFIG_MAP authentication mode (EKS's default for clusters created through the
API) there are no access entries: the cluster creator is an implicit administrator,
which EKS shows as the user `kubernetes-admin` in `system:masters`
(`creator_identity`); everyone else comes from the `aws-auth` ConfigMap.

`entry_name(principal_arn)` is the region document name of an access entry (under
`accessentries/<cluster>/`): the URL-safe base64 of the principal ARN, without padding.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

POLICY_GROUP_PREFIX = "openeks:eks:"
_ASSUMED_ROLE = re.compile(
    r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d{12}):"
    r"assumed-role/(?P<role>[^/]+)/(?P<session>.+)$"
)
_IAM = re.compile(
    r"^arn:(?P<partition>[^:]+):iam::(?P<account>\d{12}):(?P<kind>user|role|root)(?P<rest>/.*)?$"
)


def entry_name(principal_arn: str) -> str:
    """The document name of `principal_arn`'s access entry within its cluster."""
    return base64.urlsafe_b64encode(principal_arn.encode()).decode().rstrip("=")


def split_caller(caller_arn: str) -> tuple[str, str | None]:
    """(principal ARN for the access-entry lookup, STS session name or None)."""
    found = _ASSUMED_ROLE.match(caller_arn)
    if found is None:
        return caller_arn, None
    role = f"arn:{found['partition']}:iam::{found['account']}:role/{found['role']}"
    return role, found["session"]


def principal_for_lookup(caller_arn: str) -> str:
    """The IAM principal whose access entry applies to `caller_arn` (assumed-role session
    ARNs map to their role; user and root ARNs are their own principal)."""
    return split_caller(caller_arn)[0]


def principal_parts(principal_arn: str) -> tuple[str, str, str] | None:
    """(account, kind "user" | "role" | "root", name without path) of an IAM principal
    ARN, or None when it is not one."""
    found = _IAM.match(principal_arn)
    if found is None:
        return None
    rest = (found["rest"] or "").strip("/")
    if found["kind"] == "root":
        return (found["account"], "root", "") if not rest else None
    if not rest:
        return None
    return found["account"], found["kind"], rest.rsplit("/", 1)[-1]


def matches(entry_principal_arn: str, caller_arn: str) -> bool:
    """Whether an access entry for `entry_principal_arn` applies to `caller_arn`."""
    entry = principal_parts(entry_principal_arn)
    caller = principal_parts(principal_for_lookup(caller_arn))
    return entry is not None and entry == caller


def account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def expand_username(
    template: str,
    caller_arn: str,
    session_name: str | None,
    private_dns_name: str | None = None,
) -> str:
    session = session_name or ""
    values = {
        "{{SessionNameRaw}}": session,
        "{{SessionName}}": session.replace("@", "-"),
        "{{AccountID}}": account_of(caller_arn),
        "{{EC2PrivateDNSName}}": private_dns_name or session,
    }
    username = template
    for placeholder, value in values.items():
        username = username.replace(placeholder, value)
    return username


def policy_groups(policies: list[Mapping[str, Any]]) -> list[str]:
    """The Kubernetes groups standing for an entry's associated access policies."""
    groups: list[str] = []
    for association in policies:
        name = str(association["policyArn"]).rsplit("/", 1)[-1]
        scope = association.get("accessScope") or {}
        if scope.get("type") == "namespace":
            groups += [f"{POLICY_GROUP_PREFIX}{name}:{ns}" for ns in scope.get("namespaces") or ()]
        else:
            groups.append(f"{POLICY_GROUP_PREFIX}{name}")
    return groups


def kubernetes_identity(
    entry: Mapping[str, Any],
    principal_arn: str,
    session_name: str | None,
    *,
    private_dns_name: str | None = None,
) -> tuple[str, list[str]]:
    """(username, groups) for a caller authenticated as `principal_arn` (the caller's ARN
    as STS reports it) whose access entry is `entry` (an `accessentries/` document).

    `session_name` is the STS session name (None for IAM users); for EC2 node entries
    `{{EC2PrivateDNSName}}` becomes `private_dns_name`, or `session_name` when not given
    (callers pass the node name)."""
    if session_name is None:
        session_name = split_caller(principal_arn)[1]
    username = expand_username(
        str(entry.get("username") or principal_arn), principal_arn, session_name, private_dns_name
    )
    groups = list(entry.get("kubernetesGroups") or ())
    for group in policy_groups(list(entry.get("policies") or ())):
        if group not in groups:
            groups.append(group)
    return username, groups


CREATOR_USERNAME = "kubernetes-admin"


def creator_identity(cluster: Mapping[str, Any], caller_arn: str) -> tuple[str, list[str]] | None:
    """The implicit administrator identity of a CONFIG_MAP-mode cluster's creator, when
    `caller_arn` is (a session of) the principal that created `cluster` (a `clusters/`
    document); None otherwise, and always None once the mode includes the EKS API (the
    creator then has an access entry instead)."""
    access = cluster.get("accessConfig") or {}
    if access.get("authenticationMode", "CONFIG_MAP") != "CONFIG_MAP":
        return None
    if access.get("bootstrapClusterCreatorAdminPermissions") is False:
        return None
    creator = str((cluster.get("openeks") or {}).get("creator") or "")
    if not creator or not matches(principal_for_lookup(creator), caller_arn):
        return None
    return CREATOR_USERNAME, ["system:masters"]
