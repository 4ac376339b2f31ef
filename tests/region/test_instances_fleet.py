"""Simulated instances as nodes of one fleet process per (cluster, zone).

`FleetFile` (what `openeks kube fleet` runs) follows a JSON list of node specs, starting
and stopping agents without restarting the others; `Fleets` (the instance controller's
side) writes those files and supervises one fleet process per cluster and zone, with one
region-signed identity per fleet. A real API server (API only) serves both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openeks.kube.client import Client, load_kubeconfig
from openeks.kube.client.resources import NODES
from openeks.kube.node.fleet import FleetFile
from openeks.region import Supervisor
from openeks.region.instances.fleets import Fleets, fleet_user
from openeks.region.process import ProcessState
from tests.support.apiserver import ApiServerProcess

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    with ApiServerProcess(tmp_path_factory.mktemp("fleet-api")) as server:
        yield server


@pytest.fixture
async def client(api: ApiServerProcess) -> AsyncIterator[Client]:
    async with Client(load_kubeconfig(api.kubeconfig)) as c:
        yield c


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


def _write(path: Path, specs: list[Obj]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(specs))
    tmp.replace(path)


def _running(data_dir: Path) -> list[str]:
    try:
        return list(json.loads((data_dir / "running.json").read_text())["running"])
    except (OSError, ValueError):
        return []


async def _nodes(client: Client, prefix: str) -> dict[str, Obj]:
    listed = await client.list(NODES)
    return {
        n["metadata"]["name"]: n
        for n in listed["items"]
        if n["metadata"]["name"].startswith(prefix)
    }


async def test_a_fleet_file_starts_and_stops_nodes_without_touching_the_others(
    api: ApiServerProcess, client: Client, tmp_path: Path
) -> None:
    nodes_file, data_dir = tmp_path / "nodes.json", tmp_path / "data"
    spec = {
        "name": "ff-a",
        "zone": "us-east-1a",
        "instanceType": "t3.medium",
        "labels": {"eks.amazonaws.com/nodegroup": "sim"},
        "taints": ["dedicated=a:NoSchedule", {"key": "gpu", "effect": "NoExecute"}],
        "maxPods": 11,
        "providerId": "aws:///us-east-1a/i-0123456789abcdef0",
    }
    _write(nodes_file, [spec, {"name": "ff-b", "zone": "us-east-1b"}])
    fleet = FleetFile(load_kubeconfig(api.kubeconfig), nodes_file, data_dir)
    task = asyncio.create_task(fleet.run())
    try:
        await eventually(lambda: _running(data_dir) == ["ff-a", "ff-b"])
        nodes = await _nodes(client, "ff-")
        a = nodes["ff-a"]
        assert a["metadata"]["labels"]["eks.amazonaws.com/nodegroup"] == "sim"
        assert a["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "t3.medium"
        assert a["status"]["capacity"]["pods"] == "11"
        assert a["spec"]["providerID"] == "aws:///us-east-1a/i-0123456789abcdef0"
        assert {(t["key"], t["effect"]) for t in a["spec"]["taints"]} == {
            ("dedicated", "NoSchedule"),
            ("gpu", "NoExecute"),
        }
        assert nodes["ff-b"]["metadata"]["labels"]["topology.kubernetes.io/zone"] == "us-east-1b"
        kept = fleet.fleet._agents["ff-a"]

        _write(nodes_file, [spec, {"name": "ff-c", "zone": "us-east-1c"}])
        await eventually(lambda: _running(data_dir) == ["ff-a", "ff-c"])
        assert fleet.fleet._agents["ff-a"] is kept and kept.ready.is_set()
        assert "ff-b" not in fleet.fleet._agents
        assert (await _nodes(client, "ff-"))["ff-c"]["spec"]["podCIDR"] != a["spec"]["podCIDR"]

        nodes_file.write_text("[not json")
        await asyncio.sleep(1.2)
        assert _running(data_dir) == ["ff-a", "ff-c"]  # a broken file changes nothing
        nodes_file.unlink()
        await eventually(lambda: _running(data_dir) == [])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for name in await _nodes(client, "ff-"):
            await client.delete(NODES, name)


@pytest.fixture
def region_dir(api: ApiServerProcess, workdir: Path) -> Path:
    """A region data directory whose cluster `sim` is the test's API server."""
    (workdir / "clusters").mkdir(parents=True)
    (workdir / "clusters" / "sim").symlink_to(api.data_dir)
    return workdir


async def _whoami(kubeconfig: Path) -> Obj:
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    async with Client(load_kubeconfig(kubeconfig)) as c:
        found: Obj = await c.request(
            "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review
        )
    return dict(found["status"]["userInfo"])


def _entry(name: str, zone: str) -> Obj:
    return {"name": name, "zone": zone, "instanceType": "t3.medium", "maxPods": 17}


async def test_simulated_instances_share_one_fleet_process_per_cluster_and_zone(
    region_dir: Path, supervisor: Supervisor, client: Client
) -> None:
    zone_a, zone_b = supervisor.zones[0], supervisor.zones[1]
    fleets = Fleets(supervisor, region_dir, supervisor.zones)
    await asyncio.gather(
        fleets.add("sim", zone_a, _entry("fl-a1", zone_a)),
        fleets.add("sim", zone_a, _entry("fl-a2", zone_a)),
        fleets.add("sim", zone_b, _entry("fl-b1", zone_b)),
    )
    processes = sorted(s.name for s in supervisor.statuses())
    assert processes == [f"fleets/sim/{zone_a}", f"fleets/sim/{zone_b}"]
    assert supervisor.spec(f"fleets/sim/{zone_a}").zone == zone_a
    await eventually(lambda: _nodes_ready(client, {"fl-a1", "fl-a2", "fl-b1"}), 30)
    directory = region_dir / "fleets" / "sim" / zone_a
    who = await _whoami(directory / "kubeconfig")
    assert who["username"] == fleet_user("sim", zone_a) == f"system:node:fleet-sim-{zone_a}"
    assert "system:nodes" in who["groups"]
    cidrs = {e["podCidr"] for e in json.loads((directory / "nodes.json").read_text())}
    assert len(cidrs) == 2

    await fleets.remove("sim", zone_a, "fl-a2")  # returns once the agent stopped
    assert "fl-a2" not in _running(directory / "data")
    assert fleets.holds("sim", zone_a, "fl-a1") and not fleets.holds("sim", zone_a, "fl-a2")

    await fleets.remove("sim", zone_b, "fl-b1")  # the last one: the fleet goes
    assert [s.name for s in supervisor.statuses()] == [f"fleets/sim/{zone_a}"]
    assert not (region_dir / "fleets" / "sim" / zone_b).exists()

    await supervisor.zone_down(zone_a)
    assert supervisor.status(f"fleets/sim/{zone_a}").state == ProcessState.ZONE_DOWN
    assert not fleets.is_running("sim", zone_a)
    await supervisor.zone_up(zone_a)
    await fleets.remove("sim", zone_a, "fl-a1")
    assert supervisor.statuses() == []
    for name in await _nodes(client, "fl-"):
        await client.delete(NODES, name)


async def _nodes_ready(client: Client, names: set[str]) -> bool:
    nodes = await _nodes(client, "fl-")
    ready = {
        n
        for n, node in nodes.items()
        if any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in node["status"].get("conditions", [])
        )
    }
    return names <= ready
