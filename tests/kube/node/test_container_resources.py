"""Container cgroup limits: the container's own, else the bound of a node sized to its pod."""

from __future__ import annotations

from openeks.kube.node.containers import runtime_resources


def test_a_containers_own_limits_are_used() -> None:
    spec = {"resources": {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "1"}}}
    res = runtime_resources(spec, {"cpu": "2", "memory": "4Gi"})
    assert (res.cpu_millis, res.memory_bytes, res.cpu_request_millis) == (500, 2**30, 1000)


def test_a_sized_node_bounds_containers_without_limits() -> None:
    spec = {"resources": {"limits": {"cpu": "250m"}}}
    res = runtime_resources(spec, {"cpu": "1", "memory": "2Gi"})
    assert (res.cpu_millis, res.memory_bytes) == (250, 2 * 2**30)


def test_without_a_bound_no_limit_means_unlimited() -> None:
    res = runtime_resources({})
    assert (res.cpu_millis, res.memory_bytes) == (0, 0)
