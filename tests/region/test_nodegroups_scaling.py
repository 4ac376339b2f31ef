"""Where a node group's new instances go, and which go first on scale-in."""

from __future__ import annotations

from typing import Any

from openeks.region.nodegroups import members as m

SUBNETS = {"subnet-a": "us-east-1a", "subnet-b": "us-east-1b", "subnet-c": "us-east-1c"}
GROUP = {"subnets": ["subnet-a", "subnet-b", "subnet-c"]}


def _member(subnet: str, launched: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "InstanceId": f"i-{subnet}-{launched}",
        "SubnetId": subnet,
        "Placement": {"AvailabilityZone": SUBNETS[subnet]},
        "LaunchTime": launched,
    }


def test_a_thousand_new_instances_spread_evenly_over_the_zones() -> None:
    assert m.spread(GROUP, [], SUBNETS, 1000) == {
        "subnet-a": 334,
        "subnet-b": 333,
        "subnet-c": 333,
    }


def test_new_instances_fill_the_emptiest_zones_first() -> None:
    members = [_member("subnet-a"), _member("subnet-a"), _member("subnet-b")]
    assert m.spread(GROUP, members, SUBNETS, 1) == {"subnet-c": 1}
    assert m.spread(GROUP, members, SUBNETS, 2) == {"subnet-c": 1, "subnet-b": 1}
    assert m.spread(GROUP, members, SUBNETS, 3) == {"subnet-c": 2, "subnet-b": 1}


def test_only_the_groups_subnets_are_used() -> None:
    assert m.spread({"subnets": ["subnet-b"]}, [], SUBNETS, 4) == {"subnet-b": 4}


def test_scale_in_takes_from_the_fullest_zone_newest_first() -> None:
    old, new = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
    members = [_member("subnet-a", old), _member("subnet-a", new), _member("subnet-b", old)]
    order = [i["InstanceId"] for i in m.scale_in_order(members)]
    assert order[0] == f"i-subnet-a-{new}" and sorted(order) == sorted(
        i["InstanceId"] for i in members
    )


def test_join_refusals_are_read_from_the_members() -> None:
    refused = {**_member("subnet-a"), "openeks": {"join": {"status": "refused", "reason": "no"}}}
    joined = {**_member("subnet-b"), "openeks": {"join": {"status": "joined"}}}
    assert m.refusals([refused, joined]) == {refused["InstanceId"]: "no"}
