"""The container runtime interface the node agent drives, shaped like the CRI.

A pod is a *sandbox* (its network namespace and IP, plus shared IPC/UTS namespaces)
holding *containers*. The node agent decides what should run; a runtime only does what
it is told and reports state. Two implementations: `runc` (real processes in OCI
bundles) and `simulated` (no processes; state transitions on a timer), so the same agent
code serves both.

Errors a user should see are raised as `RuntimeFailure(reason, message)` with the
Kubernetes reason string (`ErrImagePull`, `CreateContainerError`, ...).
"""

from __future__ import annotations

import abc
import asyncio
from dataclasses import dataclass, field
from enum import Enum


class RuntimeFailure(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class ImagePullError(RuntimeFailure):
    def __init__(self, message: str) -> None:
        super().__init__("ErrImagePull", message)


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    read_only: bool = False


@dataclass(frozen=True)
class Resources:
    cpu_millis: int = 0
    """CPU limit in millicores (0 = unlimited)."""
    memory_bytes: int = 0
    """Memory limit (0 = unlimited)."""
    cpu_request_millis: int = 0


@dataclass
class SandboxConfig:
    pod_uid: str
    name: str
    namespace: str
    hostname: str
    host_network: bool = False
    dns_servers: list[str] = field(default_factory=list)
    dns_searches: list[str] = field(default_factory=list)


@dataclass
class Sandbox:
    id: str
    ip: str
    """The pod's IP ('' for simulated pods without one, the node's for hostNetwork)."""
    netns: str = ""
    """Path of the network namespace, '' for host network."""


@dataclass
class ContainerConfig:
    name: str
    image: str
    """The image reference as written in the pod spec."""
    command: list[str]
    """The full argv (entrypoint + args already resolved against the image config)."""
    env: dict[str, str]
    working_dir: str = ""
    mounts: list[Mount] = field(default_factory=list)
    resources: Resources = field(default_factory=Resources)
    tty: bool = False
    stdin: bool = False
    log_path: str = ""
    """Where the runtime writes the container's output, CRI log format."""


class State(Enum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass
class ContainerStatus:
    id: str
    state: State
    exit_code: int = 0
    started_at: str = ""
    """RFC 3339, '' if never started."""
    finished_at: str = ""
    reason: str = ""
    """'Completed', 'Error', 'OOMKilled', ... for exited containers."""
    message: str = ""


@dataclass
class ImageInfo:
    ref: str
    """The resolved reference (registry/repository@digest)."""
    id: str
    """Content digest of the image config ('sha256:...')."""
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    working_dir: str = ""
    size: int = 0


@dataclass
class ExecResult:
    exit_code: int


class ExecStreams(abc.ABC):
    """The I/O of an exec session; the node agent's exec endpoint provides one."""

    @abc.abstractmethod
    async def read_stdin(self) -> bytes | None:
        """Next chunk of stdin, or None at end of input."""

    @abc.abstractmethod
    async def write_stdout(self, data: bytes) -> None: ...

    @abc.abstractmethod
    async def write_stderr(self, data: bytes) -> None: ...

    async def resize(self) -> tuple[int, int] | None:
        """The next terminal size (width, height) for tty sessions; None = never."""
        await asyncio.Event().wait()
        return None


class Runtime(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    async def pull_image(
        self, image: str, policy: str, auth: dict[str, str] | None = None
    ) -> ImageInfo:
        """Make `image` available per the pull policy (Always/IfNotPresent/Never)."""

    @abc.abstractmethod
    async def run_sandbox(self, config: SandboxConfig) -> Sandbox: ...

    @abc.abstractmethod
    async def stop_sandbox(self, sandbox: Sandbox) -> None:
        """Tear down the sandbox (all its containers must be stopped first)."""

    @abc.abstractmethod
    async def create_container(
        self, sandbox: Sandbox, config: ContainerConfig, image: ImageInfo
    ) -> str:
        """Create (not start) a container; returns its id."""

    @abc.abstractmethod
    async def start_container(self, container_id: str) -> None: ...

    @abc.abstractmethod
    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        """SIGTERM, wait up to the grace period, then SIGKILL."""

    @abc.abstractmethod
    async def remove_container(self, container_id: str) -> None: ...

    @abc.abstractmethod
    async def container_status(self, container_id: str) -> ContainerStatus: ...

    @abc.abstractmethod
    async def exec(
        self, container_id: str, command: list[str], streams: ExecStreams, tty: bool = False
    ) -> ExecResult:
        """Run a command in a running container, wired to `streams`."""

    async def exec_sync(
        self, container_id: str, command: list[str], timeout: float
    ) -> tuple[int, bytes]:
        """Run a command and collect its output (exec probes)."""
        raise NotImplementedError

    async def list_sandboxes(self) -> list[Sandbox]:
        """Sandboxes that exist now (to clean up after a restart)."""
        return []

    async def close(self) -> None:  # noqa: B027 - optional hook, most runtimes hold nothing
        """Release what the runtime holds open (not the containers)."""
