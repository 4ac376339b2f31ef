"""The RBAC objects a Kubernetes 1.37 API server bootstraps, plus the few openeks needs.

Upstream's API server, at start, reconciles `bootstrappolicy.ClusterRoles()` and
`ControllerRoles()` (ClusterRoles), `ClusterRoleBindings()` and
`ControllerRoleBindings()`, and the per-namespace Roles and RoleBindings of
`NamespaceRoles()` / `NamespaceRoleBindings()`. The functions here return the same
objects as complete `rbac.authorization.k8s.io/v1` dicts, fresh on every call (callers
may mutate them). Their rules are the tables of `bootstrap_rules`; this module only
shapes objects, so what upstream grants stays in one place, line for line.

`openeks_additions()` is kept apart: it holds what openeks grants beyond upstream
because it runs its components differently (no Node authorizer; one controller-manager
identity instead of a ServiceAccount per controller).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openeks.kube.api.rbac.bootstrap_rules import (
    AGGREGATE,
    AGGREGATE_LABELS,
    AGGREGATED_ROLES,
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    CONTROLLER_ROLES,
    NAMESPACE_ROLE_BINDINGS,
    NAMESPACE_ROLES,
    Rule,
    rule,
)

__all__ = [
    "CONTROLLER_PREFIX",
    "cluster_role_bindings",
    "cluster_roles",
    "controller_role_bindings",
    "controller_roles",
    "namespace_role_bindings",
    "namespace_roles",
    "openeks_additions",
    "rule",
]

Obj = dict[str, Any]

API_VERSION = "rbac.authorization.k8s.io/v1"
GROUP = "rbac.authorization.k8s.io"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
CONTROLLER_PREFIX = "system:controller:"

CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
NODES_GROUP = "system:nodes"
OPENEKS_CONTROLLER_MANAGER = "openeks:controller-manager"
OPENEKS_NODES = "openeks:nodes"


# -- object shapes -----------------------------------------------------------------------


def _metadata(name: str, namespace: str = "", labels: dict[str, str] | None = None) -> Obj:
    meta: Obj = {
        "name": name,
        "labels": {**BOOTSTRAP_LABELS, **(labels or {})},
        "annotations": dict(AUTOUPDATE),
    }
    if namespace:
        meta["namespace"] = namespace
    return meta


def _copy(rules: Iterable[Rule]) -> list[Rule]:
    return [{key: list(values) for key, values in r.items()} for r in rules]


def _role(kind: str, name: str, rules: Iterable[Rule], namespace: str = "", **labels: str) -> Obj:
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": _metadata(name, namespace, labels),
        "rules": _copy(rules),
    }


def _subject(kind: str, name: str) -> Obj:
    if kind == "ServiceAccount":
        namespace, _, sa_name = name.partition("/")
        return {"kind": kind, "name": sa_name, "namespace": namespace}
    return {"apiGroup": GROUP, "kind": kind, "name": name}


def _binding(
    kind: str,
    name: str,
    role: str,
    subjects: Iterable[tuple[str, str]],
    namespace: str = "",
) -> Obj:
    obj: Obj = {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": _metadata(name, namespace),
        "roleRef": {
            "apiGroup": GROUP,
            "kind": "ClusterRole" if kind == "ClusterRoleBinding" else "Role",
            "name": role,
        },
    }
    listed = [_subject(k, n) for k, n in subjects]
    if listed:  # upstream omits an empty `subjects` (the deprecated system:node binding)
        obj["subjects"] = listed
    return obj


def _aggregated(name: str, carries: str | None, collects: str) -> Obj:
    labels = {f"{AGGREGATE}{carries}": "true"} if carries else {}
    return {
        "apiVersion": API_VERSION,
        "kind": "ClusterRole",
        "metadata": _metadata(name, labels=labels),
        "aggregationRule": {
            "clusterRoleSelectors": [{"matchLabels": {AGGREGATE + collects: "true"}}]
        },
        # Go encodes the nil slice as null; the aggregation controller fills it in.
        "rules": None,
    }


# -- upstream ----------------------------------------------------------------------------


def _policy_roles() -> list[Obj]:
    roles = [_aggregated(name, *labels) for name, labels in AGGREGATED_ROLES.items()]
    for name, rules in CLUSTER_ROLES.items():
        carries = AGGREGATE_LABELS.get(name)
        extra = {f"{AGGREGATE}{carries}": "true"} if carries else {}
        roles.append(_role("ClusterRole", name, rules, **extra))
    return sorted(roles, key=_name)


def controller_roles() -> list[dict[str, Any]]:
    """`system:controller:<name>` ClusterRoles, one per kube-controller-manager loop."""
    return [
        _role("ClusterRole", CONTROLLER_PREFIX + name, rules)
        for name, rules in sorted(CONTROLLER_ROLES.items())
    ]


def controller_role_bindings() -> list[dict[str, Any]]:
    """Each controller role bound to its ServiceAccount `kube-system/<name>`."""
    return [
        _binding(
            "ClusterRoleBinding",
            CONTROLLER_PREFIX + name,
            CONTROLLER_PREFIX + name,
            [("ServiceAccount", f"kube-system/{name}")],
        )
        for name in sorted(CONTROLLER_ROLES)
    ]


def cluster_roles() -> list[dict[str, Any]]:
    """Every bootstrap ClusterRole: `ClusterRoles()` then `ControllerRoles()`, by name."""
    return _policy_roles() + controller_roles()


def cluster_role_bindings() -> list[dict[str, Any]]:
    """Every bootstrap ClusterRoleBinding, including the controllers' ones."""
    policy = [
        _binding("ClusterRoleBinding", name, name, subjects)
        for name, subjects in sorted(CLUSTER_ROLE_BINDINGS.items())
    ]
    return policy + controller_role_bindings()


def namespace_roles() -> dict[str, list[dict[str, Any]]]:
    """namespace -> its bootstrap Roles (kube-system, kube-public)."""
    return {
        namespace: [_role("Role", name, rules, namespace) for name, rules in sorted(roles.items())]
        for namespace, roles in NAMESPACE_ROLES.items()
    }


def namespace_role_bindings() -> dict[str, list[dict[str, Any]]]:
    """namespace -> its bootstrap RoleBindings."""
    return {
        namespace: [
            _binding("RoleBinding", name, role, subjects, namespace)
            for name, (role, subjects) in sorted(bindings.items())
        ]
        for namespace, bindings in NAMESPACE_ROLE_BINDINGS.items()
    }


# -- openeks -----------------------------------------------------------------------------


def _union(rule_sets: Iterable[Iterable[Rule]]) -> list[Rule]:
    out: list[Rule] = []
    for rules in rule_sets:
        out += [r for r in rules if r not in out]
    return out


def openeks_additions() -> list[dict[str, Any]]:
    """What openeks grants beyond upstream, because it runs its components differently.

    - `openeks:nodes` binds ClusterRole `system:node` to Group `system:nodes`: upstream
      leaves its `system:node` binding empty since the Node authorizer grants node
      agents (`system:node:<name>` in `system:nodes`) their access; openeks has no Node
      authorizer, so it grants what upstream granted before 1.8.
    - `openeks:controller-manager` (role and binding to User
      `system:kube-controller-manager`): upstream runs each controller loop as its own
      ServiceAccount (`--use-service-account-credentials`); openeks runs them all as the
      controller manager's user, whose upstream role only covers start-up, so this role
      is the union of every `system:controller:*` role's rules.

    - `openeks:node-proxier` binds ClusterRole `system:node-proxier` to Group
      `system:nodes`: the node agent also runs the service proxy (kube-proxy), which
      EKS runs as its own DaemonSet with that role.

    The scheduler needs nothing extra: `system:kube-scheduler` and
    `system:volume-scheduler`, bound to User `system:kube-scheduler`, cover its informers
    (pods, nodes, namespaces, services, replicasets, statefulsets, PVs/PVCs...),
    `pods/binding`, `pods/status`, events and its `kube-system/kube-scheduler` Lease.
    """
    union = _union(CONTROLLER_ROLES[name] for name in sorted(CONTROLLER_ROLES))
    return [
        _binding("ClusterRoleBinding", OPENEKS_NODES, "system:node", [("Group", NODES_GROUP)]),
        _binding(
            "ClusterRoleBinding",
            "openeks:node-proxier",
            "system:node-proxier",
            [("Group", NODES_GROUP)],
        ),
        _role("ClusterRole", OPENEKS_CONTROLLER_MANAGER, union),
        _binding(
            "ClusterRoleBinding",
            OPENEKS_CONTROLLER_MANAGER,
            OPENEKS_CONTROLLER_MANAGER,
            [("User", CONTROLLER_MANAGER_USER)],
        ),
    ]


def _name(obj: Obj) -> str:
    return str(obj["metadata"]["name"])
