"""Pure bookkeeping of the Job controller: indexes, conditions, back-off, pod templates.

Ports of upstream's `indexed_job_utils.go` (completed-index intervals such as "0-2,4",
first pending indexes, duplicate-index removal), `backoff_utils.go` (the exponential
delay before re-creating failed pods, 10 s doubling to 10 min by default), the success
policy matcher, and the pieces of `job_controller.go` that decide nothing by
themselves (conditions, which pods count as failed, the pod a Job creates).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from openeks.kube.api import meta
from openeks.kube.controllers.common import pods

Obj = dict[str, Any]

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
CONTROLLER_NAME = "kubernetes.io/job-controller"
UNKNOWN_INDEX = -1


# -- conditions ------------------------------------------------------------------------
def condition(job: Obj, type_: str) -> Obj | None:
    for c in (job.get("status") or {}).get("conditions") or ():
        if c.get("type") == type_:
            return dict(c)
    return None


def is_true(job: Obj, type_: str) -> bool:
    c = condition(job, type_)
    return c is not None and c.get("status") == "True"


def is_finished(job: Obj) -> bool:
    return is_true(job, "Complete") or is_true(job, "Failed")


def new_condition(
    type_: str, reason: str, message: str, now: datetime.datetime, status: str = "True"
) -> Obj:
    t = meta.rfc3339(now)
    return {
        "type": type_,
        "status": status,
        "lastProbeTime": t,
        "lastTransitionTime": t,
        "reason": reason,
        "message": message,
    }


def ensure_condition(
    conditions: list[Obj],
    type_: str,
    status: str,
    reason: str,
    message: str,
    now: datetime.datetime,
) -> bool:
    """ensureJobConditionStatus: update the condition of that type, or append it unless
    it would be False. Returns whether the list changed."""
    for i, c in enumerate(conditions):
        if c.get("type") != type_:
            continue
        if (c.get("status"), c.get("reason"), c.get("message")) == (status, reason, message):
            return False
        conditions[i] = new_condition(type_, reason, message, now, status)
        return True
    if status == "False":
        return False
    conditions.append(new_condition(type_, reason, message, now, status))
    return True


def finish_time(job: Obj) -> datetime.datetime | None:
    """When the Job finished: completionTime, else the Failed condition's transition."""
    st = job.get("status") or {}
    if st.get("completionTime"):
        return meta.parse_time(st["completionTime"])
    failed = condition(job, "Failed")
    if failed and failed.get("status") == "True" and failed.get("lastTransitionTime"):
        return meta.parse_time(failed["lastTransitionTime"])
    return None


# -- pods ------------------------------------------------------------------------------
def has_finalizer(pod: Obj) -> bool:
    return TRACKING_FINALIZER in ((pod.get("metadata") or {}).get("finalizers") or ())


def completion_index(pod: Obj) -> int:
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(INDEX_KEY)
    if value is None or not value.isdigit():
        return UNKNOWN_INDEX
    return int(value)


def is_indexed(job: Obj) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def only_replace_failed(job: Obj) -> bool:
    spec = job.get("spec") or {}
    return spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None


def is_pod_failed(pod: Obj, job: Obj) -> bool:
    """Failed, or (unless only failed pods are replaced) deleted before it succeeded."""
    if pods.phase(pod) == "Failed":
        return True
    if only_replace_failed(job):
        return False
    return pods.is_deleting(pod) and pods.phase(pod) != "Succeeded"


def past_backoff_limit_on_failure(job: Obj, job_pods: list[Obj]) -> bool:
    """restartPolicy OnFailure: container restarts count against backoffLimit."""
    spec = job.get("spec") or {}
    if ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") != "OnFailure":
        return False
    restarts = 0
    for pod in job_pods:
        if pods.phase(pod) in ("Running", "Pending"):
            st = pod.get("status") or {}
            for c in list(st.get("initContainerStatuses") or ()) + list(
                st.get("containerStatuses") or ()
            ):
                restarts += int(c.get("restartCount") or 0)
    limit = int(spec.get("backoffLimit") or 0)
    return restarts > 0 if limit == 0 else restarts >= limit


def pod_for_job(job: Obj, index: int | None) -> Obj:
    """The pod a Job creates from its template (generateName, controller reference,
    tracking finalizer; for Indexed Jobs the index annotation, label, env and hostname)."""
    template = meta.deep_copy((job.get("spec") or {}).get("template") or {})
    tmeta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    name = job["metadata"]["name"]
    labels = dict(tmeta.get("labels") or {})
    annotations = dict(tmeta.get("annotations") or {})
    finalizers = list(tmeta.get("finalizers") or ())
    if TRACKING_FINALIZER not in finalizers:
        finalizers.append(TRACKING_FINALIZER)
    generate = f"{name}-"
    if index is not None:
        annotations[INDEX_KEY] = str(index)
        labels[INDEX_KEY] = str(index)
        spec["hostname"] = f"{name}-{index}"
        generate = f"{name}-{index}-"
        for c in list(spec.get("initContainers") or ()) + list(spec.get("containers") or ()):
            env = c.setdefault("env", [])
            if not any(e.get("name") == INDEX_ENV for e in env):
                env.append(
                    {
                        "name": INDEX_ENV,
                        "valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{INDEX_KEY}']"}},
                    }
                )
    m: Obj = {
        "generateName": generate[:58],
        "namespace": job["metadata"]["namespace"],
        "finalizers": finalizers,
        "ownerReferences": [pods.controller_ref(job, "Job", "batch/v1")],
    }
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": m, "spec": spec}


REMOVE_FINALIZER_PATCH = {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}


def pods_for_removal(job: Obj, active: list[Obj], at_least: int) -> list[Obj]:
    """activePodsForRemoval: duplicate/invalid indexes first, then cheapest to lose."""
    remove: list[Obj] = []
    left = list(active)
    if is_indexed(job):
        remove, left = _duplicate_index_pods(active, int(job["spec"].get("completions") or 0))
    if len(remove) < at_least:
        left.sort(key=pods.deletion_rank)
        remove += left[: at_least - len(remove)]
    return remove


def _duplicate_index_pods(active: list[Obj], completions: int) -> tuple[list[Obj], list[Obj]]:
    groups: dict[int, list[Obj]] = {}
    for pod in active:
        groups.setdefault(completion_index(pod), []).append(pod)
    remove: list[Obj] = []
    left: list[Obj] = []
    for index, group in groups.items():
        if index == UNKNOWN_INDEX or index >= completions:
            remove += group
            continue
        group.sort(key=pods.deletion_rank)
        remove += group[:-1]
        left.append(group[-1])
    return remove, left


# -- completed indexes -----------------------------------------------------------------
@dataclass(frozen=True)
class Intervals:
    """orderedIntervals: sorted, disjoint, inclusive [first, last] ranges of indexes."""

    spans: tuple[tuple[int, int], ...] = ()

    @classmethod
    def parse(cls, text: str, completions: int) -> Intervals:
        values: set[int] = set()
        for part in (p for p in (text or "").split(",") if p):
            first, _, last = part.partition("-")
            try:
                lo, hi = int(first), int(last or first)
            except ValueError:
                continue
            values.update(range(lo, min(hi, completions - 1) + 1))
        return cls.of(values)

    @classmethod
    def of(cls, values: set[int] | list[int]) -> Intervals:
        spans: list[tuple[int, int]] = []
        for v in sorted(set(values)):
            if spans and spans[-1][1] + 1 == v:
                spans[-1] = (spans[-1][0], v)
            else:
                spans.append((v, v))
        return cls(tuple(spans))

    def values(self) -> set[int]:
        return {v for lo, hi in self.spans for v in range(lo, hi + 1)}

    def with_indexes(self, extra: list[int]) -> Intervals:
        return Intervals.of(self.values() | set(extra))

    def has(self, index: int) -> bool:
        return any(lo <= index <= hi for lo, hi in self.spans)

    def total(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.spans)

    def __str__(self) -> str:
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.spans)


def succeeded_indexes(job: Obj, job_pods: list[Obj]) -> tuple[Intervals, Intervals]:
    """(indexes already in status, those plus succeeded pods not counted yet)."""
    completions = int(job["spec"].get("completions") or 0)
    previous = Intervals.parse((job.get("status") or {}).get("completedIndexes", ""), completions)
    new = [
        completion_index(p)
        for p in job_pods
        if pods.phase(p) == "Succeeded"
        and has_finalizer(p)
        and 0 <= completion_index(p) < completions
    ]
    return previous, previous.with_indexes(new)


def first_pending_indexes(
    active: list[Obj], succeeded: Intervals, count: int, completions: int
) -> list[int]:
    taken = succeeded.values() | {completion_index(p) for p in active}
    return [i for i in range(completions) if i not in taken][:count]


def success_policy_met(job: Obj, succeeded: Intervals) -> str | None:
    """The SuccessCriteriaMet message if a successPolicy rule is met, else None."""
    rules = ((job.get("spec") or {}).get("successPolicy") or {}).get("rules") or ()
    completions = int(job["spec"].get("completions") or 0)
    done = succeeded.values()
    if not done:
        return None
    for i, rule in enumerate(rules):
        wanted = rule.get("succeededIndexes")
        count = rule.get("succeededCount")
        matched = Intervals.parse(wanted, completions).values() & done if wanted else done
        if wanted and count is None and Intervals.parse(wanted, completions).values() <= done:
            return f"Matched rules at index {i}"
        if count is not None and len(matched) >= int(count):
            return f"Matched rules at index {i}"
    return None


# -- back-off --------------------------------------------------------------------------
@dataclass
class BackoffRecord:
    failures_after_success: int = 0
    last_failure: datetime.datetime | None = None

    def updated(self, succeeded: list[Obj], failed: list[Obj]) -> BackoffRecord:
        """newBackoffRecord: failures since the last success, and the last failure time."""
        fail_times = sorted(pods.finished_time(p) for p in failed)
        if not succeeded:
            if not fail_times:
                return BackoffRecord(self.failures_after_success, self.last_failure)
            return BackoffRecord(self.failures_after_success + len(fail_times), fail_times[-1])
        last_success = max(pods.finished_time(p) for p in succeeded)
        later = [t for t in fail_times if t > last_success]
        return BackoffRecord(len(later), later[-1] if later else None)

    def remaining(self, now: datetime.datetime, base: float, cap: float) -> float:
        """Seconds to wait before creating pods again (0 when free to)."""
        if self.failures_after_success == 0 or self.last_failure is None:
            return 0.0
        delay = base
        for _ in range(1, self.failures_after_success):
            delay *= 2
            if delay >= cap:
                delay = cap
                break
        elapsed = (now - self.last_failure).total_seconds()
        return max(delay - elapsed, 0.0)
