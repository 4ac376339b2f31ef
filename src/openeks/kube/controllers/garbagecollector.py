"""The garbage collector: dependents follow their owners out, by ownerReferences.

Shaped as upstream's: metadata-only informers ("monitors") on every resource that can
be listed, watched and deleted (found through discovery, re-checked every
`resync_period` so CRDs are picked up) feed one dependency graph (`common.gcgraph`).
Two queues of node uids are worked:

- attempt to delete: an object all of whose owners are absent (checked live against
  the API, by uid) is deleted, Background unless it carries the `orphan` or
  `foregroundDeletion` finalizer; an owner in foreground deletion (`foregroundDeletion`
  finalizer) has its dependents deleted — those that themselves have dependents in
  Foreground — and loses the finalizer once no dependent with
  `blockOwnerDeletion: true` is left;
- attempt to orphan: an owner deleted with `orphan` propagation has the references to
  it removed from its dependents, then loses the `orphan` finalizer.

So `kubectl delete deployment x` takes its ReplicaSets and their Pods with it,
`--cascade=foreground` waits for them, and `--cascade=orphan` leaves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client import Client, Informer
from openeks.kube.controllers.base import Controller, ControllerContext
from openeks.kube.controllers.common.discovery import Discovery, discover
from openeks.kube.controllers.common.gcgraph import FOREGROUND, ORPHAN, Graph, Node, Work
from openeks.kube.controllers.common.metadata import MetadataClient, metadata_informer
from openeks.runtime import Requeue, WorkQueue, run_workers

log = logging.getLogger(__name__)

Obj = dict[str, Any]
IGNORED = {("", "events"), ("events.k8s.io", "events")}
_ABSENT_CACHE = 4096


class GarbageCollector(Controller):
    name = "garbagecollector"
    workers = 10
    orphan_workers = 4
    resync_period = 30.0
    """Seconds between discovery passes that add monitors for new resources."""
    sync_timeout = 30.0

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.graph = Graph()
        self.orphan_queue = WorkQueue(f"{self.name}-orphan")
        # One long-lived watch per resource: too many for the shared client's connection
        # pool, so the monitors get a client of their own without a connection limit.
        self.monitor_client = Client(self.client.config, connections=0)
        self.metadata = MetadataClient(self.monitor_client)
        self.monitors: dict[tuple[str, str], Informer] = {}
        self.discovery = Discovery()
        self._absent: OrderedDict[tuple[str, str], None] = OrderedDict()

    def setup(self) -> None:
        """Monitors come from discovery, which needs the API: see run()."""

    async def run(self) -> None:
        try:
            await self._sync_monitors()
            await self._wait_synced()
            await asyncio.gather(
                run_workers(self.name, self.queue, self.reconcile, self.workers),
                run_workers(
                    f"{self.name}-orphan", self.orphan_queue, self._orphan, self.orphan_workers
                ),
                self._resync_loop(),
            )
        finally:
            await asyncio.gather(*(m.stop() for m in self.monitors.values()))
            await self.monitor_client.close()

    # -- monitors ------------------------------------------------------------------------
    async def _sync_monitors(self) -> None:
        found = await discover(self.client)
        self.discovery = found
        wanted = {
            (r.group, r.plural): r
            for r in found.preferred(verbs=("delete", "list", "watch"))
            if (r.group, r.plural) not in IGNORED
        }
        for key in [k for k in self.monitors if k not in wanted and not found.failed]:
            await self.monitors.pop(key).stop()
        for key, info in wanted.items():
            if key not in self.monitors:
                self.monitors[key] = self._monitor(info)

    def _monitor(self, info: ResourceInfo) -> Informer:
        informer = metadata_informer(self.monitor_client, info)
        informer.on(
            add=lambda obj: self._apply(self.graph.observe(info.api_version, info.kind, obj)),
            update=lambda old, new: self._apply(
                self.graph.observe(info.api_version, info.kind, new, old)
            ),
            delete=lambda obj: self._forgotten(obj),
        )
        informer.start()
        return informer

    async def _wait_synced(self) -> None:
        waits = [m.wait_synced(self.sync_timeout) for m in self.monitors.values()]
        for result in await asyncio.gather(*waits, return_exceptions=True):
            if isinstance(result, BaseException):
                log.warning("garbage collector: a monitor did not sync: %r", result)

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_period)
            try:
                await self._sync_monitors()
            except ApiError as e:
                log.info("garbage collector: discovery failed: %s", e)

    def _forgotten(self, obj: Obj) -> None:
        uid = obj["metadata"]["uid"]
        node = self.graph.nodes.get(uid)
        if node is not None and node.dependents:
            self._remember_absent(uid, obj["metadata"].get("namespace", ""))
        self._apply(self.graph.forget(uid))

    def _apply(self, work: Work) -> None:
        for node in work.delete:
            self.queue.add(node.uid)
        for node in work.orphan:
            self.orphan_queue.add(node.uid)

    # -- attempt to delete ---------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        node = self.graph.nodes.get(key)
        if node is None or (node.being_deleted and not node.deleting_dependents):
            return
        info = await self._resource(node.api_version, node.kind)
        latest = await self._get(info, node.namespace, node.name)
        if latest is None or latest["metadata"].get("uid") != node.uid:
            self._apply(self.graph.forget(node.uid))
            return
        if node.deleting_dependents:
            await self._delete_dependents_first(node, info)
            return
        refs = list(latest["metadata"].get("ownerReferences") or ())
        if refs:
            await self._collect(node, info, latest, refs)
        if node.virtual:
            raise Requeue(1.0, "owner exists but has not been observed yet")

    async def _collect(self, node: Node, info: ResourceInfo, latest: Obj, refs: list[Obj]) -> None:
        solid, dangling, waiting = await self._classify(node, refs)
        if solid:
            if dangling or waiting:
                await self._rewrite_refs(info, latest, drop=dangling, unblock=waiting)
            return
        if waiting and node.dependents:
            if any(d.deleting_dependents for d in node.dependents):
                await self._rewrite_refs(info, latest, drop=set(), unblock=waiting)
            await self._delete(node, info, "Foreground")
            return
        finalizers = latest["metadata"].get("finalizers") or ()
        policy = (
            "Orphan"
            if ORPHAN in finalizers
            else "Foreground"
            if FOREGROUND in finalizers
            else "Background"
        )
        await self._delete(node, info, policy)

    async def _classify(self, node: Node, refs: list[Obj]) -> tuple[set[str], set[str], set[str]]:
        solid: set[str] = set()
        dangling: set[str] = set()
        waiting: set[str] = set()
        for ref in refs:
            uid = ref.get("uid", "")
            owner_info = await self._resource(ref.get("apiVersion", ""), ref.get("kind", ""))
            namespace = node.namespace if owner_info.namespaced else ""
            if owner_info.namespaced and not node.namespace:
                log.info(
                    "%s: a cluster-scoped object cannot have a namespaced owner", node.describe()
                )
                raise Requeue(self.resync_period, "invalid owner reference")
            if (uid, namespace) in self._absent:
                dangling.add(uid)
                continue
            owner = await self._get(owner_info, namespace, ref.get("name", ""))
            if owner is None or owner["metadata"].get("uid") != uid:
                self._remember_absent(uid, namespace)
                dangling.add(uid)
            elif owner["metadata"].get("deletionTimestamp") and FOREGROUND in (
                owner["metadata"].get("finalizers") or ()
            ):
                waiting.add(uid)
            else:
                solid.add(uid)
        return solid, dangling, waiting

    async def _delete_dependents_first(self, node: Node, info: ResourceInfo) -> None:
        blocking = node.blocking_dependents()
        if not blocking:
            await self._remove_finalizer(node, info, FOREGROUND)
            return
        for dependent in blocking:
            if not dependent.deleting_dependents:
                self.queue.add(dependent.uid)

    # -- attempt to orphan ---------------------------------------------------------------
    async def _orphan(self, key: str) -> None:
        owner = self.graph.nodes.get(key)
        if owner is None:
            return
        for dependent in list(owner.dependents):
            info = await self._resource(dependent.api_version, dependent.kind)
            for _ in range(5):
                latest = await self._get(info, dependent.namespace, dependent.name)
                if latest is None:
                    break
                if await self._rewrite_refs(info, latest, drop={owner.uid}, unblock=set()):
                    break
        info = await self._resource(owner.api_version, owner.kind)
        await self._remove_finalizer(owner, info, ORPHAN)

    # -- API helpers ---------------------------------------------------------------------
    async def _resource(self, api_version: str, kind: str) -> ResourceInfo:
        info = self.discovery.for_kind(api_version, kind)
        if info is None:
            self.discovery = await discover(self.client)
            info = self.discovery.for_kind(api_version, kind)
        if info is None:
            raise ApiError(f"unable to get REST mapping for {api_version}/{kind}", 404, "NotFound")
        return info

    async def _get(self, info: ResourceInfo, namespace: str, name: str) -> Obj | None:
        try:
            return await self.metadata.get_metadata(
                info, name, namespace if info.namespaced else ""
            )
        except ApiError as e:
            if e.code == 404:
                return None
            raise

    async def _delete(self, node: Node, info: ResourceInfo, policy: str) -> None:
        log.debug("garbage collector: deleting %s (%s)", node.describe(), policy)
        try:
            await self.client.delete(
                info,
                node.name,
                node.namespace if info.namespaced else "",
                propagation=policy,
                uid=node.uid,
            )
        except ApiError as e:
            if e.code not in (404, 409):
                raise

    async def _rewrite_refs(
        self, info: ResourceInfo, latest: Obj, drop: set[str], unblock: set[str]
    ) -> bool:
        """Drop and unblock owner references with a resourceVersion-guarded merge patch.
        Returns False on a conflict (the caller may re-read and retry)."""
        m = latest["metadata"]
        refs = [
            {**r, "blockOwnerDeletion": False} if r.get("uid") in unblock else r
            for r in m.get("ownerReferences") or ()
            if r.get("uid") not in drop
        ]
        if refs == list(m.get("ownerReferences") or ()):
            return True
        patch = {
            "metadata": {"ownerReferences": refs or None, "resourceVersion": m["resourceVersion"]}
        }
        try:
            await self.client.patch(info, m["name"], patch, m.get("namespace", ""))
        except ApiError as e:
            if e.code == 409:
                return False
            if e.code != 404:
                raise
        return True

    async def _remove_finalizer(self, node: Node, info: ResourceInfo, finalizer: str) -> None:
        for _ in range(10):
            latest = await self._get(info, node.namespace, node.name)
            if latest is None or latest["metadata"].get("uid") != node.uid:
                return
            m = latest["metadata"]
            finalizers = list(m.get("finalizers") or ())
            if finalizer not in finalizers:
                return
            kept = [f for f in finalizers if f != finalizer]
            patch = {
                "metadata": {"finalizers": kept or None, "resourceVersion": m["resourceVersion"]}
            }
            with contextlib.suppress(ApiError):
                await self.client.patch(info, node.name, patch, m.get("namespace", ""))
                return
        raise ApiError(
            f"could not remove finalizer {finalizer} from {node.describe()}", 409, "Conflict"
        )

    def _remember_absent(self, uid: str, namespace: str) -> None:
        self._absent[(uid, namespace)] = None
        self._absent.move_to_end((uid, namespace))
        while len(self._absent) > _ABSENT_CACHE:
            self._absent.popitem(last=False)
