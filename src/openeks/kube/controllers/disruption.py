"""The disruption controller: PodDisruptionBudget status, so evictions know what is safe.

A port of upstream's `DisruptionController.trySync`. For each budget: the pods its
selector picks; how many are expected (the number of pods for an integer
`minAvailable`, otherwise the sum of the `spec.replicas` of the pods' controllers —
a ReplicaSet's Deployment, a ReplicaSet, a StatefulSet, a ReplicationController, or
any controller with a scale subresource); how many must stay healthy; how many are
healthy (Ready, not being deleted, not recently evicted); and so `disruptionsAllowed`
and the `DisruptionAllowed` condition (`common.pdb`). A budget that cannot be computed
falls back to allowing nothing (`SyncFailed`), as upstream's failSafe does.
"""

from __future__ import annotations

import logging
from typing import Any

from openeks.kube.api import labels, meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import EventRecorder, Informer, key_of, resource_path
from openeks.kube.client.resources import DEPLOYMENTS, PDBS, PODS, REPLICASETS, STATEFULSETS
from openeks.kube.controllers.base import Controller, ControllerContext
from openeks.kube.controllers.common import pdb as pdbmath
from openeks.kube.controllers.common import pods as podutil
from openeks.kube.controllers.common.discovery import Discovery, discover

log = logging.getLogger(__name__)

Obj = dict[str, Any]
NAMESPACE_INDEX = podutil.NAMESPACE_INDEX
UNMANAGED = (
    "Pods selected by this PodDisruptionBudget (selector: {}) were found to be unmanaged. "
    "As a result, the status of the PDB cannot be calculated correctly, which may result in "
    'undefined behavior. To account for these pods please set ".spec.minAvailable" field of '
    "the PDB to an integer value."
)


def _selector(pdb: Obj) -> labels.Selector:
    return labels.from_label_selector((pdb.get("spec") or {}).get("selector"))


class DisruptionController(Controller):
    name = "disruption"
    workers = 4

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.recorder = EventRecorder(self.client, "controllermanager")  # upstream's event source
        self.discovery: Discovery | None = None

    def setup(self) -> None:
        self.pdbs = self.informers.get(PDBS)
        self.pods = self.informers.get(PODS)
        self.deployments = self.informers.get(DEPLOYMENTS)
        self.replicasets = self.informers.get(REPLICASETS)
        self.statefulsets = self.informers.get(STATEFULSETS)
        self.pdbs.add_index(NAMESPACE_INDEX, podutil.namespace_index)
        self.pods.add_index(NAMESPACE_INDEX, podutil.namespace_index)
        self.pdbs.on(
            add=lambda p: self.enqueue(key_of(p)), update=lambda old, new: self.enqueue(key_of(new))
        )
        self.pods.on(add=self._pod, update=self._pod_updated, delete=self._pod)

    def _pod(self, pod: Obj) -> None:
        pod_labels = pod["metadata"].get("labels") or {}
        for pdb in self.pdbs.by_index(NAMESPACE_INDEX, pod["metadata"].get("namespace", "")):
            if _selector(pdb).matches(pod_labels):
                self.enqueue(key_of(pdb))

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        self._pod(new)
        if old["metadata"].get("labels") != new["metadata"].get("labels"):
            self._pod(old)

    async def reconcile(self, key: str) -> None:
        pdb = self.pdbs.get(key)
        if pdb is None:
            return
        try:
            await self._try_sync(pdb)
        except (pdbmath.PdbError, ApiError) as e:
            if isinstance(e, ApiError) and e.code == 409:
                raise
            log.info("disruption: %s: %s", key, e)
            new = meta.deep_copy(pdb)
            new["status"] = pdbmath.failed_status(pdb, str(e), meta.now())
            await self.client.update_status(PDBS, new)

    async def _try_sync(self, pdb: Obj) -> None:
        ns = pdb["metadata"]["namespace"]
        selector = _selector(pdb)
        pods = [
            p
            for p in self.pods.by_index(NAMESPACE_INDEX, ns)
            if selector.matches(p["metadata"].get("labels") or {})
        ]
        if not pods:
            await self.recorder.event(pdb, "Normal", "NoPods", "No matching pods found")
        spec = pdb.get("spec") or {}
        try:
            expected, unmanaged = await self._expected(spec, pods)
            desired = pdbmath.desired_healthy(spec, expected)
        except (pdbmath.PdbError, ApiError) as e:
            await self.recorder.event(
                pdb,
                "Warning",
                "CalculateExpectedPodCountFailed",
                f"Failed to calculate the number of expected pods: {e}",
            )
            raise
        if unmanaged:
            await self.recorder.event(
                pdb,
                "Warning",
                "UnmanagedPods",
                UNMANAGED.format(labels.format_label_selector(spec.get("selector"))),
            )
        now = meta.now()
        recorded = (pdb.get("status") or {}).get("disruptedPods") or {}
        disrupted, recheck = pdbmath.build_disrupted(pods, recorded, now)
        healthy = sum(
            1
            for p in pods
            if not podutil.is_deleting(p)
            and p["metadata"]["name"] not in disrupted
            and podutil.is_ready(p)
        )
        status = pdbmath.build_status(
            pdb, pdbmath.Counts(healthy, desired, expected, disrupted), now
        )
        if status is not None:
            new = meta.deep_copy(pdb)
            new["status"] = status
            await self.client.update_status(PDBS, new)
        if recheck is not None:
            self.queue.add_after(key_of(pdb), recheck)

    async def _expected(self, spec: Obj, pods: list[Obj]) -> tuple[int, list[str]]:
        """(expected pods, names of pods without a controller)."""
        if not pdbmath.uses_scale(spec):
            return len(pods), []
        scales: dict[str, int] = {}
        unmanaged: list[str] = []
        for pod in pods:
            ref = podutil.controller_of(pod)
            if ref is None:
                unmanaged.append(pod["metadata"]["name"])
                continue
            if ref.get("uid") in scales:
                continue
            found = await self._scale_of(ref, pod["metadata"]["namespace"])
            if found is None:
                raise pdbmath.PdbError(f'found no controllers for pod "{pod["metadata"]["name"]}"')
            scales[found[0]] = found[1]
        return sum(scales.values()), unmanaged

    async def _scale_of(self, ref: Obj, ns: str) -> tuple[str, int] | None:
        """(controller uid, spec.replicas) through the first finder that knows the kind."""
        kind = ref.get("kind")
        if kind == "ReplicaSet":
            rs = _owned(self.replicasets, ns, ref)
            if rs is not None:
                owner = podutil.controller_of(rs)
                if owner is not None and owner.get("kind") == "Deployment":
                    deployment = _owned(self.deployments, ns, owner)
                    if deployment is not None:
                        return deployment["metadata"]["uid"], _replicas(deployment)
                else:
                    return rs["metadata"]["uid"], _replicas(rs)
        if kind == "StatefulSet":
            sts = _owned(self.statefulsets, ns, ref)
            if sts is not None:
                return sts["metadata"]["uid"], _replicas(sts)
        return await self._scale_subresource(ref, ns)

    async def _scale_subresource(self, ref: Obj, ns: str) -> tuple[str, int] | None:
        """getScaleController: any kind with a scale subresource (ReplicationControllers,
        custom resources)."""
        if (
            self.discovery is None
            or self.discovery.for_kind(ref.get("apiVersion", ""), ref.get("kind", "")) is None
        ):
            self.discovery = await discover(self.client)
        info = self.discovery.for_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
        if info is None or not info.has_scale:
            return None
        try:
            scale: Obj = await self.client.request(
                "GET",
                resource_path(info, ns if info.namespaced else "", ref.get("name", ""), "scale"),
            )
        except ApiError as e:
            if e.code == 404:
                return None
            raise
        if scale["metadata"].get("uid") not in ("", None, ref.get("uid")):
            return None
        return ref.get("uid", ""), int((scale.get("spec") or {}).get("replicas") or 0)


def _owned(informer: Informer, ns: str, ref: Obj) -> Obj | None:
    obj = informer.get(f"{ns}/{ref.get('name')}")
    return obj if obj is not None and obj["metadata"]["uid"] == ref.get("uid") else None


def _replicas(obj: Obj) -> int:
    replicas = (obj.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)
