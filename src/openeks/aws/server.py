"""The one HTTP endpoint every AWS service of the region is served on.

`Endpoint.handle(request)` is the whole edge, framework-free: find the service (from
the SigV4 credential scope; for unsigned requests from `Action`/`Version` or the path
shape), authenticate (SigV4 header or presigned query; the credential lookup may be
sync or async), decode the operation and its input with the service's protocol,
validate it against the model, call `handler.handle(operation, params, context)` and
encode the result. Every failure becomes an `AwsError` rendered in that service's own
error shape; anything else a backend raises is our bug: it is logged with its traceback
and answered as `InternalFailure` (500), never as a half-written response.

`make_app()` wraps it in an aiohttp application (the only aiohttp code of the edge):
the raw path and query string, every header and the body go to `Endpoint` unchanged,
because the signature covers them exactly as sent.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web
from botocore.model import OperationModel

from openeks.aws import sigv4
from openeks.aws.errors import (
    AuthProblem,
    AwsError,
    InternalFailure,
    SerializationException,
    UnknownOperationException,
    auth_error,
)
from openeks.aws.identity import Credential, Principal
from openeks.aws.protocols import Call, WireProtocol, protocol_for
from openeks.aws.protocols.validation import InvalidInput, check
from openeks.aws.service import RequestContext, ServiceHandler
from openeks.aws.wire import Request, Response

log = logging.getLogger(__name__)

CredentialLookup = Callable[[str], Credential | Awaitable[Credential | None] | None]
Clock = Callable[[], datetime]
GLOBAL_SERVICES = frozenset({"iam"})
"""Services whose signing region is not the endpoint's (IAM is signed for us-east-1)."""
MAX_BODY_BYTES = 16 * 1024 * 1024
INTERNAL_FAILURE_MESSAGE = "We encountered an internal error. Please try again."
TOO_DEEP_MESSAGE = "The request is nested too deeply"
ENDPOINT_KEY: web.AppKey[Endpoint] = web.AppKey("openeks.aws.endpoint")
_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")


@dataclass(frozen=True)
class ServedService:
    name: str
    handler: ServiceHandler
    protocol: WireProtocol

    @property
    def signing_name(self) -> str:
        return str(self.handler.model.signing_name)


class Endpoint:
    """All served services behind one URL: `wire.Request` in, `wire.Response` out."""

    def __init__(
        self,
        services: Mapping[str, ServiceHandler],
        credentials: CredentialLookup,
        region: str,
        *,
        clock: Clock | None = None,
        max_skew: timedelta = sigv4.MAX_SKEW,
    ) -> None:
        self.services = [
            ServedService(name, handler, protocol_for(handler.model))
            for name, handler in services.items()
        ]
        self.by_signing_name = {service.signing_name: service for service in self.services}
        self.credentials = credentials
        self.region = region
        self.clock = clock or (lambda: datetime.now(UTC))
        self.max_skew = max_skew

    async def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        service = self.identify(request)
        if service is None:
            response = _unroutable(request, request_id)
        else:
            response = await self._serve(service, request, request_id)
        log.debug(
            "%s %s -> %s %d (%.1f ms) %s",
            request.method,
            request.path,
            service.name if service else "-",
            response.status,
            (time.monotonic() - started) * 1000,
            request_id,
        )
        return response

    def identify(self, request: Request) -> ServedService | None:
        """The service a request is for: the signed scope's, else the one that claims it."""
        scope_service = _scope_service(request)
        if scope_service is not None:
            return self.by_signing_name.get(scope_service)
        for service in self.services:
            if service.protocol.claims(request):
                return service
        return None

    async def _serve(self, service: ServedService, request: Request, request_id: str) -> Response:
        protocol = service.protocol
        try:
            principal, operation, params = await self._admit(service, request)
            _validate(operation, params)
            context = RequestContext(
                request_id=request_id,
                region=self.region,
                service=service.name,
                operation=operation.name,
                principal=principal,
                source_ip=request.remote,
                user_agent=request.header("user-agent") or "",
            )
            result = await service.handler.handle(operation.name, params, context)
            return protocol.encode(operation, result, request_id)
        except sigv4.SigV4Error as failure:
            return protocol.encode_error(
                auth_error(failure.problem, failure.message, protocol.family), request_id
            )
        except InvalidInput as invalid:
            return protocol.encode_error(protocol.validation_error(invalid.violations), request_id)
        except AwsError as error:
            return self._encode_error(protocol, error, request_id)
        except Exception:
            log.exception("internal failure in %s (request %s)", service.name, request_id)
            return protocol.encode_error(InternalFailure(INTERNAL_FAILURE_MESSAGE), request_id)

    async def _admit(
        self, service: ServedService, request: Request
    ) -> tuple[Principal | None, OperationModel, dict[str, object]]:
        """Authenticate, then decode; an unsigned request gets only as far as finding out
        whether its operation allows anonymous callers."""
        auth = sigv4.parse_auth(request)
        if auth is None:
            try:
                call: Call | None = _decode(service.protocol, request)
            except Exception:
                call = None
            if call is None or not _anonymous(call.operation):
                raise sigv4.SigV4Error(
                    AuthProblem.MISSING, "Request is missing Authentication Token"
                )
            return None, call.operation, call.params
        principal = await self._verify(service, request, auth)
        signed_call = _decode(service.protocol, request)
        return principal, signed_call.operation, signed_call.params

    async def _verify(
        self, service: ServedService, request: Request, auth: sigv4.AuthParams
    ) -> Principal:
        found = self.credentials(auth.access_key_id)
        credential = await found if inspect.isawaitable(found) else found
        regions = () if service.signing_name in GLOBAL_SERVICES else (self.region,)
        verified = sigv4.check(
            request,
            auth,
            credential,
            now=self.clock(),
            regions=regions,
            service=service.signing_name,
            max_skew=self.max_skew,
        )
        return verified.principal

    def _encode_error(self, protocol: WireProtocol, error: AwsError, request_id: str) -> Response:
        try:
            return protocol.encode_error(error, request_id)
        except Exception:
            log.exception("cannot encode %r (request %s)", error, request_id)
            return protocol.encode_error(InternalFailure(INTERNAL_FAILURE_MESSAGE), request_id)


def _decode(protocol: WireProtocol, request: Request) -> Call:
    try:
        return protocol.decode(request)
    except RecursionError:
        raise SerializationException(TOO_DEEP_MESSAGE) from None


def _validate(operation: OperationModel, params: dict[str, object]) -> None:
    try:
        check(operation.input_shape, params)
    except RecursionError:
        raise SerializationException(TOO_DEEP_MESSAGE) from None


def _anonymous(operation: OperationModel) -> bool:
    return operation.auth_type == "none" or "smithy.api#noAuth" in (operation.auth or [])


def _scope_service(request: Request) -> str | None:
    """The service named in the request's credential scope, without verifying anything."""
    credential: str | None = None
    header = request.header("authorization")
    if header is not None:
        found = _CREDENTIAL.search(header)
        credential = found.group(1) if found else None
    else:
        credential = next(
            (value for name, value in request.query_pairs if name == "X-Amz-Credential"), None
        )
    parts = credential.split("/") if credential else []
    return parts[3] if len(parts) == 5 else None


def _unroutable(request: Request, request_id: str) -> Response:
    error = UnknownOperationException(
        f"No service on this endpoint handles {request.method} {request.path}"
    )
    return _generic_error(error, request_id)


def _generic_error(error: AwsError, request_id: str) -> Response:
    """An error for a request no served service claims: query-style XML, which every
    botocore parser reads, with the code also in `x-amzn-ErrorType` for the JSON ones."""
    root = ET.Element("ErrorResponse")
    detail = ET.SubElement(root, "Error")
    ET.SubElement(detail, "Type").text = "Sender" if error.sender_fault else "Receiver"
    ET.SubElement(detail, "Code").text = error.code
    ET.SubElement(detail, "Message").text = error.message
    ET.SubElement(root, "RequestId").text = request_id
    headers = {
        "Content-Type": "text/xml",
        "x-amzn-RequestId": request_id,
        "x-amzn-ErrorType": error.code,
    }
    status = error.status or 400
    return Response(status, ET.tostring(root, encoding="unicode").encode("utf-8"), headers)


def make_app(
    services: Mapping[str, ServiceHandler],
    credentials: CredentialLookup,
    region: str,
    *,
    clock: Clock | None = None,
    max_skew: timedelta = sigv4.MAX_SKEW,
    routes: Sequence[web.RouteDef] = (),
) -> web.Application:
    """An aiohttp application serving `services` (keyed by service name) on every path
    but those of `routes` (the region's own endpoints), which are matched first."""
    endpoint = Endpoint(services, credentials, region, clock=clock, max_skew=max_skew)

    async def serve(http: web.Request) -> web.StreamResponse:
        path, _, query = http.raw_path.partition("?")
        headers = tuple(http.headers.items())
        try:
            body = await http.read()
        except web.HTTPRequestEntityTooLarge:
            body = b""
            request = Request(http.method, path, query, headers, body, http.remote or "")
            error = AwsError(
                f"Request body larger than {MAX_BODY_BYTES} bytes",
                code="RequestEntityTooLarge",
                status=413,
            )
            service = endpoint.identify(request)
            request_id = str(uuid.uuid4())
            if service is None:
                return _to_aiohttp(_generic_error(error, request_id))
            return _to_aiohttp(service.protocol.encode_error(error, request_id))
        request = Request(http.method, path, query, headers, body, http.remote or "")
        return _to_aiohttp(await endpoint.handle(request))

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[ENDPOINT_KEY] = endpoint
    app.add_routes(routes)
    app.router.add_route("*", "/{tail:.*}", serve)
    return app


def _to_aiohttp(response: Response) -> web.Response:
    return web.Response(status=response.status, body=response.body, headers=response.headers)
