"""Probes: one check of each kind, the worker's thresholds and gating, and the agent
restarting a container whose liveness probe fails."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from openeks.kube.client import Client
from openeks.kube.client.resources import EVENTS, PODS
from openeks.kube.node.probes import ProbeTarget, ProbeWorker, run_check
from openeks.kube.node.runtime.simulated import SimulatedRuntime
from tests.kube.node.conftest import AgentFactory, condition, container_status, eventually, pod

Obj = dict[str, Any]


class ScriptedRuntime(SimulatedRuntime):
    """A simulated runtime whose exec_sync answers from a script: command → exit code."""

    def __init__(self, pod_cidr: str = "") -> None:
        super().__init__(pod_cidr, exit_delay=0.1)
        self.codes: dict[str, int] = {}
        self.calls: list[list[str]] = []

    async def exec_sync(
        self, container_id: str, command: list[str], timeout: float
    ) -> tuple[int, bytes]:
        self.calls.append(command)
        code = self.codes.get(" ".join(command), 0)
        return code, (b"" if code == 0 else b"unhealthy: " + " ".join(command).encode())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def http_port() -> AsyncIterator[int]:
    async def healthz(request: web.Request) -> web.Response:
        assert request.headers["User-Agent"].startswith("kube-probe/")
        return web.Response(text="ok")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/healthz")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/broken", broken)
    app.router.add_get("/moved", moved)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


async def test_http_checks(http_port: int) -> None:
    target = ProbeTarget("c1", "127.0.0.1", ports=[{"name": "http", "containerPort": http_port}])
    assert (await run_check({"httpGet": {"path": "/healthz", "port": "http"}}, target))[0]
    assert (await run_check({"httpGet": {"path": "/moved", "port": http_port}}, target))[0]
    ok, message = await run_check({"httpGet": {"path": "/broken", "port": http_port}}, target)
    assert not ok and message == "HTTP probe failed with statuscode: 500"
    closed = _free_port()
    ok, message = await run_check({"httpGet": {"path": "/", "port": closed}}, target)
    assert not ok
    assert message == (
        f'Get "http://127.0.0.1:{closed}/": dial tcp 127.0.0.1:{closed}: connect: '
        "connection refused"
    )
    ok, message = await run_check({"httpGet": {"path": "/", "port": "nope"}}, target)
    assert not ok and "couldn't find port: nope" in message


async def test_tcp_checks(http_port: int) -> None:
    target = ProbeTarget("c1", "127.0.0.1")
    assert (await run_check({"tcpSocket": {"port": http_port}}, target))[0]
    closed = _free_port()
    ok, message = await run_check({"tcpSocket": {"port": closed}}, target)
    assert not ok and message == f"dial tcp 127.0.0.1:{closed}: connect: connection refused"


async def test_network_checks_pass_without_a_network() -> None:
    target = ProbeTarget("c1", "", network=False)
    assert (await run_check({"tcpSocket": {"port": 1}}, target))[0]
    assert (await run_check({"httpGet": {"port": 1, "path": "/"}}, target))[0]


async def test_exec_checks_use_the_runtime() -> None:
    runtime = ScriptedRuntime()
    runtime.codes["check bad"] = 2
    target = ProbeTarget("c1", "", runtime=runtime)
    assert (await run_check({"exec": {"command": ["check", "good"]}}, target))[0]
    ok, message = await run_check({"exec": {"command": ["check", "bad"]}}, target)
    assert not ok and message == "unhealthy: check bad"


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _worker(
    kind: str, probe: Obj, runtime: ScriptedRuntime, clock: _Clock, started: bool = True
) -> ProbeWorker:
    target = ProbeTarget("c1", "", runtime=runtime)
    return ProbeWorker(
        kind, probe, target, started_at=100.0, is_started=lambda: started,
        on_change=lambda: None, clock=clock,
    )  # fmt: skip


async def test_results_change_only_after_the_thresholds() -> None:
    runtime, clock = ScriptedRuntime(), _Clock()
    probe = {"exec": {"command": ["check"]}, "successThreshold": 2, "failureThreshold": 3}
    w = _worker("readiness", probe, runtime, clock)
    assert w.result is False  # readiness starts as failure
    assert not await w.tick()
    assert await w.tick() and w.result is True  # two successes in a row
    runtime.codes["check"] = 1
    assert not await w.tick() and not await w.tick()
    assert await w.tick() and w.result is False  # the third failure flips it
    assert w.message == "unhealthy: check"


async def test_initial_delay_and_startup_gating() -> None:
    runtime, clock = ScriptedRuntime(), _Clock()
    probe = {"exec": {"command": ["check"]}, "initialDelaySeconds": 5}
    liveness = _worker("liveness", probe, runtime, clock, started=False)
    await liveness.tick()
    assert runtime.calls == []  # waits for the startup probe to succeed
    liveness.is_started = lambda: True
    await liveness.tick()
    assert runtime.calls == []  # and for the initial delay
    clock.now += 5
    await liveness.tick()
    assert runtime.calls == [["check"]]
    startup = _worker("startup", {"exec": {"command": ["s"]}}, runtime, clock, started=True)
    await startup.tick()
    assert runtime.calls == [["check"]]  # a started container is not startup-probed again


async def test_a_liveness_failure_holds_the_worker() -> None:
    runtime, clock = ScriptedRuntime(), _Clock()
    runtime.codes["check"] = 1
    w = _worker("liveness", {"exec": {"command": ["check"]}, "failureThreshold": 1}, runtime, clock)
    assert w.result is True
    assert await w.tick() and w.result is False and w.on_hold
    await w.tick()
    assert len(runtime.calls) == 1


async def test_liveness_failure_restarts_the_container_and_readiness_gates_ready(
    client: Client, ns: str, start_agent: AgentFactory
) -> None:
    runtime = ScriptedRuntime("10.244.9.0/24")
    agent = await start_agent(runtime=runtime, pod_cidr="10.244.9.0/24", serve=False)
    container = {
        "livenessProbe": {
            "exec": {"command": ["alive"]},
            "periodSeconds": 1,
            "failureThreshold": 1,
        },
        "readinessProbe": {"exec": {"command": ["ready"]}, "periodSeconds": 1},
    }
    runtime.codes["ready"] = 1
    await client.create(PODS, pod("probed", agent.config.name, container=container), ns)

    async def get() -> Obj:
        return await client.get(PODS, "probed", ns)

    async def phase_running_not_ready() -> bool:
        p = await get()
        return p["status"].get("phase") == "Running" and not container_status(p)["ready"]

    await eventually(phase_running_not_ready)
    assert condition(await get(), "Ready")["status"] == "False"
    runtime.codes["ready"] = 0

    async def ready() -> bool:
        return condition(await get(), "Ready").get("status") == "True"

    await eventually(ready, timeout=5)
    runtime.codes["alive"] = 1

    async def restarted() -> Obj | None:
        cs = container_status(await get())
        return cs if cs.get("restartCount", 0) >= 1 else None

    cs = await eventually(restarted, timeout=10)
    assert cs["lastState"]["terminated"]["reason"] == "Completed"  # killed, exited cleanly
    events = (await client.list(EVENTS, ns))["items"]
    messages = {e["message"] for e in events}
    assert "Container main failed liveness probe, will be restarted" in messages
    assert "Liveness probe failed: unhealthy: alive" in messages
