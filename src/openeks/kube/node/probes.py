"""Container probes: running one check, and the per-container probe workers.

`run_check` performs one exec, httpGet or tcpSocket check (httpGet and tcpSocket go
from the host to the pod IP; gRPC checks are approximated by a TCP connect). Simulated
pods have no reachable address, so with `network=False` network checks pass without
connecting, as KWOK treats them.

`ProbeWorker` is upstream's prober worker: it probes every periodSeconds, skips until
initialDelaySeconds have passed since the container started, keeps liveness and
readiness off until the startup probe has succeeded, and changes its result only after
successThreshold/failureThreshold equal results in a row. Initial results are upstream's
(readiness: failure, liveness: success, startup: unknown). A liveness or startup failure
puts the worker on hold until the container is replaced; the pod worker then kills the
container. `tick()` is one iteration, so tests drive workers without sleeping.

`ProbeManager` keeps the workers of every running container and answers the pod
worker's questions: is the container started, is it ready, has it failed a probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from openeks.kube.node.runtime.base import Runtime, RuntimeFailure

Obj = dict[str, Any]
USER_AGENT = "kube-probe/1.37"
KINDS = ("startup", "liveness", "readiness")
_SPEC_KEYS = {"startup": "startupProbe", "liveness": "livenessProbe", "readiness": "readinessProbe"}
_INITIAL = {"readiness": False, "liveness": True, "startup": None}


@dataclass
class ProbeTarget:
    """Where a container's probes go."""

    container_id: str
    pod_ip: str
    ports: list[Obj] = field(default_factory=list)
    runtime: Runtime | None = None
    network: bool = True


def _port(value: Any, ports: list[Obj]) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    for p in ports:
        if p.get("name") == value:
            return int(p["containerPort"])
    raise ValueError(f"couldn't find port: {value}")


async def _exec_check(action: Obj, target: ProbeTarget, timeout: float) -> tuple[bool, str]:
    if target.runtime is None:
        return False, "no runtime to run the command in"
    command = list(action.get("command") or [])
    try:
        code, output = await asyncio.wait_for(
            target.runtime.exec_sync(target.container_id, command, timeout), timeout + 1
        )
    except TimeoutError:
        return False, f"command {' '.join(command)!r} timed out"
    except (RuntimeFailure, NotImplementedError, OSError) as e:
        return False, str(e)
    text = output.decode(errors="replace")
    if code != 0:
        return False, text or f"command {' '.join(command)!r} exited with {code}"
    return True, text


async def _http_check(action: Obj, target: ProbeTarget, timeout: float) -> tuple[bool, str]:
    host = action.get("host") or target.pod_ip
    port = _port(action.get("port"), target.ports)
    scheme = (action.get("scheme") or "HTTP").lower()
    path = action.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    shown_host = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{shown_host}:{port}{path}"
    if not target.network:
        return True, ""
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    for header in action.get("httpHeaders") or ():
        headers[header.get("name", "")] = header.get("value", "")
    try:
        async with (
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=False, force_close=True),
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as session,
            session.get(url, headers=headers, max_redirects=10) as resp,
        ):
            body = await resp.content.read(10 * 1024)
            if 200 <= resp.status < 400:
                return True, body.decode(errors="replace")
            return False, f"HTTP probe failed with statuscode: {resp.status}"
    except TimeoutError:
        return False, (
            f'Get "{url}": context deadline exceeded '
            "(Client.Timeout exceeded while awaiting headers)"
        )
    except aiohttp.ClientConnectorError as e:
        return False, f'Get "{url}": dial tcp {shown_host}:{port}: connect: {_reason(e)}'
    except aiohttp.ClientError as e:
        return False, f'Get "{url}": {e}'


def _reason(e: aiohttp.ClientConnectorError) -> str:
    os_error = e.os_error
    if isinstance(os_error, ConnectionRefusedError):
        return "connection refused"
    return (os_error.strerror or str(os_error)).lower() if os_error else str(e)


async def _tcp_check(action: Obj, target: ProbeTarget, timeout: float) -> tuple[bool, str]:
    host = action.get("host") or target.pod_ip
    port = _port(action.get("port"), target.ports)
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if not target.network:
        return True, ""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return False, f"dial tcp {shown}: i/o timeout"
    except ConnectionRefusedError:
        return False, f"dial tcp {shown}: connect: connection refused"
    except OSError as e:
        return False, f"dial tcp {shown}: connect: {(e.strerror or str(e)).lower()}"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True, ""


async def run_check(probe: Obj, target: ProbeTarget) -> tuple[bool, str]:
    """One probe attempt: (success, output or failure message)."""
    timeout = float(probe.get("timeoutSeconds") or 1)
    try:
        if probe.get("exec"):
            return await _exec_check(probe["exec"], target, timeout)
        if probe.get("httpGet"):
            return await _http_check(probe["httpGet"], target, timeout)
        if probe.get("tcpSocket"):
            return await _tcp_check(probe["tcpSocket"], target, timeout)
        if probe.get("grpc"):
            return await _tcp_check({"port": probe["grpc"].get("port")}, target, timeout)
    except ValueError as e:
        return False, str(e)
    return False, "missing probe handler"


# -- workers -------------------------------------------------------------------------------

EventFn = Callable[[str, str], None]
"""(kind, message) for each failed attempt: the Unhealthy event."""


class ProbeWorker:
    def __init__(
        self,
        kind: str,
        probe: Obj,
        target: ProbeTarget,
        started_at: float,
        is_started: Callable[[], bool],
        on_change: Callable[[], None],
        on_failure: EventFn | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kind = kind
        self.probe = probe
        self.target = target
        self.started_at = started_at
        self.is_started = is_started
        self.on_change = on_change
        self.on_failure = on_failure
        self.clock = clock
        self.result: bool | None = _INITIAL[kind]
        self.message = ""
        self.on_hold = False
        self._last: bool | None = None
        self._run = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def period(self) -> float:
        return float(self.probe.get("periodSeconds") or 10)

    async def tick(self) -> bool:
        """Probe once if due; True when the result changed."""
        if self.on_hold:
            return False
        if self.clock() - self.started_at < float(self.probe.get("initialDelaySeconds") or 0):
            return False
        started = self.is_started()
        if (self.kind == "startup") == started:
            return False  # startup probes stop once started; the others wait for it
        ok, output = await run_check(self.probe, self.target)
        if not ok and self.on_failure is not None:
            self.on_failure(self.kind, output)
        if self._last == ok:
            self._run += 1
        else:
            self._last, self._run = ok, 1
        threshold = self.probe.get("successThreshold" if ok else "failureThreshold") or (
            1 if ok else 3
        )
        if self._run < int(threshold):
            return False
        changed = self.result != ok
        self.result, self.message = ok, output
        if not ok and self.kind in ("liveness", "startup"):
            self.on_hold, self._run = True, 0
        return changed

    async def run(self, jitter: bool = False) -> None:
        if jitter:
            await asyncio.sleep(random.random() * self.period)
        while True:
            if await self.tick():
                self.on_change()
            await asyncio.sleep(self.period)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"probe-{self.kind}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class ContainerProbes:
    """The probe workers of one running container."""

    def __init__(self, workers: dict[str, ProbeWorker]) -> None:
        self.workers = workers

    @property
    def started(self) -> bool:
        w = self.workers.get("startup")
        return w is None or w.result is True

    @property
    def ready(self) -> bool:
        if not self.started:
            return False
        w = self.workers.get("readiness")
        return w is None or w.result is True

    def failure(self) -> tuple[str, str] | None:
        """(probe kind, message) when liveness or startup failed."""
        for kind in ("startup", "liveness"):
            w = self.workers.get(kind)
            if w is not None and w.result is False:
                return kind, w.message
        return None


class ProbeManager:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._probes: dict[str, ContainerProbes] = {}

    def add(
        self,
        container: Obj,
        target: ProbeTarget,
        started_at: float,
        on_change: Callable[[], None],
        on_failure: EventFn | None = None,
    ) -> None:
        """Start the probes of a newly running container (no-op when it has none)."""
        if target.container_id in self._probes:
            return
        workers: dict[str, ProbeWorker] = {}
        probes = ContainerProbes(workers)
        for kind in KINDS:
            spec = container.get(_SPEC_KEYS[kind])
            if spec:
                workers[kind] = ProbeWorker(
                    kind,
                    spec,
                    target,
                    started_at,
                    lambda: probes.started,
                    on_change,
                    on_failure,
                    self.clock,
                )
        if not workers:
            return
        self._probes[target.container_id] = probes
        for w in workers.values():
            w.start()

    def get(self, container_id: str) -> ContainerProbes | None:
        return self._probes.get(container_id)

    def started(self, container_id: str) -> bool:
        p = self._probes.get(container_id)
        return p is None or p.started

    def ready(self, container_id: str) -> bool:
        p = self._probes.get(container_id)
        return p is None or p.ready

    def failure(self, container_id: str) -> tuple[str, str] | None:
        p = self._probes.get(container_id)
        return p.failure() if p is not None else None

    async def remove(self, container_id: str) -> None:
        probes = self._probes.pop(container_id, None)
        if probes is not None:
            await asyncio.gather(*(w.stop() for w in probes.workers.values()))

    async def close(self) -> None:
        for cid in list(self._probes):
            await self.remove(cid)
