"""Containers of the runc runtime on disk, their state, and the runc command line.

A container is a directory `containers/<id>/`: `container.json` (what it was created
from), the OCI bundle (`config.json`, `rootfs/` with its overlay `upper/` and `work/`),
and the files its shim writes: `started.json` (pid, the pid's start time, when) and
`exit.json` (exit code, reason, when). A container's state is read from these files
alone, never from memory, so `container_status` answers the same after the node agent
restarts:

    exit.json                  → exited
    started.json, pid alive    → running (or its shim is still writing exit.json)
    started.json, nothing else → exited with code 255, reason Unknown (the shim died)
    neither                    → created

`Runc` wraps the few runc commands the agent itself runs (`kill`, `delete`, `list`,
`exec`) with one `--root` per node agent, so agents on one machine never see each other's
containers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeks.kube.node.runtime.base import ContainerStatus, RuntimeFailure, State


@dataclass
class ContainerRecord:
    id: str
    sandbox_id: str
    name: str
    image: str
    image_id: str
    log_path: str = ""
    created_at: str = ""
    tty: bool = False
    stdin: bool = False
    rootfs_mode: str = ""
    """"overlay" or "copy"; '' while the rootfs is not made yet."""


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def process_start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat ('' for a process that is gone or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    return "" if fields[0] == "Z" else fields[19]


def pid_alive(pid: int, start_time: str) -> bool:
    return pid > 0 and bool(start_time) and process_start_time(pid) == start_time


class Containers:
    """The container directories of one node agent, under `root/containers/`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "containers"
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, container_id: str) -> Path:
        return self.root / container_id

    def load(self, container_id: str) -> ContainerRecord | None:
        data = read_json(self.path(container_id) / "container.json")
        if data is None:
            return None
        try:
            return ContainerRecord(**data)
        except TypeError:
            return None

    def require(self, container_id: str) -> ContainerRecord:
        record = self.load(container_id) if container_id.isalnum() else None
        if record is None:
            raise RuntimeFailure("NotFound", f'container "{container_id}" not found')
        return record

    def save(self, record: ContainerRecord) -> None:
        path = self.path(record.id) / "container.json"
        tmp = path.with_name(".container.json.tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(record), indent=1))
        os.replace(tmp, path)

    def all(self) -> list[ContainerRecord]:
        records = (self.load(entry.name) for entry in self.root.iterdir())
        return [record for record in records if record is not None]

    def started(self, container_id: str) -> dict[str, Any] | None:
        return read_json(self.path(container_id) / "started.json")

    def exited(self, container_id: str) -> dict[str, Any] | None:
        return read_json(self.path(container_id) / "exit.json")

    def running_pid(self, container_id: str) -> int:
        """The container's init pid while it runs, else 0."""
        started = self.started(container_id)
        if started is None or self.exited(container_id) is not None:
            return 0
        pid = int(started.get("pid", 0))
        return pid if pid_alive(pid, str(started.get("pid_start", ""))) else 0

    def shim_alive(self, container_id: str) -> bool:
        try:
            pid, start_time = (self.path(container_id) / "shim.pid").read_text().split()
        except (OSError, ValueError):
            return False
        return pid_alive(int(pid), start_time)

    def status(self, container_id: str) -> ContainerStatus:
        self.require(container_id)
        started = self.started(container_id) or {}
        started_at = str(started.get("started_at", ""))
        exited = self.exited(container_id)
        if exited is not None:
            return _exited_status(container_id, started_at, exited)
        if not started:
            return ContainerStatus(id=container_id, state=State.CREATED)
        if self.running_pid(container_id) or self.shim_alive(container_id):
            return ContainerStatus(id=container_id, state=State.RUNNING, started_at=started_at)
        exited = self.exited(container_id)  # the shim may have finished since we looked
        if exited is not None:
            return _exited_status(container_id, started_at, exited)
        return ContainerStatus(
            id=container_id,
            state=State.EXITED,
            exit_code=255,
            started_at=started_at,
            reason="Unknown",
            message="the container's shim exited without recording how the container ended",
        )


def _exited_status(container_id: str, started_at: str, exited: dict[str, Any]) -> ContainerStatus:
    return ContainerStatus(
        id=container_id,
        state=State.EXITED,
        exit_code=int(exited.get("exit_code", 255)),
        started_at=started_at,
        finished_at=str(exited.get("finished_at", "")),
        reason=str(exited.get("reason", "")),
        message=str(exited.get("message", "")),
    )


class Runc:
    """The runc binary with this node agent's state root."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def argv(self, *args: str) -> list[str]:
        return [self.binary, "--root", str(self.root), *args]

    async def run(self, *args: str) -> tuple[int, str]:
        """Run a runc command; (exit code, stderr)."""
        process = await asyncio.create_subprocess_exec(
            *self.argv(*args),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await process.communicate()
        return process.returncode or 0, stderr.decode(errors="replace").strip()

    async def kill(self, container_id: str, signal: str) -> None:
        await self.run("kill", container_id, signal)

    async def delete(self, container_id: str) -> None:
        await self.run("delete", "--force", container_id)

    def container_ids(self) -> list[str]:
        """Containers runc has state for (its state directories)."""
        return [entry.name for entry in self.root.iterdir() if entry.is_dir()]
