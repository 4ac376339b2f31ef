"""One admission webhook call: the AdmissionReview out, the response checked and read back.

As upstream's `webhook/request` and `generic` call path: the request is an
`admission.k8s.io/v1` AdmissionReview (uid, kind/resource/subResource and their request*
twins, name, namespace, operation, userInfo, object, oldObject, dryRun, options) POSTed to
the webhook with `?timeout=<n>s` and bounded by `timeoutSeconds`; the answer must be an
AdmissionReview v1 with the same uid (validating webhooks may not patch; patches must be
JSONPatch). Anything that prevents an answer — unreachable, TLS failure, timeout, non-2xx,
malformed answer — is a `CallError` (upstream's ErrCallingWebhook: `failed calling webhook
"x": failed to call webhook: Post "https://...?timeout=10s": ...`), which the failure
policy decides about.

Where the webhook is: `clientConfig.url` as given; `clientConfig.service` is resolved here,
since the API server has no cluster DNS: a ready address of the Service's Endpoints on the
matching port; failing that, a NodePort or LoadBalancer Service's node port on 127.0.0.1.
TLS is verified against `caBundle` (system roots without one) with the host name upstream
uses (`<service>.<namespace>.svc`), so serving certificates are the ones a real cluster
needs.
"""

from __future__ import annotations

import base64
import errno
import ssl
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import aiohttp
import orjson

from openeks.kube.api import errors
from openeks.kube.apiserver.admission.base import AdmissionRequest
from openeks.kube.apiserver.admission.common import cached_one
from openeks.kube.apiserver.admission.webhookconfig import Hook
from openeks.kube.apiserver.registry import Registry

Obj = dict[str, Any]
REVIEW = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}


class CallError(Exception):
    """The webhook could not be asked, or its answer not read (ErrCallingWebhook)."""

    def __init__(self, hook: str, reason: str) -> None:
        super().__init__(f'failed calling webhook "{hook}": {reason}')


@dataclass
class Answer:
    allowed: bool
    status: Obj | None = None
    patch: list[Any] | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    url: str
    """What error messages show, as upstream would call it."""
    connect: str
    """Where to connect (may differ from `url` for services)."""
    server_hostname: str | None
    """The name the certificate must carry; None = the URL's host."""


def review(req: AdmissionRequest, uid: str) -> Obj:
    info = req.info
    gvk = {"group": info.group, "version": info.version, "kind": info.kind}
    gvr = {"group": info.group, "version": info.version, "resource": info.plural}
    body: Obj = {"uid": uid, "kind": gvk, "resource": gvr}
    if req.subresource:
        body["subResource"] = req.subresource
    body.update(requestKind=gvk, requestResource=gvr)
    if req.subresource:
        body["requestSubResource"] = req.subresource
    namespace = req.namespace or (
        req.name if (info.group, info.plural) == ("", "namespaces") else ""
    )
    if req.name:
        body["name"] = req.name
    if namespace:
        body["namespace"] = namespace
    options_kind = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions"}.get(
        req.operation, "DeleteOptions"
    )
    options: Obj = {"kind": options_kind, "apiVersion": "meta.k8s.io/v1"}
    if req.dry_run:
        options["dryRun"] = ["All"]
    body.update(
        operation=req.operation,
        userInfo=req.user.to_user_info() if req.user is not None else {},
        object=req.obj,
        oldObject=req.old,
        dryRun=req.dry_run,
        options=options,
    )
    return {**REVIEW, "request": body}


# -- where ------------------------------------------------------------------------------------
def target(registry: Registry, hook: Hook) -> Target:
    config = hook.spec.get("clientConfig") or {}
    timeout = int(hook.spec.get("timeoutSeconds", 10))
    if config.get("url"):
        url = _with_timeout(str(config["url"]), timeout)
        return Target(url, url, None)
    service = config.get("service") or {}
    ns, name = service.get("namespace", ""), service.get("name", "")
    port = int(service.get("port", 443))
    path = service.get("path") or ""
    url = _with_timeout(f"https://{name}.{ns}.svc:{port}{path}", timeout)
    address = _resolve(registry, hook.name, ns, name, port)
    return Target(url, _with_timeout(f"https://{address}{path}", timeout), f"{name}.{ns}.svc")


def _with_timeout(url: str, seconds: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}timeout={seconds}s"


def _resolve(registry: Registry, hook: str, ns: str, name: str, port: int) -> str:
    svc = cached_one(registry, "core/services", ns, name)
    if svc is None:
        raise CallError(hook, f'failed to call webhook: service "{name}" not found')
    ports = (svc.get("spec") or {}).get("ports") or []
    svc_port = next((p for p in ports if int(p.get("port", 0)) == port), None)
    if svc_port is None:
        raise CallError(
            hook, f'failed to call webhook: no service port {port} found for service "{name}"'
        )
    endpoints = cached_one(registry, "core/endpoints", ns, name) or {}
    for subset in endpoints.get("subsets") or ():
        ep_port = next(
            (
                p
                for p in subset.get("ports") or ()
                if p.get("name", "") == svc_port.get("name", "") or len(subset.get("ports")) == 1
            ),
            None,
        )
        addresses = subset.get("addresses") or []
        if ep_port is not None and addresses:
            return f"{addresses[0]['ip']}:{ep_port['port']}"
    if svc_port.get("nodePort"):
        return f"127.0.0.1:{svc_port['nodePort']}"
    raise CallError(hook, f'failed to call webhook: no endpoints available for service "{name}"')


_contexts: dict[str, ssl.SSLContext] = {}


def _tls(ca_bundle: str) -> ssl.SSLContext:
    context = _contexts.get(ca_bundle)
    if context is None:
        if ca_bundle:
            pem = base64.b64decode(ca_bundle).decode()
            context = ssl.create_default_context(cadata=pem)
        else:
            context = ssl.create_default_context()
        _contexts[ca_bundle] = context
    return context


# -- the call ---------------------------------------------------------------------------------
async def call(registry: Registry, hook: Hook, req: AdmissionRequest, mutating: bool) -> Answer:
    where = target(registry, hook)
    uid = str(uuid.uuid4())
    body = orjson.dumps(review(req, uid))
    config = hook.spec.get("clientConfig") or {}
    timeout = float(hook.spec.get("timeoutSeconds", 10))
    try:
        tls = _tls(str(config.get("caBundle") or ""))
    except (ValueError, ssl.SSLError):
        raise CallError(
            hook.name,
            "could not get REST client: unable to load root certificates: unable to parse "
            "bytes as PEM block",
        ) from None
    raw = await _post(hook.name, where, body, tls, timeout)
    return _read(hook.name, raw, uid, mutating)


async def _post(
    name: str, where: Target, body: bytes, tls: ssl.SSLContext, timeout: float
) -> bytes:
    failed = f'failed to call webhook: Post "{where.url}"'
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(
                where.connect,
                data=body,
                headers={"Content-Type": "application/json", "Accept": "application/json, */*"},
                ssl=tls,
                server_hostname=where.server_hostname,
            ) as resp,
        ):
            payload = await resp.read()
            if resp.status >= 300:
                raise CallError(
                    name, f"failed to call webhook: {_server_error(resp.status, payload)}"
                )
            return payload
    except TimeoutError:
        raise CallError(name, f"{failed}: context deadline exceeded") from None
    except aiohttp.ClientConnectorCertificateError as e:
        raise CallError(name, f"{failed}: {_tls_error(where, e.certificate_error)}") from None
    except aiohttp.ClientConnectorError as e:
        raise CallError(name, f"{failed}: {_dial_error(where, e)}") from None
    except aiohttp.ClientError as e:
        raise CallError(name, f"{failed}: {e}") from None


def _tls_error(where: Target, err: Exception) -> str:
    """Go's words for the common verification failures."""
    code = getattr(err, "verify_code", 0)
    if code in (18, 19, 20, 21):
        why = "x509: certificate signed by unknown authority"
    elif code == 62:
        host = where.server_hostname or urlparse(where.url).hostname
        why = f"x509: certificate is not valid for {host}"
    elif code in (9, 10):
        why = "x509: certificate has expired or is not yet valid"
    else:
        why = str(getattr(err, "verify_message", "") or err)
    return f"tls: failed to verify certificate: {why}"


def _dial_error(where: Target, e: aiohttp.ClientConnectorError) -> str:
    address = f"{e.host}:{e.port}"
    if e.os_error is not None and e.os_error.errno == errno.ECONNREFUSED:
        return f"dial tcp {address}: connect: connection refused"
    return f"dial tcp {address}: {e.os_error or e}"


def _server_error(code: int, payload: bytes) -> str:
    try:
        status = orjson.loads(payload)
        if isinstance(status, dict) and status.get("kind") == "Status" and status.get("message"):
            return str(status["message"])
    except orjson.JSONDecodeError:
        pass
    text = payload.decode(errors="replace").strip()
    if text:
        return f'an error on the server ("{text[:1024]}") has prevented the request from succeeding'
    return f"the server responded with the status code {code} but did not return more information"


def _read(name: str, raw: bytes, uid: str, mutating: bool) -> Answer:
    def invalid(why: str) -> CallError:
        return CallError(name, f"received invalid webhook response: {why}")

    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise CallError(name, f"failed to call webhook: {e}") from None
    if not isinstance(doc, dict):
        raise CallError(
            name, "failed to call webhook: the server returned an object that is not a map"
        )
    response = doc.get("response")
    if not isinstance(response, dict):
        raise invalid("webhook response was absent")
    if response.get("uid", "") != uid:
        raise invalid(f'expected response.uid="{uid}", got "{response.get("uid", "")}"')
    if doc.get("apiVersion") != REVIEW["apiVersion"] or doc.get("kind") != REVIEW["kind"]:
        got = f"{doc.get('apiVersion', '')}, Kind={doc.get('kind', '')}"
        raise invalid(
            f"expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {got}"
        )
    patch, patch_type = response.get("patch"), response.get("patchType")
    if patch and patch_type != "JSONPatch":
        raise invalid(f'expected patchType="JSONPatch", got "{patch_type or ""}"')
    if not mutating and (patch or patch_type is not None):
        raise invalid("validating webhooks may not return patches or patch types")
    operations = None
    if patch:
        try:
            operations = orjson.loads(base64.b64decode(patch))
        except (ValueError, orjson.JSONDecodeError) as e:
            raise errors.internal(str(e)) from None
    warnings = [str(w) for w in response.get("warnings") or ()]
    return Answer(bool(response.get("allowed")), response.get("status"), operations, warnings)
