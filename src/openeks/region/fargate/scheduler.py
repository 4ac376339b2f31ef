"""One cluster's Fargate scheduler: a dedicated node for each Fargate pod, then the binding.

It watches the cluster's pods that the admission webhook sent to `fargate-scheduler`
(they carry the `eks.amazonaws.com/fargate-profile` label) and, for each unbound one:

1. refuses what Fargate does not run (privileged, host network/ports, ...) and pods too
   big for any Fargate size, with a `FailedScheduling` event — the pod stays Pending;
2. sizes it (`sizing.size_pod`), takes an address and a pod block in one of the
   profile's subnets and starts its node (`nodes.py`);
3. once that node is Ready, records `CapacityProvisioned` on the pod, binds it through
   `pods/binding`, and opens its usage record (`fargateusage/<cluster>/<uid>`).

When a pod ends (Succeeded, Failed or deleted) its node goes: process stopped, Node
deleted, addresses freed, usage record closed. Work is driven by a pod watch (and a
sweep every few seconds), each pod handled by at most one task at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import shutil
from pathlib import Path
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client
from openeks.kube.client.events import EventRecorder
from openeks.kube.client.resources import NODES, PODS
from openeks.region.fargate import metering, nodes
from openeks.region.fargate.selectors import PROFILE_LABEL
from openeks.region.fargate.sizing import CAPACITY_ANNOTATION, size_pod
from openeks.region.fargate.support import (
    EVENT_REASON,
    EVENT_TYPE,
    SCHEDULER_NAME,
    unsupported_message,
)
from openeks.region.instances.agents import reset
from openeks.region.state import Missing, RegionState
from openeks.region.supervisor import Supervisor, UnknownProcessError
from openeks.region.vpc.ipam import SubnetFullError
from openeks.region.zones import AddressAllocator

log = logging.getLogger(__name__)

Doc = dict[str, Any]
SWEEP = 5.0
READY_TIMEOUT = 60.0


class FargateScheduler:
    def __init__(
        self,
        cluster: str,
        client: Client,
        state: RegionState,
        supervisor: Supervisor,
        allocator: AddressAllocator,
        data_dir: Path,
        region: str,
    ) -> None:
        self.cluster = cluster
        self.client = client
        self.state = state
        self.supervisor = supervisor
        self.allocator = allocator
        self.data_dir = data_dir
        self.region = region
        self.events = EventRecorder(client, SCHEDULER_NAME)
        self._busy: dict[str, asyncio.Task[None]] = {}
        self._reported: set[str] = set()

    async def run(self) -> None:
        watcher = asyncio.create_task(self._watch())
        try:
            while True:
                await self.sweep()
                await asyncio.sleep(SWEEP)
        finally:
            watcher.cancel()
            for task in self._busy.values():
                task.cancel()
            await asyncio.gather(watcher, *self._busy.values(), return_exceptions=True)
            await self.client.close()

    async def _watch(self) -> None:
        while True:
            try:
                async for kind, pod in self.client.watch(PODS, label_selector=PROFILE_LABEL):
                    if kind in ("ADDED", "MODIFIED", "DELETED"):
                        self._handle(pod, deleted=kind == "DELETED")
            except Exception as e:  # the cluster went away for a moment; the sweep goes on
                log.debug("fargate pod watch of %s ended: %s", self.cluster, e)
                await asyncio.sleep(1)

    async def sweep(self) -> None:
        listed = await self.client.list(PODS, label_selector=PROFILE_LABEL)
        live = {p["metadata"]["uid"] for p in listed.get("items") or ()}
        for pod in listed.get("items") or ():
            self._handle(pod)
        for record in await self.state.list(nodes.KIND, f"{self.cluster}/"):
            if record.value["uid"] not in live:
                self._start(record.value["uid"], self._release(record.value))

    # -- one pod -------------------------------------------------------------------------
    def _handle(self, pod: Doc, deleted: bool = False) -> None:
        if (pod.get("spec") or {}).get("schedulerName") != SCHEDULER_NAME:
            return
        uid = pod["metadata"]["uid"]
        phase = (pod.get("status") or {}).get("phase")
        if deleted or phase in ("Succeeded", "Failed"):
            self._start(uid, self._end(uid))
        elif not pod["spec"].get("nodeName") and not pod["metadata"].get("deletionTimestamp"):
            self._start(uid, self._place(pod))

    def _start(self, uid: str, work: Any) -> None:
        task = self._busy.get(uid)
        if task is not None and not task.done():
            work.close()
            return
        self._busy[uid] = asyncio.create_task(self._safely(work), name=f"fargate-{uid}")

    async def _safely(self, work: Any) -> None:
        try:
            await work
        except Exception:
            log.exception("fargate scheduling in cluster %s", self.cluster)

    async def _place(self, pod: Doc) -> None:
        uid = pod["metadata"]["uid"]
        problem = unsupported_message(pod)
        sizing = size_pod(pod)
        if problem is None and not sizing.fits:
            problem = f"{sizing.reason}: {sizing.message}"
        if problem is not None:
            if uid not in self._reported:
                self._reported.add(uid)
                await self.events.event(pod, EVENT_TYPE, EVENT_REASON, problem)
            return
        assert sizing.size is not None
        record = await self.state.get(nodes.KIND, nodes.record_name(self.cluster, uid))
        if record is None:
            profile = await self._profile(pod)
            if profile is None:
                return
            try:
                doc = await nodes.allocate(
                    self.state, self.region, self.cluster, pod, profile, sizing.size
                )
            except SubnetFullError as e:
                await self.events.event(pod, EVENT_TYPE, EVENT_REASON, str(e))
                return
        else:
            doc = record.value
        agent = nodes.agent(doc, self.data_dir, self.allocator)
        await self.supervisor.ensure(agent.spec(nodes.process_name(self.cluster, uid)))
        if not await self._node_ready(doc["node"]):
            return  # the next sweep looks again
        await self._bind(pod, doc)

    async def _profile(self, pod: Doc) -> Doc | None:
        name = pod["metadata"].get("labels", {}).get(PROFILE_LABEL, "")
        record = await self.state.get("fargateprofiles", f"{self.cluster}/{name}")
        return None if record is None else record.value

    async def _node_ready(self, name: str) -> bool:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            with contextlib.suppress(ApiError):
                node = await self.client.get(NODES, name)
                conditions = (node.get("status") or {}).get("conditions") or ()
                if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                    return True
            await asyncio.sleep(0.2)
        return False

    async def _bind(self, pod: Doc, doc: Doc) -> None:
        meta = pod["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        annotations = {CAPACITY_ANNOTATION: doc["capacity"]}
        await self.client.patch(PODS, name, {"metadata": {"annotations": annotations}}, namespace)
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": namespace, "uid": meta["uid"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": doc["node"]},
        }
        try:
            await self.client.create(PODS, binding, namespace, subresource="binding", name=name)
        except ApiError as e:
            if e.code != 409:  # already bound
                raise
        size = doc["capacity"].split()
        usage = metering.usage_document(
            namespace,
            name,
            datetime.datetime.now(datetime.UTC),
            float(size[0].removesuffix("vCPU")),
            float(size[1].removesuffix("GB")),
        )
        key = f"{self.cluster}/{meta['uid']}"
        if await self.state.get(metering.USAGE_KIND, key) is None:
            await self.state.put(metering.USAGE_KIND, key, usage)

    async def _end(self, uid: str) -> None:
        record = await self.state.get(nodes.KIND, nodes.record_name(self.cluster, uid))
        if record is not None:
            await self._release(record.value)

    async def _release(self, doc: Doc) -> None:
        """Stop a finished pod's node and forget it; close its usage record."""
        uid = doc["uid"]
        with contextlib.suppress(UnknownProcessError):
            await self.supervisor.remove(nodes.process_name(self.cluster, uid))
        if doc["runtime"] == "runc":  # containers, sandboxes and the bridge go too
            agent = nodes.agent(doc, self.data_dir, self.allocator)
            await reset(agent.reset_argv(), agent.directory / "reset.log")
        with contextlib.suppress(ApiError):
            await self.client.delete(NODES, doc["node"])
        await nodes.free(self.state, doc)
        self.allocator.release(nodes.process_name(self.cluster, uid))
        shutil.rmtree(nodes.directory(doc, self.data_dir), ignore_errors=True)
        key = f"{self.cluster}/{uid}"
        usage = await self.state.get(metering.USAGE_KIND, key)
        if usage is not None and not usage.value.get("end"):
            end = datetime.datetime.now(datetime.UTC)
            await self.state.put(metering.USAGE_KIND, key, metering.finished(usage.value, end))
        with contextlib.suppress(Missing):
            await self.state.delete(nodes.KIND, nodes.record_name(self.cluster, uid))
        self._reported.discard(uid)
