"""A container runtime with no processes, for simulated nodes (what KWOK does for kubelets).

Everything is state in memory, so one process can host a thousand nodes' worth of pods:

- image pulls succeed at once, except for names containing `doesnotexist`, which fail
  with the message a registry's "not found" gives through containerd;
- a sandbox gets the next free address of the pod CIDR ('' without one);
- a started container "runs" until it is stopped, except two commands used to exercise
  restarts and Jobs: exactly `["false"]` exits 1 and `["sh", "-c", "exit N"]` (also
  `["true"]`) exits with N, after `exit_delay` seconds;
- stopping a container is immediate and clean (exit code 0, as a process that handles
  SIGTERM);
- exec succeeds with no output.

State changes are pushed to subscribers (`subscribe`), so the node agent needs no
polling loop over thousands of simulated containers. Nothing here pretends to be real:
the node agent labels simulated nodes `openeks.io/simulated=true` and reports the
runtime as `simulated://`.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openeks.kube.api import meta
from openeks.kube.node.imageref import normalized_image, repository
from openeks.kube.node.runtime.base import (
    ContainerConfig,
    ContainerStatus,
    ExecResult,
    ExecStreams,
    ImageInfo,
    ImagePullError,
    Runtime,
    RuntimeFailure,
    Sandbox,
    SandboxConfig,
    State,
)

DEFAULT_CMD = ("sleep", "infinity")
"""What simulated images run when a pod names no command: the image config is unknown."""
_EXIT = re.compile(r"exit\s+(\d{1,3})\s*;?\s*")


def exit_code_of(command: list[str]) -> int | None:
    """The exit code a simulated container with this argv ends with; None = runs on."""
    if command == ["false"]:
        return 1
    if command == ["true"]:
        return 0
    if len(command) == 3 and command[0] in ("sh", "/bin/sh") and command[1] == "-c":
        match = _EXIT.fullmatch(command[2].strip())
        if match:
            return int(match.group(1)) % 256
    return None


@dataclass
class _Container:
    id: str
    sandbox_id: str
    config: ContainerConfig
    state: State = State.CREATED
    exit_code: int = 0
    started_at: str = ""
    finished_at: str = ""
    reason: str = ""
    timer: asyncio.TimerHandle | None = None


@dataclass
class _Pool:
    """Pod addresses from one CIDR, skipping the network, gateway (.1) and broadcast."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    used: set[str] = field(default_factory=set)

    def take(self) -> str:
        if self.network is None:
            return ""
        for i, host in enumerate(self.network.hosts()):
            if i == 0:
                continue
            ip = str(host)
            if ip not in self.used:
                self.used.add(ip)
                return ip
        raise RuntimeFailure("FailedCreatePodSandBox", f"no free address in {self.network}")

    def give_back(self, ip: str) -> None:
        self.used.discard(ip)


class SimulatedRuntime(Runtime):
    name = "simulated"

    def __init__(self, pod_cidr: str = "", exit_delay: float = 0.2) -> None:
        network = ipaddress.ip_network(pod_cidr, strict=False) if pod_cidr else None
        self._pool = _Pool(network)
        self.exit_delay = exit_delay
        self._images: dict[str, ImageInfo] = {}
        self._sandboxes: dict[str, Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        self._subscribers: list[Callable[[str], None]] = []

    # -- events --------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[str], None]) -> None:
        """Call `callback(container_id)` whenever a container's state changes by itself."""
        self._subscribers.append(callback)

    def _notify(self, container_id: str) -> None:
        for callback in list(self._subscribers):
            callback(container_id)

    # -- images --------------------------------------------------------------------------
    async def pull_image(
        self, image: str, policy: str, auth: dict[str, str] | None = None
    ) -> ImageInfo:
        ref = normalized_image(image)
        known = self._images.get(ref)
        if known is not None and policy != "Always":
            return known
        if policy == "Never":
            raise RuntimeFailure(
                "ErrImageNeverPull",
                f'Container image "{image}" is not present with pull policy of Never',
            )
        if "doesnotexist" in image:
            raise ImagePullError(
                f'failed to pull and unpack image "{ref}": failed to resolve reference '
                f'"{ref}": {ref}: not found'
            )
        digest = "sha256:" + hashlib.sha256(ref.encode()).hexdigest()
        info = ImageInfo(
            ref=f"{repository(ref)}@{digest}",
            id="sha256:" + hashlib.sha256(digest.encode()).hexdigest(),
            cmd=list(DEFAULT_CMD),
            size=1024 * 1024,
        )
        self._images[ref] = info
        return info

    # -- sandboxes -----------------------------------------------------------------------
    async def run_sandbox(self, config: SandboxConfig) -> Sandbox:
        ip = "" if config.host_network else self._pool.take()
        sandbox = Sandbox(id=secrets.token_hex(32), ip=ip)
        self._sandboxes[sandbox.id] = sandbox
        return sandbox

    async def stop_sandbox(self, sandbox: Sandbox) -> None:
        known = self._sandboxes.pop(sandbox.id, None)
        if known is not None and known.ip:
            self._pool.give_back(known.ip)
        for c in [c for c in self._containers.values() if c.sandbox_id == sandbox.id]:
            self._exit(c, 137, "Error", notify=False)

    async def list_sandboxes(self) -> list[Sandbox]:
        return list(self._sandboxes.values())

    # -- containers ----------------------------------------------------------------------
    async def create_container(
        self, sandbox: Sandbox, config: ContainerConfig, image: ImageInfo
    ) -> str:
        if sandbox.id not in self._sandboxes:
            raise RuntimeFailure("CreateContainerError", f"sandbox {sandbox.id} not found")
        cid = secrets.token_hex(32)
        self._containers[cid] = _Container(cid, sandbox.id, config)
        if config.log_path:
            path = Path(config.log_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        return cid

    async def start_container(self, container_id: str) -> None:
        c = self._get(container_id)
        if c.state is not State.CREATED:
            raise RuntimeFailure("RunContainerError", f"container {container_id} already started")
        c.state = State.RUNNING
        c.started_at = meta.rfc3339(meta.now())
        code = exit_code_of(c.config.command)
        if code is not None:
            loop = asyncio.get_running_loop()
            reason = "Completed" if code == 0 else "Error"
            c.timer = loop.call_later(self.exit_delay, self._exit, c, code, reason)

    def _exit(self, c: _Container, code: int, reason: str, notify: bool = True) -> None:
        if c.timer is not None:
            c.timer.cancel()
            c.timer = None
        if c.state is State.EXITED:
            return
        if c.state is State.RUNNING:
            c.finished_at = meta.rfc3339(meta.now())
        c.state = State.EXITED
        c.exit_code = code
        c.reason = reason
        if notify:
            self._notify(c.id)

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        c = self._containers.get(container_id)
        if c is not None:
            self._exit(c, 0, "Completed", notify=False)

    async def remove_container(self, container_id: str) -> None:
        c = self._containers.pop(container_id, None)
        if c is not None and c.timer is not None:
            c.timer.cancel()

    async def container_status(self, container_id: str) -> ContainerStatus:
        c = self._containers.get(container_id)
        if c is None:
            return ContainerStatus(id=container_id, state=State.UNKNOWN)
        return ContainerStatus(
            id=c.id,
            state=c.state,
            exit_code=c.exit_code,
            started_at=c.started_at,
            finished_at=c.finished_at,
            reason=c.reason,
        )

    def _get(self, container_id: str) -> _Container:
        c = self._containers.get(container_id)
        if c is None:
            raise RuntimeFailure("CreateContainerError", f"container {container_id} not found")
        return c

    # -- exec ----------------------------------------------------------------------------
    async def exec(
        self, container_id: str, command: list[str], streams: ExecStreams, tty: bool = False
    ) -> ExecResult:
        self._check_running(container_id)
        return ExecResult(exit_code=0)

    async def exec_sync(
        self, container_id: str, command: list[str], timeout: float
    ) -> tuple[int, bytes]:
        self._check_running(container_id)
        return 0, b""

    def _check_running(self, container_id: str) -> None:
        c = self._containers.get(container_id)
        if c is None or c.state is not State.RUNNING:
            raise RuntimeFailure("ContainerNotRunning", f"container {container_id} is not running")
