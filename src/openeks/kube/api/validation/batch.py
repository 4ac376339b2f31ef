"""Job and CronJob validation, as `pkg/apis/batch/validation`.

Jobs: non-negative counts, completion mode and pod replacement policy values, the
template (restart policy `OnFailure` or `Never`), a selector that matches the template's
labels, and on update the immutable completions, selector, completion mode and template.
Upstream's Job strategy generates the selector and `batch.kubernetes.io/controller-uid`
labels before validating; when neither the manifest nor the server supplied a selector
(`manualSelector` unset), the missing selector is not reported here.

CronJobs: the schedule must parse as robfig/cron's `ParseStandard` parses it (and may not
carry `TZ=`), a time zone must exist, history limits and starting deadline must be
non-negative, and the job template may not set a selector.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from openeks.kube.api import formats, labels
from openeks.kube.api.fielderrors import (
    FieldError,
    GoValue,
    Path,
    go_map,
    invalid,
    not_supported,
    required,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.cron import CronError, parse_standard
from openeks.kube.api.validation.meta import (
    FIELD_IMMUTABLE,
    label_selector_value,
    validate_label_selector,
    validate_nonnegative,
    validate_object_meta,
    validate_object_meta_update,
)
from openeks.kube.api.validation.pod import validate_pod_template_spec

Obj = dict[str, Any]

_COMPLETION_MODES = ["NonIndexed", "Indexed"]
_REPLACEMENT_POLICIES = ["TerminatingOrFailed", "Failed"]
_CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"]
_MAX_PARALLELISM_INDEXED = 100_000


def _validate_job_spec_common(spec: Obj, path: Path) -> list[FieldError]:
    """validateJobSpec: shared by Jobs and CronJob job templates."""
    errs: list[FieldError] = []
    for key in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ):
        value = a.i(spec, key)
        if value is not None:
            errs.extend(validate_nonnegative(value, path.child(key)))
    mode = spec.get("completionMode")
    if isinstance(mode, str):
        if mode not in _COMPLETION_MODES:
            errs.append(not_supported(path.child("completionMode"), mode, _COMPLETION_MODES))
        elif mode == "Indexed":
            if a.i(spec, "completions") is None:
                errs.append(required(path.child("completions"), "when completion mode is Indexed"))
            parallelism = a.i(spec, "parallelism")
            if parallelism is not None and parallelism > _MAX_PARALLELISM_INDEXED:
                errs.append(
                    invalid(
                        path.child("parallelism"),
                        parallelism,
                        f"must be less than or equal to {_MAX_PARALLELISM_INDEXED} when completion "
                        "mode is Indexed",
                    )
                )
    policy = spec.get("podReplacementPolicy")
    if isinstance(policy, str) and policy not in _REPLACEMENT_POLICIES:
        errs.append(
            not_supported(path.child("podReplacementPolicy"), policy, _REPLACEMENT_POLICIES)
        )
    template = a.d0(spec, "template")
    errs.extend(validate_pod_template_spec(template, path.child("template")))
    restart = a.s(a.d(template, "spec"), "restartPolicy")
    if restart not in ("OnFailure", "Never"):
        errs.append(
            not_supported(
                path.child("template", "spec", "restartPolicy"), restart, ["OnFailure", "Never"]
            )
        )
    return errs


def validate_job_spec(spec: Obj, path: Path) -> list[FieldError]:
    errs = _validate_job_spec_common(spec, path)
    raw = a.d(spec, "selector")
    if raw is None:
        if a.b(spec, "manualSelector"):
            errs.append(required(path.child("selector")))
        return errs
    errs.extend(validate_label_selector(raw, path.child("selector")))
    try:
        selector = labels.from_label_selector(raw)
    except labels.SelectorError:
        return errs
    template_meta = a.d(a.d(spec, "template"), "metadata")
    if not selector.matches(a.string_map(template_meta, "labels")):
        raw_labels = a.d(template_meta, "labels")
        shown = (
            GoValue(go_map(a.string_map(template_meta, "labels"), "string"))
            if raw_labels is not None
            else GoValue("map[string]string(nil)")
        )
        errs.append(
            invalid(
                path.child("template", "metadata", "labels"),
                shown,
                "`selector` does not match template `labels`",
            )
        )
    return errs


def validate_job(obj: Obj, old: Obj | None) -> list[FieldError]:
    meta, spec = a.d0(obj, "metadata"), a.d0(obj, "spec")
    spec_path = Path("spec")
    if old is None:
        errs = validate_object_meta(meta, True, formats.name_is_dns_subdomain)
    else:
        errs = validate_object_meta_update(meta, a.d0(old, "metadata"))
    errs.extend(validate_job_spec(spec, spec_path))
    completions = a.i(spec, "completions")
    if old is None and spec.get("completionMode") == "Indexed" and completions and completions > 0:
        hostname = f"{a.s(meta, 'name')}-{completions - 1}"
        if formats.is_dns1123_label(hostname):
            errs.append(
                invalid(
                    Path("metadata", "name"),
                    a.s(meta, "name"),
                    f"will not able to create pod with invalid DNS label: {hostname}",
                )
            )
    if old is not None:
        old_spec = a.d0(old, "spec")
        if spec.get("completions") != old_spec.get("completions"):
            errs.append(
                invalid(spec_path.child("completions"), spec.get("completions"), FIELD_IMMUTABLE)
            )
        if spec.get("selector") != old_spec.get("selector"):
            errs.append(
                invalid(
                    spec_path.child("selector"),
                    label_selector_value(a.d(spec, "selector")),
                    FIELD_IMMUTABLE,
                )
            )
        if spec.get("template") != old_spec.get("template"):
            errs.append(
                invalid(
                    spec_path.child("template"),
                    GoValue("core.PodTemplateSpec{...}"),
                    FIELD_IMMUTABLE,
                )
            )
        for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "successPolicy"):
            if spec.get(key) != old_spec.get(key):
                errs.append(invalid(spec_path.child(key), spec.get(key), FIELD_IMMUTABLE))
    return errs


def validate_cron_job_spec(spec: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    schedule = a.s(spec, "schedule")
    schedule_path = path.child("schedule")
    if not schedule:
        errs.append(required(schedule_path))
    else:
        try:
            parse_standard(schedule)
        except CronError as err:
            errs.append(invalid(schedule_path, schedule, str(err)))
        if "TZ" in schedule:
            errs.append(
                invalid(
                    schedule_path,
                    schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                )
            )
    time_zone = spec.get("timeZone")
    if isinstance(time_zone, str):
        errs.extend(_validate_time_zone(time_zone, path.child("timeZone")))
    deadline = a.i(spec, "startingDeadlineSeconds")
    if deadline is not None:
        errs.extend(validate_nonnegative(deadline, path.child("startingDeadlineSeconds")))
    concurrency = a.s(spec, "concurrencyPolicy")
    if not concurrency:
        errs.append(required(path.child("concurrencyPolicy")))
    elif concurrency not in _CONCURRENCY_POLICIES:
        errs.append(
            not_supported(path.child("concurrencyPolicy"), concurrency, _CONCURRENCY_POLICIES)
        )
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = a.i(spec, key)
        if value is not None:
            errs.extend(validate_nonnegative(value, path.child(key)))
    template_spec = a.d0(a.d(spec, "jobTemplate"), "spec")
    template_path = path.child("jobTemplate", "spec")
    errs.extend(_validate_job_spec_common(template_spec, template_path))
    if a.has(template_spec, "selector"):
        errs.append(
            invalid(
                template_path.child("selector"),
                label_selector_value(a.d(template_spec, "selector")),
                "`selector` will be auto-generated",
            )
        )
    if a.b(template_spec, "manualSelector"):
        errs.append(not_supported(template_path.child("manualSelector"), True, ["nil", "false"]))
    return errs


_TIME_ZONE_PART = re.compile(r"[A-Za-z\.\-_0-9+]{1,14}")


def _validate_time_zone(time_zone: str, path: Path) -> list[FieldError]:
    if not time_zone:
        return [invalid(path, time_zone, "timeZone must be nil or non-empty string")]
    unknown = f"unknown time zone {time_zone}"
    for part in time_zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TIME_ZONE_PART.fullmatch(part):
            return [invalid(path, time_zone, unknown)]
    errs: list[FieldError] = []
    if time_zone.lower() == "local":
        errs.append(
            invalid(
                path,
                time_zone,
                "timeZone must be an explicit time zone as defined in "
                "https://www.iana.org/time-zones",
            )
        )
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errs.append(invalid(path, time_zone, unknown))
    return errs


def validate_cron_job(obj: Obj, old: Obj | None) -> list[FieldError]:
    meta = a.d0(obj, "metadata")
    if old is None:
        errs = validate_object_meta(meta, True, formats.name_is_dns_subdomain)
        name = a.s(meta, "name")
        if len(name) > 52:
            errs.append(
                invalid(Path("metadata", "name"), name, "must be no more than 52 characters")
            )
    else:
        errs = validate_object_meta_update(meta, a.d0(old, "metadata"))
    errs.extend(validate_cron_job_spec(a.d0(obj, "spec"), Path("spec")))
    return errs
