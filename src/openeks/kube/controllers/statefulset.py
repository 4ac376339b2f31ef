"""The StatefulSet controller: pods with stable names, storage, order and history.

A port of `pkg/controller/statefulset` (`stateful_set.go`, `stateful_set_control.go`,
`stateful_pod_control.go`). Each sync of a StatefulSet:

1. adopts orphan ControllerRevisions and claims its pods (`<set>-<ordinal>` only);
2. finds or records the revision of its current template (`util.revisions`): the
   *update* revision; the *current* revision is the one its pods ran before;
3. walks ordinals upwards: recreates failed pods, creates missing ones (claims first),
   and, with `OrderedReady`, stops at the first pod that is not Running and Ready, so
   web-1 is only created once web-0 is ready; `Parallel` does not wait;
4. deletes pods beyond `replicas` from the highest ordinal down, one at a time when
   ordered;
5. with `RollingUpdate`, deletes (to be recreated at the update revision) up to
   `maxUnavailable` pods at other revisions, highest ordinal first, stopping at the
   partition; `OnDelete` leaves that to the user;
6. writes status, and trims history to `revisionHistoryLimit` (revisions still used by
   a pod are kept).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from openeks.kube.api import labels, meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import key_of, split_key
from openeks.kube.client.resources import CONTROLLERREVISIONS, PODS, PVCS, STATEFULSETS
from openeks.kube.controllers.base import Controller
from openeks.kube.controllers.util import pods as podutil
from openeks.kube.controllers.util import revisions as history
from openeks.kube.controllers.util import stateful as st
from openeks.kube.controllers.util.ownership import (
    NAMESPACE_INDEX,
    ControllerRefManager,
    controller_of,
    controller_ref,
    namespace_index,
    uid_of,
)
from openeks.kube.controllers.util.podcontrol import recorder_for
from openeks.kube.controllers.util.stateful_control import StatefulPodControl

log = logging.getLogger(__name__)

Obj = dict[str, Any]
API_VERSION, KIND = st.API_VERSION, st.KIND


class StatefulSetController(Controller):
    name = "statefulset"
    workers = 5

    def setup(self) -> None:
        self.recorder = recorder_for(self.recorder, "statefulset-controller")
        self.sts_informer = self.informers.get(STATEFULSETS)
        self.pod_informer = self.informers.get(PODS)
        self.rev_informer = self.informers.get(CONTROLLERREVISIONS)
        self.pod_control = StatefulPodControl(self.client, self.recorder, self.informers.get(PVCS))
        for informer in (self.sts_informer, self.pod_informer, self.rev_informer):
            informer.add_index(NAMESPACE_INDEX, namespace_index)
        self.sts_informer.on(
            add=self._enqueue_obj,
            update=lambda _, cur: self._enqueue_obj(cur),
            delete=self._enqueue_obj,
        )
        self.pod_informer.on(add=self._pod_added, update=self._pod_updated, delete=self._pod_added)

    # -- handlers ----------------------------------------------------------------------------
    def _enqueue_obj(self, obj: Obj) -> None:
        self.enqueue(key_of(obj))

    def _owner(self, pod: Obj) -> Obj | None:
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != KIND:
            return None
        sts = self.sts_informer.get(f"{meta.namespace_of(pod)}/{ref.get('name')}")
        return sts if sts is not None and uid_of(sts) == ref.get("uid") else None

    def _selecting(self, pod: Obj) -> list[Obj]:
        found = []
        for sts in self.sts_informer.by_index(NAMESPACE_INDEX, meta.namespace_of(pod)):
            try:
                selector = labels.from_label_selector((sts.get("spec") or {}).get("selector"))
            except labels.SelectorError:
                continue
            if not selector.empty and selector.matches(meta.labels_of(pod)):
                found.append(sts)
        return found

    def _pod_added(self, pod: Obj) -> None:
        owner = self._owner(pod)
        if owner is not None:
            self.enqueue(key_of(owner))
        elif controller_of(pod) is None:
            for sts in self._selecting(pod):
                self.enqueue(key_of(sts))

    def _pod_updated(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        if controller_of(old) != controller_of(cur):
            self._pod_added(old)
        self._pod_added(cur)
        owner = self._owner(cur)
        if owner is not None and not podutil.is_ready(old) and podutil.is_ready(cur):
            seconds = st.min_ready_seconds(owner)
            if seconds:
                self.queue.add_after(key_of(owner), seconds + 1.0)

    # -- sync --------------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        cached = self.sts_informer.get(key)
        if cached is None:
            return
        sts = meta.deep_copy(cached)
        try:
            selector = labels.from_label_selector((sts.get("spec") or {}).get("selector"))
        except labels.SelectorError as e:
            log.warning("statefulset %s has an invalid selector: %s", key, e)
            return
        ref = controller_ref(sts, API_VERSION, KIND)
        namespace = meta.namespace_of(sts)
        revisions = ControllerRefManager(
            self.client, CONTROLLERREVISIONS, sts, STATEFULSETS, ref, selector
        )
        owned_revisions = await revisions.claim(
            self.rev_informer.by_index(NAMESPACE_INDEX, namespace)
        )
        pods = await ControllerRefManager(
            self.client, PODS, sts, STATEFULSETS, ref, selector
        ).claim(
            self.pod_informer.by_index(NAMESPACE_INDEX, namespace),
            lambda pod: st.is_member_of(sts, pod),
        )
        status = await self.update_stateful_set(sts, pods, history.sort_revisions(owned_revisions))
        if (
            status is not None
            and st.min_ready_seconds(sts)
            and status.get("availableReplicas", 0) != status.get("readyReplicas", 0)
        ):
            self.queue.add_after(key, float(st.min_ready_seconds(sts)))

    async def update_stateful_set(
        self, sts: Obj, pods: list[Obj], revisions: list[Obj]
    ) -> Obj | None:
        current, update, collision_count = await self.get_revisions(sts, revisions)
        status, error = await self.sync_pods(sts, current, update, collision_count, pods)
        await self.update_status(sts, status)
        await self.truncate_history(sts, pods, [*revisions, update], current, update)
        if error is not None:
            raise error
        return status

    # -- revisions ---------------------------------------------------------------------------
    async def get_revisions(self, sts: Obj, revisions: list[Obj]) -> tuple[Obj, Obj, int]:
        """(current revision, update revision, collision count), recording the template."""
        collision_count = int((sts.get("status") or {}).get("collisionCount") or 0)
        candidate = history.new_revision(
            sts,
            API_VERSION,
            KIND,
            ((sts["spec"].get("template") or {}).get("metadata") or {}).get("labels"),
            history.template_patch(sts),
            history.next_revision(revisions),
            collision_count,
        )
        candidate["metadata"]["annotations"] = dict(
            (sts.get("metadata") or {}).get("annotations") or {}
        )
        equal = history.find_equal_revisions(revisions, candidate)
        if equal and history.equal_revision(revisions[-1], equal[-1]):
            update = revisions[-1]
        elif equal:
            update = await history.update_revision_number(
                self.client, equal[-1], history.revision_number(candidate)
            )
        else:
            update, collision_count = await history.create_revision(
                self.client, sts, candidate, collision_count
            )
        current_name = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revisions if meta.name_of(r) == current_name), update)
        return current, update, collision_count

    async def truncate_history(
        self, sts: Obj, pods: list[Obj], revisions: list[Obj], current: Obj, update: Obj
    ) -> None:
        live = {meta.name_of(current), meta.name_of(update)} | {st.pod_revision(p) for p in pods}
        seen: set[str] = set()
        old = []
        for revision in history.sort_revisions(revisions):
            name = meta.name_of(revision)
            if name not in live and name not in seen:
                old.append(revision)
            seen.add(name)
        limit = (sts.get("spec") or {}).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        for revision in old[: max(len(old) - limit, 0)]:
            try:
                await self.client.delete(
                    CONTROLLERREVISIONS, meta.name_of(revision), meta.namespace_of(revision)
                )
            except ApiError as e:
                if e.code != 404:
                    raise

    # -- the update algorithm ----------------------------------------------------------------
    async def sync_pods(
        self, sts: Obj, current: Obj, update: Obj, collision_count: int, pods: list[Obj]
    ) -> tuple[Obj, ApiError | None]:
        """upstream's `updateStatefulSet`: the new status, and the error that stopped it."""
        current_name, update_name = meta.name_of(current), meta.name_of(update)
        status: Obj = {
            "observedGeneration": int(sts["metadata"].get("generation") or 0),
            "currentRevision": current_name,
            "updateRevision": update_name,
            "collisionCount": collision_count,
            "replicas": 0,
            "readyReplicas": 0,
            "availableReplicas": 0,
            "currentReplicas": 0,
            "updatedReplicas": 0,
        }
        start, count = st.start_ordinal(sts), st.replicas_of(sts)
        replicas: list[Obj | None] = [None] * count
        condemned: list[Obj] = []
        for pod in pods:
            self.count_pod(status, sts, pod, current_name, update_name)
            ordinal = st.ordinal_of(pod)
            if start <= ordinal < start + count:
                replicas[ordinal - start] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        condemned.sort(key=st.ordinal_of, reverse=True)
        if podutil.is_terminating(sts):
            return status, None
        step = _Step(self, sts, st.apply_revision(sts, current), st.apply_revision(sts, update))
        step.status, step.current, step.update = status, current_name, update_name
        step.slots = [
            pod if pod is not None else step.versioned_pod(start + i)
            for i, pod in enumerate(replicas)
        ]
        try:
            await self._act(step, condemned)
        except ApiError as e:
            return status, e
        return status, None

    async def _act(self, step: _Step, condemned: list[Obj]) -> None:
        sts = step.sts
        for pod in condemned:
            await self.pod_control.update_claims_for_retention(step.update_set, pod)
        if await run_for_all(len(step.slots), step.replica, step.monotonic):
            return
        first_unhealthy = next((p for p in [*step.slots, *condemned] if not st.is_healthy(p)), None)
        condemned_step = _Condemned(self, sts, condemned, first_unhealthy, step.monotonic)
        if await run_for_all(len(condemned), condemned_step.delete, step.monotonic):
            return
        if st.update_strategy(sts) == "OnDelete":
            return
        await self._rolling_update(sts, step.status, step.slots, step.update)

    @staticmethod
    def count_pod(status: Obj, sts: Obj, pod: Obj, current: str, update: str) -> None:
        status["replicas"] += 1
        if st.is_running_and_ready(pod):
            status["readyReplicas"] += 1
            if st.is_running_and_available(pod, st.min_ready_seconds(sts)):
                status["availableReplicas"] += 1
        if st.is_created(pod) and not podutil.is_terminating(pod):
            if st.pod_revision(pod) == current:
                status["currentReplicas"] += 1
            if st.pod_revision(pod) == update:
                status["updatedReplicas"] += 1

    async def _rolling_update(
        self, sts: Obj, status: Obj, slots: list[Obj], update_name: str
    ) -> None:
        """Delete pods at older revisions, highest ordinal first, within maxUnavailable."""
        unavailable = sum(
            1
            for pod in slots
            if not st.is_healthy(pod)
            or not st.is_running_and_available(pod, st.min_ready_seconds(sts))
        )
        budget = st.max_unavailable(sts) - unavailable
        floor = st.partition_of(sts)
        for i in range(len(slots) - 1, floor - 1, -1):
            if budget <= 0:
                return
            pod = slots[i]
            if st.pod_revision(pod) != update_name and not podutil.is_terminating(pod):
                await self.pod_control.delete_pod(sts, pod)
                status["currentReplicas"] -= 1
                budget -= 1

    # -- status ------------------------------------------------------------------------------
    async def update_status(self, sts: Obj, status: Obj) -> None:
        st.complete_rolling_update(sts, status)
        if not st.inconsistent_status(sts, status):
            return
        current = sts
        for _ in range(3):
            body = meta.deep_copy(current)
            body["status"] = st.omit_zero({**(current.get("status") or {}), **status})
            try:
                await self.client.update_status(STATEFULSETS, body)
                return
            except ApiError as e:
                if e.code != 409:
                    raise
            namespace, name = split_key(key_of(sts))
            current = await self.client.get(STATEFULSETS, name, namespace)


async def run_for_all(count: int, fn: Callable[[int], Awaitable[bool]], monotonic: bool) -> bool:
    """Run fn over indexes; in order (stopping when it says so) or all at once."""
    if monotonic:
        for i in range(count):
            if await fn(i):
                return True
        return False
    results = await asyncio.gather(*(fn(i) for i in range(count)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return False


class _Step:
    """`processReplica` for one ordinal; returns True to end this sync."""

    def __init__(
        self, ctl: StatefulSetController, sts: Obj, current_set: Obj, update_set: Obj
    ) -> None:
        self.ctl, self.sts = ctl, sts
        self.current_set, self.update_set = current_set, update_set
        self.monotonic = (sts["spec"].get("podManagementPolicy") or "OrderedReady") != "Parallel"
        self.status: Obj = {}
        self.slots: list[Obj] = []
        self.current = self.update = ""

    def versioned_pod(self, ordinal: int) -> Obj:
        return st.new_versioned_pod(
            self.current_set, self.update_set, self.current, self.update, ordinal
        )

    async def replica(self, i: int) -> bool:
        ctl, sts, pod = self.ctl, self.sts, self.slots[i]
        if podutil.is_terminal(pod):
            # Finished pods are deleted; the next sync, once it is gone, makes a new one.
            if not podutil.is_terminating(pod):
                await ctl.pod_control.delete_pod(sts, pod)
            return True
        if not st.is_created(pod):
            await ctl.pod_control.create_pod(sts, pod)
            self.status["replicas"] += 1
            if st.pod_revision(pod) == self.current:
                self.status["currentReplicas"] += 1
            if st.pod_revision(pod) == self.update:
                self.status["updatedReplicas"] += 1
            return self.monotonic
        if podutil.phase(pod) == "Pending":
            await ctl.pod_control.create_claims(sts, pod)
        if self.monotonic and (
            podutil.is_terminating(pod)
            or not st.is_running_and_ready(pod)
            or not st.is_running_and_available(pod, st.min_ready_seconds(sts))
        ):
            return True
        if (
            st.identity_matches(sts, pod)
            and st.storage_matches(sts, pod)
            and ctl.pod_control.claims_match_policy(self.update_set, pod)
        ):
            return False
        await ctl.pod_control.update_pod(self.update_set, meta.deep_copy(pod))
        return False


class _Condemned:
    """`processCondemned`: delete pods past the end, highest ordinal first."""

    def __init__(
        self,
        ctl: StatefulSetController,
        sts: Obj,
        condemned: list[Obj],
        first_unhealthy: Obj | None,
        monotonic: bool,
    ) -> None:
        self.ctl, self.sts, self.condemned = ctl, sts, condemned
        self.first_unhealthy, self.monotonic = first_unhealthy, monotonic

    async def delete(self, i: int) -> bool:
        pod = self.condemned[i]
        if podutil.is_terminating(pod):
            return self.monotonic
        unhealthy_blocker = self.monotonic and pod is not self.first_unhealthy
        if not st.is_running_and_ready(pod) and unhealthy_blocker:
            return True
        if (
            not st.is_running_and_available(pod, st.min_ready_seconds(self.sts))
            and unhealthy_blocker
        ):
            return True
        await self.ctl.pod_control.delete_pod(self.sts, pod)
        return self.monotonic
