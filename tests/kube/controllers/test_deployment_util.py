"""Deployment rollout arithmetic, with upstream's own test cases
(`pkg/controller/deployment/util/deployment_util_test.go`, `sync_test.go`)."""

from __future__ import annotations

from typing import Any

import pytest

from openeks.kube.controllers.deployment import util
from openeks.kube.controllers.util.intstr import IntOrStringError, scaled_value

Obj = dict[str, Any]


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "want"),
    [
        ("0%", "0%", 0, (0, 1)),
        ("39%", "39%", 10, (4, 3)),
        (None, "39%", 10, (0, 3)),
        ("39%", None, 10, (4, 0)),
        (None, None, 10, (0, 1)),
        ("25%", "25%", 3, (1, 0)),
        ("25%", "25%", 10, (3, 2)),
        (2, 1, 10, (2, 1)),
    ],
)
def test_fenceposts_round_surge_up_and_unavailability_down(
    surge: Any, unavailable: Any, desired: int, want: tuple[int, int]
) -> None:
    assert util.resolve_fenceposts(surge, unavailable, desired) == want


@pytest.mark.parametrize(("surge", "unavailable"), [("oops", "39%"), ("55%", "urg"), ("5", "1")])
def test_fenceposts_refuse_what_is_neither_int_nor_percentage(surge: str, unavailable: str) -> None:
    with pytest.raises(IntOrStringError, match="invalid value for IntOrString"):
        util.resolve_fenceposts(surge, unavailable, 10)


def test_percentages_scale_as_go_float64_does() -> None:
    assert scaled_value("33%", 3, True) == 1
    assert scaled_value("33%", 3, False) == 0
    assert scaled_value("100%", 7, False) == 7
    assert scaled_value(5, 100, True) == 5


def deployment(
    replicas: int, surge: Any = 0, unavailable: Any = 0, strategy: str = "RollingUpdate"
) -> Obj:
    d: Obj = {"metadata": {"name": "foo", "generation": 1}, "spec": {"replicas": replicas}}
    if strategy == "RollingUpdate":
        d["spec"]["strategy"] = {
            "type": strategy,
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
        }
    else:
        d["spec"]["strategy"] = {"type": strategy}
    return d


def rs(name: str, replicas: int, created: str = "2020-01-01T00:00:00Z", **annotations: str) -> Obj:
    return {
        "metadata": {
            "name": name,
            "uid": name,
            "creationTimestamp": created,
            "annotations": annotations,
        },
        "spec": {"replicas": replicas},
    }


@pytest.mark.parametrize(
    ("strategy", "replicas", "new", "surge", "old", "want"),
    [
        ("RollingUpdate", 1, 2, 1, 5, 2),  # can not scale up: already past the surge
        ("RollingUpdate", 6, 2, 10, 5, 6),  # scale up to the deployment's replicas
        ("Recreate", 3, 1, 1, 1, 3),
    ],
)
def test_how_far_the_new_replica_set_may_grow(
    strategy: str, replicas: int, new: int, surge: int, old: int, want: int
) -> None:
    d = deployment(replicas, surge, 0, strategy)
    new_rs = rs("new", new)
    assert util.new_rs_new_replicas(d, [rs("old", old), new_rs], new_rs) == want


def test_max_unavailable_never_exceeds_replicas_and_is_zero_for_recreate() -> None:
    assert util.max_unavailable(deployment(2, 0, 5)) == 2
    assert util.max_unavailable(deployment(0, 0, 1)) == 0
    assert util.max_unavailable(deployment(3, strategy="Recreate")) == 0
    assert util.max_surge(deployment(3, "50%", 0)) == 2


def test_the_active_or_latest_replica_set() -> None:
    old = rs("old", 0, "2020-01-01T00:00:00Z")
    older = rs("older", 0, "2019-01-01T00:00:00Z")
    assert util.find_active_or_latest(None, [older, old]) is old
    assert util.find_active_or_latest(rs("new", 0), [old]) is not None
    assert util.find_active_or_latest(rs("new", 1), [rs("o", 1)]) is None
    active = rs("a", 2)
    assert util.find_active_or_latest(rs("new", 0), [active]) is active


def test_a_reused_replica_set_keeps_its_former_revisions() -> None:
    d = {
        "metadata": {"annotations": {"kubernetes.io/change-cause": "x", util.REVISION: "2"}},
        "spec": {"replicas": 3},
    }
    reused = rs("r", 0, **{util.REVISION: "1"})
    assert util.set_new_replica_set_annotations(d, reused, 3, exists=True)
    annotations = reused["metadata"]["annotations"]
    assert annotations[util.REVISION] == "3"
    assert annotations[util.REVISION_HISTORY] == "1"
    assert annotations["kubernetes.io/change-cause"] == "x"
    reused["metadata"]["annotations"][util.REVISION] = "3"
    assert util.set_new_replica_set_annotations(d, reused, 5, exists=True)
    assert annotations[util.REVISION_HISTORY] == "1,3"
    fresh = rs("f", 0)
    fresh["metadata"]["annotations"] = {}
    util.set_new_replica_set_annotations(deployment(4, "25%", 0), fresh, 1, exists=False)
    assert fresh["metadata"]["annotations"] == {
        util.REVISION: "1",
        util.DESIRED_REPLICAS: "4",
        util.MAX_REPLICAS: "5",
    }


def test_conditions_keep_their_transition_time_while_the_status_holds() -> None:
    status: Obj = {}
    first = util.new_condition("Available", "True", "A", "m")
    first["lastTransitionTime"] = "2020-01-01T00:00:00Z"
    util.set_condition(status, first)
    util.set_condition(status, util.new_condition("Available", "True", "B", "m2"))
    [condition] = status["conditions"]
    assert condition["reason"] == "B"
    assert condition["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    util.set_condition(status, util.new_condition("Available", "False", "C", "m3"))
    assert status["conditions"][0]["lastTransitionTime"] != "2020-01-01T00:00:00Z"
