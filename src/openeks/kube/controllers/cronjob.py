"""The CronJob controller: a Job per scheduled time, history trimmed, status kept.

A port of upstream's `ControllerV2`. Each sync of a CronJob reconciles `status.active`
with the Jobs it controls (finished ones leave, `lastSuccessfulTime` follows completed
ones), deletes finished Jobs beyond `successfulJobsHistoryLimit` /
`failedJobsHistoryLimit`, and, unless suspended, finds the most recent missed schedule
time (`common.cron`, in `spec.timeZone`), honours `startingDeadlineSeconds` and
`concurrencyPolicy` (Allow, Forbid, Replace), and creates the Job named
`<cronjob>-<scheduled time in minutes since the epoch>` — the name is the lock that
stops a time being run twice. The key is then requeued for the next schedule time.

`now` is an attribute so tests can move the controller's clock instead of waiting for
the next minute.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from collections.abc import Callable
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import EventRecorder, key_of
from openeks.kube.client.resources import CRONJOBS, JOBS
from openeks.kube.controllers.base import Controller, ControllerContext
from openeks.kube.controllers.common import cron
from openeks.kube.controllers.common import jobutil as ju
from openeks.kube.controllers.common import pods as podutil
from openeks.kube.controllers.common.podcontrol import namespace_terminating

log = logging.getLogger(__name__)

Obj = dict[str, Any]
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
_OWNER_INDEX = "cronjob:owner"


def job_name(cronjob: Obj, scheduled: datetime.datetime) -> str:
    return f"{cronjob['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def schedule_spec(cronjob: Obj) -> str:
    """formatSchedule: spec.timeZone becomes a TZ= prefix."""
    spec = cronjob["spec"]
    tz = spec.get("timeZone")
    if tz and "TZ" not in spec["schedule"]:
        return f"TZ={tz} {spec['schedule']}"
    return str(spec["schedule"])


def job_from_template(cronjob: Obj, scheduled: datetime.datetime) -> Obj:
    template = meta.deep_copy(cronjob["spec"].get("jobTemplate") or {})
    tmeta = template.get("metadata") or {}
    tz = (
        zoneinfo.ZoneInfo(cronjob["spec"]["timeZone"])
        if cronjob["spec"].get("timeZone")
        else datetime.UTC
    )
    local = scheduled.astimezone(tz)
    stamp = (
        local.strftime("%Y-%m-%dT%H:%M:%SZ")
        if local.utcoffset() == datetime.timedelta(0)
        else local.isoformat()
    )
    annotations = {**(tmeta.get("annotations") or {}), SCHEDULED_ANNOTATION: stamp}
    m: Obj = {
        "name": job_name(cronjob, scheduled),
        "namespace": cronjob["metadata"]["namespace"],
        "annotations": annotations,
        "ownerReferences": [podutil.controller_ref(cronjob, "CronJob", "batch/v1")],
    }
    if tmeta.get("labels"):
        m["labels"] = dict(tmeta["labels"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": m,
        "spec": template.get("spec") or {},
    }


def job_ref(job: Obj) -> Obj:
    m = job["metadata"]
    return {
        "kind": "Job",
        "namespace": m["namespace"],
        "name": m["name"],
        "uid": m["uid"],
        "apiVersion": "batch/v1",
        "resourceVersion": m.get("resourceVersion", ""),
    }


class CronJobController(Controller):
    name = "cronjob"
    workers = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.recorder = EventRecorder(self.client, "cronjob-controller")  # upstream's event source
        self.now: Callable[[], datetime.datetime] = meta.now

    def setup(self) -> None:
        self.cronjobs = self.informers.get(CRONJOBS)
        self.jobs = self.informers.get(JOBS)
        self.jobs.add_index(_OWNER_INDEX, _owner_uid)
        self.cronjobs.on(add=lambda cj: self.enqueue(key_of(cj)), update=self._cronjob_updated)
        self.jobs.on(
            add=self._job_changed,
            update=lambda old, new: self._job_changed(new),
            delete=self._job_changed,
        )

    def _cronjob_updated(self, old: Obj, new: Obj) -> None:
        spec, before = new["spec"], old["spec"]
        if spec.get("schedule") == before.get("schedule") and spec.get("timeZone") == before.get(
            "timeZone"
        ):
            self.enqueue(key_of(new))
            return
        try:
            schedule = cron.parse(schedule_spec(new))
        except (cron.CronError, zoneinfo.ZoneInfoNotFoundError, ValueError):
            return
        delay = cron.next_delay(_earliest(new), self.now(), schedule)
        if delay is not None:
            self.queue.add_after(key_of(new), delay)

    def _job_changed(self, job: Obj) -> None:
        ref = podutil.controller_of(job)
        if ref is None or ref.get("kind") != "CronJob":
            return
        cronjob = self.cronjobs.get(f"{job['metadata']['namespace']}/{ref.get('name')}")
        if cronjob is not None and cronjob["metadata"]["uid"] == ref.get("uid"):
            self.enqueue(key_of(cronjob))

    async def reconcile(self, key: str) -> None:
        shared = self.cronjobs.get(key)
        if shared is None:
            return
        cronjob = meta.deep_copy(shared)
        jobs = self.jobs.by_index(_OWNER_INDEX, cronjob["metadata"]["uid"])
        changed = await self._cleanup_finished(cronjob, jobs)
        delay, synced = await self._sync(cronjob, jobs)
        if changed or synced:
            await self.client.update_status(CRONJOBS, cronjob)
        if delay is not None:
            self.queue.add_after(key, delay)

    async def _sync(self, cronjob: Obj, jobs: list[Obj]) -> tuple[float | None, bool]:
        """syncCronJob: returns (requeue after, whether status changed)."""
        changed = await self._reconcile_active(cronjob, jobs)
        if cronjob["metadata"].get("deletionTimestamp"):
            return None, changed
        spec = cronjob["spec"]
        if spec.get("timeZone"):
            try:
                zoneinfo.ZoneInfo(spec["timeZone"])
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
                await self.recorder.event(
                    cronjob,
                    "Warning",
                    "UnknownTimeZone",
                    f'invalid timeZone: "{spec["timeZone"]}": {e}',
                )
                return None, changed
        if spec.get("suspend"):
            return None, changed
        if "TZ" in spec["schedule"]:
            await self.recorder.event(
                cronjob,
                "Warning",
                "UnsupportedSchedule",
                f'CRON_TZ or TZ used in schedule "{spec["schedule"]}" is not officially supported, '
                "see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ "
                "for more details",
            )
        try:
            schedule = cron.parse(schedule_spec(cronjob))
        except (cron.CronError, zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
            await self.recorder.event(
                cronjob,
                "Warning",
                "UnparseableSchedule",
                f'unparseable schedule: "{spec["schedule"]}" : {e}',
            )
            return None, changed
        created = await self._maybe_start(cronjob, schedule)
        return cron.next_delay(_earliest(cronjob), self.now(), schedule), changed or created

    async def _maybe_start(self, cronjob: Obj, schedule: cron.Schedule) -> bool:
        """Create the Job for the most recent unmet schedule time, if any and allowed."""
        spec, status = cronjob["spec"], cronjob.setdefault("status", {})
        now = self.now()
        deadline = spec.get("startingDeadlineSeconds")
        try:
            _, scheduled, missed = cron.most_recent_schedule_time(
                _earliest(cronjob), now, schedule, deadline
            )
        except ValueError as e:
            await self.recorder.event(
                cronjob, "Warning", "InvalidSchedule", f"invalid schedule: {spec['schedule']} : {e}"
            )
            return False
        if scheduled is None:
            return False
        if missed > 100:
            await self.recorder.event(
                cronjob,
                "Warning",
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                "or check clock skew",
            )
        if deadline is not None and scheduled + datetime.timedelta(seconds=deadline) < now:
            when = scheduled.astimezone(datetime.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
            await self.recorder.event(
                cronjob, "Warning", "MissSchedule", f"Missed scheduled time to start a job: {when}"
            )
            return False
        name = job_name(cronjob, scheduled)
        active = status.get("active") or []
        if any(a.get("name") == name for a in active) or status.get(
            "lastScheduleTime"
        ) == meta.rfc3339(scheduled):
            return False
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and active:
            await self.recorder.event(
                cronjob,
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy "
                "is Forbid",
            )
            return False
        if policy == "Replace":
            for ref in list(active):
                await self._delete_job(cronjob, ref["name"], ref.get("uid", ""))
        job = await self._create_job(cronjob, scheduled)
        if job is None:
            return policy == "Replace" and bool(active)
        status.setdefault("active", []).append(job_ref(job))
        status["lastScheduleTime"] = meta.rfc3339(scheduled)
        return True

    async def _create_job(self, cronjob: Obj, scheduled: datetime.datetime) -> Obj | None:
        body = job_from_template(cronjob, scheduled)
        ns = cronjob["metadata"]["namespace"]
        try:
            job: Obj = await self.client.create(JOBS, body, ns)
        except ApiError as e:
            if namespace_terminating(e):
                return None
            if e.code != 409:
                await self.recorder.event(
                    cronjob, "Warning", "FailedCreate", f"Error creating job: {e.message}"
                )
                raise
            existing: Obj = await self.client.get(JOBS, body["metadata"]["name"], ns)
            if not podutil.is_controlled_by(existing, cronjob["metadata"]["uid"]):
                return None
            active = (cronjob.get("status") or {}).get("active") or []
            return (
                None
                if any(a.get("uid") == existing["metadata"]["uid"] for a in active)
                else existing
            )
        await self.recorder.event(
            cronjob, "Normal", "SuccessfulCreate", f"Created job {job['metadata']['name']}"
        )
        return job

    async def _reconcile_active(self, cronjob: Obj, jobs: list[Obj]) -> bool:
        status = cronjob.setdefault("status", {})
        active = list(status.get("active") or ())
        changed = False
        owned = {j["metadata"]["uid"] for j in jobs}
        for job in jobs:
            uid = job["metadata"]["uid"]
            listed = any(a.get("uid") == uid for a in active)
            if not listed and not ju.is_finished(job):
                await self.recorder.event(
                    cronjob,
                    "Warning",
                    "UnexpectedJob",
                    "Saw a job that the controller did not create or forgot: "
                    + job["metadata"]["name"],
                )
            elif listed and ju.is_finished(job):
                kind = "Complete" if ju.is_true(job, "Complete") else "Failed"
                active = [a for a in active if a.get("uid") != uid]
                changed = True
                await self.recorder.event(
                    cronjob,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {job['metadata']['name']}, status: {kind}",
                )
            if ju.is_true(job, "Complete") and _later(job, status.get("lastSuccessfulTime")):
                status["lastSuccessfulTime"] = job["status"]["completionTime"]
                changed = True
        for ref in [a for a in active if a.get("uid") not in owned]:
            try:
                await self.client.get(
                    JOBS, ref["name"], ref.get("namespace") or cronjob["metadata"]["namespace"]
                )
            except ApiError as e:
                if e.code != 404:
                    raise
                await self.recorder.event(
                    cronjob, "Normal", "MissingJob", f"Active job went missing: {ref['name']}"
                )
                active = [a for a in active if a.get("uid") != ref.get("uid")]
                changed = True
        if changed:
            _set_active(status, active)
        return changed

    async def _cleanup_finished(self, cronjob: Obj, jobs: list[Obj]) -> bool:
        spec = cronjob["spec"]
        changed = False
        for kind, limit in (
            ("Complete", spec.get("successfulJobsHistoryLimit")),
            ("Failed", spec.get("failedJobsHistoryLimit")),
        ):
            if limit is None:
                continue
            finished = sorted((j for j in jobs if ju.is_true(j, kind)), key=_start_order)
            for job in finished[: max(len(finished) - int(limit), 0)]:
                changed = (
                    await self._delete_job(cronjob, job["metadata"]["name"], job["metadata"]["uid"])
                    or changed
                )
        return changed

    async def _delete_job(self, cronjob: Obj, name: str, uid: str) -> bool:
        ns = cronjob["metadata"]["namespace"]
        try:
            await self.client.delete(JOBS, name, ns, propagation="Background")
        except ApiError as e:
            if e.code != 404:
                await self.recorder.event(
                    cronjob, "Warning", "FailedDelete", f"Deleted job: {e.message}"
                )
                return False
        await self.recorder.event(cronjob, "Normal", "SuccessfulDelete", f"Deleted job {name}")
        status = cronjob.setdefault("status", {})
        before = status.get("active") or []
        _set_active(status, [a for a in before if a.get("uid") != uid])
        return True


def _owner_uid(job: Obj) -> list[str]:
    ref = podutil.controller_of(job)
    return [ref["uid"]] if ref and ref.get("kind") == "CronJob" and ref.get("uid") else []


def _earliest(cronjob: Obj) -> datetime.datetime:
    last = (cronjob.get("status") or {}).get("lastScheduleTime")
    return meta.parse_time(last or cronjob["metadata"]["creationTimestamp"])


def _later(job: Obj, than: str | None) -> bool:
    done = (job.get("status") or {}).get("completionTime")
    if not done:
        return False
    return not than or meta.parse_time(done) > meta.parse_time(than)


def _start_order(job: Obj) -> tuple[bool, str, str]:
    start = (job.get("status") or {}).get("startTime")
    return (start is None, start or "", job["metadata"]["name"])


def _set_active(status: Obj, active: list[Obj]) -> None:
    if active:
        status["active"] = active
    else:
        status.pop("active", None)
