"""Computed resources: reviews and token requests, answered without storage.

- `authentication.k8s.io/v1` SelfSubjectReview (`kubectl auth whoami`) and TokenReview
  (anyone verifying a token through the API server);
- `serviceaccounts/<name>/token` (TokenRequest: `kubectl create token`, projected
  service account token volumes).
The access reviews of `authorization.k8s.io` live with the authorizer.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openeks.kube.api import errors, meta
from openeks.kube.api.errors import Cause
from openeks.kube.apiserver import codec
from openeks.kube.apiserver.auth import BearerAuthenticator, User
from openeks.kube.apiserver.handlers import respond
from openeks.kube.apiserver.registry import Registry
from openeks.kube.apiserver.serviceaccounts import TokenIssuer

Obj = dict[str, Any]

MIN_EXPIRATION = 600
MAX_EXPIRATION = 2**32
DEFAULT_EXPIRATION = 3600


async def read_review(request: web.Request, kind: str, api_version: str) -> Obj:
    body = codec.decode_body(await request.read(), request.headers.get("Content-Type"))
    if not isinstance(body, dict) or body.get("kind", kind) != kind:
        raise errors.bad_request(f"the object provided is unrecognized (must be of type {kind})")
    if body.get("apiVersion", api_version) != api_version:
        raise errors.bad_request(
            f"the API version in the data ({body.get('apiVersion')}) does not match the expected "
            f"API version ({api_version})"
        )
    return body


def _answer(kind: str, api_version: str, spec: Obj | None, status: Obj) -> Obj:
    out: Obj = {
        "kind": kind,
        "apiVersion": api_version,
        "metadata": {"creationTimestamp": meta.rfc3339(meta.now())},
    }
    if spec is not None:
        out["spec"] = spec
    out["status"] = status
    return out


async def self_subject_review(request: web.Request) -> web.StreamResponse:
    api_version = "authentication.k8s.io/v1"
    await read_review(request, "SelfSubjectReview", api_version)
    user: User = request["user"]
    status = {"userInfo": user.to_user_info()}
    return respond(request, _answer("SelfSubjectReview", api_version, None, status), 201)


async def token_review(
    request: web.Request, authn: BearerAuthenticator, audiences: list[str]
) -> web.StreamResponse:
    api_version = "authentication.k8s.io/v1"
    body = await read_review(request, "TokenReview", api_version)
    spec = body.get("spec") or {}
    token = spec.get("token")
    if not token:
        raise errors.invalid(
            "TokenReview",
            "authentication.k8s.io",
            "",
            [Cause("FieldValueRequired", "Required value: token must be specified", "spec.token")],
        )
    wanted = spec.get("audiences") or audiences
    user = await authn.authenticate_token(token)
    if user is None:
        status: Obj = {"user": {}, "error": "invalid bearer token"}
    else:
        status = {"authenticated": True, "user": user.to_user_info(), "audiences": wanted}
    return respond(request, _answer("TokenReview", api_version, spec, status), 201)


async def token_request(
    request: web.Request, registry: Registry, issuer: TokenIssuer, namespace: str, name: str
) -> web.StreamResponse:
    api_version = "authentication.k8s.io/v1"
    body = await read_review(request, "TokenRequest", api_version)
    spec = dict(body.get("spec") or {})
    seconds = int(spec.get("expirationSeconds") or DEFAULT_EXPIRATION)
    causes = []
    if seconds < MIN_EXPIRATION:
        causes.append(
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {seconds}: may not specify a duration less than 10 minutes",
                "spec.expirationSeconds",
            )
        )
    if seconds > MAX_EXPIRATION:
        causes.append(
            Cause(
                "FieldValueTooLong",
                f"Invalid value: {seconds}: may not specify a duration larger than 2^32 seconds",
                "spec.expirationSeconds",
            )
        )
    if causes:
        raise errors.invalid("TokenRequest", "authentication.k8s.io", name, causes)
    sa = await registry.for_storage("core/serviceaccounts").get(namespace, name)
    bound = None
    ref = spec.get("boundObjectRef")
    if ref:
        kind = ref.get("kind", "")
        storage = {"Pod": "core/pods", "Secret": "core/secrets", "Node": "core/nodes"}.get(kind)
        if storage is None:
            raise errors.bad_request(f"cannot bind token for object of type {kind}")
        target = await registry.for_storage(storage).get(
            "" if kind == "Node" else namespace, ref.get("name", "")
        )
        uid = target["metadata"]["uid"]
        if ref.get("uid") and ref["uid"] != uid:
            raise errors.conflict(
                "serviceaccounts",
                "",
                name,
                f"the UID in the bound object reference ({ref['uid']}) does not match the UID in "
                "record. The object might have been deleted and then recreated",
            )
        bound = {"kind": kind, "name": target["metadata"]["name"], "uid": uid}
    audiences = list(spec.get("audiences") or issuer.audiences)
    token, expires = issuer.bound_token(sa, audiences, seconds, bound)
    spec["audiences"] = audiences
    spec["expirationSeconds"] = seconds
    answer = {
        "kind": "TokenRequest",
        "apiVersion": api_version,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": meta.rfc3339(meta.now()),
        },
        "spec": spec,
        "status": {"token": token, "expirationTimestamp": meta.rfc3339(expires)},
    }
    return respond(request, answer, 201)
