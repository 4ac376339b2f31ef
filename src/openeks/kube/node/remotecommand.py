"""`exec` over a WebSocket: the `channel.k8s.io` protocols kubectl speaks.

Every binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error,
4 resize (`{"Width": 80, "Height": 24}`). In `v5.channel.k8s.io` a client closes one of
its streams with channel 255 followed by the stream's number (`\\xff\\x00` ends stdin);
in older versions stdin ends with the connection. After the command, the error channel
carries the result: in v4 and v5 a metav1.Status (`Success`, or `Failure` with reason
`NonZeroExitCode` and the exit code as the `ExitCode` cause — kubectl turns it into its
exit code), in v1-v3 plain text for failures only. As upstream does, the server opens
by sending an empty message on the first output channel it will use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from openeks.kube.node.runtime.base import ExecResult, ExecStreams, Runtime, RuntimeFailure

PROTOCOLS = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
)
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


@dataclass(frozen=True)
class ExecOptions:
    command: list[str]
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


def exec_options(query: Any) -> ExecOptions:
    return ExecOptions(
        command=list(query.getall("command", [])),
        stdin=_flag(query.get("stdin") or query.get("input")),
        stdout=_flag(query.get("stdout") or query.get("output")),
        stderr=_flag(query.get("stderr") or query.get("error")),
        tty=_flag(query.get("tty")),
    )


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(command: list[str], code: int) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            "command terminated with non-zero exit code: error executing command "
            f"[{' '.join(command)}], exit code {code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_error(message: str) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }


class WebSocketStreams(ExecStreams):
    """ExecStreams over one WebSocket: a reader task feeds stdin and resize queues."""

    def __init__(self, ws: web.WebSocketResponse, options: ExecOptions) -> None:
        self.ws = ws
        self.options = options
        self.v5 = ws.ws_protocol == "v5.channel.k8s.io"
        self._stdin: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._sizes: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue()
        self._lock = asyncio.Lock()
        if not options.stdin:
            self._stdin.put_nowait(None)

    async def pump(self) -> None:
        """Read client messages until the connection closes."""
        try:
            async for msg in self.ws:
                if msg.type is aiohttp.WSMsgType.BINARY and msg.data:
                    self._dispatch(msg.data)
                elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                    break
        finally:
            self._stdin.put_nowait(None)
            self._sizes.put_nowait(None)

    def _dispatch(self, data: bytes) -> None:
        channel, payload = data[0], data[1:]
        if channel == STDIN and self.options.stdin and payload:
            self._stdin.put_nowait(payload)
        elif channel == RESIZE:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                size = json.loads(payload)
                self._sizes.put_nowait((int(size["Width"]), int(size["Height"])))
        elif channel == CLOSE and self.v5 and payload[:1] == bytes([STDIN]):
            self._stdin.put_nowait(None)

    async def read_stdin(self) -> bytes | None:
        return await self._stdin.get()

    async def _send(self, channel: int, data: bytes) -> None:
        if self.ws.closed:
            return
        async with self._lock:
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await self.ws.send_bytes(bytes([channel]) + data)

    async def write_stdout(self, data: bytes) -> None:
        if self.options.stdout:
            await self._send(STDOUT, data)

    async def write_stderr(self, data: bytes) -> None:
        if self.options.stderr and not self.options.tty:
            await self._send(STDERR, data)
        elif self.options.tty:
            await self._send(STDOUT, data)

    async def resize(self) -> tuple[int, int] | None:
        return await self._sizes.get()

    async def open(self) -> None:
        first = STDOUT if self.options.stdout else STDERR if self.options.stderr else ERROR
        await self._send(first, b"")

    async def finish(self, status: dict[str, Any]) -> None:
        structured = self.ws.ws_protocol in ("v5.channel.k8s.io", "v4.channel.k8s.io")
        if structured:
            await self._send(ERROR, json.dumps(status).encode())
        elif status.get("status") != "Success":
            await self._send(ERROR, str(status.get("message", "")).encode())


async def serve_exec(
    request: web.Request, runtime: Runtime, container_id: str, options: ExecOptions
) -> web.WebSocketResponse:
    """Upgrade, run the command in the container, report its result, close."""
    ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=0, autoping=True)
    await ws.prepare(request)
    streams = WebSocketStreams(ws, options)
    reader = asyncio.create_task(streams.pump())
    try:
        await streams.open()
        try:
            result: ExecResult = await runtime.exec(
                container_id, options.command, streams, tty=options.tty
            )
        except RuntimeFailure as e:
            await streams.finish(internal_error(e.message))
        except (OSError, NotImplementedError) as e:
            await streams.finish(internal_error(str(e) or type(e).__name__))
        else:
            if result.exit_code == 0:
                await streams.finish(success_status())
            else:
                await streams.finish(exit_status(options.command, result.exit_code))
    finally:
        with contextlib.suppress(Exception):
            await ws.close()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    return ws
