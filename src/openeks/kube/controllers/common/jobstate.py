"""What one Job sync knows, and the first decisions it takes from it.

`SyncCtx` is upstream's `syncJobCtx`: the Job, its pods, the counts so far, the pods
whose finalizer removal is still to be observed, the back-off record and the condition
the sync may end with. `new_finished()` finds the finished pods not counted yet;
`failure_condition()` decides whether the Job has met its success criteria earlier, or
failed (backoffLimit, activeDeadlineSeconds).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api import meta
from openeks.kube.controllers.common import jobutil as ju
from openeks.kube.controllers.common import pods as podutil

Obj = dict[str, Any]


@dataclass
class SyncCtx:
    job: Obj
    pods: list[Obj]
    active: list[Obj]
    ready: int
    terminating: int
    uncounted_succeeded: set[str]
    uncounted_failed: set[str]
    expected_rm: set[str]
    succeeded: int = 0
    failed: int = 0
    finished: Obj | None = None
    backoff: ju.BackoffRecord = field(default_factory=ju.BackoffRecord)
    prev_indexes: ju.Intervals = field(default_factory=ju.Intervals)
    indexes: ju.Intervals = field(default_factory=ju.Intervals)


def new_finished(ctx: SyncCtx) -> tuple[list[Obj], list[Obj]]:
    """Finished pods not yet in status (still holding the finalizer, not uncounted)."""
    succeeded, failed = [], []
    completions = int(ctx.job["spec"].get("completions") or 0)
    for p in ctx.pods:
        uid = p["metadata"]["uid"]
        if not ju.has_finalizer(p) or uid in ctx.expected_rm:
            continue
        if ju.is_indexed(ctx.job) and not 0 <= ju.completion_index(p) < completions:
            continue
        if podutil.phase(p) == "Succeeded" and uid not in ctx.uncounted_succeeded:
            succeeded.append(p)
        elif ju.is_pod_failed(p, ctx.job) and uid not in ctx.uncounted_failed:
            failed.append(p)
    return succeeded, failed


def failure_condition(ctx: SyncCtx, now: datetime.datetime) -> tuple[Obj | None, float | None]:
    """The condition the Job ends with, if it ends now — SuccessCriteriaMet already
    reached, Failed after an earlier FailureTarget, or a new FailureTarget for the
    backoff limit or the active deadline — and, while the deadline is ahead, how many
    seconds until it passes."""
    job = ctx.job
    met = ju.condition(job, "SuccessCriteriaMet")
    if met and met.get("status") == "True":
        return met, None
    target = ju.condition(job, "FailureTarget")
    if target and target.get("status") == "True":
        return ju.new_condition(
            "Failed", target.get("reason", ""), target.get("message", ""), now
        ), None
    spec = job["spec"]
    if ctx.failed > int(spec.get("backoffLimit") or 0) or ju.past_backoff_limit_on_failure(
        job, ctx.pods
    ):
        return ju.new_condition(
            "FailureTarget",
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
            now,
        ), None
    deadline = spec.get("activeDeadlineSeconds")
    start = job["status"].get("startTime")
    if deadline is None or not start or spec.get("suspend"):
        return None, None
    left = float(deadline) - (now - meta.parse_time(start)).total_seconds()
    if left <= 0:
        return ju.new_condition(
            "FailureTarget",
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
            now,
        ), None
    return None, left
