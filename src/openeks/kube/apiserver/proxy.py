"""`pods/log` and `pods/exec`: the API server forwards them to the pod's node agent.

As upstream does with the kubelet: the node agent's address and port come from the
Node object (InternalIP, `daemonEndpoints.kubeletEndpoint.Port`); the API server
connects over HTTPS with its own kubelet-client certificate (the node agent checks it
against the cluster CA) and does not verify the node's self-signed serving certificate
(upstream's default without `--kubelet-certificate-authority`). Logs are streamed through
as they arrive; exec is a WebSocket relayed frame by frame in both directions, so the
`v5.channel.k8s.io` protocol (or v4) is spoken end to end between kubectl and the node.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from openeks.kube.api import errors
from openeks.kube.apiserver.registry import Registry

Obj = dict[str, Any]

EXEC_PROTOCOLS = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
)
_LOG_PARAMS = (
    "follow",
    "previous",
    "timestamps",
    "tailLines",
    "sinceSeconds",
    "sinceTime",
    "limitBytes",
)


class NodeProxy:
    def __init__(self, registry: Registry, cert: Path, key: Path) -> None:
        self.registry = registry
        self.tls = ssl.create_default_context()
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE
        self.tls.load_cert_chain(cert, key)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.tls))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # -- locating ----------------------------------------------------------------------
    async def _pod(self, namespace: str, name: str) -> Obj:
        return await self.registry.for_storage("core/pods").get(namespace, name)

    async def _node_url(self, pod: Obj) -> str:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            raise errors.bad_request(f"pod {pod['metadata']['name']} does not have a host assigned")
        node = await self.registry.for_storage("core/nodes").get("", node_name)
        status = node.get("status") or {}
        address = next(
            (a["address"] for a in status.get("addresses") or () if a.get("type") == "InternalIP"),
            None,
        )
        port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
        if not address or not port:
            raise errors.ApiError(
                f'node "{node_name}" has no kubelet endpoint', 503, "ServiceUnavailable"
            )
        host = f"[{address}]" if ":" in address else address
        return f"https://{host}:{port}"

    @staticmethod
    def container(pod: Obj, requested: str) -> str:
        spec = pod.get("spec") or {}
        names = [c["name"] for c in spec.get("containers") or ()]
        init = [c["name"] for c in spec.get("initContainers") or ()]
        ephemeral = [c["name"] for c in spec.get("ephemeralContainers") or ()]
        pod_name = pod["metadata"]["name"]
        if requested:
            if requested not in names + init + ephemeral:
                raise errors.bad_request(f"container {requested} is not valid for pod {pod_name}")
            return requested
        default = (pod["metadata"].get("annotations") or {}).get(
            "kubectl.kubernetes.io/default-container"
        )
        if default in names:
            return str(default)
        if len(names) == 1:
            return names[0]
        raise errors.bad_request(
            f"a container name must be specified for pod {pod_name}, choose one of: "
            f"[{' '.join(names)}]"
            + (f" or one of the init containers: [{' '.join(init)}]" if init else "")
        )

    @staticmethod
    def _check_started(pod: Obj, container: str, previous: bool) -> None:
        status = pod.get("status") or {}
        for s in (status.get("containerStatuses") or []) + (
            status.get("initContainerStatuses") or []
        ):
            if s.get("name") != container:
                continue
            waiting = (s.get("state") or {}).get("waiting")
            if waiting and not previous and not (s.get("lastState") or {}).get("terminated"):
                reason = waiting.get("reason", "ContainerCreating")
                pod_name = pod["metadata"]["name"]
                raise errors.bad_request(
                    f'container "{container}" in pod "{pod_name}" is waiting to start: {reason}'
                )
            return

    # -- logs --------------------------------------------------------------------------
    async def logs(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        pod = await self._pod(namespace, name)
        container = self.container(pod, request.query.get("container", ""))
        previous = request.query.get("previous") == "true"
        self._check_started(pod, container, previous)
        base = await self._node_url(pod)
        params = {k: request.query[k] for k in _LOG_PARAMS if k in request.query}
        url = f"{base}/containerLogs/{namespace}/{name}/{container}"
        try:
            upstream = await self.session.get(
                url, params=params, timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)
            )
        except aiohttp.ClientError as e:
            raise errors.ApiError(f'Get "{url}": {e}', 500, "InternalError") from None
        async with upstream:
            if upstream.status >= 400:
                text = (await upstream.read()).decode(errors="replace")
                raise errors.ApiError(
                    text.strip() or f"node answered {upstream.status}",
                    upstream.status,
                    "BadRequest" if upstream.status == 400 else "InternalError",
                )
            response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            with contextlib.suppress(ConnectionResetError, aiohttp.ClientError):
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await response.write_eof()
            return response

    # -- exec --------------------------------------------------------------------------
    async def exec(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        pod = await self._pod(namespace, name)
        container = self.container(pod, request.query.get("container", ""))
        commands = request.query.getall("command", [])
        if not commands:
            raise errors.bad_request("you must specify at least 1 command")
        self._check_started(pod, container, False)
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise errors.bad_request(
                f"cannot exec into a container in a completed pod; current phase is {phase}"
            )
        if request.headers.get("Upgrade", "").lower() != "websocket":
            raise errors.ApiError(
                "Upgrade request required: only WebSocket (v5.channel.k8s.io) exec is supported",
                400,
                "BadRequest",
            )
        offered = [
            p.strip()
            for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")
            if p.strip()
        ]
        protocols = [p for p in EXEC_PROTOCOLS if p in offered] or list(EXEC_PROTOCOLS)
        base = await self._node_url(pod)
        params = [(k, v) for k, v in request.query.items() if k != "container"]
        try:
            node_ws = await self.session.ws_connect(
                f"{base}/exec/{namespace}/{name}/{container}",
                params=params,
                protocols=protocols,
                autoping=True,
                max_msg_size=0,
            )
        except aiohttp.WSServerHandshakeError as e:
            raise errors.ApiError(
                f"error dialing backend: {e.message}", e.status or 500, "InternalError"
            ) from None
        except aiohttp.ClientError as e:
            raise errors.ApiError(f"error dialing backend: {e}", 500, "InternalError") from None
        client_ws = web.WebSocketResponse(
            protocols=[node_ws.protocol] if node_ws.protocol else (), max_msg_size=0
        )
        await client_ws.prepare(request)
        await _relay(client_ws, node_ws)
        return client_ws


async def _relay(client: web.WebSocketResponse, node: aiohttp.ClientWebSocketResponse) -> None:
    async def pump(src: Any, dst: Any) -> None:
        async for msg in src:
            if msg.type == aiohttp.WSMsgType.BINARY:
                await dst.send_bytes(msg.data)
            elif msg.type == aiohttp.WSMsgType.TEXT:
                await dst.send_str(msg.data)
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                break

    tasks = [asyncio.create_task(pump(client, node)), asyncio.create_task(pump(node, client))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await node.close()
        with contextlib.suppress(Exception):
            await client.close()
