"""Printers for batch/v1 Jobs and CronJobs.

A Job's STATUS comes from its conditions in a fixed precedence (Complete, Failed,
Terminating, Suspended, FailureTarget, else Running); COMPLETIONS reads `succeeded/
completions`, or `succeeded/1 of <parallelism>` for work-queue jobs without a completion
count; DURATION runs from `startTime` to `completionTime` (or to now while running).
A CronJob prints SUSPEND as the string "True"/"False" although its column says boolean,
exactly as upstream does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import (
    column,
    go_bool_ptr,
    human_duration,
    integer,
    layout_container_cells,
    mapping,
    meta,
    name_of,
    nanos_between,
    parse_time,
    pod_template_containers,
    present,
    seq,
    text,
    translate_timestamp_since,
)
from openeks.kube.api.printers.core import AGE, CONTAINERS, IMAGES, NAME, age
from openeks.kube.api.printers.descriptions import doc
from openeks.kube.api.printers.labels import format_label_selector
from openeks.kube.api.printers.printer import Printer

SELECTOR = column("Selector", "string", doc("JobSpec.selector"), priority=1)


def _has_condition(status: Mapping[str, Any], kind: str) -> bool:
    """`hasJobCondition`: the first condition of `kind` decides."""
    for condition in seq(status.get("conditions")):
        condition = mapping(condition)
        if condition.get("type") == kind:
            return condition.get("status") == "True"
    return False


def job_status(job: Mapping[str, Any]) -> str:
    status = mapping(job.get("status"))
    if _has_condition(status, "Complete"):
        return "Complete"
    if _has_condition(status, "Failed"):
        return "Failed"
    if present(meta(job).get("deletionTimestamp")):
        return "Terminating"
    if _has_condition(status, "Suspended"):
        return "Suspended"
    if _has_condition(status, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def job_completions(job: Mapping[str, Any]) -> str:
    spec = mapping(job.get("spec"))
    succeeded = integer(mapping(job.get("status")).get("succeeded"))
    completions, parallelism = spec.get("completions"), spec.get("parallelism")
    if not present(completions) and not present(parallelism):
        completions = 1  # SetDefaults_Job defaults both to 1 when neither is set
    if present(completions):
        return f"{succeeded}/{integer(completions)}"
    if integer(parallelism) > 1:
        return f"{succeeded}/1 of {integer(parallelism)}"
    return f"{succeeded}/1"


def job_duration(job: Mapping[str, Any], now: datetime) -> str:
    status = mapping(job.get("status"))
    started = parse_time(status.get("startTime"))
    if started is None:
        return ""
    finished = parse_time(status.get("completionTime"))
    return human_duration(nanos_between(started, finished or now))


def job_cells(job: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = mapping(job.get("spec"))
    names, images = layout_container_cells(pod_template_containers(spec.get("template")))
    return [
        name_of(job),
        job_status(job),
        job_completions(job),
        job_duration(job, now),
        age(job, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


JOB = Printer(
    (
        NAME,
        column("Status", "string", "Status of the job."),
        column("Completions", "string", doc("JobStatus.succeeded")),
        column("Duration", "string", "Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ),
    job_cells,
)


def cron_job_cells(cron_job: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = mapping(cron_job.get("spec")), mapping(cron_job.get("status"))
    job_spec = mapping(mapping(spec.get("jobTemplate")).get("spec"))
    names, images = layout_container_cells(pod_template_containers(job_spec.get("template")))
    last_schedule = "<none>"
    if present(status.get("lastScheduleTime")):
        last_schedule = translate_timestamp_since(status.get("lastScheduleTime"), now)
    time_zone = spec.get("timeZone")
    suspend = spec.get("suspend")
    return [
        name_of(cron_job),
        text(spec.get("schedule")),
        text(time_zone) if present(time_zone) else "<none>",
        go_bool_ptr(False if suspend is None else suspend),  # SetDefaults_CronJob
        len(seq(status.get("active"))),
        last_schedule,
        age(cron_job, now),
        names,
        images,
        format_label_selector(job_spec.get("selector")),
    ]


CRON_JOB = Printer(
    (
        NAME,
        column("Schedule", "string", doc("CronJobSpec.schedule")),
        column("Timezone", "string", doc("CronJobSpec.timeZone")),
        column("Suspend", "boolean", doc("CronJobSpec.suspend")),
        column("Active", "integer", doc("CronJobStatus.active")),
        column("Last Schedule", "string", doc("CronJobStatus.lastScheduleTime")),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ),
    cron_job_cells,
)

PRINTERS = {("batch", "jobs"): JOB, ("batch", "cronjobs"): CRON_JOB}
