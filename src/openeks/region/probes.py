"""Health probes: is something listening, and does it answer an HTTP(S) GET with 200?

Shared by the supervisor (is a started process ready yet?) and the load balancer (which
backends get traffic). Both ask the same two questions of many targets every second, so
a probe is a small frozen value with one `async check()` and no client library behind it:
a TCP connect, or one HTTP/1.1 request written by hand over an asyncio stream
(`Connection: close`, status line read, optional body substring). TLS contexts are built
once per (CA, client certificate) and cached.

Like AWS load balancer health checks, HTTPS probes do not verify the server certificate
unless a CA file is given; even then the host name is not checked (targets are addressed
by IP). A client certificate can be presented for servers that require one.

Probes are persisted with the supervisor's process table, hence `to_json`/`probe_from_json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

_MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    detail: str
    """"ok", or why not: "connection refused", "HTTP 500", ..."""
    seconds: float


@dataclass(frozen=True, slots=True)
class TcpProbe:
    """Ready when a TCP connection to (host, port) succeeds."""

    host: str
    port: int
    timeout: float = 1.0

    async def check(self) -> ProbeResult:
        started = time.monotonic()
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout
            )
        except (OSError, TimeoutError) as e:
            return ProbeResult(False, _describe(e), time.monotonic() - started)
        await _close(writer)
        return ProbeResult(True, "ok", time.monotonic() - started)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "tcp", **asdict(self)}


@dataclass(frozen=True, slots=True)
class HttpProbe:
    """Ready when GET `url` (http:// or https://) answers 200, and its body contains
    `expect` when given."""

    url: str
    timeout: float = 1.0
    expect: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"probe URL must be http(s)://host:port/path: {self.url!r}")

    async def check(self) -> ProbeResult:
        started = time.monotonic()
        try:
            detail = await asyncio.wait_for(self._get(), self.timeout)
        except (OSError, TimeoutError, ssl.SSLError, ValueError) as e:
            detail = _describe(e)
        return ProbeResult(detail == "ok", detail, time.monotonic() - started)

    async def _get(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        context = None
        if parts.scheme == "https":
            context = _tls_context(self.ca_file, self.cert_file, self.key_file)
        reader, writer = await asyncio.open_connection(host, port, ssl=context)
        try:
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            request = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
            writer.write(request.encode())
            await writer.drain()
            return await self._verdict(reader)
        finally:
            await _close(writer)

    async def _verdict(self, reader: asyncio.StreamReader) -> str:
        status_line = await reader.readline()
        fields = status_line.split(b" ", 2)
        if len(fields) < 2 or not fields[0].startswith(b"HTTP/"):
            return "not an HTTP response"
        status = int(fields[1])
        if status != 200:
            return f"HTTP {status}"
        if self.expect is None:
            return "ok"
        body = await _read_body(reader)
        return "ok" if self.expect.encode() in body else f"body lacks {self.expect!r}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": "http", **asdict(self)}


Probe = TcpProbe | HttpProbe


def probe_from_json(document: dict[str, Any]) -> Probe:
    fields = {k: v for k, v in document.items() if k != "kind"}
    if document.get("kind") == "tcp":
        return TcpProbe(**fields)
    if document.get("kind") == "http":
        return HttpProbe(**fields)
    raise ValueError(f"unknown probe kind {document.get('kind')!r}")


@functools.lru_cache(maxsize=64)
def _tls_context(
    ca_file: str | None, cert_file: str | None, key_file: str | None
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    if ca_file:
        context.load_verify_locations(ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    else:
        context.verify_mode = ssl.CERT_NONE
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    return context


async def _read_body(reader: asyncio.StreamReader) -> bytes:
    # Skip the headers, then read what follows (Connection: close ends it).
    while await reader.readline() not in (b"\r\n", b"\n", b""):
        pass
    chunks: list[bytes] = []
    size = 0
    while size < _MAX_BODY and (chunk := await reader.read(_MAX_BODY - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
