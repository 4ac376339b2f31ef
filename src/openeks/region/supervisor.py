"""The region's process supervisor: which processes should run, per zone, and zone faults.

The region turns every EKS cluster into processes (etcd members, API servers,
schedulers, ...) spread over availability zones. `Supervisor` is the one place that
starts them, keeps them running (each through a `process.ManagedProcess`: restart with
back-off, readiness probes) and stops them, and it is where faults are injected:

- `ensure(spec)` is idempotent, for reconcile loops: a new name starts, an identical
  spec is left alone, a changed spec is stopped and started again with the new one.
  `remove(name)` stops it for good.
- `zone_down(zone)` SIGKILLs every process of the zone at once (as a power loss would)
  and holds them down: no restarts, and processes `ensure`d into the zone meanwhile are
  registered but not started. `zone_up(zone)` starts them all again. Region-wide
  processes (spec.zone None) are never hit.
- `close()` stops everything in `ProcessSpec.order` ranks, highest first, each rank
  concurrently (SIGTERM, grace, SIGKILL).

State file. `<state_dir>/supervisor.json` holds the spec of every wanted process, its
last status and pid, and the zones that are down. It is the supervisor's desired state:
`open(resume=True)` after a restart of the region service starts every process again
and keeps down zones down. Only the region service writes it; other programs (the
`openeks fault` command) go through the region service's HTTP endpoint
(`faults.fault_routes`), never through the file; an exclusive lock on
`<state_dir>/supervisor.lock` keeps a second supervisor off the same directory.

When the region service is killed with -9 its children die with it: they run under
`setpriv --pdeathsig KILL` (see `process.py`). Without setpriv, or for grandchildren
that escaped, `open()` kills the leftover process groups recorded in the state file
(same boot, same start time) before starting anything, so a restarted region never
finds its ports held by its own orphans. Either way the restart brings them all back.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeks.region.process import (
    ManagedProcess,
    ProcessSpec,
    ProcessState,
    ProcessStatus,
    RestartPolicy,
    boot_id,
    kill_orphan,
    pdeathsig_prefix,
    wait_group_gone,
)
from openeks.region.statefile import read_state, write_state
from openeks.region.zones import UnknownZoneError

STATE_FILE = "supervisor.json"


class SupervisorBusyError(RuntimeError):
    """Another running supervisor owns the state directory."""


class UnknownProcessError(KeyError):
    """No process of that name is supervised."""


@dataclass(frozen=True, slots=True)
class ZoneStatus:
    name: str
    down: bool
    since: float | None
    """When the zone went down (None while up)."""
    processes: list[ProcessStatus]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": "down" if self.down else "up",
            "since": None if self.since is None else _rfc3339(self.since),
            "processes": [p.to_json() for p in self.processes],
        }


class Supervisor:
    """See the module docstring. Use as `async with Supervisor(...) as supervisor:` or
    call `open()` and `close()`."""

    def __init__(
        self,
        state_dir: Path,
        zones: Sequence[str],
        *,
        policy: RestartPolicy | None = None,
        pdeathsig: bool = True,
    ) -> None:
        self.state_path = Path(state_dir) / STATE_FILE
        self.zones = list(zones)
        self.policy = policy or RestartPolicy()
        self._prefix = pdeathsig_prefix() if pdeathsig else ()
        self._processes: dict[str, ManagedProcess] = {}
        self._down: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self._save_pending = False
        self._closed = False
        self._owner: int | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def open(self, *, resume: bool = True) -> Supervisor:
        """Read the state file: kill orphans of a previous run, restore down zones and,
        when `resume`, start every recorded process again (else forget them).
        SupervisorBusyError when another live supervisor owns the state directory."""
        self._take_ownership()
        document = read_state(self.state_path) or {}
        records: dict[str, Any] = document.get("processes", {})
        if document.get("bootId") == boot_id():
            await self._kill_orphans(records.values())
        self._down = {
            z: float(t) for z, t in document.get("zonesDown", {}).items() if z in self.zones
        }
        self._save(durable=True)
        if resume:
            for record in records.values():
                await self.ensure(ProcessSpec.from_json(record["spec"]))
        return self

    async def close(self) -> None:
        """Stop every process, highest `order` first; the state file keeps the specs."""
        async with self._lock:
            for rank in sorted({m.spec.order for m in self._processes.values()}, reverse=True):
                group = [m for m in self._processes.values() if m.spec.order == rank]
                await asyncio.gather(*(self._stop(m) for m in group))
            self._closed = True
            self._save(durable=True)
            if self._owner is not None:
                os.close(self._owner)  # releases the lock
                self._owner = None

    async def __aenter__(self) -> Supervisor:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- processes -------------------------------------------------------------------

    async def ensure(self, spec: ProcessSpec) -> ProcessStatus:
        """Make `spec` run (see the module docstring); returns its status right away."""
        async with self._lock:
            self._check_open()
            if spec.zone is not None:
                self._check_zone(spec.zone)
            current = self._processes.get(spec.name)
            if current is not None and current.spec == spec:
                if not current.running and spec.zone not in self._down:
                    current.start()
                return current.status
            if current is not None:
                await current.halt(ProcessState.STOPPED, reason="spec changed")
            managed = ManagedProcess(spec, self.policy, self._changed, self._prefix)
            self._processes[spec.name] = managed
            if spec.zone in self._down:
                await managed.halt(ProcessState.ZONE_DOWN, reason="zone down")
            else:
                managed.start()
            self._save(durable=True)
            return managed.status

    async def remove(self, name: str) -> None:
        """Stop a process gracefully and forget it."""
        async with self._lock:
            managed = self._get(name)
            await self._stop(managed)
            del self._processes[name]
            self._save(durable=True)

    async def restart(self, name: str) -> ProcessStatus:
        """Stop a process gracefully and start it again (unless its zone is down)."""
        async with self._lock:
            managed = self._get(name)
            await self._stop(managed)
            if managed.spec.zone not in self._down:
                managed.start()
            return managed.status

    async def wait_ready(self, name: str, timeout: float | None = None) -> ProcessStatus:
        """Wait until `name` is ready; TimeoutError after `timeout` seconds."""
        return await asyncio.wait_for(self._get(name).wait_ready(), timeout)

    def status(self, name: str) -> ProcessStatus:
        return self._get(name).status

    def statuses(self) -> list[ProcessStatus]:
        return [m.status for m in self._processes.values()]

    def spec(self, name: str) -> ProcessSpec:
        return self._get(name).spec

    # -- zone faults -----------------------------------------------------------------

    async def zone_down(self, zone: str) -> list[str]:
        """Kill every process of `zone` and hold them down; returns their names."""
        async with self._lock:
            self._check_open()
            self._check_zone(zone)
            self._down.setdefault(zone, time.time())
            self._save(durable=True)
            victims = self._in_zone(zone)
            halts = (m.halt(ProcessState.ZONE_DOWN, kill=True, reason="zone down") for m in victims)
            await asyncio.gather(*halts)
            return [m.spec.name for m in victims]

    async def zone_up(self, zone: str) -> list[str]:
        """Let `zone` run again and start its processes; returns their names."""
        async with self._lock:
            self._check_open()
            self._check_zone(zone)
            self._down.pop(zone, None)
            self._save(durable=True)
            members = self._in_zone(zone)
            for managed in members:
                managed.start()
            return [m.spec.name for m in members]

    def zone_states(self) -> list[ZoneStatus]:
        return [
            ZoneStatus(
                name=zone,
                down=zone in self._down,
                since=self._down.get(zone),
                processes=[m.status for m in self._in_zone(zone)],
            )
            for zone in self.zones
        ]

    def is_down(self, zone: str) -> bool:
        return zone in self._down

    # -- internals -------------------------------------------------------------------

    def _get(self, name: str) -> ManagedProcess:
        try:
            return self._processes[name]
        except KeyError:
            raise UnknownProcessError(name) from None

    def _in_zone(self, zone: str) -> list[ManagedProcess]:
        return [m for m in self._processes.values() if m.spec.zone == zone]

    def _check_zone(self, zone: str) -> None:
        if zone not in self.zones:
            raise UnknownZoneError(f"unknown zone {zone!r} (zones: {', '.join(self.zones)})")

    def _take_ownership(self) -> None:
        """Hold an exclusive lock on `<state_dir>/supervisor.lock` while open: two
        supervisors on one state directory would kill each other's processes as orphans.
        The kernel drops the lock when this process dies, even with -9."""
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SupervisorBusyError(f"another supervisor uses {self.state_path.parent}") from None
        self._owner = fd

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the supervisor is closed")

    async def _stop(self, managed: ManagedProcess) -> None:
        if managed.running or managed.process is not None:
            await managed.halt(ProcessState.STOPPED, reason="stopped")

    async def _kill_orphans(self, records: Iterable[dict[str, Any]]) -> None:
        killed = [
            int(r["pid"])
            for r in records
            if r.get("pid") and kill_orphan(int(r["pid"]), r.get("startTicks"))
        ]
        await asyncio.gather(*(wait_group_gone(pid) for pid in killed))

    def _changed(self, managed: ManagedProcess) -> None:
        """A process changed state: save once this loop iteration's changes are done."""
        if not self._save_pending:
            self._save_pending = True
            asyncio.get_running_loop().call_soon(self._save)

    def _save(self, durable: bool = False) -> None:
        self._save_pending = False
        processes = {
            name: {
                "spec": m.spec.to_json(),
                "status": m.status.to_json(),
                "pid": m.process.pid if m.process is not None else None,
                "startTicks": m.start_ticks if m.process is not None else None,
            }
            for name, m in sorted(self._processes.items())
        }
        document = {
            "version": 1,
            "bootId": boot_id(),
            "zonesDown": dict(sorted(self._down.items())),
            "processes": processes,
        }
        write_state(self.state_path, document, durable=durable)


def _rfc3339(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
