"""How much latency the load balancer adds: 1,000 sequential HTTPS GETs through it vs
straight to the backend, over one kept-alive connection (the balancer's per-request
cost) and over a new TLS connection per request (adds its connect to the backend).

The balancer runs in a process of its own (asyncio's loop and uvloop, which the region
service uses), the backend in another, the client here: nothing shares a GIL. Figures
are printed (`pytest -s`); the assertions only catch a balancer gone badly wrong.
"""

from __future__ import annotations

import http.client
import ssl
import statistics
import subprocess
import time
from collections.abc import Callable

from tests.region.support import HTTPS_BACKEND, TlsFiles, free_port, wait_listening

REQUESTS = 1000
NEW_CONNECTIONS = 100


def context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def kept_alive(port: int, count: int) -> list[float]:
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context(), timeout=5)
    connection.connect()
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            connection.request("GET", "/")
            connection.getresponse().read()
            times.append(time.perf_counter() - started)
    finally:
        connection.close()
    return times


def new_connection_each(port: int, count: int) -> list[float]:
    ctx, times = context(), []
    for _ in range(count):
        started = time.perf_counter()
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
        connection.request("GET", "/")
        connection.getresponse().read()
        connection.close()
        times.append(time.perf_counter() - started)
    return times


def measure(
    method: Callable[[int, int], list[float]], ports: dict[str, int], total: int
) -> dict[str, float]:
    """Median milliseconds per request for each target, interleaved in batches."""
    samples: dict[str, list[float]] = {name: [] for name in ports}
    for _ in range(4):
        for name, port in ports.items():
            samples[name] += method(port, total // 4)
    return {name: statistics.median(s) * 1000 for name, s in samples.items()}


def test_the_balancer_adds_little_latency(
    tls: TlsFiles, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    backend = free_port()
    spawn(
        HTTPS_BACKEND,
        "b",
        "--listen",
        f"127.0.0.1:{backend}",
        "--cert",
        str(tls.cert),
        "--key",
        str(tls.key),
    )
    wait_listening("127.0.0.1", backend)
    ports = {"direct": backend}
    for flavour in ("asyncio", "uvloop"):
        port = free_port()
        extra = ["--uvloop"] if flavour == "uvloop" else []
        spawn("tests/region/lb_process.py", f"127.0.0.1:{port}", f"127.0.0.1:{backend}", *extra)
        wait_listening("127.0.0.1", port)
        ports[f"via lb ({flavour})"] = port
    kept_alive(ports["via lb (uvloop)"], 50)  # warm up

    keep = measure(kept_alive, ports, REQUESTS)
    fresh = measure(new_connection_each, ports, NEW_CONNECTIONS)
    print(f"\n{REQUESTS} sequential HTTPS GETs, kept-alive, median ms: {keep}")
    print(f"{NEW_CONNECTIONS} HTTPS GETs, new connection each, median ms: {fresh}")
    for name in ports:
        if name != "direct":
            assert keep[name] - keep["direct"] < 1.0, keep
            # A new connection also pays the balancer's connect to the backend and a few
            # more scheduling rounds on a busy 2-core machine: only catch gross regressions.
            assert fresh[name] < 2 * fresh["direct"] + 2.0, fresh
