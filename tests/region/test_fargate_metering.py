"""Fargate metering: per-second billing with a one-minute minimum, vCPU-seconds and
GB-seconds per namespace, and their cost at the us-east-1 rates."""

from __future__ import annotations

import datetime

import pytest

from openeks.region.fargate.metering import (
    US_EAST_1,
    Usage,
    billed_seconds,
    by_namespace,
    cost,
    finished,
    from_document,
    overall,
    usage_document,
)

T0 = datetime.datetime(2025, 1, 1, 10, 0, 0, tzinfo=datetime.UTC)


def run(seconds: float | None, vcpu: float = 0.25, gb: float = 0.5, ns: str = "web") -> Usage:
    end = None if seconds is None else T0 + datetime.timedelta(seconds=seconds)
    return Usage(ns, "pod", T0, end, vcpu, gb)


@pytest.mark.parametrize(
    ("seconds", "billed"),
    [(0, 60), (1, 60), (59.2, 60), (60, 60), (60.1, 61), (61, 61), (3600, 3600), (-5, 60)],
)
def test_runs_are_billed_per_second_with_a_one_minute_minimum(seconds: float, billed: int) -> None:
    assert billed_seconds(run(seconds), T0) == billed


def test_running_pods_count_until_now() -> None:
    assert billed_seconds(run(None), T0 + datetime.timedelta(seconds=90)) == 90


def test_cost_uses_the_published_us_east_1_rates() -> None:
    assert (US_EAST_1.vcpu_hour, US_EAST_1.gb_hour) == (0.04048, 0.004445)
    # One hour of 1 vCPU and 2 GB.
    assert cost(3600, 7200) == pytest.approx(0.04048 + 2 * 0.004445)


def test_usage_is_totalled_per_namespace() -> None:
    now = T0 + datetime.timedelta(hours=2)
    usages = [
        run(3600, vcpu=1, gb=2, ns="serverless"),
        run(30, vcpu=0.25, gb=0.5, ns="serverless"),
        run(None, vcpu=0.5, gb=1, ns="batch"),
    ]
    rows = by_namespace(usages, now)
    assert [r.namespace for r in rows] == ["batch", "serverless"]
    batch, serverless = rows
    assert (batch.pods, batch.running) == (1, 1)
    assert (batch.vcpu_seconds, batch.gb_seconds) == (3600, 7200)
    assert (serverless.pods, serverless.running) == (2, 0)
    assert serverless.vcpu_seconds == 3600 + 0.25 * 60
    assert serverless.gb_seconds == 7200 + 0.5 * 60
    assert serverless.cost == pytest.approx(cost(3615, 7230))
    total = overall(rows)
    assert (total.namespace, total.pods, total.running) == ("total", 3, 1)
    assert total.vcpu_seconds == batch.vcpu_seconds + serverless.vcpu_seconds
    assert total.cost == pytest.approx(batch.cost + serverless.cost)
    assert by_namespace([], now) == []


def test_usage_documents_round_trip() -> None:
    doc = usage_document("serverless", "web-1", T0, 0.25, 0.5)
    assert doc == {
        "namespace": "serverless",
        "pod": "web-1",
        "start": "2025-01-01T10:00:00+00:00",
        "end": None,
        "vcpu": 0.25,
        "memoryGb": 0.5,
    }
    assert from_document(doc) == Usage("serverless", "web-1", T0, None, 0.25, 0.5)
    done = finished(doc, T0 + datetime.timedelta(seconds=75))
    assert from_document(done).end == T0 + datetime.timedelta(seconds=75)
    assert finished(done, T0 + datetime.timedelta(hours=1))["end"] == done["end"]
    zulu = from_document({**doc, "start": "2025-01-01T10:00:00Z"})
    assert zulu.start == T0
