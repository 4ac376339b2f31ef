"""RBAC objects: nobody grants what they do not hold (escalation prevention).

As upstream: creating or updating a Role/ClusterRole is allowed if the user already has
every permission in it (in that namespace), or holds the `escalate` verb on roles /
clusterroles; a RoleBinding/ClusterRoleBinding is allowed if the user holds every
permission of the referenced role, or the `bind` verb on it. `roleRef` is immutable.
Requests made by the server itself (bootstrap, no user) are not checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openeks.kube.api import errors
from openeks.kube.api.errors import ApiError, Cause
from openeks.kube.api.rbac.rules import Attributes, describe_rule, uncovered
from openeks.kube.apiserver.strategy import Strategy

if TYPE_CHECKING:
    from openeks.kube.apiserver.auth import User
    from openeks.kube.apiserver.authorization import RBACAuthorizer

Obj = dict[str, Any]
GROUP = "rbac.authorization.k8s.io"


class _RBACStrategy(Strategy):
    authorizer: RBACAuthorizer | None = None

    def _allowed(self, user: User, verb: str, resource: str, namespace: str, name: str) -> bool:
        assert self.authorizer is not None
        return self.authorizer.authorize(
            Attributes(
                user.name,
                user.groups,
                verb,
                api_group=GROUP,
                resource=resource,
                namespace=namespace,
                name=name,
            )
        )

    def _refuse(self, obj: Obj, user: User, missing: list[Obj]) -> ApiError:
        groups = " ".join(f'"{g}"' for g in user.groups)
        rules = "\n".join(describe_rule(r) for r in missing)
        name = obj["metadata"].get("name", "")
        return errors.ApiError(
            f'{self.info.plural}.{GROUP} "{name}" is forbidden: user "{user.name}" '
            f"(groups=[{groups}]) is attempting to grant RBAC permissions not currently held:"
            f"\n{rules}",
            403,
            "Forbidden",
            name=name,
            group=GROUP,
            kind=self.info.plural,
        )


class RoleStrategy(_RBACStrategy):
    async def admit(self, new: Obj, old: Obj | None, user: User | None) -> None:
        if user is None or self.authorizer is None or self.authorizer.always_allow:
            return
        namespace = new["metadata"].get("namespace", "")
        if self._allowed(
            user, "escalate", self.info.plural, namespace, new["metadata"].get("name", "")
        ):
            return
        held = self.authorizer.rules_for(user.name, user.groups, namespace)
        if "system:masters" in user.groups:
            return
        missing = uncovered(held, new.get("rules") or ())
        if missing:
            raise self._refuse(new, user, missing)


class BindingStrategy(_RBACStrategy):
    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_update(new, old)
        if new.get("roleRef") != old.get("roleRef"):
            causes.append(
                Cause("FieldValueInvalid", "Invalid value: cannot change roleRef", "roleRef")
            )
        return causes

    async def admit(self, new: Obj, old: Obj | None, user: User | None) -> None:
        if user is None or self.authorizer is None or self.authorizer.always_allow:
            return
        if "system:masters" in user.groups:
            return
        namespace = new["metadata"].get("namespace", "")
        ref = new.get("roleRef") or {}
        resource = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
        if self._allowed(
            user,
            "bind",
            resource,
            namespace,
            ref.get("name", ""),
        ):
            return
        role_rules = self.authorizer._role_rules(ref, namespace)
        held = self.authorizer.rules_for(user.name, user.groups, namespace)
        missing = uncovered(held, role_rules)
        if missing:
            raise self._refuse(new, user, missing)
