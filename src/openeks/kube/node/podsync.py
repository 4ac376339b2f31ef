"""One pod's sync: make the node match the pod spec, then report the pod's status.

`PodSync.sync()` is idempotent and re-reads everything it acts on, as kubelet's SyncPod
is: volumes (refreshed each resync interval), the sandbox, init containers one at a time
to completion (failed ones restarted unless restartPolicy is Never; restartable "sidecar"
init containers started in order and kept running), then the app containers (started,
restarted per restart policy with crash-loop back-off, killed when a liveness or
startup probe fails or their image changes), activeDeadlineSeconds, and finally the
status patch when the status changed. It returns when it wants to run again (a back-off
ending, a deadline); pod updates, probe results and container exits wake it earlier.

A pod being deleted is stopped: containers get SIGTERM and the pod's grace period, then
the sandbox goes, the final status is written, and the pod object is deleted with grace
period 0 and a uid precondition, as kubelet's status manager does. A pod that reached
Succeeded or Failed keeps its container statuses but loses its sandbox.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import PODS
from openeks.kube.node.containers import ContainerRunner, StartInputs, should_restart
from openeks.kube.node.context import AgentContext
from openeks.kube.node.logs import parse_time
from openeks.kube.node.podprepare import PodPreparer
from openeks.kube.node.podreport import PodGone, PodReporter
from openeks.kube.node.podstate import ContainerRecord, PodState
from openeks.kube.node.probes import ProbeTarget
from openeks.kube.node.status import is_sidecar

log = logging.getLogger(__name__)

Obj = dict[str, Any]
MIN_GRACE_SECONDS = 2
RETRY = 2.0


class PodSync:
    def __init__(self, ctx: AgentContext, pod: Obj, state: PodState) -> None:
        self.ctx = ctx
        self.pod = pod
        self.state = state
        self.runner = ContainerRunner(ctx, pod, state)
        self.prep = PodPreparer(ctx, state, self.runner)
        self.reporter = PodReporter(ctx, state, self.runner, self.prep.pod_ips)
        self.removed = False
        self.done = False
        self.rejection: tuple[str, str] | None = None
        self.wake: Callable[[], None] = lambda: None

    # -- small accessors ---------------------------------------------------------------
    @property
    def spec(self) -> Obj:
        return self.pod.get("spec") or {}

    @property
    def policy(self) -> str:
        return str(self.spec.get("restartPolicy") or "Always")

    @property
    def pod_dir(self) -> Path:
        return self.ctx.pod_dir(self.state.uid)

    def update(self, pod: Obj) -> None:
        self.pod = pod
        self.runner.pod = pod

    def pod_ips(self) -> list[str]:
        return self.prep.pod_ips()

    def container_ids(self) -> list[str]:
        return [r.id for r in self.state.containers.values() if r.id]

    # -- the sync ----------------------------------------------------------------------
    async def sync(self) -> float | None:
        self.runner.retry_in = None
        try:
            return await self._sync()
        except PodGone:
            self.removed = True
            return 0.0

    async def _sync(self) -> float | None:
        if self.removed or (self.pod.get("metadata") or {}).get("deletionTimestamp"):
            return await self.terminate()
        if self.rejection is not None:
            await self.reporter.report_rejection(*self.rejection)
            return None
        if self.state.terminal:
            await self.reporter.report()
            return None
        if not self.state.start_time:
            self.state.start_time = (self.pod.get("status") or {}).get("startTime") or meta.rfc3339(
                meta.now()
            )
        for record in self.state.containers.values():
            await self.runner.refresh(record)
        deadline_in = await self._check_deadline()
        if not self.state.reason:
            await self._run()
        new_status = await self.reporter.report()
        if new_status is not None and new_status["phase"] in ("Succeeded", "Failed"):
            await self._finish()
        return self._next_wake(deadline_in)

    async def _run(self) -> None:
        inputs = await self.prep.prepare()
        if self._apps_finished():
            await self._stop_sidecars()
        elif inputs is not None and await self._run_init_containers(inputs):
            await self._run_containers(inputs)
            if self._apps_finished():
                await self._stop_sidecars()

    def _next_wake(self, deadline_in: float | None) -> float | None:
        delays = [d for d in (self.runner.retry_in, deadline_in) if d is not None]
        if not self.state.terminal and not self.removed:
            delays.append(self.prep.resync_in())
        return min(delays) if delays else None

    async def _check_deadline(self) -> float | None:
        deadline = self.spec.get("activeDeadlineSeconds")
        if not deadline or not self.state.start_time:
            return None
        started = meta.parse_time(self.state.start_time).timestamp()
        left = started + int(deadline) - time.time()
        if left > 0:
            return left + 0.05
        if not self.state.reason:
            self.state.reason = "DeadlineExceeded"
            self.state.message = "Pod was active on the node longer than the specified deadline"
            self.ctx.event(self.pod, "Normal", "DeadlineExceeded", self.state.message)
        await self._stop_all(self._grace(spec_only=True))
        return None

    # -- containers ----------------------------------------------------------------------
    def _ensure_probes(self, spec: Obj, record: ContainerRecord) -> None:
        if not record.running or self.ctx.probes.get(record.id) is not None:
            return
        started = parse_time(record.state["running"].get("startedAt") or "")
        ips = self.pod_ips()
        target = ProbeTarget(
            container_id=record.id,
            pod_ip=ips[0] if ips else "",
            ports=list(spec.get("ports") or []),
            runtime=self.ctx.runtime,
            network=self.ctx.network_probes,
        )

        def unhealthy(kind: str, message: str) -> None:
            self.ctx.event(
                self.pod, "Warning", "Unhealthy", f"{kind.title()} probe failed: {message}"
            )

        self.ctx.probes.add(
            spec, target, started.timestamp() if started else time.time(), self.wake, unhealthy
        )

    def _apps_finished(self) -> bool:
        """All app containers exited for good (never under restartPolicy Always)."""
        if self.policy == "Always":
            return False
        for spec in self.spec.get("containers") or ():
            record = self.state.containers.get(spec["name"])
            terminated = record.terminated if record is not None else None
            if terminated is None or should_restart(self.policy, terminated.get("exitCode", 0)):
                return False
        return True

    async def _stop_sidecars(self) -> None:
        """Sidecars stop once the app containers are done, last started first."""
        for spec in reversed(self.spec.get("initContainers") or []):
            record = self.state.containers.get(spec["name"])
            if is_sidecar(spec) and record is not None:
                await self.runner.kill(record, self._grace(spec_only=True))

    async def _run_init_containers(self, inputs: StartInputs) -> bool:
        """Drive init containers in order; True once every one of them is done."""
        for spec in self.spec.get("initContainers") or ():
            record = self.state.record(spec["name"], init=True)
            if is_sidecar(spec):
                if not await self._keep_running(spec, record, inputs, "Always"):
                    return False
                if not self.ctx.probes.started(record.id):
                    return False
                continue
            terminated = record.terminated
            if terminated is not None and terminated.get("exitCode") == 0:
                continue
            if record.running:
                return False
            policy = "Never" if self.policy == "Never" else "OnFailure"
            if terminated is not None:
                if self.runner.may_restart(record, policy):
                    await self._start(spec, record, inputs)
                return False
            await self._start(spec, record, inputs)
            return False
        return True

    async def _run_containers(self, inputs: StartInputs) -> None:
        for spec in self.spec.get("containers") or ():
            record = self.state.record(spec["name"])
            await self._keep_running(spec, record, inputs, self.policy)

    async def _keep_running(
        self, spec: Obj, record: ContainerRecord, inputs: StartInputs, policy: str
    ) -> bool:
        """Start, probe, restart one long-running container; True if it runs now."""
        if record.running:
            if record.spec_image and record.spec_image != spec.get("image"):
                await self.runner.kill(
                    record,
                    self._grace(spec_only=True),
                    f"Container {record.name} definition changed, will be restarted",
                )
                self.ctx.crash_backoff.reset(f"{self.state.uid}/{record.name}")
                return await self._start(spec, record, inputs)
            failure = self.ctx.probes.failure(record.id)
            if failure is None:
                self._ensure_probes(spec, record)
                return True
            kind, _ = failure
            await self.runner.kill(
                record,
                self._grace(spec_only=True),
                f"Container {record.name} failed {kind} probe, will be restarted",
            )
        if record.terminated is not None and not self.runner.may_restart(record, policy):
            return False
        return await self._start(spec, record, inputs)

    async def _start(self, spec: Obj, record: ContainerRecord, inputs: StartInputs) -> bool:
        started = await self.runner.start(spec, record, inputs)
        if started:
            self._ensure_probes(spec, record)
        return started and record.running

    # -- stopping ------------------------------------------------------------------------
    def _grace(self, spec_only: bool = False) -> float:
        m = self.pod.get("metadata") or {}
        grace = m.get("deletionGracePeriodSeconds")
        if spec_only or grace is None:
            grace = self.spec.get("terminationGracePeriodSeconds", 30)
        return float(max(int(grace), MIN_GRACE_SECONDS))

    async def _stop_all(self, grace: float) -> None:
        """App containers together, then sidecars last-first, as kubelet orders it."""
        init_specs = self.spec.get("initContainers") or []
        apps = [r for r in self.state.containers.values() if not r.init]
        await asyncio.gather(*(self.runner.kill(r, grace) for r in apps))
        for spec in reversed(init_specs):
            record = self.state.containers.get(spec["name"])
            if record is not None:
                await self.runner.kill(record, grace)
        for record in list(self.state.containers.values()):
            await self.runner.kill(record, grace)  # any the spec no longer names

    async def _finish(self) -> None:
        """The pod is Succeeded or Failed: nothing runs for it any more."""
        self.state.terminal = True
        await self._stop_all(self._grace(spec_only=True))
        await self.prep.teardown_sandbox()
        await self.reporter.report()

    async def terminate(self) -> float | None:
        await self._stop_all(self._grace())
        await self.prep.teardown_sandbox()
        if not self.removed:
            if self.rejection is None:
                await self._final_report()
            m = self.pod["metadata"]
            try:
                await self.ctx.client.delete(
                    PODS, m["name"], m.get("namespace", ""), grace_period=0, uid=m["uid"]
                )
            except ApiError as e:
                if e.code not in (404, 409):
                    log.info("pod %s: delete failed (%s); retrying", m["name"], e)
                    return RETRY
        await self.cleanup()
        return None

    async def _final_report(self) -> None:
        try:
            await self.reporter.report(terminal=True)
        except PodGone:
            self.removed = True

    async def cleanup(self) -> None:
        """Forget the pod: containers, probes, directories, back-off books."""
        await self._stop_all(float(MIN_GRACE_SECONDS))
        await self.prep.teardown_sandbox()
        for record in self.state.containers.values():
            if record.id:
                await self.runner.remove(record.id)
        shutil.rmtree(self.pod_dir, ignore_errors=True)
        m = self.state
        shutil.rmtree(self.ctx.pod_log_dir(m.namespace, m.name, m.uid), ignore_errors=True)
        self.ctx.crash_backoff.forget_prefix(f"{m.uid}/")
        self.ctx.pull_backoff.forget_prefix(f"{m.uid}_")
        self.ctx.sources.forget_pod(m.uid)
        self.done = True
