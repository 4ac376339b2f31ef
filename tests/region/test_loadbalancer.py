"""The TCP load balancer in front of real HTTPS backend processes: round-robin, dead and
unready backends, all backends down, TLS passthrough, half-close, run-time changes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openeks.region import HealthCheck, Region, TcpLoadBalancer
from openeks.region.loadbalancer import Health
from tests.region.support import HTTPS_BACKEND, TlsFiles, free_port, wait_listening

FAST = HealthCheck(kind="https", path="/readyz", interval=0.2, timeout=0.2)

Spawn = Callable[..., subprocess.Popen[bytes]]


@dataclass
class Backend:
    name: str
    address: tuple[str, int]
    unready_file: Path
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self, spawn: Spawn) -> None:
        self.proc = spawn(*self.argv)
        wait_listening(*self.address)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def backends(region: Region, tls: TlsFiles, spawn: Spawn, workdir: Path) -> Iterator[list[Backend]]:
    """Three HTTPS backends, one per zone, on the zones' addresses."""
    started = []
    for zone in region.zones:
        host = str(next(zone.network.hosts()))
        address = (host, free_port(host))
        unready = workdir / f"{zone.name}.unready"
        argv = [HTTPS_BACKEND, zone.name, "--listen", f"{host}:{address[1]}"]
        argv += ["--cert", str(tls.cert), "--key", str(tls.key), "--unready-file", str(unready)]
        backend = Backend(zone.name, address, unready, argv)
        backend.start(spawn)
        started.append(backend)
    yield started


@pytest.fixture
async def balancer(region: Region, backends: list[Backend]) -> AsyncIterator[TcpLoadBalancer]:
    host = str(next(region.network.hosts()))
    lb = TcpLoadBalancer((host, 0), [b.address for b in backends], FAST)
    await lb.start()
    try:
        yield lb
    finally:
        await lb.stop()


def client_context(tls: TlsFiles | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    if tls is None:
        context.verify_mode = ssl.CERT_NONE
    else:
        context.load_verify_locations(tls.cert)  # verifies the backend's own certificate
    return context


async def get(address: tuple[str, int], path: str = "/", tls: TlsFiles | None = None) -> str:
    """GET over a new TLS connection; the body (the backend's name)."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(*address, ssl=client_context(tls)), 5
    )
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        response = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return body.decode()


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def health(lb: TcpLoadBalancer) -> dict[str, Health]:
    return {f"{b.address[0]}": b.health for b in lb.stats().backends}


async def test_connections_are_spread_round_robin_with_tls_passed_through(
    balancer: TcpLoadBalancer, backends: list[Backend], tls: TlsFiles
) -> None:
    names = [await get(balancer.address, tls=tls) for _ in range(30)]
    assert Counter(names) == {b.name: 10 for b in backends}
    assert names[:3] == names[3:6]  # a fixed rotation
    stats = balancer.stats()
    assert stats.connections == 30 and stats.rejected == 0
    assert stats.bytes_in > 0 and stats.bytes_out > stats.bytes_in  # certificates flow back
    assert all(b.connections == 10 for b in stats.backends)


async def test_traffic_continues_on_the_others_when_a_backend_is_killed(
    balancer: TcpLoadBalancer, backends: list[Backend], spawn: Spawn
) -> None:
    await eventually(lambda: set(health(balancer).values()) == {Health.HEALTHY})
    dead = backends[1]
    dead.kill()
    names = [await get(balancer.address) for _ in range(20)]  # no failed request at all
    assert dead.name not in names and len(set(names)) == 2
    assert health(balancer)[dead.address[0]] == Health.UNHEALTHY
    assert balancer.stats().backends[1].connect_failures >= 1

    dead.start(spawn)
    await eventually(lambda: health(balancer)[dead.address[0]] == Health.HEALTHY, 2.0)
    assert dead.name in {await get(balancer.address) for _ in range(6)}


async def test_a_backend_failing_its_health_check_gets_no_traffic_within_the_interval(
    balancer: TcpLoadBalancer, backends: list[Backend]
) -> None:
    await eventually(lambda: set(health(balancer).values()) == {Health.HEALTHY})
    sick = backends[0]
    sick.unready_file.touch()
    took = await eventually(lambda: health(balancer)[sick.address[0]] == Health.UNHEALTHY)
    assert took < FAST.interval * FAST.unhealthy_after + FAST.timeout + 0.3
    assert sick.name not in {await get(balancer.address) for _ in range(12)}
    assert "HTTP 500" in balancer.stats().backends[0].last_check
    sick.unready_file.unlink()
    await eventually(lambda: health(balancer)[sick.address[0]] == Health.HEALTHY)


async def connection_outcome(address: tuple[str, int]) -> tuple[str, float]:
    """Connect and wait for the balancer to close on us: what happened, how fast."""
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(*address)
    except ConnectionRefusedError:
        return "refused", time.monotonic() - started
    try:
        data = await asyncio.wait_for(reader.read(), 5)
        outcome = "closed" if data == b"" else "data"
    except ConnectionResetError:
        outcome = "reset"
    finally:
        writer.close()
    return outcome, time.monotonic() - started


@pytest.mark.parametrize("fail_open", [True, False], ids=["fail-open", "fail-closed"])
async def test_with_every_backend_down_clients_are_closed_quickly(
    region: Region, backends: list[Backend], fail_open: bool
) -> None:
    lb = TcpLoadBalancer(
        (str(next(region.network.hosts())), 0),
        [b.address for b in backends],
        FAST,
        fail_open=fail_open,
    )
    async with lb:
        for backend in backends:
            backend.kill()
        await eventually(lambda: set(health(lb).values()) == {Health.UNHEALTHY})
        for _ in range(3):
            outcome, took = await connection_outcome(lb.address)
            assert outcome in ("closed", "reset") and took < 0.2
        assert lb.stats().rejected == 3


async def test_backends_can_be_changed_at_run_time(
    balancer: TcpLoadBalancer, backends: list[Backend]
) -> None:
    balancer.set_backends([backends[2].address])
    assert {await get(balancer.address) for _ in range(4)} == {backends[2].name}
    balancer.set_backends([b.address for b in backends])
    assert {await get(balancer.address) for _ in range(6)} == {b.name for b in backends}


async def test_half_close_is_passed_on_and_the_answer_still_arrives() -> None:
    async def answer_after_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.read()  # until the client's EOF
        writer.write(b"got " + request)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_after_eof, "127.0.0.1", 0)
    backend = server.sockets[0].getsockname()[:2]
    try:
        async with TcpLoadBalancer(("127.0.0.1", 0), [backend], None) as lb:
            reader, writer = await asyncio.open_connection(*lb.address)
            writer.write(b"x" * 1_000_000)
            writer.write_eof()
            reply = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            assert reply == b"got " + b"x" * 1_000_000
            await eventually(lambda: lb.stats().active == 0)
    finally:
        server.close()
        await server.wait_closed()


async def test_stop_cuts_connections_in_flight() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    try:
        lb = TcpLoadBalancer(("127.0.0.1", 0), [server.sockets[0].getsockname()[:2]])
        await lb.start()
        reader, writer = await asyncio.open_connection(*lb.address)
        await eventually(lambda: lb.stats().connections == 1)
        await lb.stop()
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()
        with pytest.raises(OSError):
            socket.create_connection(lb.address, timeout=1).close()
    finally:
        server.close()
