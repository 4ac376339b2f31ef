"""The ReplicaSet controller: keeps `spec.replicas` pods running from the template.

A port of `pkg/controller/replicaset`. Handlers only enqueue ReplicaSet keys, and keep
expectations: a pod seen added lowers the pending creations of its controller, a pod
seen deleted (or marked for deletion) lowers the pending deletions. `reconcile`:

1. claims the active pods in the namespace (adopting matching orphans, releasing owned
   pods that stopped matching; `util.ownership`);
2. if its last creations/deletions have all been observed, creates the missing pods in
   slow-start batches of 1, 2, 4, ... (at most 500 per sync), or deletes the surplus,
   choosing victims with upstream's ranking (`util.pods.pods_to_delete`);
3. writes `status` (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
   observedGeneration, a `ReplicaFailure` condition while creating or deleting fails),
   and comes back after `minReadySeconds` when ready pods are not yet available.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from openeks.kube.api import labels, meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import key_of, split_key
from openeks.kube.client.resources import PODS, REPLICASETS
from openeks.kube.controllers.base import Controller
from openeks.kube.controllers.util import pods as podutil
from openeks.kube.controllers.util.batch import slow_start_batch
from openeks.kube.controllers.util.expectations import Expectations
from openeks.kube.controllers.util.ownership import (
    CONTROLLER_UID_INDEX,
    NAMESPACE_INDEX,
    ControllerRefManager,
    controller_of,
    controller_ref,
    controller_uid_index,
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

API_VERSION, KIND = "apps/v1", "ReplicaSet"
BURST_REPLICAS = 500
STATUS_UPDATE_RETRIES = 1


def replicas_of(obj: Obj) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def min_ready_seconds(obj: Obj) -> int:
    return int((obj.get("spec") or {}).get("minReadySeconds") or 0)


def failure_condition(status: Obj) -> Obj | None:
    for condition in status.get("conditions") or ():
        if condition.get("type") == "ReplicaFailure":
            return condition
    return None


def calculate_status(rs: Obj, pods: list[Obj], manage_error: Exception | None) -> Obj:
    """upstream's `calculateStatus` (observedGeneration is set when writing)."""
    status = meta.deep_copy(rs.get("status") or {})
    template_labels = labels.from_set(
        ((rs.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels")
    )
    now = meta.now()
    fully_labeled = ready = available = 0
    for pod in pods:
        if template_labels.matches(meta.labels_of(pod)):
            fully_labeled += 1
        if podutil.is_ready(pod):
            ready += 1
            if podutil.is_available(pod, min_ready_seconds(rs), now):
                available += 1
    failure = failure_condition(status)
    if manage_error is not None and failure is None:
        diff = len(pods) - replicas_of(rs)
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        condition = {
            "type": "ReplicaFailure",
            "status": "True",
            "lastTransitionTime": meta.rfc3339(now),
            "reason": reason,
            "message": str(manage_error),
        }
        status["conditions"] = [*(status.get("conditions") or []), condition]
    elif manage_error is None and failure is not None:
        status["conditions"] = [c for c in status["conditions"] if c is not failure]
        if not status["conditions"]:
            del status["conditions"]
    status.update(
        replicas=len(pods),
        fullyLabeledReplicas=fully_labeled,
        readyReplicas=ready,
        availableReplicas=available,
    )
    return status


def _omit_zero(status: Obj) -> Obj:
    """Drop the fields Go would omit (`omitempty`) so objects print as upstream's."""
    keep = {"replicas"}
    return {k: v for k, v in status.items() if k in keep or v not in (0, None, [], "")}


class ReplicaSetController(Controller):
    name = "replicaset"
    workers = 5

    def setup(self) -> None:
        self.recorder = recorder_for(self.recorder, "replicaset-controller")
        self.expectations = Expectations()
        self.pod_control = PodControl(self.client, self.recorder)
        self.rs_informer = self.informers.get(REPLICASETS)
        self.pod_informer = self.informers.get(PODS)
        self.rs_informer.add_index(NAMESPACE_INDEX, namespace_index)
        self.pod_informer.add_index(NAMESPACE_INDEX, namespace_index)
        self.pod_informer.add_index(CONTROLLER_UID_INDEX, controller_uid_index)
        self.rs_informer.on(add=self._rs_added, update=self._rs_updated, delete=self._rs_deleted)
        self.pod_informer.on(
            add=self._pod_added, update=self._pod_updated, delete=self._pod_deleted
        )

    # -- handlers ----------------------------------------------------------------------------
    def _rs_added(self, rs: Obj) -> None:
        self.enqueue(key_of(rs))

    def _rs_updated(self, old: Obj, cur: Obj) -> None:
        if uid_of(old) != uid_of(cur):
            self._rs_deleted(old)
        self.enqueue(key_of(cur))

    def _rs_deleted(self, rs: Obj) -> None:
        key = key_of(rs)
        self.expectations.delete(key)
        self.enqueue(key)

    def _resolve(self, namespace: str, ref: Obj) -> Obj | None:
        if ref.get("kind") != KIND:
            return None
        rs = self.rs_informer.get(f"{namespace}/{ref.get('name')}")
        if rs is None or uid_of(rs) != ref.get("uid"):
            return None
        return rs

    def _replica_sets_selecting(self, pod: Obj) -> list[Obj]:
        found = []
        for rs in self.rs_informer.by_index(NAMESPACE_INDEX, meta.namespace_of(pod)):
            try:
                selector = labels.from_label_selector((rs.get("spec") or {}).get("selector"))
            except labels.SelectorError:
                continue
            if not selector.empty and selector.matches(meta.labels_of(pod)):
                found.append(rs)
        return found

    def _pod_added(self, pod: Obj) -> None:
        if podutil.is_terminating(pod):
            self._pod_deleted(pod)
            return
        ref = controller_of(pod)
        if ref is not None:
            rs = self._resolve(meta.namespace_of(pod), ref)
            if rs is not None:
                self.expectations.creation_observed(key_of(rs))
                self.enqueue(key_of(rs))
            return
        for rs in self._replica_sets_selecting(pod):
            self.enqueue(key_of(rs))

    def _pod_updated(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        labels_changed = meta.labels_of(old) != meta.labels_of(cur)
        if podutil.is_terminating(cur):
            self._pod_deleted(cur)
            if labels_changed:
                self._pod_deleted(old)
            return
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        if cur_ref != old_ref and old_ref is not None:
            rs = self._resolve(meta.namespace_of(old), old_ref)
            if rs is not None:
                self.enqueue(key_of(rs))
        if cur_ref is not None:
            rs = self._resolve(meta.namespace_of(cur), cur_ref)
            if rs is None:
                return
            self.enqueue(key_of(rs))
            if not podutil.is_ready(old) and podutil.is_ready(cur) and min_ready_seconds(rs):
                self.queue.add_after(key_of(rs), min_ready_seconds(rs) + 1.0)
            return
        if labels_changed or cur_ref != old_ref:
            for rs in self._replica_sets_selecting(cur):
                self.enqueue(key_of(rs))

    def _pod_deleted(self, pod: Obj) -> None:
        ref = controller_of(pod)
        if ref is None:
            return
        rs = self._resolve(meta.namespace_of(pod), ref)
        if rs is None:
            return
        self.expectations.deletion_observed(key_of(rs), key_of(pod))
        self.enqueue(key_of(rs))

    # -- sync --------------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        rs = self.rs_informer.get(key)
        if rs is None:
            self.expectations.delete(key)
            return
        needs_sync = self.expectations.satisfied(key)
        try:
            selector = labels.from_label_selector((rs.get("spec") or {}).get("selector"))
        except labels.SelectorError as e:
            log.warning("replicaset %s has an invalid selector: %s", key, e)
            return
        namespace = meta.namespace_of(rs)
        active = [
            p
            for p in self.pod_informer.by_index(NAMESPACE_INDEX, namespace)
            if podutil.is_active(p)
        ]
        manager = ControllerRefManager(
            self.client, PODS, rs, REPLICASETS, controller_ref(rs, API_VERSION, KIND), selector
        )
        pods = await manager.claim(active)
        manage_error: ApiError | None = None
        if needs_sync and not podutil.is_terminating(rs):
            try:
                await self.manage_replicas(key, pods, rs)
            except ApiError as e:
                manage_error = e
        status = calculate_status(rs, pods, manage_error)
        updated = await self.update_status(rs, status)
        seconds = min_ready_seconds(updated)
        if (
            manage_error is None
            and seconds > 0
            and status.get("readyReplicas") == replicas_of(updated)
            and status.get("availableReplicas") != replicas_of(updated)
        ):
            self.queue.add_after(key, float(seconds))
        if manage_error is not None:
            raise manage_error

    async def manage_replicas(self, key: str, pods: list[Obj], rs: Obj) -> None:
        diff = len(pods) - replicas_of(rs)
        if diff < 0:
            await self._create_pods(key, rs, min(-diff, BURST_REPLICAS))
        elif diff > 0:
            await self._delete_pods(key, rs, pods, min(diff, BURST_REPLICAS))

    async def _create_pods(self, key: str, rs: Obj, count: int) -> None:
        self.expectations.expect_creations(key, count)
        parent = with_kind(rs, API_VERSION, KIND)
        template = (rs.get("spec") or {}).get("template") or {}
        ref = controller_ref(rs, API_VERSION, KIND)

        async def create(_: int) -> None:
            try:
                await self.pod_control.create(meta.namespace_of(rs), template, parent, ref)
            except ApiError as e:
                if not namespace_terminating(e):
                    raise

        successes, error = await slow_start_batch(count, create)
        for _ in range(count - successes):
            self.expectations.creation_observed(key)
        if error is not None:
            raise error

    async def _delete_pods(self, key: str, rs: Obj, pods: list[Obj], count: int) -> None:
        related = self._indirectly_related_pods(rs)
        victims = podutil.pods_to_delete(pods, related, count, meta.now())
        self.expectations.expect_deletions(key, [key_of(p) for p in victims])
        parent = with_kind(rs, API_VERSION, KIND)

        async def delete(pod: Obj) -> ApiError | None:
            try:
                await self.pod_control.delete(meta.namespace_of(pod), meta.name_of(pod), parent)
            except ApiError as e:
                self.expectations.deletion_observed(key, key_of(pod))
                return None if e.code == 404 else e
            return None

        errors = [e for e in await asyncio.gather(*(delete(p) for p in victims)) if e]
        if errors:
            raise errors[0]

    def _indirectly_related_pods(self, rs: Obj) -> list[Obj]:
        """Pods of every ReplicaSet controlled by the same owner (a Deployment's)."""
        owner = controller_of(rs)
        siblings = [rs]
        if owner is not None:
            siblings = [
                other
                for other in self.rs_informer.by_index(NAMESPACE_INDEX, meta.namespace_of(rs))
                if (controller_of(other) or {}).get("uid") == owner.get("uid")
            ]
        related: list[Obj] = []
        for sibling in siblings:
            related += self.pod_informer.by_index(CONTROLLER_UID_INDEX, uid_of(sibling))
        return related

    async def update_status(self, rs: Obj, status: Obj) -> Obj:
        """Write `status` unless nothing changed (upstream's `updateReplicaSetStatus`)."""
        generation = rs["metadata"].get("generation", 0)
        status = _omit_zero({**status, "observedGeneration": generation})
        current = rs
        for attempt in range(STATUS_UPDATE_RETRIES + 1):
            old = _omit_zero(current.get("status") or {})
            if old == status:
                return current
            body = meta.deep_copy(current)
            body["status"] = status
            try:
                return await self.client.update_status(REPLICASETS, body)
            except ApiError as e:
                if e.code != 409 or attempt == STATUS_UPDATE_RETRIES:
                    raise
            namespace, name = split_key(key_of(rs))
            current = await self.client.get(REPLICASETS, name, namespace)
        return current
