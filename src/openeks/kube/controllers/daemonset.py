"""The DaemonSet controller: one pod on every node that should run one.

A port of `pkg/controller/daemon`. Each sync of a DaemonSet:

1. records its template as a ControllerRevision (named `<ds>-<hash>`, the hash also the
   pods' `controller-revision-hash` label) and splits history into current and old;
2. unless its last creations/deletions are still unobserved (expectations), creates a
   pod for every eligible node without one — unscheduled, pinned to the node by a
   `metadata.name` node affinity, for the scheduler to bind — and deletes pods on nodes
   that should not run one, failed pods, and duplicates (`util.daemon` decides);
3. with `RollingUpdate`, replaces old-revision pods within `maxUnavailable`, or surges
   new ones within `maxSurge` and deletes the old once the new one is available;
4. trims old revisions to `revisionHistoryLimit` and writes status
   (`kubectl rollout status ds/x` reads it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from openeks.kube.api import labels, meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import key_of, split_key
from openeks.kube.client.resources import CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS
from openeks.kube.controllers.base import Controller
from openeks.kube.controllers.util import daemon
from openeks.kube.controllers.util import pods as podutil
from openeks.kube.controllers.util import revisions as history
from openeks.kube.controllers.util.batch import slow_start_batch
from openeks.kube.controllers.util.daemon_history import DaemonHistory
from openeks.kube.controllers.util.expectations import Expectations
from openeks.kube.controllers.util.ownership import (
    NAMESPACE_INDEX,
    ControllerRefManager,
    controller_of,
    controller_ref,
    namespace_index,
    uid_of,
    with_kind,
)
from openeks.kube.controllers.util.podcontrol import (
    PodControl,
    namespace_terminating,
    recorder_for,
)

log = logging.getLogger(__name__)

Obj = dict[str, Any]
API_VERSION, KIND = "apps/v1", "DaemonSet"
BURST_REPLICAS = 250
STATUS_FIELDS = (
    "desiredNumberScheduled",
    "currentNumberScheduled",
    "numberMisscheduled",
    "numberReady",
    "updatedNumberScheduled",
    "numberAvailable",
    "numberUnavailable",
)


def min_ready_seconds(ds: Obj) -> int:
    return int((ds.get("spec") or {}).get("minReadySeconds") or 0)


def selects_everything(ds: Obj) -> bool:
    selector = (ds.get("spec") or {}).get("selector")
    return (
        selector is not None
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    )


class DaemonSetController(Controller):
    name = "daemonset"
    workers = 2

    def setup(self) -> None:
        self.recorder = recorder_for(self.recorder, "daemonset-controller")
        self.expectations = Expectations()
        self.pod_control = PodControl(self.client, self.recorder)
        self.ds_informer = self.informers.get(DAEMONSETS)
        self.pod_informer = self.informers.get(PODS)
        self.node_informer = self.informers.get(NODES)
        self.rev_informer = self.informers.get(CONTROLLERREVISIONS)
        self.history = DaemonHistory(self.client, self.rev_informer, self.pod_informer)
        for informer in (self.ds_informer, self.pod_informer, self.rev_informer):
            informer.add_index(NAMESPACE_INDEX, namespace_index)
        self.ds_informer.on(
            add=self._enqueue_obj,
            update=lambda _, cur: self._enqueue_obj(cur),
            delete=self._ds_deleted,
        )
        self.pod_informer.on(
            add=self._pod_added, update=self._pod_updated, delete=self._pod_deleted
        )
        self.node_informer.on(add=self._node_added, update=self._node_updated)
        self.rev_informer.on(
            add=self._revision_changed,
            update=lambda _, cur: self._revision_changed(cur),
            delete=self._revision_changed,
        )

    # -- handlers ----------------------------------------------------------------------------
    def _enqueue_obj(self, ds: Obj) -> None:
        self.enqueue(key_of(ds))

    def _ds_deleted(self, ds: Obj) -> None:
        self.expectations.delete(key_of(ds))
        self.enqueue(key_of(ds))

    def _owner(self, obj: Obj) -> Obj | None:
        ref = controller_of(obj)
        if ref is None or ref.get("kind") != KIND:
            return None
        ds = self.ds_informer.get(f"{meta.namespace_of(obj)}/{ref.get('name')}")
        return ds if ds is not None and uid_of(ds) == ref.get("uid") else None

    def _selecting(self, obj: Obj) -> list[Obj]:
        found = []
        for ds in self.ds_informer.by_index(NAMESPACE_INDEX, meta.namespace_of(obj)):
            try:
                selector = labels.from_label_selector((ds.get("spec") or {}).get("selector"))
            except labels.SelectorError:
                continue
            if not selector.empty and selector.matches(meta.labels_of(obj)):
                found.append(ds)
        return found

    def _pod_added(self, pod: Obj) -> None:
        if podutil.is_terminating(pod):
            self._pod_deleted(pod)
            return
        if controller_of(pod) is not None:
            owner = self._owner(pod)
            if owner is not None:
                self.expectations.creation_observed(key_of(owner))
                self.enqueue(key_of(owner))
            return
        for ds in self._selecting(pod):
            self.enqueue(key_of(ds))

    def _pod_updated(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        if controller_of(old) != controller_of(cur) and (owner := self._owner(old)):
            self.enqueue(key_of(owner))
        if controller_of(cur) is not None:
            owner = self._owner(cur)
            if owner is None:
                return
            self.enqueue(key_of(owner))
            if not podutil.is_ready(old) and podutil.is_ready(cur) and min_ready_seconds(owner):
                self.queue.add_after(key_of(owner), min_ready_seconds(owner) + 1.0)
            return
        if meta.labels_of(old) != meta.labels_of(cur) or controller_of(old) != controller_of(cur):
            for ds in self._selecting(cur):
                self.enqueue(key_of(ds))

    def _pod_deleted(self, pod: Obj) -> None:
        owner = self._owner(pod)
        if owner is not None:
            self.expectations.deletion_observed(key_of(owner))
            self.enqueue(key_of(owner))

    def _node_added(self, node: Obj) -> None:
        for ds in self.ds_informer.list():
            if daemon.should_run(node, ds)[0]:
                self.enqueue(key_of(ds))

    def _node_updated(self, old: Obj, cur: Obj) -> None:
        for ds in self.ds_informer.list():
            if daemon.should_run(old, ds) != daemon.should_run(cur, ds):
                self.enqueue(key_of(ds))

    def _revision_changed(self, revision: Obj) -> None:
        owner = self._owner(revision)
        if owner is not None:
            self.enqueue(key_of(owner))

    # -- sync --------------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        cached = self.ds_informer.get(key)
        if cached is None:
            self.expectations.delete(key)
            return
        ds = meta.deep_copy(cached)
        nodes = self.node_informer.list()
        if selects_everything(ds):
            await self.recorder.event(
                with_kind(ds, API_VERSION, KIND),
                "Warning",
                "SelectingAll",
                "This daemon set is selecting all pods. A non-empty selector is required.",
            )
            return
        if podutil.is_terminating(ds):
            return
        current, old = await self.history.construct(ds)
        hash_ = meta.labels_of(current).get(history.POD_REVISION_LABEL, "")
        if not self.expectations.satisfied(key):
            await self.update_status(ds, nodes, hash_, observed=False)
            return
        error: ApiError | None = None
        try:
            await self.manage(ds, nodes, hash_)
            if self.expectations.satisfied(key):
                strategy = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("type")
                if strategy in (None, "RollingUpdate"):
                    await self.rolling_update(ds, nodes, hash_)
            by_node = await self.daemon_pods_by_node(ds)
            live = {
                meta.labels_of(p).get(history.POD_REVISION_LABEL, "")
                for pods in by_node.values()
                for p in pods
            }
            await self.history.cleanup(ds, old, live)
        except ApiError as e:
            error = e
        await self.update_status(ds, nodes, hash_, observed=True)
        if error is not None:
            raise error

    async def daemon_pods_by_node(
        self, ds: Obj, include_finished: bool = False
    ) -> dict[str, list[Obj]]:
        """Claimed pods grouped by target node."""
        selector = labels.from_label_selector((ds.get("spec") or {}).get("selector"))
        manager = ControllerRefManager(
            self.client, PODS, ds, DAEMONSETS, controller_ref(ds, API_VERSION, KIND), selector
        )
        pods = await manager.claim(
            self.pod_informer.by_index(NAMESPACE_INDEX, meta.namespace_of(ds))
        )
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            if not include_finished and podutil.is_terminal(pod) and podutil.is_terminating(pod):
                continue
            node = daemon.target_node(pod)
            if node is None:
                log.warning("daemon pod %s has no target node", key_of(pod))
                continue
            by_node.setdefault(node, []).append(pod)
        return by_node

    async def manage(self, ds: Obj, nodes: list[Obj], hash_: str) -> None:
        by_node = await self.daemon_pods_by_node(ds)
        create_on: list[str] = []
        delete: list[str] = []
        for node in sorted(nodes, key=meta.name_of):
            need, remove = await self._pods_should_be_on_node(node, by_node, ds, hash_)
            create_on += need
            delete += remove
        node_names = {meta.name_of(n) for n in nodes}
        for node_name, pods in by_node.items():
            if node_name not in node_names:
                delete += [meta.name_of(p) for p in pods if not podutil.node_name(p)]
        await self.sync_nodes(ds, delete, create_on, hash_)

    async def _pods_should_be_on_node(
        self, node: Obj, by_node: dict[str, list[Obj]], ds: Obj, hash_: str
    ) -> tuple[list[str], list[str]]:
        name = meta.name_of(node)
        run, keep = daemon.should_run(node, ds)
        pods = by_node.get(name)
        if run and pods is None:
            return [name], []
        if not keep:
            return [], [meta.name_of(p) for p in pods or () if not podutil.is_terminating(p)]
        delete: list[str] = []
        running: list[Obj] = []
        for pod in pods or ():
            if podutil.is_terminating(pod):
                continue
            if podutil.phase(pod) in ("Failed", "Succeeded"):
                if podutil.phase(pod) == "Failed":
                    message = (
                        f"Found failed daemon pod {key_of(pod)} on node {name}, will try to kill it"
                    )
                    await self.recorder.event(
                        with_kind(ds, API_VERSION, KIND), "Warning", "FailedDaemonPod", message
                    )
                delete.append(meta.name_of(pod))
            else:
                running.append(pod)
        surge, _ = daemon.rolling_counts(ds, 1)
        running = daemon.by_creation_and_phase(running)
        if not surge:
            return [], delete + [meta.name_of(p) for p in running[1:]]
        if len(running) <= 1:
            return ([name] if not running and run else []), delete
        return [], delete + self._surge_excess(ds, running, hash_)

    def _surge_excess(self, ds: Obj, running: list[Obj], hash_: str) -> list[str]:
        """With surge, keep the oldest new pod and, while it is not available, the oldest
        ready old pod; delete the rest."""
        generation = daemon.template_generation(ds)
        newest: Obj | None = None
        oldest_old: Obj | None = None
        delete: list[str] = []
        for pod in running:
            if daemon.is_pod_updated(pod, hash_, generation) and newest is None:
                newest = pod
            elif not daemon.is_pod_updated(pod, hash_, generation) and oldest_old is None:
                oldest_old = pod
            else:
                delete.append(meta.name_of(pod))
        if (
            newest is not None
            and oldest_old is not None
            and (
                not podutil.is_ready(oldest_old)
                or podutil.is_available(newest, min_ready_seconds(ds), meta.now())
            )
        ):
            delete.append(meta.name_of(oldest_old))
        return delete

    async def sync_nodes(
        self, ds: Obj, delete: list[str], create_on: list[str], hash_: str
    ) -> None:
        key = key_of(ds)
        create_on, delete = create_on[:BURST_REPLICAS], delete[:BURST_REPLICAS]
        self.expectations.set(key, len(create_on), len(delete))
        template = daemon.pod_template(ds, hash_)
        parent = with_kind(ds, API_VERSION, KIND)
        ref = controller_ref(ds, API_VERSION, KIND)
        namespace = meta.namespace_of(ds)

        async def create(i: int) -> None:
            def pin(pod: Obj) -> None:
                pod["spec"]["affinity"] = daemon.node_affinity_for(
                    pod["spec"].get("affinity"), create_on[i]
                )

            try:
                await self.pod_control.create(namespace, template, parent, ref, mutate=pin)
            except ApiError as e:
                if namespace_terminating(e):
                    return
                self.expectations.creation_observed(key)
                raise

        created, error = await slow_start_batch(len(create_on), create)
        attempted = created + (1 if error else 0)
        skipped = len(create_on) - attempted
        if error is not None and skipped > 0:
            self.expectations.lower(key, add=skipped)

        async def remove(name: str) -> ApiError | None:
            try:
                await self.pod_control.delete(namespace, name, parent)
            except ApiError as e:
                self.expectations.deletion_observed(key)
                return None if e.code == 404 else e
            return None

        errors = [e for e in await asyncio.gather(*(remove(n) for n in delete)) if e]
        if error is not None:
            raise error if isinstance(error, ApiError) else ApiError(str(error))
        if errors:
            raise errors[0]

    async def rolling_update(self, ds: Obj, nodes: list[Obj], hash_: str) -> None:
        by_node = await self.daemon_pods_by_node(ds)
        should_run: dict[str, bool] = {}
        desired = 0
        for node in nodes:
            run = daemon.should_run(node, ds)[0]
            should_run[meta.name_of(node)] = run
            if run:
                desired += 1
                by_node.setdefault(meta.name_of(node), [])
        surge, unavailable = daemon.rolling_counts(ds, desired)
        plan = daemon.plan_rolling_update(
            ds, by_node, hash_, surge, unavailable, should_run, meta.now()
        )
        if plan.delete or plan.create_on:
            await self.sync_nodes(ds, plan.delete, plan.create_on, hash_)

    # -- status ------------------------------------------------------------------------------
    async def update_status(self, ds: Obj, nodes: list[Obj], hash_: str, observed: bool) -> None:
        by_node = await self.daemon_pods_by_node(ds)
        counts = dict.fromkeys(STATUS_FIELDS, 0)
        now = meta.now()
        generation = daemon.template_generation(ds)
        for node in nodes:
            run, _ = daemon.should_run(node, ds)
            pods = by_node.get(meta.name_of(node)) or []
            if not run:
                counts["numberMisscheduled"] += 1 if pods else 0
                continue
            counts["desiredNumberScheduled"] += 1
            if not pods:
                continue
            counts["currentNumberScheduled"] += 1
            pod = daemon.by_creation_and_phase(pods)[0]
            if podutil.is_ready(pod):
                counts["numberReady"] += 1
                if podutil.is_available(pod, min_ready_seconds(ds), now):
                    counts["numberAvailable"] += 1
            if daemon.is_pod_updated(pod, hash_, generation):
                counts["updatedNumberScheduled"] += 1
        counts["numberUnavailable"] = counts["desiredNumberScheduled"] - counts["numberAvailable"]
        await self._store_status(ds, counts, observed)
        if min_ready_seconds(ds) and counts["numberReady"] != counts["numberAvailable"]:
            self.queue.add_after(key_of(ds), float(min_ready_seconds(ds)))

    async def _store_status(self, ds: Obj, counts: dict[str, int], observed: bool) -> None:
        old = ds.get("status") or {}
        generation = int(ds["metadata"].get("generation") or 0)
        if (
            all(int(old.get(k) or 0) == v for k, v in counts.items())
            and int(old.get("observedGeneration") or 0) >= generation
        ):
            return
        current = ds
        for _ in range(3):
            status = dict(current.get("status") or {})
            if observed:
                status["observedGeneration"] = generation
            status.update(counts)
            keep = {
                "currentNumberScheduled",
                "numberMisscheduled",
                "desiredNumberScheduled",
                "numberReady",
            }
            body = meta.deep_copy(current)
            body["status"] = {k: v for k, v in status.items() if k in keep or v not in (0, None)}
            try:
                await self.client.update_status(DAEMONSETS, body)
                return
            except ApiError as e:
                if e.code != 409:
                    raise
            namespace, name = split_key(key_of(ds))
            current = await self.client.get(DAEMONSETS, name, namespace)
