"""Counting a Job's finished pods without losing any: upstream's
`trackJobStatusAndRemoveFinalizers`.

Every Job pod holds the `batch.kubernetes.io/job-tracking` finalizer until it has been
counted. A sync (1) writes newly finished pods' uids to
`status.uncountedTerminatedPods` (or, for Indexed Jobs, their index to
`completedIndexes`), together with an interim `FailureTarget` / `SuccessCriteriaMet`
condition; (2) removes the finalizers, so the pods may go; (3) moves the uids whose
finalizer is gone into `succeeded` / `failed`; (4) once nothing is uncounted and no pod
is terminating, adds the terminal `Complete` / `Failed` condition. A crash between the
steps loses nothing: the next sync resumes from what status says.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import JOBS
from openeks.kube.controllers.common import jobutil as ju
from openeks.kube.controllers.common import pods as podutil
from openeks.kube.controllers.common.jobstate import SyncCtx

if TYPE_CHECKING:
    from openeks.kube.controllers.job import JobController

Obj = dict[str, Any]

MAX_UNCOUNTED = 500
"""Uids per sync in uncountedTerminatedPods (keeps status under ~20 KB)."""


def clean_uncounted(status: Obj, with_finalizer: set[str]) -> bool:
    """Move uncounted uids whose pod lost its finalizer into the counters."""
    uncounted = status.setdefault("uncountedTerminatedPods", {})
    changed = False
    for name in ("succeeded", "failed"):
        listed = list(uncounted.get(name) or ())
        keep = [u for u in listed if u in with_finalizer]
        if len(keep) == len(listed):
            continue
        changed = True
        status[name] = int(status.get(name) or 0) + len(listed) - len(keep)
        if keep:
            uncounted[name] = keep
        else:
            uncounted.pop(name, None)
    return changed


class Tracker:
    def __init__(self, controller: JobController) -> None:
        self.c = controller

    @property
    def now(self) -> Callable[[], datetime.datetime]:
        return self.c.now

    async def track(self, key: str, ctx: SyncCtx, flush: bool) -> None:
        job = ctx.job
        status = job["status"]
        with_finalizer = {
            p["metadata"]["uid"]
            for p in ctx.pods
            if ju.has_finalizer(p) and p["metadata"]["uid"] not in ctx.expected_rm
        }
        flush = clean_uncounted(status, with_finalizer) or flush
        to_remove, counted, reached_max = self._count(ctx)
        flush = counted or flush
        if ju.is_indexed(job) and self._record_indexes(ctx):
            flush = True
        now = self.now()
        finished, interim = self._interim(ctx, now)
        flush = interim or flush
        if flush:
            job = await self._write(job)
            self.c.backoffs[key] = ctx.backoff
            flush = False
        error = await self._remove_finalizers(key, to_remove, with_finalizer)
        if clean_uncounted(job["status"], with_finalizer):
            flush = True
        if error is not None:
            if flush:
                await self._write(job)
            raise error
        done = not reached_max and self._enact(job, ctx, finished, now)
        if done or flush:
            job = await self._write(job)
        if done and finished is not None:
            await self._record_finished(job, finished)

    def _count(self, ctx: SyncCtx) -> tuple[list[Obj], bool, bool]:
        """Pods whose finalizer can go now, adding them to uncounted / new indexes."""
        job = ctx.job
        uncounted = job["status"].setdefault("uncountedTerminatedPods", {})
        indexed = ju.is_indexed(job)
        completions = int(job["spec"].get("completions") or 0)
        ordered = sorted(ctx.pods, key=ju.completion_index) if indexed else ctx.pods
        to_remove: list[Obj] = []
        new_indexes: list[int] = []
        changed = False
        for pod in ordered:
            uid = pod["metadata"]["uid"]
            if not ju.has_finalizer(pod) or uid in ctx.expected_rm:
                continue
            failed = ju.is_pod_failed(pod, job)
            succeeded = podutil.phase(pod) == "Succeeded"
            if not (
                job["metadata"].get("deletionTimestamp") or ctx.finished or succeeded or failed
            ):
                continue
            to_remove.append(pod)
            index = ju.completion_index(pod)
            if succeeded and uid not in ctx.uncounted_failed:
                if indexed:
                    if 0 <= index < completions and not ctx.prev_indexes.has(index):
                        new_indexes.append(index)
                        changed = True
                elif uid not in ctx.uncounted_succeeded:
                    uncounted.setdefault("succeeded", []).append(uid)
                    changed = True
            elif (
                (failed or (ctx.finished and ctx.finished["type"] != "SuccessCriteriaMet"))
                and uid not in ctx.uncounted_failed
                and (not indexed or 0 <= index < completions)
            ):
                uncounted.setdefault("failed", []).append(uid)
                changed = True
            pending = (
                len(new_indexes)
                + len(uncounted.get("succeeded") or ())
                + len(uncounted.get("failed") or ())
            )
            if pending >= MAX_UNCOUNTED:
                ctx.indexes = ctx.indexes.with_indexes(new_indexes)
                return to_remove, changed, True
        ctx.indexes = ctx.indexes.with_indexes(new_indexes)
        return to_remove, changed, False

    @staticmethod
    def _record_indexes(ctx: SyncCtx) -> bool:
        status = ctx.job["status"]
        text = str(ctx.indexes)
        changed = text != (status.get("completedIndexes") or "")
        total = ctx.indexes.total()
        if total:
            status["succeeded"] = total
        else:
            status.pop("succeeded", None)
        if text:
            status["completedIndexes"] = text
        else:
            status.pop("completedIndexes", None)
        return changed

    @staticmethod
    def _interim(ctx: SyncCtx, now: datetime.datetime) -> tuple[Obj | None, bool]:
        """Write FailureTarget / SuccessCriteriaMet first; return the terminal condition."""
        finished = ctx.finished
        if finished is None:
            return None, False
        conditions = ctx.job["status"].setdefault("conditions", [])
        reason, message = finished.get("reason", ""), finished.get("message", "")
        if finished["type"] == "FailureTarget":
            conditions.append(finished)
            return ju.new_condition("Failed", reason, message, now), True
        if finished["type"] == "SuccessCriteriaMet":
            added = False
            if not any(c.get("type") == "SuccessCriteriaMet" for c in conditions):
                conditions.append(finished)
                added = True
            return ju.new_condition("Complete", reason, message, now), added
        return finished, False

    async def _remove_finalizers(
        self, key: str, to_remove: list[Obj], with_finalizer: set[str]
    ) -> ApiError | None:
        if not to_remove:
            return None
        self.c.finalizer_expectations.expect(key, [p["metadata"]["uid"] for p in to_remove])
        error: ApiError | None = None
        for pod in to_remove:
            uid = pod["metadata"]["uid"]
            try:
                if not await self.c.pod_control.patch(pod, ju.REMOVE_FINALIZER_PATCH):
                    self.c.finalizer_expectations.observed(key, uid)
            except ApiError as e:
                self.c.finalizer_expectations.observed(key, uid)
                error = e
                continue
            with_finalizer.discard(uid)
        return error

    @staticmethod
    def _enact(job: Obj, ctx: SyncCtx, finished: Obj | None, now: datetime.datetime) -> bool:
        """Add the terminal condition once every pod is counted and none terminates."""
        if finished is None:
            return False
        status = job["status"]
        uncounted = status.get("uncountedTerminatedPods") or {}
        if uncounted.get("succeeded") or uncounted.get("failed") or ctx.terminating > 0:
            return False
        conditions = status.setdefault("conditions", [])
        ju.ensure_condition(
            conditions,
            finished["type"],
            "True",
            finished.get("reason", ""),
            finished.get("message", ""),
            now,
        )
        if finished["type"] == "Complete":
            status["completionTime"] = finished["lastTransitionTime"]
        return True

    async def _write(self, job: Obj) -> Obj:
        written: Obj = await self.c.client.update_status(JOBS, job)
        return written

    async def _record_finished(self, job: Obj, finished: Obj) -> None:
        recorder = self.c.recorder
        if finished["type"] == "Complete":
            completions = job["spec"].get("completions")
            if completions is not None and int(job["status"].get("succeeded") or 0) > int(
                completions
            ):
                await recorder.event(
                    job,
                    "Warning",
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                )
            await recorder.event(job, "Normal", "Completed", "Job completed")
        else:
            await recorder.event(
                job, "Warning", finished.get("reason", ""), finished.get("message", "")
            )
