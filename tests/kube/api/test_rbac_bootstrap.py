"""The bootstrap RBAC policy equals upstream's golden files, and grants what openeks needs.

The fixtures in `rbac_golden/` are upstream's `bootstrappolicy/testdata` (see its README
for versions). Objects are compared whole — name, labels, annotations, aggregationRule,
rules in upstream's order, roleRef, subjects — keyed by namespace and name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from openeks.kube.api.rbac import bootstrap

Obj = dict[str, Any]
GOLDEN = Path(__file__).parent / "rbac_golden"
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"


def golden(name: str) -> list[Obj]:
    items: list[Obj] = yaml.safe_load((GOLDEN / f"{name}.yaml").read_text())["items"]
    return items


def by_key(objects: list[Obj]) -> dict[tuple[str, str], Obj]:
    out = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in objects}
    assert len(out) == len(objects), "duplicate names"
    return out


def assert_same(got: list[Obj], fixture: str) -> None:
    have, want = by_key(got), by_key(golden(fixture))
    assert sorted(have) == sorted(want)
    for key, obj in want.items():
        assert have[key] == obj, key


def is_controller(obj: Obj) -> bool:
    return str(obj["metadata"]["name"]).startswith(bootstrap.CONTROLLER_PREFIX)


def flat(per_namespace: dict[str, list[Obj]]) -> list[Obj]:
    return [obj for objects in per_namespace.values() for obj in objects]


# -- upstream's golden files -------------------------------------------------------------


def test_cluster_roles_match_upstream_cluster_roles_yaml() -> None:
    assert_same([r for r in bootstrap.cluster_roles() if not is_controller(r)], "cluster-roles")


def test_controller_roles_match_upstream_controller_roles_yaml() -> None:
    assert_same([r for r in bootstrap.cluster_roles() if is_controller(r)], "controller-roles")
    assert_same(bootstrap.controller_roles(), "controller-roles")


def test_cluster_role_bindings_match_upstream_cluster_role_bindings_yaml() -> None:
    bindings = bootstrap.cluster_role_bindings()
    assert_same([b for b in bindings if not is_controller(b)], "cluster-role-bindings")


def test_controller_role_bindings_match_upstream_controller_role_bindings_yaml() -> None:
    bindings = bootstrap.cluster_role_bindings()
    assert_same([b for b in bindings if is_controller(b)], "controller-role-bindings")


def test_namespace_roles_match_upstream_namespace_roles_yaml() -> None:
    roles = bootstrap.namespace_roles()
    assert sorted(roles) == ["kube-public", "kube-system"]
    assert_same(flat(roles), "namespace-roles")


def test_namespace_role_bindings_match_upstream_namespace_role_bindings_yaml() -> None:
    assert_same(flat(bootstrap.namespace_role_bindings()), "namespace-role-bindings")


# -- shape and consistency ---------------------------------------------------------------


def everything() -> list[Obj]:
    return [
        *bootstrap.cluster_roles(),
        *bootstrap.cluster_role_bindings(),
        *flat(bootstrap.namespace_roles()),
        *flat(bootstrap.namespace_role_bindings()),
        *bootstrap.openeks_additions(),
    ]


def test_every_object_is_a_labelled_autoupdated_rbac_v1_object() -> None:
    for obj in everything():
        assert obj["apiVersion"] == "rbac.authorization.k8s.io/v1"
        assert obj["kind"] in {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
        m = obj["metadata"]
        assert m["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults", m["name"]
        assert m["annotations"] == {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def test_every_cluster_role_binding_refers_to_an_existing_cluster_role() -> None:
    additions = bootstrap.openeks_additions()
    roles = {r["metadata"]["name"] for r in bootstrap.cluster_roles() + additions}
    for b in bootstrap.cluster_role_bindings() + additions:
        if b["kind"] == "ClusterRoleBinding":
            assert b["roleRef"]["kind"] == "ClusterRole"
            assert b["roleRef"]["name"] in roles, b["metadata"]["name"]


def test_every_role_binding_refers_to_a_role_of_its_namespace() -> None:
    roles = bootstrap.namespace_roles()
    for namespace, bindings in bootstrap.namespace_role_bindings().items():
        names = {r["metadata"]["name"] for r in roles[namespace]}
        for b in bindings:
            assert b["metadata"]["namespace"] == namespace
            assert b["roleRef"]["kind"] == "Role"
            assert b["roleRef"]["name"] in names, (namespace, b["metadata"]["name"])


def test_every_aggregation_label_is_carried_by_a_system_aggregate_role() -> None:
    roles = {r["metadata"]["name"]: r for r in bootstrap.cluster_roles()}
    for name in ("admin", "edit", "view"):
        selectors = roles[name]["aggregationRule"]["clusterRoleSelectors"]
        assert selectors == [{"matchLabels": {f"{AGGREGATE}{name}": "true"}}]
        carriers = [
            n for n, r in roles.items() if r["metadata"]["labels"].get(f"{AGGREGATE}{name}")
        ]
        assert f"system:aggregate-to-{name}" in carriers
        assert roles[name]["rules"] is None
    # view aggregates into edit, which aggregates into admin.
    assert roles["view"]["metadata"]["labels"][f"{AGGREGATE}edit"] == "true"
    assert roles["edit"]["metadata"]["labels"][f"{AGGREGATE}admin"] == "true"


def test_each_call_returns_fresh_objects() -> None:
    first = bootstrap.cluster_roles()
    first[1]["rules"][0]["verbs"].append("mutated")
    first[1]["metadata"]["labels"]["x"] = "y"
    assert bootstrap.cluster_roles()[1] == golden("cluster-roles")[1]


# -- who can do what (openeks's identities) -----------------------------------------------


def _matches(values: list[str] | None, want: str) -> bool:
    return values is not None and ("*" in values or want in values)


def _allows(rule: Obj, verb: str, group: str, resource: str, name: str) -> bool:
    names = rule.get("resourceNames")
    return (
        _matches(rule["verbs"], verb)
        and _matches(rule.get("apiGroups"), group)
        and _matches(rule.get("resources"), resource)
        and (not names or name in names)
    )


Who = tuple[str, list[str]]


def can(who: Who, verb: str, resource: str, **kw: str) -> bool:
    """Does the bootstrap policy (with openeks's additions) let `who` (user, groups) do this?"""
    group, namespace, name = kw.get("group", ""), kw.get("namespace", ""), kw.get("name", "")
    user, groups = who
    everyone = {("User", user), *(("Group", g) for g in groups)}
    cluster = bootstrap.cluster_roles() + bootstrap.openeks_additions()
    roles = {(r["kind"], "", r["metadata"]["name"]): r for r in cluster}
    roles |= {
        ("Role", ns, r["metadata"]["name"]): r
        for ns, rs in bootstrap.namespace_roles().items()
        for r in rs
    }
    bindings = [b for b in bootstrap.cluster_role_bindings() + cluster if "roleRef" in b]
    bindings += flat(bootstrap.namespace_role_bindings())
    for b in bindings:
        ns = b["metadata"].get("namespace", "")
        if ns and ns != namespace:
            continue
        if not {(s["kind"], s["name"]) for s in b.get("subjects") or ()} & everyone:
            continue
        ref = b["roleRef"]
        role = roles[(ref["kind"], ns if ref["kind"] == "Role" else "", ref["name"])]
        if any(_allows(r, verb, group, resource, name) for r in role["rules"] or ()):
            return True
    return False


SCHEDULER: Who = ("system:kube-scheduler", ["system:authenticated"])
NODE: Who = ("system:node:ip-10-0-0-1", ["system:nodes", "system:authenticated"])
KCM: Who = ("system:kube-controller-manager", ["system:authenticated"])


@pytest.mark.parametrize(
    ("verb", "resource", "extra"),
    [
        ("list", "pods", {}),
        ("watch", "nodes", {}),
        ("list", "namespaces", {}),
        ("list", "services", {}),
        ("watch", "replicasets", {"group": "apps"}),
        ("watch", "statefulsets", {"group": "apps"}),
        ("create", "pods/binding", {"namespace": "default"}),
        ("patch", "pods/status", {"namespace": "default"}),
        ("create", "events", {"namespace": "default"}),
        ("patch", "events", {"namespace": "default"}),
        ("create", "leases", {"group": "coordination.k8s.io", "namespace": "kube-system"}),
        ("update", "leases", {"group": "coordination.k8s.io", "name": "kube-scheduler"}),
        ("list", "persistentvolumeclaims", {}),
        ("list", "storageclasses", {"group": "storage.k8s.io"}),
    ],
)
def test_the_scheduler_user_has_what_the_scheduler_does(
    verb: str, resource: str, extra: dict[str, str]
) -> None:
    assert can(SCHEDULER, verb, resource, **extra)


@pytest.mark.parametrize(
    ("verb", "resource", "extra"),
    [
        ("create", "nodes", {}),
        ("patch", "nodes/status", {}),
        ("patch", "nodes", {}),
        ("list", "pods", {}),
        ("delete", "pods", {"namespace": "default"}),
        ("patch", "pods/status", {"namespace": "default"}),
        ("get", "configmaps", {"namespace": "default"}),
        ("get", "secrets", {"namespace": "default"}),
        ("create", "serviceaccounts/token", {"namespace": "default"}),
        ("watch", "services", {}),
        ("create", "events", {"namespace": "default"}),
        ("update", "leases", {"group": "coordination.k8s.io", "namespace": "kube-node-lease"}),
    ],
)
def test_node_agents_get_system_node_through_the_openeks_binding(
    verb: str, resource: str, extra: dict[str, str]
) -> None:
    assert can(NODE, verb, resource, **extra)


def test_upstream_alone_binds_system_node_to_no_one() -> None:
    binding = next(
        b for b in bootstrap.cluster_role_bindings() if b["metadata"]["name"] == "system:node"
    )
    assert "subjects" not in binding


@pytest.mark.parametrize(
    ("verb", "resource", "extra"),
    [
        ("create", "pods", {"namespace": "default"}),
        ("update", "deployments/status", {"group": "apps", "namespace": "default"}),
        ("create", "replicasets", {"group": "apps", "namespace": "default"}),
        ("create", "endpointslices", {"group": "discovery.k8s.io", "namespace": "default"}),
        ("update", "namespaces/finalize", {}),
        ("deletecollection", "configmaps", {"namespace": "doomed"}),
        ("patch", "nodes", {}),
        ("update", "jobs/status", {"group": "batch", "namespace": "default"}),
        ("create", "serviceaccounts", {"namespace": "default"}),
        ("update", "poddisruptionbudgets/status", {"group": "policy", "namespace": "x"}),
        ("update", "leases", {"group": "coordination.k8s.io", "name": "kube-controller-manager"}),
    ],
)
def test_the_controller_manager_user_has_what_its_controllers_do(
    verb: str, resource: str, extra: dict[str, str]
) -> None:
    assert can(KCM, verb, resource, **extra)


def test_the_openeks_controller_manager_role_is_the_union_of_the_controller_roles() -> None:
    union = next(
        r
        for r in bootstrap.openeks_additions()
        if r["kind"] == "ClusterRole" and r["metadata"]["name"] == "openeks:controller-manager"
    )
    every = [rule for role in bootstrap.controller_roles() for rule in role["rules"]]
    assert all(rule in union["rules"] for rule in every)
    assert all(rule in every for rule in union["rules"])
    assert len(union["rules"]) == len({repr(sorted(r.items())) for r in every})


def test_an_ordinary_user_gets_only_discovery_and_self_reviews() -> None:
    user: Who = ("alice", ["system:authenticated"])
    assert can(user, "create", "selfsubjectaccessreviews", group="authorization.k8s.io")
    assert not can(user, "list", "pods")
    assert not can(user, "get", "secrets", namespace="default")
