"""Watch streams: newline-delimited `{"type": ..., "object": ...}` over chunked HTTP.

Errors found before the first byte (bad options) are ordinary error responses; errors
of the watch itself (resourceVersion too old) arrive, as upstream sends them, as an
`ERROR` event carrying a `Status`, on a 200 response. Events may be rendered as Tables
(`kubectl get -w`) or metadata only. Bookmarks go out when the client allows them and
nothing else happened for a while; the initial-events-end bookmark follows the initial
snapshot when `sendInitialEvents=true`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiohttp import web

from openeks.kube.api import conversion, errors
from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver import codec
from openeks.kube.apiserver.context import ApiContext
from openeks.kube.apiserver.handlers import selectors
from openeks.kube.apiserver.registry import Bookmark, ResourceStore, WatchOptions
from openeks.kube.apiserver.request import RequestInfo
from openeks.kube.apiserver.transform import partial, table
from openeks.kube.apiserver.watchcache import CacheEvent

Obj = dict[str, Any]

BOOKMARK_PERIOD = 10.0
DEFAULT_TIMEOUT = 1800


def _bool_param(request: web.Request, name: str) -> bool | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    return value.lower() in ("true", "1")


def watch_options(
    ctx: ApiContext, rs: ResourceStore, request: web.Request, ri: RequestInfo
) -> WatchOptions:
    matches, _ = selectors(ctx, rs, request)
    opts = WatchOptions(
        matches=matches,
        resource_version=request.query.get("resourceVersion", ""),
        resource_version_match=request.query.get("resourceVersionMatch", ""),
        send_initial_events=_bool_param(request, "sendInitialEvents"),
        allow_bookmarks=bool(_bool_param(request, "allowWatchBookmarks")),
        name=ri.name,
    )
    if opts.send_initial_events is not None and opts.resource_version_match != "NotOlderThan":
        raise errors.invalid(
            "ListOptions",
            "meta.k8s.io",
            "",
            [
                errors.Cause(
                    "FieldValueForbidden",
                    "Forbidden: sendInitialEvents is forbidden for watch unless "
                    "resourceVersionMatch is set to NotOlderThan",
                    "sendInitialEvents",
                )
            ],
        )
    if opts.resource_version_match and opts.send_initial_events is None:
        raise errors.invalid(
            "ListOptions",
            "meta.k8s.io",
            "",
            [
                errors.Cause(
                    "FieldValueForbidden",
                    "Forbidden: resourceVersionMatch is forbidden for watch unless "
                    "sendInitialEvents is provided",
                    "resourceVersionMatch",
                )
            ],
        )
    return opts


class _Encoder:
    """Turns cache events into wire lines for one watch, in the negotiated shape."""

    def __init__(
        self, ctx: ApiContext, info: ResourceInfo, output: codec.Output, request: web.Request
    ) -> None:
        self.ctx, self.info, self.output, self.request = ctx, info, output, request
        self.headers_sent = False

    def bookmark(self, mark: Bookmark) -> bytes:
        m: Obj = {"resourceVersion": str(mark.revision)}
        if mark.initial_events_end:
            m["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj: Obj = {"kind": self.info.kind, "apiVersion": self.info.api_version, "metadata": m}
        if self.output.as_kind in ("PartialObjectMetadata", "Table"):
            obj = {
                "kind": "PartialObjectMetadata",
                "apiVersion": f"meta.k8s.io/{self.output.version}",
                "metadata": m,
            }
        return self.line("BOOKMARK", obj)

    def event(self, event: CacheEvent) -> bytes:
        info = self.info
        obj = conversion.from_storage(info.group, info.version, info.kind, event.obj)
        if self.output.as_kind == "Table":
            obj = table(self.ctx, info, [obj], self.request, no_headers=self.headers_sent)
            obj.setdefault("metadata", {})["resourceVersion"] = str(
                event.obj["metadata"].get("resourceVersion", "")
            )
            self.headers_sent = True
        elif self.output.as_kind:
            obj = partial(obj, self.output.version)
        return self.line(event.type, obj)

    def line(self, kind: str, obj: Obj) -> bytes:
        if self.output.media_type == codec.YAML:
            return codec.encode({"type": kind, "object": obj}, self.output) + b"---\n"
        return orjson.dumps({"type": kind, "object": obj}) + b"\n"


async def serve_watch(
    ctx: ApiContext, request: web.Request, ri: RequestInfo, info: ResourceInfo, rs: ResourceStore
) -> web.StreamResponse:
    output = codec.negotiate(
        request.headers.get("Accept"), allowed=("", "Table", "PartialObjectMetadata")
    )
    opts = watch_options(ctx, rs, request, ri)
    timeout = request.query.get("timeoutSeconds")
    try:
        seconds = float(timeout) if timeout else DEFAULT_TIMEOUT * (1 + random.random())
    except ValueError:
        raise errors.bad_request(f"invalid timeoutSeconds {timeout!r}") from None
    stream = _Stream(rs.watch(ri.namespace, opts), _Encoder(ctx, info, output, request))
    await asyncio.wait({stream.pending}, timeout=0.05)
    error = stream.early_error()
    if error is not None:
        await stream.close()
        raise error
    response = web.StreamResponse(status=200)
    response.content_type = output.media_type
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            async with asyncio.timeout(seconds):
                await stream.pump(response, opts.allow_bookmarks, rs)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
    finally:
        await stream.close()
    return response


class _Stream:
    """The client's event iterator, always with one `anext` in flight."""

    def __init__(self, events: AsyncIterator[CacheEvent | Bookmark], encoder: _Encoder) -> None:
        self.events = events
        self.encoder = encoder
        self.pending: asyncio.Future[CacheEvent | Bookmark] = asyncio.ensure_future(anext(events))

    def early_error(self) -> ApiError | None:
        """A request error (bad options) found before the response started."""
        if not self.pending.done() or self.pending.cancelled():
            return None
        error = self.pending.exception()
        if isinstance(error, ApiError) and error.code != 410:
            return error
        return None

    async def pump(self, response: web.StreamResponse, bookmarks: bool, rs: ResourceStore) -> None:
        encoder = self.encoder
        while True:
            done, _ = await asyncio.wait(
                {self.pending}, timeout=BOOKMARK_PERIOD if bookmarks else None
            )
            if not done:
                await response.write(encoder.bookmark(Bookmark(rs.cache.revision)))
                continue
            try:
                item = self.pending.result()
            except StopAsyncIteration:
                return
            except ApiError as e:
                await response.write(encoder.line("ERROR", e.status()))
                return
            await response.write(_encode(encoder, item))
            self.pending = asyncio.ensure_future(anext(self.events))

    async def close(self) -> None:
        self.pending.cancel()
        with contextlib.suppress(BaseException):
            await self.pending
        with contextlib.suppress(RuntimeError):
            await self.events.aclose()  # type: ignore[attr-defined]


def _encode(encoder: _Encoder, item: CacheEvent | Bookmark) -> bytes:
    if isinstance(item, Bookmark):
        return encoder.bookmark(item)
    return encoder.event(item)
