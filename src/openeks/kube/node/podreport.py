"""Reporting a pod's status: build it from the container records, patch when it changed.

The status is rebuilt from scratch at every sync (`build`) and compared with both what
the API holds and what we last sent, so a sync that changes nothing writes nothing. The
patch is a merge patch of the changed top-level status fields with the pod's uid in it,
so a pod deleted and recreated under the same name is never written to. A pod already
Succeeded or Failed in the API keeps that phase, as kubelet never moves a pod out of a
terminal phase. Rejected pods get kubelet's bare rejection status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import PODS
from openeks.kube.node import status
from openeks.kube.node.containers import ContainerRunner
from openeks.kube.node.context import AgentContext
from openeks.kube.node.podstate import PodState

log = logging.getLogger(__name__)

Obj = dict[str, Any]
RETRY = 2.0
_KEPT = ("nominatedNodeName", "resize", "resourceClaimStatuses")


class PodGone(Exception):
    """The pod (with this uid) no longer exists in the API."""


class PodReporter:
    def __init__(
        self,
        ctx: AgentContext,
        state: PodState,
        runner: ContainerRunner,
        pod_ips: Callable[[], list[str]],
    ) -> None:
        self.ctx = ctx
        self.state = state
        self.runner = runner
        self.pod_ips = pod_ips
        self.last_sent: Obj | None = None

    @property
    def pod(self) -> Obj:
        return self.runner.pod

    def _container_statuses(self) -> tuple[list[Obj], list[Obj]]:
        spec = self.pod.get("spec") or {}
        init_specs = spec.get("initContainers") or []
        default = "PodInitializing" if init_specs else "ContainerCreating"
        init = [
            self.runner.api_status(c, self.state.record(c["name"], init=True), default)
            for c in init_specs
        ]
        apps = [
            self.runner.api_status(c, self.state.record(c["name"]), default)
            for c in spec.get("containers") or ()
        ]
        return init, apps

    def _phase(self, statuses: list[Obj], terminal: bool, old: Obj) -> str:
        phase = status.pod_phase(self.pod, statuses, terminal or self.state.terminal)
        if self.state.reason:
            phase = "Failed"
        if old.get("phase") in ("Succeeded", "Failed"):
            phase = str(old["phase"])
        return phase

    def build(self, terminal: bool = False) -> Obj:
        init, apps = self._container_statuses()
        old = self.pod.get("status") or {}
        phase = self._phase(init + apps, terminal, old)
        now = meta.rfc3339(meta.now())
        previous = (self.last_sent or {}).get("conditions")
        sandbox_ready = self.state.sandbox is not None
        new: Obj = {
            "phase": phase,
            "conditions": status.pod_conditions(
                self.pod, init + apps, phase, sandbox_ready, now, previous
            ),
            "hostIP": self.ctx.host_ips[0],
            "hostIPs": [{"ip": ip} for ip in self.ctx.host_ips],
        }
        ips = self.pod_ips()
        if ips:
            new["podIP"] = ips[0]
            new["podIPs"] = [{"ip": ip} for ip in ips]
        new["startTime"] = self.state.start_time or now
        if old.get("qosClass"):
            new["qosClass"] = old["qosClass"]
        if init:
            new["initContainerStatuses"] = init
        new["containerStatuses"] = apps
        generation = (self.pod.get("metadata") or {}).get("generation")
        if generation is not None:
            new["observedGeneration"] = generation
        for key in ("reason", "message"):
            value = getattr(self.state, key) or (old.get(key) if phase == old.get("phase") else "")
            if value:
                new[key] = value
        new.update({key: old[key] for key in _KEPT if key in old})
        return new

    async def report(self, terminal: bool = False) -> Obj | None:
        """Patch pods/status if it changed; the status (None if the patch failed).
        Raises PodGone when the pod no longer exists."""
        new = self.build(terminal)
        api = self.pod.get("status") or {}
        target = status.normalized(new)
        if target == status.normalized(api) or target == status.normalized(self.last_sent):
            return new
        patch = status.status_patch(self.state.uid, api, new)
        if patch is None:
            return new
        return new if await self._patch(patch, new) else None

    async def _patch(self, patch: Obj, new: Obj) -> bool:
        try:
            await self.ctx.client.patch(
                PODS, self.state.name, patch, self.state.namespace, subresource="status"
            )
        except ApiError as e:
            if e.code in (404, 409, 422):
                raise PodGone(str(e)) from e
            log.info("pod %s: status update failed: %s", self.state.name, e)
            self.runner.retry(RETRY)
            return False
        self.last_sent = new
        return True

    async def report_rejection(self, reason: str, message: str) -> None:
        """kubelet's rejectPod status: phase Failed, reason, `Pod was rejected: ...`."""
        new = {"phase": "Failed", "reason": reason, "message": message}
        api = self.pod.get("status") or {}
        if all(api.get(k) == v for k, v in new.items()) or self.last_sent == new:
            return
        await self._patch({"metadata": {"uid": self.state.uid}, "status": new}, new)
