"""A TCP load balancer: each cluster's API endpoint in front of its API servers.

Like an AWS Network Load Balancer it works at layer 4: a client connection is paired
with one connection to a backend and bytes are copied both ways untouched, so TLS
passes through end to end (kubectl verifies the API server's certificate and presents
its client certificate to the API server itself, exactly as without the balancer).

- Backends are picked round-robin among those not known to be unhealthy. A backend
  that refuses or does not accept a connection within `connect_timeout` is skipped
  (and marked unhealthy at once) and the next one is tried, so a dead API server costs
  one refused connect, not a failed request, even before a health check noticed it.
- Health checks (`HealthCheck`: TCP connect, or HTTP(S) GET of a path such as /readyz
  answering 200) run every `interval` against every backend; `unhealthy_after`
  consecutive failures take a backend out, `healthy_after` passes bring it back. A new
  backend starts *unknown* (routable) and is checked at once; it goes unhealthy on its
  first failure.
- When no backend is healthy the balancer fails open, as NLB does: it tries them all,
  so clients get the servers' own answers (a 500 from an API server that lost etcd is
  more useful than a reset); connections to backends that are down are refused fast,
  and the client connection is closed right away. `fail_open=False` closes it without
  trying.
- `set_backends` swaps the backend list at run time; known backends keep their health,
  connections in flight to removed backends are left to finish.

The copy path is two `asyncio.Protocol`s wired to each other's transports: data goes
from `data_received` straight into the peer's `write` (no stream buffers, no task per
direction), flow control forwards `pause_writing` to the peer's `pause_reading`, and a
half-close (EOF) in one direction is passed on with `write_eof` while the other
direction keeps flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, cast

from openeks.region.probes import HttpProbe, Probe, ProbeResult, TcpProbe

log = logging.getLogger(__name__)

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class HealthCheck:
    kind: Literal["tcp", "http", "https"] = "tcp"
    path: str = "/readyz"
    """Path to GET for the http and https kinds; healthy when it answers 200."""
    interval: float = 1.0
    timeout: float = 1.0
    unhealthy_after: int = 2
    """Consecutive failed checks that take a healthy backend out."""
    healthy_after: int = 1
    """Consecutive passed checks that bring a backend (back) in."""
    expect: str | None = None
    """For http(s): a substring the body must contain."""
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def probe(self, backend: Address) -> Probe:
        host, port = backend
        if self.kind == "tcp":
            return TcpProbe(host, port, self.timeout)
        return HttpProbe(
            f"{self.kind}://{host}:{port}{self.path}",
            timeout=self.timeout,
            expect=self.expect,
            ca_file=self.ca_file,
            cert_file=self.cert_file,
            key_file=self.key_file,
        )


class Health(StrEnum):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


@dataclass(slots=True)
class _Backend:
    address: Address
    probe: Probe | None
    health: Health = Health.UNKNOWN
    passes: int = 0
    failures: int = 0
    active: int = 0
    connections: int = 0
    connect_failures: int = 0
    last_check: str = ""


@dataclass(frozen=True, slots=True)
class BackendStats:
    address: Address
    health: Health
    active: int
    connections: int
    connect_failures: int
    last_check: str


@dataclass(frozen=True, slots=True)
class LoadBalancerStats:
    listen: Address
    connections: int
    """Client connections paired with a backend since start."""
    active: int
    rejected: int
    """Client connections closed because no backend could be reached."""
    bytes_in: int
    """Client → backend bytes."""
    bytes_out: int
    backends: list[BackendStats]

    def to_json(self) -> dict[str, Any]:
        return {
            "listen": f"{self.listen[0]}:{self.listen[1]}",
            "connections": self.connections,
            "active": self.active,
            "rejected": self.rejected,
            "bytesIn": self.bytes_in,
            "bytesOut": self.bytes_out,
            "backends": [
                {
                    "address": f"{b.address[0]}:{b.address[1]}",
                    "health": b.health.value,
                    "active": b.active,
                    "connections": b.connections,
                    "connectFailures": b.connect_failures,
                    "lastCheck": b.last_check,
                }
                for b in self.backends
            ],
        }


class TcpLoadBalancer:
    """See the module docstring. `async with TcpLoadBalancer(...) as lb:` or start()/stop()."""

    def __init__(
        self,
        listen: Address,
        backends: Sequence[Address],
        health: HealthCheck | None = None,
        *,
        connect_timeout: float = 1.0,
        fail_open: bool = True,
        name: str = "",
    ) -> None:
        """`health` None: no active checks (a refused backend is skipped, never marked)."""
        self.listen = listen
        self.health = health
        self.connect_timeout = connect_timeout
        self.fail_open = fail_open
        self.name = name or f"{listen[0]}:{listen[1]}"
        self._backends: list[_Backend] = []
        self._next = 0
        self._server: asyncio.Server | None = None
        self._checker: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._sessions: set[_Frontend] = set()
        self.connections = 0
        self.rejected = 0
        self.bytes = [0, 0]  # [client → backend, backend → client]
        self.set_backends(backends)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> TcpLoadBalancer:
        loop = asyncio.get_running_loop()
        host, port = self.listen
        self._server = await loop.create_server(
            lambda: _Frontend(self), host, port, reuse_address=True, backlog=1024
        )
        self.listen = self._server.sockets[0].getsockname()[:2]
        if self.health is not None:
            self._checker = loop.create_task(self._check_forever(self.health))
        return self

    async def stop(self) -> None:
        """Stop listening, stop health checks and cut every connection in flight."""
        if self._server is not None:
            self._server.close()
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
            self._checker = None
        for session in list(self._sessions):
            session.abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> TcpLoadBalancer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def address(self) -> Address:
        """Where clients connect (the real port once started with port 0)."""
        return self.listen

    # -- backends --------------------------------------------------------------------

    def set_backends(self, backends: Sequence[Address]) -> None:
        known = {b.address: b for b in self._backends}
        self._backends = [
            known.get(address) or _Backend(address, self._probe_for(address))
            for address in dict.fromkeys((str(h), int(p)) for h, p in backends)
        ]
        self._wake.set()  # check new backends now

    def _probe_for(self, address: Address) -> Probe | None:
        return None if self.health is None else self.health.probe(address)

    def stats(self) -> LoadBalancerStats:
        return LoadBalancerStats(
            listen=self.listen,
            connections=self.connections,
            active=len(self._sessions),
            rejected=self.rejected,
            bytes_in=self.bytes[0],
            bytes_out=self.bytes[1],
            backends=[
                BackendStats(
                    b.address, b.health, b.active, b.connections, b.connect_failures, b.last_check
                )
                for b in self._backends
            ],
        )

    def _candidates(self) -> list[_Backend]:
        """Backends to try for a new connection, in order (round-robin start)."""
        pool = [b for b in self._backends if b.health != Health.UNHEALTHY]
        if not pool and self.fail_open:
            pool = list(self._backends)
        if not pool:
            return []
        start = self._next % len(pool)
        self._next += 1
        return pool[start:] + pool[:start]

    # -- connections -----------------------------------------------------------------

    async def _pair(self, frontend: _Frontend) -> None:
        """Connect `frontend` to the first backend that accepts, or close it."""
        loop = asyncio.get_running_loop()
        for backend in self._candidates():
            side = _Pipe(self, 1)
            try:
                async with asyncio.timeout(self.connect_timeout):
                    await loop.create_connection(side.itself, *backend.address)
            except (OSError, TimeoutError):
                self._connect_failed(backend)
                continue
            except asyncio.CancelledError:
                side.close()  # the client left while we connected
                raise
            if frontend.transport is None or frontend.transport.is_closing():
                side.close()
                return
            frontend.attach(side, backend)
            return
        self.rejected += 1
        frontend.close()

    def _connect_failed(self, backend: _Backend) -> None:
        backend.connect_failures += 1
        if self.health is not None and backend.health != Health.UNHEALTHY:
            log.info("%s: backend %s:%s refused a connection", self.name, *backend.address)
            backend.health, backend.passes = Health.UNHEALTHY, 0

    # -- health checks ---------------------------------------------------------------

    async def _check_forever(self, health: HealthCheck) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            self._wake.clear()
            backends = [b for b in self._backends if b.probe is not None]
            results = await asyncio.gather(*(b.probe.check() for b in backends if b.probe))
            for backend, result in zip(backends, results, strict=True):
                self._record(backend, result, health)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, health.interval - (loop.time() - started))):
                    await self._wake.wait()

    def _record(self, backend: _Backend, result: ProbeResult, health: HealthCheck) -> None:
        backend.last_check = result.detail
        before = backend.health
        if result.ok:
            backend.passes, backend.failures = backend.passes + 1, 0
            if backend.passes >= health.healthy_after:
                backend.health = Health.HEALTHY
        else:
            backend.passes, backend.failures = 0, backend.failures + 1
            if before == Health.UNKNOWN or backend.failures >= health.unhealthy_after:
                backend.health = Health.UNHEALTHY
        if backend.health != before:
            log.info("%s: backend %s:%s is %s", self.name, *backend.address, backend.health)


class _Pipe(asyncio.Protocol):
    """One side of a proxied connection; writes what it receives to its peer."""

    def __init__(self, lb: TcpLoadBalancer, direction: int) -> None:
        self.lb = lb
        self.direction = direction  # index into lb.bytes of the bytes this side receives
        self.transport: asyncio.Transport | None = None
        self.peer: _Pipe | None = None
        self.eof = False
        self.early: list[bytes] = []
        """Data received before the peer was connected (uvloop starts reading an accepted
        connection after `connection_made`, ignoring a pause requested there)."""

    def itself(self) -> _Pipe:
        """Protocol factory for `create_connection` (this very instance)."""
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.lb.bytes[self.direction] += len(data)
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)
        else:
            self.early.append(data)
            if self.transport is not None:
                self.transport.pause_reading()  # resumed once paired

    def eof_received(self) -> bool:
        self.eof = True
        peer = self.peer
        if peer is None:
            return True  # passed on once paired
        if peer.transport is None or peer.transport.is_closing():
            return False
        if peer.eof or not peer.transport.can_write_eof():
            peer.transport.close()
            return False  # closes our transport too
        peer.transport.write_eof()
        return True  # keep the other direction open

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()  # after flushing what is buffered for it

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class _Frontend(_Pipe):
    """The client's side: holds reading until a backend is paired, then accounts for it."""

    def __init__(self, lb: TcpLoadBalancer) -> None:
        super().__init__(lb, 0)
        self.backend: _Backend | None = None
        self._pairing: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        self.transport.pause_reading()
        self.lb._sessions.add(self)
        self._pairing = asyncio.get_running_loop().create_task(self.lb._pair(self))

    def attach(self, side: _Pipe, backend: _Backend) -> None:
        self.peer, side.peer, self.backend = side, self, backend
        backend.active += 1
        backend.connections += 1
        self.lb.connections += 1
        assert self.transport is not None and side.transport is not None
        for data in self.early:
            side.transport.write(data)
        self.early.clear()
        if self.eof:
            side.transport.write_eof()
        self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self._pairing is not None and not self._pairing.done():
            self._pairing.cancel()
        if self.backend is not None:
            self.backend.active -= 1
            self.backend = None
        self.lb._sessions.discard(self)

    def abort(self) -> None:
        if self.peer is not None:
            self.peer.abort()
        super().abort()
