"""Expectations and slow-start batches."""

from __future__ import annotations

import time

from openeks.kube.controllers.util.batch import slow_start_batch
from openeks.kube.controllers.util.expectations import Expectations


def test_expectations_are_met_when_every_creation_is_observed() -> None:
    exp = Expectations()
    assert exp.satisfied("ns/a")
    exp.expect_creations("ns/a", 2)
    assert not exp.satisfied("ns/a")
    exp.creation_observed("ns/a")
    assert not exp.satisfied("ns/a")
    exp.creation_observed("ns/a")
    assert exp.satisfied("ns/a")


def test_deletions_count_once_per_expected_pod() -> None:
    exp = Expectations()
    exp.expect_deletions("ns/a", ["ns/p1", "ns/p2"])
    exp.deletion_observed("ns/a", "ns/p1")
    exp.deletion_observed("ns/a", "ns/p1")  # marked for deletion, then deleted
    exp.deletion_observed("ns/a", "ns/other")
    assert exp.pending("ns/a") == (0, 1)
    exp.deletion_observed("ns/a", "ns/p2")
    assert exp.satisfied("ns/a")


def test_unmet_expectations_expire() -> None:
    exp = Expectations(timeout=0.01)
    exp.expect_creations("ns/a", 1)
    time.sleep(0.02)
    assert exp.satisfied("ns/a")


async def test_slow_start_doubles_batches_and_stops_after_a_failing_one() -> None:
    calls: list[int] = []

    async def create(i: int) -> None:
        calls.append(i)
        if i == 4:
            raise RuntimeError("quota")

    successes, error = await slow_start_batch(20, create)
    # Batches 1, 2, 4: the third holds call 4, so no fourth batch starts.
    assert sorted(calls) == list(range(7))
    assert successes == 6 and str(error) == "quota"


async def test_slow_start_runs_everything_when_nothing_fails() -> None:
    seen: list[int] = []

    async def create(i: int) -> None:
        seen.append(i)

    assert await slow_start_batch(5, create) == (5, None)
    assert sorted(seen) == [0, 1, 2, 3, 4]
