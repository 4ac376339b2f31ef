"""Default RBAC policy: created at start, reconciled, and ClusterRoles aggregated.

At every start the API server makes sure upstream's bootstrap roles and bindings exist
(plus the few openeks needs: see `rbac.bootstrap.openeks_additions`). Objects marked
`rbac.authorization.kubernetes.io/autoupdate: "true"` are reconciled additively —
missing rules and subjects are put back, additions by the user are kept — as upstream's
`reconcile` does. Then a loop keeps every ClusterRole with an `aggregationRule` equal to
the union of the rules of the ClusterRoles its selectors match (upstream's
clusterrole-aggregation controller), so `admin`/`edit`/`view` grow with CRDs' roles.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import openeks.kube.api.rbac.bootstrap as bootstrap
from openeks.kube.api import labels, meta
from openeks.kube.api.errors import ApiError
from openeks.kube.apiserver.registry import Registry, WriteOptions

log = logging.getLogger(__name__)

Obj = dict[str, Any]
GROUP = "rbac.authorization.k8s.io"
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
_STORAGE = {
    "ClusterRole": f"{GROUP}/clusterroles",
    "ClusterRoleBinding": f"{GROUP}/clusterrolebindings",
    "Role": f"{GROUP}/roles",
    "RoleBinding": f"{GROUP}/rolebindings",
}


def policy() -> list[Obj]:
    objects: list[Obj] = [*bootstrap.cluster_roles(), *bootstrap.cluster_role_bindings()]
    for namespace, roles in bootstrap.namespace_roles().items():
        objects += [_in(namespace, r) for r in roles]
    for namespace, bindings in bootstrap.namespace_role_bindings().items():
        objects += [_in(namespace, b) for b in bindings]
    objects += bootstrap.openeks_additions()
    return objects


def _in(namespace: str, obj: Obj) -> Obj:
    out = meta.deep_copy(obj)
    out["metadata"]["namespace"] = namespace
    return out


def _union(have: list[Any], want: list[Any]) -> list[Any]:
    return have + [w for w in want if w not in have]


async def reconcile(registry: Registry) -> None:
    """Create or additively repair every bootstrap object."""
    for obj in policy():
        kind = obj["kind"]
        rs = registry.for_storage(_STORAGE[kind])
        namespace = obj["metadata"].get("namespace", "")
        name = obj["metadata"]["name"]
        try:
            existing = await rs.get(namespace, name)
        except ApiError as e:
            if e.code != 404:
                raise
            try:
                await rs.create(
                    namespace,
                    meta.deep_copy(obj),
                    WriteOptions(field_manager="openeks-rbac-bootstrap"),
                )
            except ApiError as create_error:
                if create_error.code != 409:
                    raise
            continue
        if (existing["metadata"].get("annotations") or {}).get(AUTOUPDATE) == "false":
            continue

        async def repair(current: Obj, want: Obj = obj) -> Obj:
            if "rules" in want or want["kind"].endswith("Role"):
                current["rules"] = _union(current.get("rules") or [], want.get("rules") or [])
            if "aggregationRule" in want:
                current["aggregationRule"] = want["aggregationRule"]
            if "subjects" in want:
                current["subjects"] = _union(
                    current.get("subjects") or [], want.get("subjects") or []
                )
            for key in ("labels", "annotations"):
                merged = dict(want["metadata"].get(key) or {})
                merged.update(current["metadata"].get(key) or {})
                if merged:
                    current["metadata"][key] = merged
            return current

        await rs.update(
            namespace, name, repair, WriteOptions(field_manager="openeks-rbac-bootstrap")
        )


class Aggregator:
    """Keeps aggregated ClusterRoles' rules equal to what their selectors select."""

    def __init__(self, registry: Registry, period: float = 0.5) -> None:
        self.registry = registry
        self.period = period
        self._prefix = f"/registry/{_STORAGE['ClusterRole']}/"

    async def run(self) -> None:
        seen = -1
        while True:
            cache = self.registry.cache.cache(self._prefix)
            if cache.changes != seen:
                seen = cache.changes
                try:
                    await self.sweep()
                except ApiError as e:
                    log.warning("aggregating cluster roles: %s", e)
            await asyncio.sleep(self.period)

    async def sweep(self) -> None:
        roles = list(self.registry.cache.cache(self._prefix).objects.values())
        rs = self.registry.for_storage(_STORAGE["ClusterRole"])
        for role in roles:
            rule = role.get("aggregationRule")
            if not rule:
                continue
            wanted = self._aggregate(role, rule, roles)
            if wanted == (role.get("rules") or []):
                continue

            async def set_rules(current: Obj, rules: list[Obj] = wanted) -> Obj:
                current["rules"] = rules
                return current

            await rs.update("", role["metadata"]["name"], set_rules, WriteOptions())

    @staticmethod
    def _aggregate(role: Obj, rule: Obj, roles: list[Obj]) -> list[Obj]:
        selectors = [labels.from_label_selector(s) for s in rule.get("clusterRoleSelectors") or ()]
        rules: list[Obj] = []
        for other in sorted(roles, key=lambda r: r["metadata"]["name"]):
            if other["metadata"]["name"] == role["metadata"]["name"]:
                continue
            if any(s.matches(meta.labels_of(other)) for s in selectors):
                for r in other.get("rules") or ():
                    if r not in rules:
                        rules.append(r)
        return rules
