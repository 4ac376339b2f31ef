"""The Job controller runs pods to completion, counts them, and gives up as told."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from openeks.kube.client import Client
from openeks.kube.client.resources import JOBS, PODS
from openeks.kube.controllers.base import Controller
from openeks.kube.controllers.common import jobutil as ju
from openeks.kube.controllers.common.jobtracking import clean_uncounted
from openeks.kube.controllers.job import JobController
from tests.kube.controllers.lifecycle_support import (  # noqa: F401
    FakeKubelet,
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
T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def test_completed_indexes_print_as_ranges() -> None:
    assert str(ju.Intervals.of([0, 1, 2, 4, 6, 7])) == "0-2,4,6-7"
    parsed = ju.Intervals.parse("0-2,4,9", completions=5)
    assert parsed.values() == {0, 1, 2, 4}
    assert parsed.total() == 4


def test_pod_failures_back_off_exponentially_from_the_last_failure() -> None:
    record = ju.BackoffRecord(failures_after_success=3, last_failure=T0)
    assert record.remaining(T0 + datetime.timedelta(seconds=5), 10, 600) == 35
    assert record.remaining(T0 + datetime.timedelta(seconds=50), 10, 600) == 0
    assert ju.BackoffRecord().remaining(T0, 10, 600) == 0


def test_an_indexed_pod_gets_its_index_hostname_and_tracking_finalizer() -> None:
    job = {
        "metadata": {"name": "j", "namespace": "ns", "uid": "u"},
        "spec": {
            "completionMode": "Indexed",
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    pod = ju.pod_for_job(job, 2)
    m = pod["metadata"]
    assert m["generateName"] == "j-2-"
    assert m["annotations"][ju.INDEX_KEY] == "2" and m["labels"][ju.INDEX_KEY] == "2"
    assert m["finalizers"] == [ju.TRACKING_FINALIZER]
    assert m["ownerReferences"][0]["controller"] is True
    assert pod["spec"]["hostname"] == "j-2"
    assert pod["spec"]["containers"][0]["env"][0]["name"] == "JOB_COMPLETION_INDEX"


def test_uncounted_pods_move_to_the_counters_once_their_finalizer_is_gone() -> None:
    status: Obj = {
        "succeeded": 1,
        "uncountedTerminatedPods": {"succeeded": ["a", "b"], "failed": ["c"]},
    }
    assert clean_uncounted(status, with_finalizer={"b"})
    assert status == {"succeeded": 2, "failed": 1, "uncountedTerminatedPods": {"succeeded": ["b"]}}
    assert not clean_uncounted(status, with_finalizer={"b"})


def test_a_success_policy_is_met_by_indexes_or_by_count() -> None:
    job: Obj = {
        "spec": {"completions": 5, "successPolicy": {"rules": [{"succeededIndexes": "0-1"}]}}
    }
    assert ju.success_policy_met(job, ju.Intervals.of([0])) is None
    assert ju.success_policy_met(job, ju.Intervals.of([0, 1])) == "Matched rules at index 0"
    job["spec"]["successPolicy"]["rules"] = [{"succeededIndexes": "0-3", "succeededCount": 2}]
    assert ju.success_policy_met(job, ju.Intervals.of([2, 4])) is None
    assert ju.success_policy_met(job, ju.Intervals.of([1, 3])) == "Matched rules at index 0"


def _job(name: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}],
                }
            },
            **spec,
        },
    }


def _fast(c: Controller) -> None:
    if isinstance(c, JobController):
        c.pod_failure_backoff = 0.2
        c.batch_period = 0.1


async def _condition(client: Client, ns: str, name: str, type_: str) -> Obj | None:
    job = await client.get(JOBS, name, ns)
    return ju.condition(job, type_) if ju.is_true(job, type_) else None


async def test_a_job_with_three_completions_two_at_a_time_completes(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    await client.create(JOBS, _job("work", completions=3, parallelism=2), ns)
    released = False

    def outcome(pod: Obj) -> str | None:
        return "Succeeded" if released else None

    async with (
        FakeKubelet(client, "job-node-1", outcome=outcome) as kubelet,
        controllers(api, "job", tune=_fast),
    ):
        await eventually(lambda: kubelet.peak == 2)
        job = await eventually(lambda: _status_with(client, ns, "work", active=2, ready=2))
        await asyncio.sleep(0.5)
        assert len((await client.list(PODS, ns))["items"]) == 2
        released = True
        for pod in (await client.list(PODS, ns))["items"]:
            kubelet.poke(pod)
        complete = await eventually(lambda: _condition(client, ns, "work", "Complete"), timeout=30)
        job = await client.get(JOBS, "work", ns)
    assert kubelet.peak == 2
    assert complete["reason"] == "CompletionsReached"
    status = job["status"]
    assert status["succeeded"] == 3
    assert status["completionTime"] and status["startTime"]
    assert status["uncountedTerminatedPods"] == {}
    assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    pods = (await client.list(PODS, ns))["items"]
    assert len(pods) == 3
    assert all(ju.TRACKING_FINALIZER not in (p["metadata"].get("finalizers") or ()) for p in pods)
    assert all(p["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "work" for p in pods)
    out = kubectl("get", "jobs", "-n", ns)
    assert "Complete" in out and "3/3" in out


async def _status_with(client: Client, ns: str, name: str, **want: int) -> Obj | None:
    job: Obj = await client.get(JOBS, name, ns)
    status = job.get("status") or {}
    return job if all(status.get(k) == v for k, v in want.items()) else None


async def test_a_failing_job_stops_at_its_backoff_limit(
    api: ApiServerProcess, client: Client, kubectl: Kubectl
) -> None:
    ns = await new_namespace(client)
    await client.create(JOBS, _job("doomed", backoffLimit=1), ns)
    async with (
        FakeKubelet(client, "job-node-2", outcome=lambda pod: "Failed"),
        controllers(api, "job", tune=_fast),
    ):
        failed = await eventually(lambda: _condition(client, ns, "doomed", "Failed"), timeout=30)
        job = await client.get(JOBS, "doomed", ns)
    assert failed["reason"] == "BackoffLimitExceeded"
    assert failed["message"] == "Job has reached the specified backoff limit"
    assert job["status"]["failed"] == 2
    assert [c["type"] for c in job["status"]["conditions"]] == ["FailureTarget", "Failed"]
    assert "Failed" in kubectl("get", "jobs", "-n", ns)


async def test_an_indexed_job_completes_each_index_once(
    api: ApiServerProcess, client: Client
) -> None:
    ns = await new_namespace(client)
    await client.create(
        JOBS, _job("idx", completions=3, parallelism=3, completionMode="Indexed"), ns
    )
    async with (
        FakeKubelet(client, "job-node-3", outcome=lambda pod: "Succeeded"),
        controllers(api, "job", tune=_fast),
    ):
        await eventually(lambda: _condition(client, ns, "idx", "Complete"), timeout=30)
    job = await client.get(JOBS, "idx", ns)
    assert job["status"]["completedIndexes"] == "0-2"
    pods = (await client.list(PODS, ns))["items"]
    assert sorted(p["metadata"]["annotations"][ju.INDEX_KEY] for p in pods) == ["0", "1", "2"]


async def test_an_active_deadline_fails_the_job_and_deletes_its_pods(
    api: ApiServerProcess, client: Client
) -> None:
    ns = await new_namespace(client)
    await client.create(JOBS, _job("slow", activeDeadlineSeconds=2), ns)
    async with FakeKubelet(client, "job-node-4"), controllers(api, "job", tune=_fast):
        failed = await eventually(lambda: _condition(client, ns, "slow", "Failed"), timeout=30)
        await eventually(lambda: _no_pods(client, ns), timeout=15)
    assert failed["reason"] == "DeadlineExceeded"


async def _no_pods(client: Client, ns: str) -> bool:
    return not (await client.list(PODS, ns))["items"]


async def test_a_suspended_job_creates_no_pods_until_resumed(
    api: ApiServerProcess, client: Client
) -> None:
    ns = await new_namespace(client)
    await client.create(JOBS, _job("later", suspend=True), ns)
    async with (
        FakeKubelet(client, "job-node-5", outcome=lambda pod: "Succeeded"),
        controllers(api, "job", tune=_fast),
    ):
        suspended = await eventually(lambda: _condition(client, ns, "later", "Suspended"))
        assert suspended["reason"] == "JobSuspended"
        await asyncio.sleep(0.5)
        assert await _no_pods(client, ns)
        await client.patch(JOBS, "later", {"spec": {"suspend": False}}, ns)
        await eventually(lambda: _condition(client, ns, "later", "Complete"), timeout=30)


async def test_a_job_with_a_manual_selector_adopts_matching_pods(
    api: ApiServerProcess, client: Client
) -> None:
    ns = await new_namespace(client)
    job = _job("manual", manualSelector=True, selector={"matchLabels": {"app": "manual"}})
    job["spec"]["template"]["metadata"] = {"labels": {"app": "manual"}}
    await client.create(JOBS, job, ns)
    async with (
        FakeKubelet(client, "job-node-6", outcome=lambda pod: "Succeeded"),
        controllers(api, "job", tune=_fast),
    ):
        await eventually(lambda: _condition(client, ns, "manual", "Complete"), timeout=30)


async def test_ttl_after_finished_deletes_the_job(api: ApiServerProcess, client: Client) -> None:
    ns = await new_namespace(client)
    await client.create(JOBS, _job("short-lived", ttlSecondsAfterFinished=1), ns)
    async with (
        FakeKubelet(client, "job-node-7", outcome=lambda pod: "Succeeded"),
        controllers(api, "job", "garbagecollector", tune=_fast),
    ):
        await eventually(lambda: _jobs_gone(client, ns), timeout=30)
        await eventually(lambda: _no_pods(client, ns))


async def _jobs_gone(client: Client, ns: str) -> bool:
    return not (await client.list(JOBS, ns))["items"]
