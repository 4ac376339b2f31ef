"""The real container runtime: pods as namespace sandboxes, containers run by runc.

`RuncRuntime(root_dir, network)` keeps everything under `root_dir`:

    images/        the image store (unless one is passed in to share between nodes)
    sandboxes/     one directory per pod sandbox (`sandboxes.py`)
    containers/    one OCI bundle + state files per container (`containers.py`)
    runc/          runc's own state (`runc --root`)

How the pieces fit: `run_sandbox` makes the pod's namespaces and address
(`sandboxes.py`, `network.py`); `create_container` mounts an overlay of the image's
rootfs and writes the OCI spec (`bundle.py`); `start_container` launches a detached
shim (`shim.py`) that runs `runc create` + `runc start`, copies output into the CRI
log and records the exit. All state is in files, so a restarted agent finds its
containers running and can ask for their status; `list_sandboxes` and `cleanup` let it
reconcile what it finds.

Errors use the reasons kubelet shows: `ErrImagePull`, `ErrImageNeverPull`,
`InvalidImageName`, `CreateContainerError`, `RunContainerError`,
`FailedCreatePodSandBox`; a failed start leaves the container exited with code 128 and
reason `StartError`, as containerd does. Exec adds `ContainerNotRunning` and `ExecError`
(runc could not start the command), and `exec_sync` raises `TimeoutError` past its
deadline. Unknown container ids are `NotFound`.

Beyond `Runtime`: `cleanup()`, `list_containers()`, `sandbox_record(id)` (the pod a
sandbox belongs to) and `container_pid(id)`, for an agent reconciling after a restart.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

from openeks.kube.api.meta import now, rfc3339
from openeks.kube.node.images.store import ImageStore, StoredImage
from openeks.kube.node.network import PodNetwork
from openeks.kube.node.runtime import execio
from openeks.kube.node.runtime.base import (
    ContainerConfig,
    ContainerStatus,
    ExecResult,
    ExecStreams,
    ImageInfo,
    Runtime,
    RuntimeFailure,
    Sandbox,
    SandboxConfig,
    State,
)
from openeks.kube.node.runtime.bundle import Namespaces, build_spec, merge_env, resolve_user
from openeks.kube.node.runtime.containers import ContainerRecord, Containers, Runc
from openeks.kube.node.runtime.mounts import MountError, mount_rootfs, release_rootfs
from openeks.kube.node.runtime.sandboxes import Sandboxes, SandboxRecord

STOP_POLL = 0.02
KILL_WAIT = 10.0


class RuncRuntime(Runtime):
    name = "runc"

    def __init__(
        self,
        root_dir: Path,
        network: PodNetwork,
        *,
        images: ImageStore | None = None,
        runc: str = "runc",
        cgroup_parent: str = "/openeks",
    ) -> None:
        self.root = Path(root_dir)
        self.network = network
        self.images = images or ImageStore(self.root / "images")
        self._owns_images = images is None
        self.sandboxes = Sandboxes(self.root, network)
        self.containers = Containers(self.root)
        self.runc = Runc(shutil.which(runc) or runc, self.root / "runc")
        self.cgroup_parent = cgroup_parent.rstrip("/")

    async def close(self) -> None:
        if self._owns_images:
            await self.images.close()

    # -- images --------------------------------------------------------------------------

    async def pull_image(
        self, image: str, policy: str, auth: dict[str, str] | None = None
    ) -> ImageInfo:
        stored = await self.images.pull(image, policy, auth)
        return stored.info()

    # -- sandboxes -----------------------------------------------------------------------

    async def run_sandbox(self, config: SandboxConfig) -> Sandbox:
        record = await self.sandboxes.create(config)
        return record.sandbox()

    async def stop_sandbox(self, sandbox: Sandbox) -> None:
        """Kill and remove whatever containers are left, then drop the sandbox."""
        for record in self.containers.all():
            if record.sandbox_id == sandbox.id:
                await self.remove_container(record.id)
        await self.sandboxes.destroy(sandbox.id)

    async def list_sandboxes(self) -> list[Sandbox]:
        return [record.sandbox() for record in self.sandboxes.all() if record.ready]

    def sandbox_record(self, sandbox_id: str) -> SandboxRecord | None:
        """The pod a sandbox was made for (name, namespace, uid), for reconciliation."""
        return self.sandboxes.load(sandbox_id)

    def list_containers(self) -> list[ContainerRecord]:
        """Every container this runtime holds (not part of `Runtime`: lets a restarted
        agent find the containers of the sandboxes it keeps)."""
        return self.containers.all()

    async def cleanup(self) -> list[str]:
        """Remove what a crash left half-made: sandboxes never marked ready, containers
        of sandboxes that are gone, runc state without a container, addresses and veths
        of no sandbox. Returns the ids removed."""
        removed = []
        for sandbox in self.sandboxes.all():
            if not sandbox.ready:
                await self.stop_sandbox(sandbox.sandbox())
                removed.append(sandbox.id)
        live = {s.id for s in self.sandboxes.all()}
        for entry in list(self.containers.root.iterdir()):
            record = self.containers.load(entry.name)
            if record is None or record.sandbox_id not in live:
                await self.remove_container(entry.name)
                removed.append(entry.name)
        for container_id in self.runc.container_ids():
            if not self.containers.path(container_id).exists():
                await self.runc.delete(container_id)
        removed += await self.network.cleanup(live)
        return removed

    # -- containers ----------------------------------------------------------------------

    async def create_container(
        self, sandbox: Sandbox, config: ContainerConfig, image: ImageInfo
    ) -> str:
        sandbox_record = self.sandboxes.load(sandbox.id)
        if sandbox_record is None or not sandbox_record.ready:
            raise RuntimeFailure("CreateContainerError", f"sandbox {sandbox.id} not found")
        stored = self.images.by_id(image.id) or self.images.lookup(config.image)
        if stored is None:
            raise RuntimeFailure(
                "CreateContainerError", f'image "{config.image}" ({image.id}) is not present'
            )
        container_id = secrets.token_hex(32)
        directory = self.containers.path(container_id)
        directory.mkdir(parents=True)
        record = ContainerRecord(
            id=container_id,
            sandbox_id=sandbox.id,
            name=config.name,
            image=config.image,
            image_id=stored.config_digest,
            log_path=config.log_path,
            created_at=rfc3339(now()),
            tty=config.tty,
            stdin=config.stdin,
        )
        self.containers.save(record)
        try:
            record.rootfs_mode = await self._prepare_bundle(
                directory, sandbox_record, config, stored
            )
        except (MountError, OSError, ValueError) as exc:
            await self.remove_container(container_id)
            raise RuntimeFailure("CreateContainerError", str(exc)) from exc
        self.containers.save(record)
        return container_id

    async def _prepare_bundle(
        self,
        directory: Path,
        sandbox: SandboxRecord,
        config: ContainerConfig,
        image: StoredImage,
    ) -> str:
        lower = await self.images.ensure_rootfs(image)
        args = list(config.command) or [*image.config.entrypoint, *image.config.cmd]
        if not args:
            raise ValueError("failed to generate spec: no command specified")
        user = resolve_user(image.config.user, lower)
        mode = await asyncio.to_thread(mount_rootfs, lower, directory)
        cwd = config.working_dir or image.config.working_dir or "/"
        (directory / "rootfs" / cwd.lstrip("/")).mkdir(parents=True, exist_ok=True)
        spec = build_spec(
            args=args,
            env=merge_env(image.config.env, config.env, sandbox.hostname),
            cwd=cwd,
            user=user,
            tty=config.tty,
            mounts=list(config.mounts),
            pod_files=self.sandboxes.pod_files(sandbox.id),
            namespaces=Namespaces(
                network=sandbox.netns,
                ipc=self.sandboxes.ns_path(sandbox.id, "ipc"),
                uts="" if sandbox.host_network else self.sandboxes.ns_path(sandbox.id, "uts"),
            ),
            resources=config.resources,
            cgroups_path=f"{self.cgroup_parent}/{directory.name}",
        )
        (directory / "config.json").write_text(json.dumps(spec, indent=1))
        return mode

    async def start_container(self, container_id: str) -> None:
        record = self.containers.require(container_id)
        if self.containers.started(container_id) or self.containers.exited(container_id):
            raise RuntimeFailure("RunContainerError", f"container {container_id} already started")
        directory = self.containers.path(container_id)
        spec = {
            "id": container_id,
            "runc": self.runc.binary,
            "root": str(self.runc.root),
            "bundle": str(directory),
            "state_dir": str(directory),
            "log_path": record.log_path,
            "tty": record.tty,
            "stdin": record.stdin,
        }
        (directory / "shim.json").write_text(json.dumps(spec))
        with (directory / "shim.log").open("ab") as shim_log:
            shim = await asyncio.create_subprocess_exec(
                sys.executable, "-I", "-S", execio.SHIM, str(directory / "shim.json"),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=shim_log,
                start_new_session=True,
            )  # fmt: skip
        assert shim.stdout is not None
        line = await shim.stdout.readline()
        await shim.wait()
        try:
            answer = json.loads(line)
        except ValueError:
            answer = {"ok": False, "error": "the container shim exited without an answer"}
        if not answer.get("ok"):
            raise RuntimeFailure(
                "RunContainerError",
                "failed to create containerd task: failed to create shim task: OCI runtime "
                f"create failed: {answer.get('error', '')}: unknown",
            )

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        self.containers.require(container_id)
        if not self.containers.running_pid(container_id):
            await self._wait_exit(container_id, 0)
            return
        await self.runc.kill(container_id, "TERM")
        if await self._wait_exit(container_id, max(grace_seconds, 0)):
            return
        await self.runc.kill(container_id, "KILL")
        await self._wait_exit(container_id, KILL_WAIT)

    async def _wait_exit(self, container_id: str, timeout: float) -> bool:
        """Wait until the shim recorded the exit (or nothing runs any more)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.containers.exited(container_id) is not None:
                return True
            alive = self.containers.running_pid(container_id)
            if not alive and not self.containers.shim_alive(container_id):
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(STOP_POLL)

    async def remove_container(self, container_id: str) -> None:
        """Kill if still running, delete runc's state, unmount and delete the bundle.
        The log file stays (it belongs to the node agent)."""
        directory = self.containers.path(container_id)
        if not container_id.isalnum() or not directory.exists():
            return
        if self.containers.running_pid(container_id):
            await self.runc.kill(container_id, "KILL")
            await self._wait_exit(container_id, KILL_WAIT)
        await self.runc.delete(container_id)
        await asyncio.to_thread(release_rootfs, directory)
        await asyncio.to_thread(shutil.rmtree, directory, True)

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self.containers.status(container_id)

    # -- exec ----------------------------------------------------------------------------

    def _require_running(self, container_id: str) -> None:
        self.containers.require(container_id)
        if not self.containers.running_pid(container_id):
            raise RuntimeFailure(
                "ContainerNotRunning",
                f"cannot exec in a stopped container: container {container_id} is not running",
            )

    async def exec(
        self, container_id: str, command: list[str], streams: ExecStreams, tty: bool = False
    ) -> ExecResult:
        self._require_running(container_id)
        files = execio.ExecFiles(self.containers.path(container_id), command)
        try:
            if tty:
                return ExecResult(await self._exec_tty(container_id, command, files, streams))
            argv = self.runc.argv(
                *files.runc_options(), "exec", "--pid-file", str(files.pid_file),
                container_id, *command,
            )  # fmt: skip
            return ExecResult(exit_code=await execio.exec_pipes(argv, files, streams))
        finally:
            files.remove()

    async def _exec_tty(
        self, container_id: str, command: list[str], files: execio.ExecFiles, streams: ExecStreams
    ) -> int:
        spec = json.loads((self.containers.path(container_id) / "config.json").read_text())
        process: dict[str, Any] = spec["process"]  # the container's user, env, cwd, caps
        process.update(args=command, terminal=True)

        def argv(console_socket: str, size: tuple[int, int]) -> list[str]:
            process["consoleSize"] = {"width": size[0], "height": size[1]}
            spec_file = files.pid_file.with_suffix(".json")
            spec_file.write_text(json.dumps(process))
            return self.runc.argv(
                *files.runc_options(), "exec", "-d", "--console-socket", console_socket,
                "--pid-file", str(files.pid_file), "--process", str(spec_file), container_id,
            )  # fmt: skip

        return await execio.exec_tty(argv, files, streams)

    async def exec_sync(
        self, container_id: str, command: list[str], timeout: float
    ) -> tuple[int, bytes]:
        self._require_running(container_id)
        files = execio.ExecFiles(self.containers.path(container_id), command)
        argv = self.runc.argv(
            *files.runc_options(), "exec", "--pid-file", str(files.pid_file),
            container_id, *command,
        )  # fmt: skip
        try:
            return await execio.exec_collect(argv, files, timeout)
        finally:
            files.remove()

    # -- helpers for callers -------------------------------------------------------------

    def container_pid(self, container_id: str) -> int:
        """The host pid of the container's init while it runs, else 0."""
        return self.containers.running_pid(container_id)

    async def wait_state(self, container_id: str, state: State, timeout: float) -> ContainerStatus:
        """Poll until the container reaches `state` (tests and benchmarks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        status = await self.container_status(container_id)
        while status.state != state and loop.time() < deadline:
            await asyncio.sleep(STOP_POLL)
            status = await self.container_status(container_id)
        return status
