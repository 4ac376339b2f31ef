"""The CronJob controller creates Jobs on schedule and keeps the history short."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from openeks.kube.api import meta
from openeks.kube.client import Client
from openeks.kube.client.resources import CRONJOBS, JOBS
from openeks.kube.controllers.base import Controller
from openeks.kube.controllers.common import cron
from openeks.kube.controllers.cronjob import CronJobController, job_from_template, job_name
from tests.kube.controllers.lifecycle_support import (  # noqa: F401
    api_fixture,
    client_fixture,
    controllers,
    eventually,
    kubectl_fixture,
    new_namespace,
)
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl

Obj = dict[str, Any]
UTC = datetime.UTC


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        ("* * * * *", "2024-01-01 10:00:30", "2024-01-01 10:01:00"),
        ("*/15 * * * *", "2024-01-01 10:01:00", "2024-01-01 10:15:00"),
        ("0 9 * * 1-5", "2024-01-05 10:00:00", "2024-01-08 09:00:00"),
        ("@hourly", "2024-01-01 10:00:00", "2024-01-01 11:00:00"),
        ("@daily", "2024-01-01 10:00:00", "2024-01-02 00:00:00"),
        ("@monthly", "2024-01-15 00:00:00", "2024-02-01 00:00:00"),
        ("0 0 29 2 *", "2024-03-01 00:00:00", "2028-02-29 00:00:00"),
        ("0 0 13 * FRI", "2024-01-01 00:00:00", "2024-01-05 00:00:00"),
        ("TZ=Europe/Paris 30 8 * * *", "2024-01-01 00:00:00", "2024-01-01 07:30:00"),
        ("TZ=America/New_York 0 2 * * *", "2024-07-01 00:00:00", "2024-07-01 06:00:00"),
    ],
)
def test_next_run_times_match_robfig_cron(spec: str, after: str, expected: str) -> None:
    assert cron.parse(spec).next(at(after)) == at(expected)


def test_a_bad_schedule_reports_the_parsers_message() -> None:
    with pytest.raises(cron.CronError, match="expected exactly 5 fields"):
        cron.parse("* * *")


def test_the_most_recent_missed_time_is_found_and_counted() -> None:
    schedule = cron.parse("*/5 * * * *")
    _, recent, missed = cron.most_recent_schedule_time(
        at("2024-01-01 09:00:00"), at("2024-01-01 10:02:00"), schedule
    )
    assert recent == at("2024-01-01 10:00:00")
    assert missed == 12
    _, recent, _ = cron.most_recent_schedule_time(
        at("2024-01-01 09:00:00"), at("2024-01-01 10:02:00"), schedule, 60
    )
    assert recent is None


def test_job_names_are_the_scheduled_time_in_minutes() -> None:
    cronjob = {
        "metadata": {"name": "tick", "namespace": "ns", "uid": "u"},
        "spec": {
            "schedule": "* * * * *",
            "timeZone": "Europe/Paris",
            "jobTemplate": {"metadata": {"labels": {"a": "b"}}, "spec": {"template": {}}},
        },
    }
    scheduled = at("2024-01-01 10:00:00")
    assert job_name(cronjob, scheduled) == "tick-28401720"
    job = job_from_template(cronjob, scheduled)
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == (
        "2024-01-01T11:00:00+01:00"
    )
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert job["metadata"]["labels"] == {"a": "b"}


def _cronjob(name: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox"}],
                        }
                    }
                }
            },
            **spec,
        },
    }


def _ahead(seconds: float) -> Any:
    def tune(c: Controller) -> None:
        if isinstance(c, CronJobController):
            c.now = lambda: meta.now() + datetime.timedelta(seconds=seconds)

    return tune


async def test_an_every_minute_cronjob_creates_a_job(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    async with controllers(api, "cronjob", tune=_ahead(65)):
        cj = await client.create(CRONJOBS, _cronjob("tick"), ns)
        jobs = await eventually(lambda: _jobs(client, ns))
        status = await eventually(lambda: _status_with(client, ns, "tick", "active"))
        scheduled = meta.parse_time(status["lastScheduleTime"])
        assert scheduled.second == 0
        assert scheduled > meta.parse_time(cj["metadata"]["creationTimestamp"])
        assert [j["metadata"]["name"] for j in jobs] == [f"tick-{int(scheduled.timestamp()) // 60}"]
        assert status["active"][0]["name"] == jobs[0]["metadata"]["name"]
        assert "tick" in kubectl("get", "cronjobs", "-n", ns)


async def test_forbid_skips_a_run_while_one_is_active(
    api: ApiServerProcess, client: Client
) -> None:
    ns = await new_namespace(client)
    async with controllers(api, "cronjob", tune=_ahead(65)) as manager:
        await client.create(CRONJOBS, _cronjob("solo", concurrencyPolicy="Forbid"), ns)
        await eventually(lambda: _jobs(client, ns))
        for c in manager.controllers:
            _ahead(125)(c)
            c.enqueue(f"{ns}/solo")
        await eventually(lambda: _events(client, ns, "JobAlreadyActive"))
        assert len(await _jobs(client, ns)) == 1


async def test_kubectl_create_job_from_a_cronjob(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    await client.create(CRONJOBS, _cronjob("manual", suspend=True), ns)
    kubectl("create", "job", "once", "--from=cronjob/manual", "-n", ns)
    job = await client.get(JOBS, "once", ns)
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"


async def _jobs(client: Client, ns: str) -> list[Obj]:
    return list((await client.list(JOBS, ns))["items"])


async def _status_with(client: Client, ns: str, name: str, field: str) -> Obj | None:
    status = (await client.get(CRONJOBS, name, ns)).get("status") or {}
    return status if status.get(field) else None


async def _events(client: Client, ns: str, reason: str) -> bool:
    from openeks.kube.client.resources import EVENTS

    return any(e.get("reason") == reason for e in (await client.list(EVENTS, ns))["items"])
