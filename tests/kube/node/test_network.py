"""The pod network: bridge names, address allocation that survives restarts, and real
veth plumbing between network namespaces of two "nodes" on this machine.

Traffic only goes to pod addresses in namespaces these tests create; before sending any,
`assert_local_route` checks the kernel would deliver it over our bridge, so a broken
setup can never send packets for 10.x addresses out of the machine.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pyroute2 import AsyncIPRoute

from openeks.kube.node.network import NetworkError, PodNetwork, bridge_name, veth_name
from openeks.kube.node.runtime.mounts import create_namespaces, destroy_namespaces

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare"
)
BUSYBOX = "/bin/busybox"


def test_bridge_names_fit_in_an_interface_name() -> None:
    assert bridge_name("node-1") == "oe-node-1"
    long_name = bridge_name("ip-10-0-1-23.us-east-1.compute.internal")
    assert len(long_name) <= 15 and long_name.startswith("oe-ip-1-")
    assert long_name != bridge_name("ip-10-0-1-24.us-east-1.compute.internal")
    assert len(veth_name("ab" * 32)) <= 15


def test_addresses_are_handed_out_round_robin_and_persist(tmp_path: Path) -> None:
    network = PodNetwork("n1", "10.250.0.0/29", tmp_path)
    assert network.gateway == "10.250.0.1"
    first = [network.allocate(f"s{i}") for i in range(3)]
    assert first == ["10.250.0.2", "10.250.0.3", "10.250.0.4"]
    assert network.allocate("s1") == "10.250.0.3"  # the same sandbox keeps its address
    network.release("s0")
    restarted = PodNetwork("n1", "10.250.0.0/29", tmp_path)
    assert restarted.allocations() == {"10.250.0.3": "s1", "10.250.0.4": "s2"}
    assert restarted.allocate("s3") == "10.250.0.5"  # not the just-freed .2
    assert restarted.allocate("s4") == "10.250.0.6"
    assert restarted.allocate("s5") == "10.250.0.2"
    with pytest.raises(NetworkError, match="no free address"):
        restarted.allocate("s6")


def test_a_changed_cidr_keeps_only_addresses_inside_it(tmp_path: Path) -> None:
    PodNetwork("n1", "10.250.0.0/29", tmp_path).allocate("old")
    moved = PodNetwork("n1", "10.250.8.0/24", tmp_path)
    assert moved.allocations() == {}
    assert moved.allocate("new") == "10.250.8.2"


# -- real plumbing ------------------------------------------------------------------------


async def assert_local_route(ip: str, network: PodNetwork) -> None:
    async with AsyncIPRoute() as ipr:
        (bridge,) = await ipr.link_lookup(ifname=network.bridge)
        routes = await ipr.route("get", dst=ip)
        assert [r.get("RTA_OIF") for r in routes] == [bridge], f"{ip} is not on our bridge"


async def ping(ip: str, netns: str = "") -> bool:
    prefix = ["nsenter", f"--net={netns}"] if netns else []
    process = await asyncio.create_subprocess_exec(
        *prefix, BUSYBOX, "ping", "-c", "1", "-W", "2", ip,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await process.wait() == 0


class Node:
    """A PodNetwork plus the namespaces the test made for it."""

    def __init__(self, tmp: Path, cidr: str) -> None:
        self.name = f"t{secrets.token_hex(3)}"
        self.tmp = tmp / self.name
        self.network = PodNetwork(self.name, cidr, self.tmp / "network")
        self.pods: dict[str, str] = {}

    async def add_pod(self) -> tuple[str, str, str]:
        """(sandbox id, netns path, ip)."""
        sandbox_id = secrets.token_hex(32)
        netns = f"/run/netns/oet-{sandbox_id[:12]}"
        await create_namespaces(self.tmp / sandbox_id, netns, "pod", own_uts=False)
        self.pods[sandbox_id] = netns
        ip = await self.network.attach(sandbox_id, netns)
        return sandbox_id, netns, ip

    async def close(self) -> None:
        for sandbox_id, netns in self.pods.items():
            await self.network.detach(sandbox_id)
            destroy_namespaces(self.tmp / sandbox_id, netns)
        await self.network.teardown()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[list[Node]]:
    third = secrets.randbelow(200) + 20
    created = [Node(tmp_path, f"10.251.{third}.0/24"), Node(tmp_path, f"10.251.{third + 1}.0/24")]
    try:
        yield created
    finally:
        for node in created:
            await node.close()


@needs_root
async def test_pods_on_two_nodes_reach_each_other_and_the_host_reaches_them(
    nodes: list[Node],
) -> None:
    a, b = nodes
    _, netns_a, ip_a = await a.add_pod()
    _, netns_b, ip_b = await b.add_pod()
    assert ip_a.endswith(".2") and ip_b.endswith(".2") and ip_a != ip_b
    await assert_local_route(ip_a, a.network)
    await assert_local_route(ip_b, b.network)
    assert await ping(ip_a)
    assert await ping(ip_b)
    assert await ping(ip_b, netns=netns_a)
    assert await ping(ip_a, netns=netns_b)
    assert await ping("127.0.0.1", netns=netns_a)  # lo is up
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "1"


@needs_root
async def test_detach_removes_the_veth_and_frees_the_address(nodes: list[Node]) -> None:
    node = nodes[0]
    sandbox_id, _, ip = await node.add_pod()
    assert node.network.allocations() == {ip: sandbox_id}
    await node.network.detach(sandbox_id)
    assert node.network.allocations() == {}
    async with AsyncIPRoute() as ipr:
        assert await ipr.link_lookup(ifname=veth_name(sandbox_id)) == []
    await node.network.detach(sandbox_id)  # idempotent


@needs_root
async def test_cleanup_drops_addresses_and_veths_of_sandboxes_that_are_gone(
    nodes: list[Node],
) -> None:
    node = nodes[0]
    kept, _, kept_ip = await node.add_pod()
    gone, _, _ = await node.add_pod()
    node.network.allocate("never-plumbed")
    removed = await node.network.cleanup([kept])
    assert sorted(removed) == sorted([gone, "never-plumbed"])
    assert node.network.allocations() == {kept_ip: kept}
    async with AsyncIPRoute() as ipr:
        assert await ipr.link_lookup(ifname=veth_name(gone)) == []
        assert await ipr.link_lookup(ifname=veth_name(kept)) != []


@needs_root
async def test_the_node_ip_for_host_network_pods(tmp_path: Path) -> None:
    assert await PodNetwork("n", "10.251.0.0/24", tmp_path, node_ip="127.0.0.1").node_ip() == (
        "127.0.0.1"
    )
    detected = await PodNetwork("n", "10.251.0.0/24", tmp_path).node_ip()
    assert detected.count(".") == 3
