"""Printers for rbac.authorization.k8s.io/v1 RoleBindings and ClusterRoleBindings.

ROLE reads `Kind/name` from the role reference; the wide columns split the subjects into
users, groups and `namespace/name` service accounts, each joined with ", ". Roles and
ClusterRoles have no printer upstream and print with the default Name / Created At table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import column, mapping, name_of, seq, text
from openeks.kube.api.printers.core import AGE, NAME, age
from openeks.kube.api.printers.descriptions import doc
from openeks.kube.api.printers.printer import Printer


def subjects_strings(subjects: Any) -> tuple[list[str], list[str], list[str]]:
    """`rbac.SubjectsStrings`: users, groups and service accounts (others are dropped)."""
    users: list[str] = []
    groups: list[str] = []
    service_accounts: list[str] = []
    for subject in seq(subjects):
        subject = mapping(subject)
        kind, name = subject.get("kind"), text(subject.get("name"))
        if kind == "ServiceAccount":
            service_accounts.append(f"{text(subject.get('namespace'))}/{name}")
        elif kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
    return users, groups, service_accounts


def binding_cells(binding: Mapping[str, Any], now: datetime) -> list[Any]:
    role_ref = mapping(binding.get("roleRef"))
    users, groups, service_accounts = subjects_strings(binding.get("subjects"))
    return [
        name_of(binding),
        f"{text(role_ref.get('kind'))}/{text(role_ref.get('name'))}",
        age(binding, now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(service_accounts),
    ]


def _binding_printer(scope: str, role_ref_doc: str) -> Printer:
    return Printer(
        (
            NAME,
            column("Role", "string", doc(role_ref_doc)),
            AGE,
            column("Users", "string", f"Users in the {scope}", priority=1),
            column("Groups", "string", f"Groups in the {scope}", priority=1),
            column("ServiceAccounts", "string", f"ServiceAccounts in the {scope}", priority=1),
        ),
        binding_cells,
    )


ROLE_BINDING = _binding_printer("roleBinding", "RoleBinding.roleRef")
CLUSTER_ROLE_BINDING = _binding_printer("clusterRoleBinding", "ClusterRoleBinding.roleRef")

PRINTERS = {
    ("rbac.authorization.k8s.io", "rolebindings"): ROLE_BINDING,
    ("rbac.authorization.k8s.io", "clusterrolebindings"): CLUSTER_ROLE_BINDING,
}
