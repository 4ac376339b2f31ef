"""Real etcd processes for tests and benchmarks: `EtcdCluster(members=1 | 3)`.

A cluster is a context manager (plain `with` or `async with`) that starts `members`
etcd processes on free 127.0.0.1 ports in a fresh directory, waits until every member
reports healthy, and on exit kills every process it started, whether the body raised
or not. The directory is a new temporary one, removed on exit, unless `base_dir` is
given: then a fresh subdirectory of it is used and left in place (the member logs,
`m0.log`..., help to debug a failed test). In between, `stop_member(i)` and
`start_member(i)` take single members down and back up (same ports and data directory,
so the member rejoins).

    with EtcdCluster(members=3) as cluster:
        store = await open_store(cluster.url)        # "etcd://127.0.0.1:a,127.0.0.1:b,..."
        cluster.stop_member(0)

Why it is shaped this way:

- Processes are always spawned from the caller's thread (`subprocess.Popen` without
  `preexec_fn`, so it is safe beside gRPC's threads); only the health polling is
  sync or async. Where util-linux `setpriv` exists each member runs under
  `setpriv --pdeathsig KILL`, so members die with the process that started them even if
  that process is killed before its `finally` runs. (Parent death is tracked per
  *thread* by Linux: start clusters from a long-lived thread, such as pytest's main one.)
- Without `base_dir`, data lives on /dev/shm when it is writable: etcd fsyncs every
  commit, and tests want speed, not durability of their scratch cluster.
- Timings are tightened (50 ms heartbeat, 500 ms election) so failover tests stay short.
- Ports are picked by binding to port 0; if a member loses the race for its port and
  exits during start-up, the whole cluster is restarted on new ports (a few attempts).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

ETCD_BINARY = shutil.which("etcd") or "/usr/bin/etcd"
"""The etcd binary used when none is passed (Debian's etcd-server installs /usr/bin/etcd)."""


class EtcdStartError(RuntimeError):
    """A member did not become healthy in time; the message carries its log tail."""


def etcd_available(binary: str = ETCD_BINARY) -> bool:
    """Whether `binary` exists, for `pytest.mark.skipif`."""
    return shutil.which(binary) is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EtcdMember:
    """One member: its ports, data directory, log file and (while running) process."""

    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_once: bool = False

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass(eq=False)
class EtcdCluster:
    """`members` local etcd processes; see the module docstring."""

    base_dir: str | os.PathLike[str] | None = None
    """Where to create the cluster's directory (kept afterwards); None: a temporary one."""
    members: int = 1
    """How many members: 1, or 3 to test failover."""
    binary: str = ETCD_BINARY
    startup_timeout: float = 20.0
    """Seconds to wait for all members to report healthy."""
    extra_args: tuple[str, ...] = ()
    """More etcd flags, appended to every member's command line."""
    start_attempts: int = 3
    nodes: list[EtcdMember] = field(default_factory=list, init=False)
    """The members, in endpoint order."""
    _root: Path | None = field(default=None, init=False)
    _token: str = field(default="", init=False)

    # -- addresses -------------------------------------------------------------------

    @property
    def endpoints(self) -> list[str]:
        """Every member's client endpoint, "127.0.0.1:port", in member order."""
        return [m.endpoint for m in self.nodes]

    @property
    def url(self) -> str:
        """A store URL naming all members: "etcd://127.0.0.1:a,127.0.0.1:b,..."."""
        return "etcd://" + ",".join(self.endpoints)

    # -- whole cluster ---------------------------------------------------------------

    def start(self) -> EtcdCluster:
        """Start all members and block until they are healthy."""
        for attempt in range(self.start_attempts):
            self._launch_all()
            try:
                self._wait_sync(range(self.members))
                return self
            except EtcdStartError:
                if attempt + 1 == self.start_attempts or not self._lost_port_race():
                    self.stop()
                    raise
                self.stop()
        raise AssertionError("unreachable")

    async def start_async(self) -> EtcdCluster:
        """`start` without blocking the event loop while members come up."""
        for attempt in range(self.start_attempts):
            self._launch_all()
            try:
                await self._wait_async(range(self.members))
                return self
            except EtcdStartError:
                if attempt + 1 == self.start_attempts or not self._lost_port_race():
                    self.stop()
                    raise
                self.stop()
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Kill every member and delete the data (kept under a given `base_dir`).
        Safe to call more than once."""
        for member in self.nodes:
            self._terminate(member, graceful=False)
        self.nodes = []
        if self._root is not None and self.base_dir is None:
            shutil.rmtree(self._root, ignore_errors=True)
        self._root = None
        _live_clusters.discard(self)

    def __enter__(self) -> EtcdCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> EtcdCluster:
        return await self.start_async()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- single members --------------------------------------------------------------

    def stop_member(self, index: int, *, kill: bool = False) -> None:
        """Stop one member: SIGTERM and wait (SIGKILL right away when `kill`)."""
        self._terminate(self.nodes[index], graceful=not kill)

    async def stop_member_async(self, index: int, *, kill: bool = False) -> None:
        """`stop_member` without blocking the event loop while etcd shuts down."""
        await asyncio.to_thread(self.stop_member, index, kill=kill)

    def start_member(self, index: int, *, wait: bool = True) -> None:
        """Start a stopped member again on its old ports and data; wait until healthy."""
        member = self.nodes[index]
        if member.running:
            return
        self._spawn(member)
        if wait:
            self._wait_sync([index])

    async def start_member_async(self, index: int) -> None:
        """`start_member`, waiting without blocking the loop (the process is spawned from
        the calling thread, see the module docstring)."""
        member = self.nodes[index]
        if not member.running:
            self._spawn(member)
        await self._wait_async([index])

    def wait_healthy(self, indexes: list[int] | None = None) -> None:
        """Block until the given members (default: all running ones) report healthy."""
        self._wait_sync(self._running(indexes))

    async def wait_healthy_async(self, indexes: list[int] | None = None) -> None:
        await self._wait_async(self._running(indexes))

    def _running(self, indexes: list[int] | None) -> list[int]:
        if indexes is not None:
            return indexes
        return [i for i, m in enumerate(self.nodes) if m.process is not None]

    def is_healthy(self, index: int) -> bool:
        return self.nodes[index].running and _healthy(self.nodes[index])

    # -- internals -------------------------------------------------------------------

    def _launch_all(self) -> None:
        if self.members < 1:
            raise ValueError("an etcd cluster needs at least one member")
        if self.base_dir is not None:
            os.makedirs(self.base_dir, exist_ok=True)
        self._root = Path(tempfile.mkdtemp(prefix="openeks-etcd-", dir=self._parent_dir()))
        self.nodes = [
            EtcdMember(
                name=f"m{i}",
                client_port=free_port(),
                peer_port=free_port(),
                data_dir=self._root / f"m{i}",
                log_path=self._root / f"m{i}.log",
            )
            for i in range(self.members)
        ]
        _live_clusters.add(self)
        self._token = uuid.uuid4().hex
        for member in self.nodes:
            self._spawn(member)

    def _parent_dir(self) -> str | None:
        if self.base_dir is not None:
            return os.fspath(self.base_dir)
        shm = "/dev/shm"
        return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None

    def _command(self, member: EtcdMember) -> list[str]:
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.nodes)
        command = [
            self.binary,
            f"--name={member.name}",
            f"--data-dir={member.data_dir}",
            f"--listen-client-urls={member.client_url}",
            f"--advertise-client-urls={member.client_url}",
            f"--listen-peer-urls={member.peer_url}",
            f"--initial-advertise-peer-urls={member.peer_url}",
            f"--initial-cluster={initial}",
            f"--initial-cluster-token={self._token}",
            "--initial-cluster-state=new",  # ignored on restart: the data dir has a WAL
            "--heartbeat-interval=50",
            "--election-timeout=500",
            "--logger=zap",
            "--log-outputs=stderr",
            "--log-level=warn",
            *self.extra_args,
        ]
        setpriv = shutil.which("setpriv")
        if setpriv:
            command = [setpriv, "--pdeathsig", "KILL", "--", *command]
        return command

    def _spawn(self, member: EtcdMember) -> None:
        with open(member.log_path, "ab") as log:
            member.process = subprocess.Popen(
                self._command(member),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._root,
            )
        member.started_once = True

    def _terminate(self, member: EtcdMember, *, graceful: bool) -> None:
        process = member.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        member.process = None

    def _lost_port_race(self) -> bool:
        return any(m.process is not None and m.process.poll() is not None for m in self.nodes)

    def _check_alive(self, indexes: list[int]) -> None:
        for i in indexes:
            member = self.nodes[i]
            if not member.running:
                raise EtcdStartError(
                    f"etcd member {member.name} exited during start-up:\n{member.log_tail()}"
                )

    def _timeout_error(self, indexes: list[int]) -> EtcdStartError:
        tails = "\n".join(f"--- {self.nodes[i].name}\n{self.nodes[i].log_tail()}" for i in indexes)
        return EtcdStartError(f"etcd not healthy after {self.startup_timeout}s:\n{tails}")

    def _wait_sync(self, indexes: range | list[int]) -> None:
        pending = list(indexes)
        deadline = time.monotonic() + self.startup_timeout
        while pending:
            self._check_alive(pending)
            pending = [i for i in pending if not _healthy(self.nodes[i])]
            if pending:
                if time.monotonic() > deadline:
                    raise self._timeout_error(pending)
                time.sleep(0.05)

    async def _wait_async(self, indexes: range | list[int]) -> None:
        pending = list(indexes)
        deadline = time.monotonic() + self.startup_timeout
        while pending:
            self._check_alive(pending)
            checks = [asyncio.to_thread(_healthy, self.nodes[i]) for i in pending]
            healthy = await asyncio.gather(*checks)
            pending = [i for i, ok in zip(pending, healthy, strict=True) if not ok]
            if pending:
                if time.monotonic() > deadline:
                    raise self._timeout_error(pending)
                await asyncio.sleep(0.05)


def _healthy(member: EtcdMember) -> bool:
    """GET /health: true once the member is serving and sees a leader."""
    try:
        with urllib.request.urlopen(member.client_url + "/health", timeout=1.0) as response:
            return b'"true"' in response.read()
    except (OSError, urllib.error.URLError):
        return False


_live_clusters: set[EtcdCluster] = set()


@atexit.register
def _stop_leftovers() -> None:
    """Safety net for clusters nobody stopped (a fixture torn down by an interpreter exit)."""
    for cluster in list(_live_clusters):
        with contextlib.suppress(Exception):
            cluster.stop()
