"""Authorization: who may do what. The `system:masters` group, then RBAC.

The RBAC authorizer reads Roles, ClusterRoles and their bindings straight from the
watch cache (no store reads on the request path) and memoises, per (user, groups,
namespace), the rules that apply; the memo is dropped whenever any RBAC object changes.
That keeps an authorized request within a few per cent of an unauthorized one.

`request_attributes` turns a request into upstream's authorizer attributes: resource
requests carry verb/group/resource/subresource/namespace/name, everything else is a
non-resource request with the lower-case HTTP method as verb and the URL path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openeks.kube.api.rbac.rules import Attributes, binding_applies, rule_allows
from openeks.kube.apiserver.auth import User
from openeks.kube.apiserver.request import RequestInfo
from openeks.kube.apiserver.watchcache import WatchCache

Obj = dict[str, Any]

PRIVILEGED_GROUP = "system:masters"
_GROUP = "rbac.authorization.k8s.io"
_PREFIXES = {
    kind: f"/registry/{_GROUP}/{kind}/"
    for kind in ("roles", "rolebindings", "clusterroles", "clusterrolebindings")
}
_METHOD_VERBS = {
    "GET": "get",
    "HEAD": "get",
    "POST": "post",
    "PUT": "put",
    "PATCH": "patch",
    "DELETE": "delete",
}


def request_attributes(user: User, ri: RequestInfo, method: str) -> Attributes:
    if ri.is_resource:
        return Attributes(
            user=user.name,
            groups=user.groups,
            verb=ri.verb,
            api_group=ri.group,
            api_version=ri.version,
            resource=ri.resource,
            subresource=ri.subresource,
            namespace=ri.namespace,
            name=ri.name,
            uid=user.uid,
            extra=user.extra,
        )
    return Attributes(
        user=user.name,
        groups=user.groups,
        verb=_METHOD_VERBS.get(method.upper(), method.lower()),
        resource_request=False,
        path=ri.path,
        uid=user.uid,
        extra=user.extra,
    )


class RBACAuthorizer:
    def __init__(self, cache: WatchCache, always_allow: bool = False) -> None:
        self.cache = cache
        self.always_allow = always_allow
        """AlwaysAllow mode: every request passes (RBAC objects are still served)."""
        self._memo: dict[tuple[str, tuple[str, ...], str], list[Obj]] = {}
        self._seen = -1

    def _objects(self, kind: str) -> dict[str, Obj]:
        return self.cache.cache(_PREFIXES[kind]).objects

    def _generation(self) -> int:
        return sum(self.cache.cache(p).changes for p in _PREFIXES.values())

    def _role_rules(self, ref: Obj, namespace: str) -> list[Obj]:
        name = ref.get("name", "")
        if ref.get("kind") == "ClusterRole":
            role = self._objects("clusterroles").get(_PREFIXES["clusterroles"] + name)
        else:
            role = self._objects("roles").get(f"{_PREFIXES['roles']}{namespace}/{name}")
        return list((role or {}).get("rules") or ())

    def rules_for(self, user: str, groups: Sequence[str], namespace: str) -> list[Obj]:
        """Every rule that applies to the user in `namespace` ('' = cluster-wide only)."""
        generation = self._generation()
        if generation != self._seen:
            self._memo.clear()
            self._seen = generation
        key = (user, tuple(groups), namespace)
        rules = self._memo.get(key)
        if rules is None:
            rules = []
            for binding in self._objects("clusterrolebindings").values():
                if binding_applies(binding, user, groups):
                    rules += self._role_rules(binding.get("roleRef") or {}, "")
            if namespace:
                prefix = f"{_PREFIXES['rolebindings']}{namespace}/"
                for key_name, binding in self._objects("rolebindings").items():
                    if key_name.startswith(prefix) and binding_applies(binding, user, groups):
                        rules += self._role_rules(binding.get("roleRef") or {}, namespace)
            self._memo[key] = rules
        return rules

    def authorize(self, attrs: Attributes) -> bool:
        if self.always_allow or PRIVILEGED_GROUP in attrs.groups:
            return True
        return any(
            rule_allows(rule, attrs)
            for rule in self.rules_for(attrs.user, attrs.groups, attrs.namespace)
        )
