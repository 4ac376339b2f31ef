"""URL routing and the middleware chain: errors → authentication → handler.

Every path under /api and /apis goes through `RequestInfo` parsing; discovery documents
answer when no resource is named, resource handlers otherwise. Errors of any layer
become a `Status` here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from openeks.kube.api import errors
from openeks.kube.api.errors import ApiError
from openeks.kube.api.rbac.rules import forbidden_message
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver import binding, codec, discovery, eviction, patching, reviews, watching
from openeks.kube.apiserver import request as request_info
from openeks.kube.apiserver.auth import AuthenticationChain, BearerAuthenticator
from openeks.kube.apiserver.authorization import RBACAuthorizer, request_attributes
from openeks.kube.apiserver.context import ApiContext
from openeks.kube.apiserver.handlers import ResourceHandlers, respond
from openeks.kube.apiserver.openapi import OpenAPI
from openeks.kube.apiserver.proxy import NodeProxy
from openeks.kube.apiserver.serviceaccounts import TokenIssuer
from openeks.store import StoreError, UnavailableError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PUBLIC_PATHS = (
    "/healthz",
    "/livez",
    "/readyz",
    "/version",
    "/.well-known/openid-configuration",
    "/openid/v1/jwks",
)


def error_response(error: ApiError) -> web.Response:
    response = respond_status(error.status(), error.code)
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def respond_status(status: dict[str, Any], code: int) -> web.Response:
    return web.Response(
        body=codec.encode(status, codec.Output()), status=code, content_type="application/json"
    )


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except ApiError as e:
        response = error_response(e)
    except UnavailableError as e:
        response = error_response(errors.unavailable(f"storage is unavailable: {e}"))
    except StoreError as e:
        log.exception("store error on %s %s", request.method, request.path)
        response = error_response(errors.internal(str(e)))
    except web.HTTPException:
        raise
    except Exception as e:  # a bug: never let it out as a bare 500 page
        log.exception("internal error on %s %s", request.method, request.path)
        response = error_response(errors.internal(f"{type(e).__name__}: {e}"))
    for warning in request.get("warnings", ()):
        escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{escaped}"')
    return response


def auth_middleware(chain: AuthenticationChain, authorizer: RBACAuthorizer | None) -> Any:
    """Authenticate every request (401 if nobody), then authorize it (403) unless
    `authorizer` is None (AlwaysAllow)."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS or request.path.startswith(("/readyz/", "/livez/")):
            return await handler(request)
        user = await chain.authenticate(request)
        if user is None:
            raise errors.unauthorized()
        request["user"] = user
        ri = request_info.parse(request.method, request.path, dict(request.query))
        request["info"] = ri
        if authorizer is not None:
            attrs = request_attributes(user, ri, request.method)
            if not authorizer.authorize(attrs):
                raise errors.ApiError(
                    forbidden_message(attrs),
                    403,
                    "Forbidden",
                    name=attrs.name,
                    group=attrs.api_group,
                    kind=attrs.resource,
                )
        return await handler(request)

    return authenticate


class Routes:
    def __init__(
        self,
        ctx: ApiContext,
        openapi: OpenAPI,
        server_address: str,
        ready: Callable[[], bool],
        node_proxy: NodeProxy | None = None,
        *,
        issuer: TokenIssuer,
        bearer: BearerAuthenticator,
        server_url: str,
    ) -> None:
        self.node_proxy = node_proxy
        self.issuer = issuer
        self.bearer = bearer
        self.server_url = server_url
        self.access_reviews: Any = None
        """Handler for authorization.k8s.io reviews, installed with the authorizer."""
        self.ctx = ctx
        self.openapi = openapi
        self.server_address = server_address
        self.ready = ready
        self.handlers = ResourceHandlers(ctx)

    def install(self, app: web.Application) -> None:
        app.router.add_get("/version", self.version)
        for path in ("/healthz", "/livez", "/readyz"):
            app.router.add_get(path, self.health)
        app.router.add_get("/.well-known/openid-configuration", self.openid_configuration)
        app.router.add_get("/openid/v1/jwks", self.jwks)
        app.router.add_get("/openapi/v3", self.openapi_index)
        app.router.add_get("/openapi/v3/{path:.*}", self.openapi_document)
        app.router.add_route("*", "/api", self.dispatch)
        app.router.add_route("*", "/apis", self.dispatch)
        app.router.add_route("*", "/api/{tail:.*}", self.dispatch)
        app.router.add_route("*", "/apis/{tail:.*}", self.dispatch)

    async def version(self, request: web.Request) -> web.StreamResponse:
        return respond(request, self.ctx.version.to_dict())

    async def health(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/readyz" and not self.ready():
            return web.Response(
                text="[-]openeks-ready failed: not ready\nreadyz check failed", status=500
            )
        return web.Response(text="ok")

    async def openapi_index(self, request: web.Request) -> web.StreamResponse:
        return respond(request, self.openapi.index())

    async def openapi_document(self, request: web.Request) -> web.StreamResponse:
        parts = request.match_info["path"].strip("/").split("/")
        if len(parts) == 2 and parts[0] == "api":
            body = self.openapi.document("", parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            body = self.openapi.document(parts[1], parts[2])
        else:
            body = None
        if body is None:
            raise errors.ApiError(
                "the server could not find the requested resource", 404, "NotFound"
            )
        headers = {
            "Cache-Control": "public, immutable"
            if request.query.get("hash")
            else "no-cache, private"
        }
        return web.Response(body=body, content_type="application/json", headers=headers)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        ri = request.get("info") or request_info.parse(
            request.method, request.path, dict(request.query)
        )
        if not ri.resource:
            if request.method != "GET":
                raise errors.method_not_allowed()
            return self.discovery(request, ri)
        info = self.ctx.info(ri.group, ri.version, ri.resource)
        if ri.namespace and not info.namespaced:
            raise errors.ApiError(
                "the server could not find the requested resource", 404, "NotFound"
            )
        if ri.subresource and info.subresource(ri.subresource) is None:
            raise errors.ApiError(
                "the server could not find the requested resource", 404, "NotFound"
            )
        verb = ri.verb
        if ri.subresource:
            allowed = info.subresource(ri.subresource).verbs  # type: ignore[union-attr]
            if verb not in allowed and not (verb in ("watch", "list") and "get" in allowed):
                raise errors.method_not_allowed()
        elif verb not in info.verbs:
            raise errors.method_not_allowed()
        h = self.handlers
        special = await self._special(request, ri, info)
        if special is not None:
            return special
        rs = self.ctx.store_for(info)
        if verb == "get":
            return await h.get(request, ri, info, rs)
        if verb == "list":
            return await h.list(request, ri, info, rs)
        if verb == "watch":
            return await watching.serve_watch(self.ctx, request, ri, info, rs)
        if verb == "create":
            if ri.subresource == "binding" and info.kind == "Pod":
                return await binding.bind(request, ri, info, rs)
            return await h.create(request, ri, info, rs)
        if verb == "update":
            return await h.update(request, ri, info, rs)
        if verb == "patch":
            return await patching.patch(h, request, ri, info, rs)
        if verb == "delete":
            return await h.delete(request, ri, info, rs)
        if verb == "deletecollection":
            return await h.delete_collection(request, ri, info, rs)
        raise errors.method_not_allowed()

    async def _special(
        self, request: web.Request, ri: request_info.RequestInfo, info: ResourceInfo
    ) -> web.StreamResponse | None:
        """Requests not served by the generic registry: reviews, tokens, pod proxies."""
        if not info.stored:
            return await self._review(request, ri, info)
        if info.kind == "ServiceAccount" and not info.group and ri.subresource == "token":
            return await reviews.token_request(
                request, self.ctx.registry, self.issuer, ri.namespace, ri.name
            )
        if info.kind != "Pod" or info.group or ri.subresource not in ("log", "exec", "eviction"):
            return None
        if ri.subresource == "eviction":
            return await eviction.evict(request, self.ctx.registry, ri.namespace, ri.name)
        if self.node_proxy is None:
            raise errors.ApiError("node proxying is not configured", 503, "ServiceUnavailable")
        if ri.subresource == "log":
            return await self.node_proxy.logs(request, ri.namespace, ri.name)
        return await self.node_proxy.exec(request, ri.namespace, ri.name)

    async def _review(
        self, request: web.Request, ri: request_info.RequestInfo, info: ResourceInfo
    ) -> web.StreamResponse:
        if info.plural == "selfsubjectreviews":
            return await reviews.self_subject_review(request)
        if info.plural == "tokenreviews":
            return await reviews.token_review(request, self.bearer, self.issuer.audiences)
        if self.access_reviews is not None:
            return await self.access_reviews(request, ri, info)
        raise errors.ApiError("the server could not find the requested resource", 404, "NotFound")

    async def openid_configuration(self, request: web.Request) -> web.StreamResponse:
        jwks = f"{self.server_url}/openid/v1/jwks"
        return respond(request, self.issuer.openid_configuration(jwks))

    async def jwks(self, request: web.Request) -> web.StreamResponse:
        response = respond(request, self.issuer.jwks())
        response.headers["Content-Type"] = "application/jwk-set+json"
        return response

    def discovery(self, request: web.Request, ri: request_info.RequestInfo) -> web.StreamResponse:
        resources = self.ctx.resources
        if not ri.version and (ri.prefix == "api" or not ri.group):
            output = codec.negotiate(
                request.headers.get("Accept"), allowed=("", "APIGroupDiscoveryList")
            )
            if output.as_kind:
                doc = discovery.aggregated(
                    resources, core=ri.prefix == "api", version=output.version
                )
                tag = discovery.etag(doc)
                if request.headers.get("If-None-Match") == tag:
                    return web.Response(status=304, headers={"ETag": tag})
                response = respond(request, doc, output=output)
                response.headers["ETag"] = tag
                return response
            if ri.prefix == "api":
                return respond(request, discovery.api_versions(self.server_address))
            return respond(request, discovery.api_group_list(resources))
        if not ri.version:
            found = discovery.api_group(resources, ri.group)
        else:
            found = discovery.api_resource_list(resources, ri.group, ri.version)
        if found is None:
            raise errors.ApiError(
                "the server could not find the requested resource", 404, "NotFound"
            )
        return respond(request, found)
