"""The node's HTTPS API, the part of kubelet's port 10250 the API server uses.

- `GET /healthz` — `ok` (no authentication needed).
- `GET /containerLogs/{namespace}/{pod}/{container}` — the container's log with
  `follow`, `tailLines`, `timestamps`, `previous`, `sinceSeconds`, `sinceTime`,
  `limitBytes` (see `logs`).
- `GET /exec/{namespace}/{pod}/{container}?command=...` — upgraded to a WebSocket
  speaking `v5.channel.k8s.io` / `v4.channel.k8s.io` (see `remotecommand`).

Which container a name means is asked of a `ContainerLocator` (the agent's pod workers
in production, a fake in tests), so this module knows HTTP and nothing of pod workers.
Errors are plain text with kubelet's wording; the API server passes them on to kubectl.
"""

from __future__ import annotations

import datetime
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiohttp import web

from openeks.kube.node import logs, remotecommand
from openeks.kube.node.runtime.base import Runtime, RuntimeFailure, State
from openeks.kube.node.servingcert import caller_of

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = ("/healthz",)


@dataclass
class ContainerRef:
    container_id: str
    log_path: Path | None
    previous_log_path: Path | None = None


class ContainerLocator(Protocol):
    def pod_exists(self, namespace: str, pod: str) -> bool: ...

    def locate(self, namespace: str, pod: str, container: str) -> ContainerRef | None:
        """The container's current instance; None if the pod has no such container."""
        ...


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n")


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC:
        return await handler(request)
    transport = request.transport
    caller = caller_of(transport.get_extra_info("peercert") if transport else None)
    if caller is None:
        return _text(401, "Unauthorized")
    if not caller.allowed:
        verb = "create" if request.path.startswith("/exec") else "get"
        return _text(
            403,
            f"Forbidden (user={caller.user}, verb={verb}, resource=nodes, subresource=proxy)",
        )
    return await handler(request)


class _BadRequest(Exception):
    pass


def _int(query: dict[str, str] | object, name: str, minimum: int) -> int | None:
    assert hasattr(query, "get")
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(f"invalid {name}: {raw!r} is not an integer") from None
    if value < minimum:
        raise _BadRequest(f"{name} must be at least {minimum}")
    return value


def log_options(query: object) -> tuple[logs.LogOptions, bool]:
    """(options, previous) from the query string, as kubelet validates them."""
    assert hasattr(query, "get")
    since_seconds = _int(query, "sinceSeconds", 1)
    since_time = query.get("sinceTime")
    if since_seconds is not None and since_time:
        raise _BadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified")
    since = None
    if since_seconds is not None:
        since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=since_seconds)
    elif since_time:
        since = logs.parse_time(since_time)
        if since is None:
            raise _BadRequest(f"invalid sinceTime: {since_time!r}")
    flag = lambda name: (query.get(name) or "").lower() in ("1", "true")  # noqa: E731
    options = logs.LogOptions(
        follow=flag("follow"),
        tail_lines=_int(query, "tailLines", 0),
        timestamps=flag("timestamps"),
        since=since,
        limit_bytes=_int(query, "limitBytes", 1),
    )
    return options, flag("previous")


class NodeServer:
    def __init__(
        self,
        locator: ContainerLocator,
        runtime: Runtime,
        address: str,
        port: int,
        tls: ssl.SSLContext | None,
    ) -> None:
        self.locator = locator
        self.runtime = runtime
        self.address = address
        self.port = port
        self.tls = tls
        self.app = web.Application(middlewares=[authenticate])
        self.app.router.add_get("/healthz", self.healthz)
        self.app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self.container_logs)
        self.app.router.add_get("/exec/{namespace}/{pod}/{container}", self.exec)
        self.app.router.add_post("/exec/{namespace}/{pod}/{container}", self.exec)
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        """Listen; returns the bound port."""
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.address, self.port, ssl_context=self.tls)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.port
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def healthz(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    def _find(self, request: web.Request) -> ContainerRef | web.Response:
        ns, pod = request.match_info["namespace"], request.match_info["pod"]
        container = request.match_info["container"]
        if not self.locator.pod_exists(ns, pod):
            return _text(404, f'pod "{pod}" does not exist')
        ref = self.locator.locate(ns, pod, container)
        if ref is None:
            return _text(404, f'container "{container}" not found in pod "{pod}"')
        return ref

    async def _running(self, container_id: str) -> bool:
        try:
            status = await self.runtime.container_status(container_id)
        except (RuntimeFailure, OSError):
            return False
        return status.state is State.RUNNING

    async def container_logs(self, request: web.Request) -> web.StreamResponse:
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        try:
            options, previous = log_options(request.query)
        except _BadRequest as e:
            return _text(400, str(e))
        path = found.previous_log_path if previous else found.log_path
        container, pod = request.match_info["container"], request.match_info["pod"]
        if path is None or not path.exists():
            if previous:
                return _text(
                    400, f'previous terminated container "{container}" in pod "{pod}" not found'
                )
            return _text(400, f'container "{container}" in pod "{pod}" has no logs yet')
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)

        async def write(data: bytes) -> None:
            await response.write(data)

        async def running() -> bool:
            transport = request.transport
            if transport is None or transport.is_closing():
                return False
            return not previous and await self._running(found.container_id)

        try:
            await logs.stream_log(path, options, write, running)
            await response.write_eof()
        except ConnectionResetError:
            log.debug("log stream for %s/%s ended by the client", pod, container)
        return response

    async def exec(self, request: web.Request) -> web.StreamResponse:
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        options = remotecommand.exec_options(request.query)
        if not options.command:
            return _text(400, "you must specify at least 1 command")
        if not await self._running(found.container_id):
            container = request.match_info["container"]
            return _text(400, f'container "{container}" is not running')
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return _text(400, "Upgrade request required")
        return await remotecommand.serve_exec(request, self.runtime, found.container_id, options)
