"""authorization.k8s.io/v1 reviews: may this user do that? (`kubectl auth can-i`)

SelfSubjectAccessReview asks for the caller, SubjectAccessReview and
LocalSubjectAccessReview for anyone (callers need `create` on them), and
SelfSubjectRulesReview lists what the caller may do in a namespace (`can-i --list`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openeks.kube.api import errors
from openeks.kube.api.rbac.rules import Attributes
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver.auth import User
from openeks.kube.apiserver.authorization import PRIVILEGED_GROUP, RBACAuthorizer
from openeks.kube.apiserver.handlers import respond
from openeks.kube.apiserver.request import RequestInfo
from openeks.kube.apiserver.reviews import read_review

Obj = dict[str, Any]
API_VERSION = "authorization.k8s.io/v1"


def _attributes(
    spec: Obj, user: str, groups: tuple[str, ...], namespace_override: str = ""
) -> Attributes:
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    if resource:
        return Attributes(
            user=user,
            groups=groups,
            verb=resource.get("verb", ""),
            api_group=resource.get("group", ""),
            api_version=resource.get("version", ""),
            resource=resource.get("resource", ""),
            subresource=resource.get("subresource", ""),
            namespace=namespace_override or resource.get("namespace", ""),
            name=resource.get("name", ""),
        )
    if non_resource:
        return Attributes(
            user=user,
            groups=groups,
            verb=non_resource.get("verb", ""),
            resource_request=False,
            path=non_resource.get("path", ""),
        )
    raise errors.invalid(
        "SubjectAccessReview",
        "authorization.k8s.io",
        "",
        [
            errors.Cause(
                "FieldValueRequired",
                "Required value: exactly one of nonResourceAttributes or resourceAttributes "
                "must be specified",
                "spec.resourceAttributes",
            )
        ],
    )


def _decide(authorizer: RBACAuthorizer, attrs: Attributes) -> Obj:
    if authorizer.authorize(attrs):
        reason = "" if PRIVILEGED_GROUP in attrs.groups else "RBAC: allowed by a role binding"
        return {"allowed": True, **({"reason": reason} if reason else {})}
    return {"allowed": False}


async def serve(
    request: web.Request, ri: RequestInfo, info: ResourceInfo, authorizer: RBACAuthorizer
) -> web.StreamResponse:
    user: User = request["user"]
    body = await read_review(request, info.kind, API_VERSION)
    spec = dict(body.get("spec") or {})
    if info.plural == "selfsubjectrulesreviews":
        status = rules_review(authorizer, user, spec.get("namespace", ""))
    elif info.plural == "selfsubjectaccessreviews":
        status = _decide(authorizer, _attributes(spec, user.name, user.groups))
    else:
        groups = tuple(spec.get("groups") or ())
        namespace = ri.namespace if info.plural == "localsubjectaccessreviews" else ""
        if (
            namespace
            and (spec.get("resourceAttributes") or {}).get("namespace", namespace) != namespace
        ):
            raise errors.bad_request(
                "spec.resourceAttributes.namespace must match the namespace of the request"
            )
        status = _decide(authorizer, _attributes(spec, spec.get("user", ""), groups, namespace))
    answer: Obj = {
        "kind": info.kind,
        "apiVersion": API_VERSION,
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }
    if ri.namespace:
        answer["metadata"]["namespace"] = ri.namespace
    return respond(request, answer, 201)


def rules_review(authorizer: RBACAuthorizer, user: User, namespace: str) -> Obj:
    if PRIVILEGED_GROUP in user.groups:
        rules = [
            {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
            {"verbs": ["*"], "nonResourceURLs": ["*"]},
        ]
    else:
        rules = authorizer.rules_for(user.name, user.groups, namespace)
    resource_rules, non_resource_rules = [], []
    for rule in rules:
        if rule.get("nonResourceURLs"):
            non_resource_rules.append(
                {
                    "verbs": list(rule.get("verbs") or ()),
                    "nonResourceURLs": list(rule["nonResourceURLs"]),
                }
            )
        if rule.get("resources"):
            entry = {
                k: list(rule[k])
                for k in ("verbs", "apiGroups", "resources", "resourceNames")
                if rule.get(k)
            }
            resource_rules.append(entry)
    return {
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": False,
    }
