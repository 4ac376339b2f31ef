"""Starting, restarting and stopping one pod's containers, and their API statuses.

The steps of kubelet's startContainer, each failing the way kubelet fails it:

1. the image, per pull policy, with the pull back-off (`ErrImagePull`, then
   `ImagePullBackOff: Back-off pulling image "x": ErrImagePull: <registry's message>`);
2. the environment, argv and mounts (`CreateContainerConfigError` for a missing
   configMap or secret);
3. create (`CreateContainerError`) and start (a `StartError` termination, then back-off).

Restarts follow the restart policy and the crash-loop back-off: the first restart is
immediate, then `CrashLoopBackOff` with `back-off 10s restarting failed container=...`
doubling up to 5 minutes. The events are kubelet's (Pulling, Pulled, Created, Started,
Killing, BackOff, Failed). Only the records change here; the pod worker decides what to
start, and reports.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openeks.kube.api.validation.quantity import parse as parse_quantity
from openeks.kube.node import envvars
from openeks.kube.node.backoff import go_duration
from openeks.kube.node.containerstatus import api_state, api_status, terminated_state
from openeks.kube.node.context import AgentContext
from openeks.kube.node.imageref import normalized_image, pull_credentials
from openeks.kube.node.podstate import ContainerRecord, PodState
from openeks.kube.node.runtime.base import (
    ContainerConfig,
    ContainerStatus,
    ImageInfo,
    Mount,
    Resources,
    RuntimeFailure,
    Sandbox,
    State,
)
from openeks.kube.node.volumes import VolumeError, VolumePath, container_mounts

Obj = dict[str, Any]
CONFIG_RETRY = 2.0
CREATE_RETRY = 5.0


@dataclass
class StartInputs:
    """What every container of one pod sync is built from."""

    downward: envvars.PodContext
    sources: envvars.Sources
    services: dict[str, str]
    volumes: dict[str, VolumePath]
    sandbox: Sandbox
    hosts_file: Path | None = None
    pull_secrets: list[Obj] = field(default_factory=list)


def pod_desc(pod: Obj) -> str:
    """format.Pod: `name_namespace(uid)`."""
    m = pod["metadata"]
    return f"{m['name']}_{m.get('namespace', '')}({m.get('uid', '')})"


def should_restart(policy: str, exit_code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


def runtime_resources(container: Obj, bound: dict[str, str] | None = None) -> Resources:
    """The cgroup limits of a container: its own limits; where it has none, `bound` (a
    node sized to its pod, as a Fargate micro-VM, bounds what its containers use)."""
    res = container.get("resources") or {}
    limits = {**(bound or {}), **(res.get("limits") or {})}
    requests = res.get("requests") or {}

    def milli(value: Any) -> int:
        return parse_quantity(value).milli_value if value is not None else 0

    def whole(value: Any) -> int:
        return int(parse_quantity(value).value) if value is not None else 0

    return Resources(
        cpu_millis=milli(limits.get("cpu")),
        memory_bytes=whole(limits.get("memory")),
        cpu_request_millis=milli(requests.get("cpu")),
    )


def _elapsed(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.3f}s"


class ContainerRunner:
    def __init__(self, ctx: AgentContext, pod: Obj, state: PodState) -> None:
        self.ctx = ctx
        self.pod = pod
        self.state = state
        self.retry_in: float | None = None
        self._pull_errors: dict[str, str] = {}

    # -- helpers -------------------------------------------------------------------------
    def retry(self, delay: float) -> None:
        """Ask the pod worker to sync again within `delay` seconds."""
        self.retry_in = delay if self.retry_in is None else min(self.retry_in, delay)

    def event(self, type_: str, reason: str, message: str) -> None:
        self.ctx.event(self.pod, type_, reason, message)

    def _crash_key(self, name: str) -> str:
        return f"{self.state.uid}/{name}"

    # -- runtime state -------------------------------------------------------------------
    async def refresh(self, record: ContainerRecord) -> None:
        """Bring `record.state` up to date with the runtime."""
        if not record.id:
            return
        try:
            status = await self.ctx.runtime.container_status(record.id)
        except (RuntimeFailure, OSError):
            status = ContainerStatus(id=record.id, state=State.UNKNOWN)
        was_terminated = record.terminated is not None
        spec = self._spec(record.name) or {}
        record.state = api_state(status, record, spec, self.ctx.container_id_url(record.id))
        if record.terminated is not None and not was_terminated:
            record.finished_at = self.ctx.clock()
            await self.ctx.probes.remove(record.id)

    def _spec(self, name: str) -> Obj | None:
        spec = self.pod.get("spec") or {}
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            if c.get("name") == name:
                return c
        return None

    # -- restarts ------------------------------------------------------------------------
    def may_restart(self, record: ContainerRecord, policy: str) -> bool:
        """For an exited container: restart now (True), or wait/never (False)."""
        terminated = record.terminated or {}
        if not should_restart(policy, int(terminated.get("exitCode", 0))):
            record.waiting = None
            return False
        key = self._crash_key(record.name)
        backoff = self.ctx.crash_backoff
        if backoff.in_backoff_since(key, record.finished_at):
            delay = backoff.get(key)
            if (record.waiting or {}).get("reason") != "CrashLoopBackOff":
                self.event(
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {record.name} in pod "
                    f"{pod_desc(self.pod)}",
                )
            record.wait(
                "CrashLoopBackOff",
                f"back-off {go_duration(delay)} restarting failed container={record.name} "
                f"pod={pod_desc(self.pod)}",
            )
            self.retry(backoff.remaining(key, record.finished_at) + 0.05)
            return False
        backoff.next(key, record.finished_at)
        return True

    # -- images --------------------------------------------------------------------------
    async def ensure_image(
        self, spec: Obj, record: ContainerRecord, inputs: StartInputs
    ) -> ImageInfo | None:
        image = spec.get("image", "")
        policy = spec.get("imagePullPolicy") or "IfNotPresent"
        key = f"{self.state.uid}_{image}"
        backoff = self.ctx.pull_backoff
        if backoff.in_backoff_since_update(key):
            message = f'Back-off pulling image "{image}"'
            self.event("Normal", "BackOff", message)
            previous = self._pull_errors.get(key)
            record.wait(
                "ImagePullBackOff", f"{message}: ErrImagePull: {previous}" if previous else message
            )
            self.retry(backoff.remaining_since_update(key) + 0.05)
            return None
        present = image in self.ctx.images and policy != "Always"
        if not present and policy != "Never":
            self.event("Normal", "Pulling", f'Pulling image "{image}"')
        started = time.monotonic()
        try:
            auth = pull_credentials(image, inputs.pull_secrets)
            info = await self.ctx.runtime.pull_image(image, policy, auth)
        except RuntimeFailure as e:
            self._pull_failed(image, key, record, e)
            return None
        took = time.monotonic() - started
        if present or policy == "Never":
            self.event("Normal", "Pulled", f'Container image "{image}" already present on machine')
        else:
            self.event(
                "Normal",
                "Pulled",
                f'Successfully pulled image "{image}" in {_elapsed(took)} ({_elapsed(took)} '
                f"including waiting). Image size: {info.size} bytes.",
            )
        self.ctx.images[image] = info
        self._pull_errors.pop(key, None)
        return info

    def _pull_failed(
        self, image: str, key: str, record: ContainerRecord, e: RuntimeFailure
    ) -> None:
        if e.reason == "ErrImageNeverPull":
            self.event("Warning", "ErrImageNeverPull", e.message)
            record.wait(e.reason, e.message)
            self.retry(10.0)
            return
        self.event("Warning", "Failed", f'Failed to pull image "{image}": {e.message}')
        self.event("Warning", "Failed", f"Error: {e.reason}")
        self.ctx.pull_backoff.next(key)
        self._pull_errors[key] = e.message
        record.wait(e.reason or "ErrImagePull", e.message)
        self.retry(2.0)

    # -- starting ------------------------------------------------------------------------
    def _config(
        self, spec: Obj, record: ContainerRecord, inputs: StartInputs, info: ImageInfo
    ) -> ContainerConfig:
        env = envvars.container_env(spec, inputs.downward, inputs.sources, inputs.services)
        merged = envvars.merge_image_env(info.env, env)
        argv = envvars.container_argv(spec, info.entrypoint, info.cmd, merged)
        if not argv:
            raise RuntimeFailure("CreateContainerError", "no command specified")
        mounts = container_mounts(spec, inputs.volumes, merged)
        mounts += self._managed_mounts(spec, record, inputs, mounts)
        return ContainerConfig(
            name=spec["name"],
            image=spec.get("image", ""),
            command=argv,
            env=merged,
            working_dir=spec.get("workingDir") or info.working_dir,
            mounts=mounts,
            resources=runtime_resources(spec, self.ctx.config.capacity),
            tty=bool(spec.get("tty")),
            stdin=bool(spec.get("stdin")),
        )

    def _managed_mounts(
        self, spec: Obj, record: ContainerRecord, inputs: StartInputs, mounts: list[Mount]
    ) -> list[Mount]:
        """/etc/hosts and the termination message file, as kubelet adds them."""
        taken = {m.container_path for m in mounts}
        extra: list[Mount] = []
        if inputs.hosts_file is not None and "/etc/hosts" not in taken:
            extra.append(Mount(str(inputs.hosts_file), "/etc/hosts"))
        target = spec.get("terminationMessagePath") or ""
        if target and target not in taken:
            path = self.ctx.pod_dir(self.state.uid) / "containers" / spec["name"]
            path.mkdir(parents=True, exist_ok=True)
            file = path / f"{record.attempt}-termination-log"
            file.touch()
            file.chmod(0o666)
            record.termination_path = str(file)
            extra.append(Mount(str(file), target))
        return extra

    async def start(self, spec: Obj, record: ContainerRecord, inputs: StartInputs) -> bool:
        """Create and start a (new) container for `record`; False when it has to wait."""
        info = await self.ensure_image(spec, record, inputs)
        if info is None:
            return False
        try:
            config = self._config(spec, record, inputs, info)
        except (envvars.EnvError, VolumeError) as e:
            self.event("Warning", "Failed", f"Error: {e}")
            record.wait("CreateContainerConfigError", str(e))
            self.retry(CONFIG_RETRY)
            return False
        except RuntimeFailure as e:
            return self._create_failed(record, e)
        restarts = record.restart_count + (1 if record.id else 0)
        log_dir = self.ctx.pod_log_dir(self.state.namespace, self.state.name, self.state.uid)
        config.log_path = str(log_dir / record.name / f"{restarts}.log")
        Path(config.log_path).parent.mkdir(parents=True, exist_ok=True)
        try:
            cid = await self.ctx.runtime.create_container(inputs.sandbox, config, info)
        except RuntimeFailure as e:
            return self._create_failed(record, e)
        await self._replace(record, cid, restarts, spec, info, config.log_path)
        self.event("Normal", "Created", f"Created container: {record.name}")
        try:
            await self.ctx.runtime.start_container(cid)
        except RuntimeFailure as e:
            record.state = terminated_state(
                {
                    "exitCode": 128,
                    "reason": "StartError",
                    "message": e.message,
                    "startedAt": "1970-01-01T00:00:00Z",
                    "finishedAt": None,
                    "containerID": self.ctx.container_id_url(cid),
                }
            )
            record.finished_at = self.ctx.clock()
            self.event("Warning", "Failed", f"Error: {e.message}")
            return False
        self.event("Normal", "Started", f"Started container {record.name}")
        await self.refresh(record)
        return True

    def _create_failed(self, record: ContainerRecord, e: RuntimeFailure) -> bool:
        self.event("Warning", "Failed", f"Error: {e.message}")
        record.wait(e.reason or "CreateContainerError", e.message)
        self.retry(CREATE_RETRY)
        return False

    async def _replace(
        self,
        record: ContainerRecord,
        cid: str,
        restarts: int,
        spec: Obj,
        info: ImageInfo,
        log_path: str,
    ) -> None:
        old = record.id
        if old:
            record.last_state = {"terminated": record.terminated} if record.terminated else {}
            await self.remove(old)
        record.id = cid
        record.restart_count = restarts
        record.attempt += 1
        record.spec_image = spec.get("image", "")
        record.image = normalized_image(record.spec_image)
        record.image_id = info.ref
        record.waiting = None
        record.state = {"waiting": {"reason": "ContainerCreating"}}
        record.finished_at = 0.0
        record.log_path = log_path
        self.state.save(self.ctx.pod_dir(self.state.uid))

    async def remove(self, container_id: str) -> None:
        await self.ctx.probes.remove(container_id)
        with contextlib.suppress(RuntimeFailure, OSError):
            await self.ctx.runtime.remove_container(container_id)

    # -- stopping ------------------------------------------------------------------------
    async def kill(self, record: ContainerRecord, grace: float, message: str = "") -> None:
        if not record.id or record.terminated is not None:
            return
        self.event("Normal", "Killing", message or f"Stopping container {record.name}")
        await self.ctx.probes.remove(record.id)
        with contextlib.suppress(RuntimeFailure, OSError):
            await self.ctx.runtime.stop_container(record.id, grace)
        await self.refresh(record)

    # -- status --------------------------------------------------------------------------
    def api_status(self, spec: Obj, record: ContainerRecord, default_reason: str) -> Obj:
        probes = self.ctx.probes
        return api_status(
            spec,
            record,
            default_reason,
            started=probes.started(record.id),
            ready=probes.ready(record.id),
            url=self.ctx.container_id_url(record.id),
        )
