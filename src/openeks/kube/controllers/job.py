"""The Job controller: pods from a template until enough succeed, or too many fail.

A port of upstream's `syncJob`. Each sync claims the Job's pods (adopting orphans that
match the selector, releasing ones that stopped matching), counts them, decides whether
the Job has met its success criteria or failed (backoffLimit, activeDeadlineSeconds),
creates or deletes pods to reach `min(parallelism, completions - succeeded)` — after
an exponential back-off following failures, and respecting `suspend` and
`podReplacementPolicy` — and records the result in status.

Pods carry the `batch.kubernetes.io/job-tracking` finalizer from creation, so a pod is
never lost before it is counted: finished pods are first written to
`status.uncountedTerminatedPods`, then their finalizer is removed, then they move into
`succeeded` / `failed` (`common.jobtracking`). The terminal condition follows the interim
one (`SuccessCriteriaMet` → `Complete`, `FailureTarget` → `Failed`) once no pod is
terminating, as upstream does since Kubernetes 1.31.

The TTL-after-finished controller's job is folded in here: a finished Job with
`ttlSecondsAfterFinished` is deleted (Foreground) when its time is up.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from openeks.kube.api import labels, meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import EventRecorder, key_of
from openeks.kube.client.resources import JOBS, PODS
from openeks.kube.controllers.base import Controller, ControllerContext
from openeks.kube.controllers.common import jobutil as ju
from openeks.kube.controllers.common import pods as podutil
from openeks.kube.controllers.common.claim import PodClaimer
from openeks.kube.controllers.common.expectations import Expectations, UIDExpectations
from openeks.kube.controllers.common.jobstate import SyncCtx, failure_condition, new_finished
from openeks.kube.controllers.common.jobtracking import Tracker
from openeks.kube.controllers.common.podcontrol import PodControl

log = logging.getLogger(__name__)

Obj = dict[str, Any]
ORPHAN = "pod:"


class JobController(Controller):
    name = "job"
    workers = 5
    batch_period = 0.5
    """Seconds pod events are batched before a sync (upstream: 1)."""
    pod_failure_backoff = 10.0
    max_pod_failure_backoff = 600.0
    max_per_sync = 500

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.recorder = EventRecorder(self.client, "job-controller")  # upstream's event source
        self.now: Callable[[], datetime.datetime] = meta.now
        self.expectations = Expectations()
        self.finalizer_expectations = UIDExpectations()
        self.backoffs: dict[str, ju.BackoffRecord] = {}
        self.pod_control = PodControl(self.client, self.recorder)
        self.tracker = Tracker(self)
        self.claimer = PodClaimer(
            self.pod_control, "Job", "batch/v1", self._fresh, (ju.TRACKING_FINALIZER,)
        )

    # -- wiring --------------------------------------------------------------------------
    def setup(self) -> None:
        self.jobs = self.informers.get(JOBS)
        self.pods = self.informers.get(PODS)
        self.jobs.add_index(podutil.NAMESPACE_INDEX, podutil.namespace_index)
        self.pods.add_index(podutil.NAMESPACE_INDEX, podutil.namespace_index)
        self.jobs.on(
            add=lambda j: self.enqueue(key_of(j)),
            update=self._job_updated,
            delete=self._job_deleted,
        )
        self.pods.on(
            add=self._pod_added, update=self._pod_updated, delete=lambda p: self._pod_gone(p, True)
        )

    def _batched(self, job: Obj) -> None:
        self.queue.add_after(key_of(job), self.batch_period)

    def _job_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("generation") != new["metadata"].get("generation"):
            self.enqueue(key_of(new))
        else:
            self._batched(new)
        if ju.is_finished(new):
            self._cleanup_finalizers(new)
        deadline = new["spec"].get("activeDeadlineSeconds")
        start = (new.get("status") or {}).get("startTime")
        if deadline is not None and start and deadline != old["spec"].get("activeDeadlineSeconds"):
            left = deadline - (self.now() - meta.parse_time(start)).total_seconds()
            self.queue.add_after(key_of(new), left)

    def _job_deleted(self, job: Obj) -> None:
        self.enqueue(key_of(job))
        self._cleanup_finalizers(job)

    def _cleanup_finalizers(self, job: Obj) -> None:
        for pod in self.pods.by_index(podutil.NAMESPACE_INDEX, job["metadata"]["namespace"]):
            if podutil.is_controlled_by(pod, job["metadata"]["uid"]) and ju.has_finalizer(pod):
                self.enqueue(ORPHAN + key_of(pod))

    def _resolve(self, pod: Obj, ref: Obj | None) -> Obj | None:
        if ref is None or ref.get("kind") != "Job":
            return None
        job = self.jobs.get(f"{pod['metadata']['namespace']}/{ref.get('name')}")
        return job if job is not None and job["metadata"]["uid"] == ref.get("uid") else None

    def _selecting(self, pod: Obj) -> list[Obj]:
        return [
            j
            for j in self.jobs.by_index(podutil.NAMESPACE_INDEX, pod["metadata"]["namespace"])
            if labels.from_label_selector(j["spec"].get("selector")).matches(
                pod["metadata"].get("labels") or {}
            )
        ]

    def _pod_added(self, pod: Obj) -> None:
        if podutil.is_deleting(pod):
            self._pod_gone(pod, False)
            return
        ref = podutil.controller_of(pod)
        if ref is not None:
            job = self._resolve(pod, ref)
            if job is not None:
                self.expectations.creation_observed(key_of(job))
                self._batched(job)
            return
        if ju.has_finalizer(pod):
            self.enqueue(ORPHAN + key_of(pod))
        for job in self._selecting(pod):
            self._batched(job)

    def _pod_updated(self, old: Obj, pod: Obj) -> None:
        if podutil.is_deleting(pod):
            self._pod_gone(pod, False)
            return
        removed = not ju.has_finalizer(pod)
        ref, old_ref = podutil.controller_of(pod), podutil.controller_of(old)
        for r in ([old_ref] if old_ref and old_ref != ref else []) + ([ref] if ref else []):
            job = self._resolve(pod, r)
            if job is not None:
                if removed:
                    self.finalizer_expectations.observed(key_of(job), pod["metadata"]["uid"])
                self._batched(job)
        if ref is None:
            if ju.has_finalizer(pod):
                self.enqueue(ORPHAN + key_of(pod))
            if old["metadata"].get("labels") != pod["metadata"].get("labels") or old_ref:
                for job in self._selecting(pod):
                    self._batched(job)

    def _pod_gone(self, pod: Obj, final: bool) -> None:
        ref = podutil.controller_of(pod)
        job = self._resolve(pod, ref)
        if job is None or ju.is_finished(job):
            if ju.has_finalizer(pod) and not final:
                self.enqueue(ORPHAN + key_of(pod))
            return
        key = key_of(job)
        self.expectations.deletion_observed(key)
        if final or not ju.has_finalizer(pod):
            self.finalizer_expectations.observed(key, pod["metadata"]["uid"])
        self._batched(job)

    # -- sync ----------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        if key.startswith(ORPHAN):
            await self._sync_orphan_pod(key[len(ORPHAN) :])
            return
        shared = self.jobs.get(key)
        if shared is None:
            self.expectations.delete(key)
            self.finalizer_expectations.delete(key)
            self.backoffs.pop(key, None)
            return
        managed_by = shared["spec"].get("managedBy")
        if managed_by and managed_by != ju.CONTROLLER_NAME:
            return
        job = meta.deep_copy(shared)
        if ju.is_finished(job):
            self.backoffs.pop(key, None)
            await self._expire(job)
            return
        if job["spec"].get("completionMode", "NonIndexed") not in ("NonIndexed", "Indexed"):
            await self.recorder.event(
                job,
                "Warning",
                "UnknownCompletionMode",
                "Skipped Job sync because completion mode is unknown",
            )
            return
        await self._sync(key, job)

    async def _sync(self, key: str, job: Obj) -> None:
        status = job.setdefault("status", {})
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        satisfied = self.expectations.satisfied(key)
        candidates = self.pods.by_index(podutil.NAMESPACE_INDEX, job["metadata"]["namespace"])
        job_pods = await self.claimer.claim(job, candidates)
        active = [p for p in job_pods if podutil.is_active(p)]
        ctx = SyncCtx(
            job,
            job_pods,
            active,
            ready=sum(1 for p in active if podutil.is_ready(p)),
            terminating=sum(1 for p in job_pods if podutil.is_terminating(p)),
            uncounted_succeeded=set(uncounted.get("succeeded") or ()),
            uncounted_failed=set(uncounted.get("failed") or ()),
            expected_rm=self.finalizer_expectations.expected(key),
        )
        new_succeeded, new_failed = new_finished(ctx)
        ctx.succeeded = (
            int(status.get("succeeded") or 0) + len(new_succeeded) + len(ctx.uncounted_succeeded)
        )
        ctx.failed = int(status.get("failed") or 0) + len(new_failed) + len(ctx.uncounted_failed)
        suspended = bool(job["spec"].get("suspend"))
        now = self.now()
        if not status.get("startTime") and not suspended:
            status["startTime"] = meta.rfc3339(now)
        ctx.backoff = self.backoffs.get(key, ju.BackoffRecord()).updated(new_succeeded, new_failed)
        ctx.finished, recheck = failure_condition(ctx, now)
        if recheck is not None:
            self.queue.add_after(key, recheck)
        if ju.is_indexed(job):
            ctx.prev_indexes, ctx.indexes = ju.succeeded_indexes(job, job_pods)
            ctx.succeeded = ctx.indexes.total()
            message = ju.success_policy_met(job, ctx.indexes) if ctx.finished is None else None
            if message:
                ctx.finished = ju.new_condition("SuccessCriteriaMet", "SuccessPolicy", message, now)
        n_active = len(active)
        suspend_changed = False
        if ctx.finished is not None:
            deleted_ready, deleted = await self._delete_active(job, active)
            if deleted != n_active or not satisfied:
                ctx.finished = None
            n_active -= deleted
            ctx.terminating += deleted
            ctx.ready -= deleted_ready
        else:
            managed = satisfied and not job["metadata"].get("deletionTimestamp")
            if managed:
                n_active = await self._manage(key, ctx)
            completions = job["spec"].get("completions")
            if completions is None:
                complete = ctx.succeeded > 0 and n_active == 0
            else:
                complete = ctx.succeeded >= int(completions) and n_active == 0
            if complete:
                ctx.finished = ju.new_condition(
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    now,
                )
            elif managed:
                suspend_changed = await self._suspend_condition(job, suspended, now)
        changed = suspend_changed or n_active != int(status.get("active") or 0)
        changed = (
            changed
            or ctx.ready != status.get("ready")
            or ctx.terminating != status.get("terminating")
        )
        _set_count(status, "active", n_active)
        status["ready"] = ctx.ready
        status["terminating"] = ctx.terminating
        await self.tracker.track(key, ctx, changed)

    async def _suspend_condition(self, job: Obj, suspended: bool, now: datetime.datetime) -> bool:
        conditions = job["status"].setdefault("conditions", [])
        if suspended:
            changed = ju.ensure_condition(
                conditions, "Suspended", "True", "JobSuspended", "Job suspended", now
            )
            if changed:
                await self.recorder.event(job, "Normal", "Suspended", "Job suspended")
            return changed
        changed = ju.ensure_condition(
            conditions, "Suspended", "False", "JobResumed", "Job resumed", now
        )
        if changed:
            await self.recorder.event(job, "Normal", "Resumed", "Job resumed")
            job["status"]["startTime"] = meta.rfc3339(now)
        return changed

    # -- pods ----------------------------------------------------------------------------
    async def _manage(self, key: str, ctx: SyncCtx) -> int:
        """manageJob: create or delete pods toward the wanted number; returns active."""
        job, spec = ctx.job, ctx.job["spec"]
        active = len(ctx.active)
        if spec.get("suspend"):
            return active - await self._scale_down(
                key, ctx, ju.pods_for_removal(job, ctx.active, active)
            )
        parallelism = int(spec.get("parallelism") or 0)
        completions = spec.get("completions")
        if completions is None:
            want = active if ctx.succeeded > 0 else parallelism
        else:
            want = max(min(int(completions) - ctx.succeeded, parallelism), 0)
        doomed = ju.pods_for_removal(job, ctx.active, max(active - want, 0))[: self.max_per_sync]
        if doomed:
            return active - await self._scale_down(key, ctx, doomed)
        terminating = ctx.terminating if ju.only_replace_failed(job) else 0
        missing = min(want - terminating - active, self.max_per_sync)
        if missing <= 0:
            return active
        wait = ctx.backoff.remaining(
            self.now(), self.pod_failure_backoff, self.max_pod_failure_backoff
        )
        if wait > 0:
            self.queue.add_after(key, max(wait, self.batch_period))
            return active
        indexes: list[int | None] = [None] * missing
        if ju.is_indexed(job):
            indexes = list(
                ju.first_pending_indexes(ctx.active, ctx.indexes, missing, int(completions or 0))
            )
        self.expectations.expect_creations(key, len(indexes))
        bodies = [ju.pod_for_job(job, i) for i in indexes]
        created = await self.pod_control.create_slow_start(
            job, bodies, lambda: self.expectations.creation_observed(key)
        )
        return active + created

    async def _scale_down(self, key: str, ctx: SyncCtx, doomed: list[Obj]) -> int:
        """deleteJobPods: finalizer off, then delete. Returns how many went."""
        self.expectations.expect_deletions(key, len(doomed))
        removed = 0
        for pod in doomed:
            if await self.pod_control.patch(
                pod, ju.REMOVE_FINALIZER_PATCH
            ) and await self.pod_control.delete(ctx.job, pod):
                removed += 1
                ctx.terminating += 1
                ctx.ready -= int(podutil.is_ready(pod))
            else:
                self.expectations.deletion_observed(key)
        return removed

    async def _delete_active(self, job: Obj, active: list[Obj]) -> tuple[int, int]:
        """deleteActivePods: delete keeping finalizers (the pods are counted as failed)."""
        ready = deleted = 0
        for pod in active:
            if await self.pod_control.delete(job, pod):
                deleted += 1
                ready += int(podutil.is_ready(pod))
        return ready, deleted

    async def _fresh(self, job: Obj) -> Obj | None:
        try:
            found: Obj = await self.client.get(
                JOBS, job["metadata"]["name"], job["metadata"]["namespace"]
            )
        except ApiError as e:
            if e.code == 404:
                return None
            raise
        return found

    async def _sync_orphan_pod(self, key: str) -> None:
        """Remove the tracking finalizer from a pod no unfinished Job owns."""
        pod = self.pods.get(key)
        if pod is None or not ju.has_finalizer(pod):
            return
        ref = podutil.controller_of(pod)
        if ref is not None:
            if ref.get("kind") != "Job" or ref.get("apiVersion") != "batch/v1":
                return
            job = self._resolve(pod, ref)
            if job is not None and not ju.is_finished(job):
                return
        await self.pod_control.patch(pod, ju.REMOVE_FINALIZER_PATCH)

    # -- TTL after finished --------------------------------------------------------------
    async def _expire(self, job: Obj) -> None:
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        finished = ju.finish_time(job)
        if ttl is None or finished is None or job["metadata"].get("deletionTimestamp"):
            return
        left = float(ttl) - (self.now() - finished).total_seconds()
        if left > 0:
            self.queue.add_after(key_of(job), left)
            return
        m = job["metadata"]
        try:
            await self.client.delete(
                JOBS, m["name"], m["namespace"], propagation="Foreground", uid=m["uid"]
            )
        except ApiError as e:
            if e.code not in (404, 409):
                raise


def _set_count(status: Obj, field_name: str, value: int) -> None:
    """int32 with omitempty: zero is absent."""
    if value:
        status[field_name] = value
    else:
        status.pop(field_name, None)
