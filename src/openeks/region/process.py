"""One supervised process: what to run (`ProcessSpec`) and the loop that keeps it running.

A `ManagedProcess` owns one spec's child process. While it is *wanted* a runner task
loops: spawn → probe until ready (or give up after `start_timeout` and kill it) → wait
for the exit → back off → spawn again. Back-off doubles from `RestartPolicy.initial` to
`maximum` and starts over once a run lasted `reset_after` seconds, like kubelet's
CrashLoopBackOff. `halt()` cancels the runner first and then stops the process
(SIGTERM, `stop_grace`, SIGKILL, or SIGKILL right away), so a deliberate stop is never
mistaken for a crash and restarted.

Every child is the leader of its own session (`start_new_session`), so signals go to the
whole process group and grandchildren are not left behind. Where util-linux `setpriv`
exists the child runs as `setpriv --pdeathsig KILL -- argv...`: the kernel SIGKILLs it
when the thread that spawned it (the event loop's) dies, so children never outlive a
region service killed with -9; the spawn is done on the event loop thread for that
reason. Output (stdout and stderr) is appended to the spec's log file, each run
preceded by a header line naming the attempt.

This module knows nothing of zones or persistence: the `Supervisor` decides when a
process is wanted and records what `on_change` tells it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from openeks.region.probes import Probe, probe_from_json


class ProcessState(StrEnum):
    STARTING = "starting"
    """Spawned, readiness probe not yet passed."""
    READY = "ready"
    CRASHED = "crashed"
    """Exited (or never became ready) on its own; waiting out the back-off to restart."""
    STOPPED = "stopped"
    """Stopped on purpose (removed, or the supervisor shut down)."""
    ZONE_DOWN = "zone-down"
    """Killed by a zone-down fault and held down until the zone comes back."""


@dataclass(frozen=True)
class ProcessSpec:
    """What to run. Two specs are equal when they would run the same thing."""

    name: str
    """Unique in the region, e.g. "clusters/prod/etcd/us-east-1a"."""
    argv: tuple[str, ...]
    log_file: Path
    zone: str | None = None
    """Availability zone name, None for region-wide processes (not hit by zone faults)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Added to (and overriding) the supervisor's own environment."""
    cwd: Path | None = None
    probe: Probe | None = None
    """Readiness probe; None: ready as soon as spawned."""
    start_timeout: float | None = 60.0
    """Seconds to become ready before the process is killed and restarted; None: wait."""
    stop_grace: float = 10.0
    """Seconds between SIGTERM and SIGKILL on a graceful stop."""
    order: int = 0
    """Shutdown rank: higher orders stop first, one order at a time, each concurrently
    (API servers above etcd, so they never outlive their storage)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", tuple(self.argv))
        object.__setattr__(self, "log_file", Path(self.log_file))
        object.__setattr__(self, "env", dict(self.env))
        if self.cwd is not None:
            object.__setattr__(self, "cwd", Path(self.cwd))
        if not self.name or not self.argv:
            raise ValueError("a process spec needs a name and a command")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "argv": list(self.argv),
            "logFile": str(self.log_file),
            "zone": self.zone,
            "env": dict(self.env),
            "cwd": None if self.cwd is None else str(self.cwd),
            "probe": None if self.probe is None else self.probe.to_json(),
            "startTimeout": self.start_timeout,
            "stopGrace": self.stop_grace,
            "order": self.order,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ProcessSpec:
        probe = document.get("probe")
        return cls(
            name=document["name"],
            argv=tuple(document["argv"]),
            log_file=Path(document["logFile"]),
            zone=document.get("zone"),
            env=document.get("env") or {},
            cwd=Path(document["cwd"]) if document.get("cwd") else None,
            probe=probe_from_json(probe) if probe else None,
            start_timeout=document.get("startTimeout"),
            stop_grace=float(document.get("stopGrace", 10.0)),
            order=int(document.get("order", 0)),
        )


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    initial: float = 0.5
    """First back-off after a crash, seconds."""
    maximum: float = 10.0
    """Back-off cap."""
    reset_after: float = 60.0
    """A run at least this long resets the back-off to `initial`."""

    def next_delay(self, previous: float, uptime: float) -> float:
        if previous <= 0 or uptime >= self.reset_after:
            return self.initial
        return min(previous * 2, self.maximum)


@dataclass(frozen=True, slots=True)
class ProcessStatus:
    name: str
    zone: str | None
    state: ProcessState
    pid: int | None
    restarts: int
    """Times the process was started again after exiting on its own (or never getting
    ready); zone faults and deliberate stops do not count."""
    since: float
    """Wall-clock time of the last state change."""
    last_error: str
    log_file: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "zone": self.zone,
            "state": self.state.value,
            "pid": self.pid,
            "restarts": self.restarts,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.since)),
            "lastError": self.last_error,
            "logFile": str(self.log_file),
        }


class ManagedProcess:
    """One spec's runner; see the module docstring."""

    def __init__(
        self,
        spec: ProcessSpec,
        policy: RestartPolicy,
        on_change: Callable[[ManagedProcess], None],
        command_prefix: tuple[str, ...] = (),
    ) -> None:
        self.spec = spec
        self.policy = policy
        self.command_prefix = command_prefix
        self._on_change = on_change
        self.process: asyncio.subprocess.Process | None = None
        self.start_ticks: int | None = None
        """The child's start time in clock ticks after boot (/proc/PID/stat), to tell it
        from a later process that got the same pid."""
        self._status = ProcessStatus(
            spec.name, spec.zone, ProcessState.STOPPED, None, 0, time.time(), "", spec.log_file
        )
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def status(self) -> ProcessStatus:
        return self._status

    @property
    def running(self) -> bool:
        """Whether the runner is active (the process is up, starting or backing off)."""
        return self._runner is not None and not self._runner.done()

    def start(self) -> None:
        """Start the runner unless it is active already; the back-off starts over."""
        if not self.running:
            self._set(ProcessState.STARTING, pid=None)
            self._runner = asyncio.get_running_loop().create_task(
                self._run(), name=f"supervise {self.spec.name}"
            )

    async def halt(self, state: ProcessState, *, kill: bool = False, reason: str = "") -> None:
        """Stop the runner, then the process (gracefully unless `kill`); end in `state`."""
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        await self._stop_process(kill=kill)
        self._set(state, pid=None, last_error=reason or self._status.last_error)

    async def wait_ready(self) -> ProcessStatus:
        await self._ready.wait()
        return self._status

    # -- the runner ------------------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.0
        while True:
            started = time.monotonic()
            reason = await self._run_once()
            delay = self.policy.next_delay(delay, time.monotonic() - started)
            restarts = self._status.restarts + 1
            self._set(ProcessState.CRASHED, pid=None, restarts=restarts, last_error=reason)
            await asyncio.sleep(delay)

    async def _run_once(self) -> str:
        """Spawn, wait for readiness, wait for the exit; return why the run ended."""
        process = await self._spawn()
        if isinstance(process, str):
            return process
        not_ready = await self._await_ready(process)
        code = await process.wait()
        _kill_group(process.pid, signal.SIGKILL)  # whatever is left of its group
        self.process = None
        reason = describe_exit(code)
        return f"{not_ready} ({reason})" if not_ready else reason

    async def _spawn(self) -> asyncio.subprocess.Process | str:
        """The new child, or why it could not be started."""
        self._ready.clear()
        spec = self.spec
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(spec.log_file, "ab") as log:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            header = (
                f"--- openeks supervisor {stamp}: starting {spec.name}: {shlex.join(spec.argv)}"
            )
            log.write(header.encode() + b"\n")
            log.flush()
            try:
                process = await asyncio.create_subprocess_exec(
                    *self.command_prefix,
                    *spec.argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    cwd=spec.cwd,
                    env={**os.environ, **spec.env},
                    start_new_session=True,
                )
            except OSError as e:
                log.write(f"--- openeks supervisor: cannot start: {e}\n".encode())
                return f"cannot start: {e}"
        self.process = process
        self.start_ticks = process_start_ticks(process.pid)
        self._set(ProcessState.STARTING, pid=process.pid)
        return process

    async def _await_ready(self, process: asyncio.subprocess.Process) -> str:
        """Probe until ready (""), or kill the process at the start timeout (the reason)."""
        probe, timeout = self.spec.probe, self.spec.start_timeout
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        pause = 0.05
        while probe is not None and process.returncode is None:
            result = await probe.check()
            if result.ok:
                break
            if deadline is not None and loop.time() > deadline:
                _kill_group(process.pid, signal.SIGKILL)
                return f"not ready after {timeout}s: {result.detail}"
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 1.0)
        if process.returncode is None:
            self._set(ProcessState.READY, last_error="")
            self._ready.set()
        return ""

    async def _stop_process(self, *, kill: bool) -> None:
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            _kill_group(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), None if kill else self.spec.stop_grace)
            except TimeoutError:
                _kill_group(process.pid, signal.SIGKILL)
                await process.wait()
        _kill_group(process.pid, signal.SIGKILL)
        self.process = None
        self.start_ticks = None

    def _set(self, state: ProcessState, **changes: Any) -> None:
        if state != self._status.state:
            changes["since"] = time.time()
        if state != ProcessState.READY:
            self._ready.clear()
        self._status = replace(self._status, state=state, **changes)
        self._on_change(self)


def describe_exit(code: int) -> str:
    """A wait status as words: "exited with code 1", "killed by SIGKILL"."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def process_start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks after boot), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is parenthesised and may contain spaces.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


@functools.cache
def pdeathsig_prefix() -> tuple[str, ...]:
    """`setpriv --pdeathsig KILL --` when util-linux's setpriv supports it, else ()."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return ()
    try:
        usage = subprocess.run(
            [setpriv, "--help"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return (setpriv, "--pdeathsig", "KILL", "--") if "--pdeathsig" in usage else ()


def boot_id() -> str:
    """This boot's random id; pids and start times only mean something within one boot."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def kill_orphan(pid: int, start_ticks: int | None) -> bool:
    """SIGKILL the process group a previous supervisor started as `pid` if any of it is
    still alive (the supervisor died without `setpriv`, or a grandchild escaped).
    Same boot only. A live `pid` with another start time is somebody else's and is left
    alone; a dead leader's group can still be killed, since Linux does not hand out a pid
    that is in use as a process group id. True when something was killed."""
    ticks = process_start_ticks(pid)
    if ticks is not None and ticks != start_ticks:
        return False
    if not _group_members(pid):
        return False
    _kill_group(pid, signal.SIGKILL)
    return True


async def wait_group_gone(pgid: int, timeout: float = 5.0) -> bool:
    """Wait until no live (non-zombie) process is left in group `pgid`."""
    deadline = time.monotonic() + timeout
    while _group_members(pgid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members
