"""Runc pods on VPC addresses are refused when the host's own routes cover the VPC."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from openeks.region.instances import hostnet
from openeks.region.instances.hostnet import Route, conflicts, host_routes

VPC = "172.31.0.0/16"
BLOCK = "172.31.0.32/27"


def _route(cidr: str, device: str) -> Route:
    return Route(ipaddress.IPv4Network(cidr), device)


def test_the_route_table_is_read_without_default_routes(tmp_path: Path) -> None:
    table = tmp_path / "route"
    table.write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        "oe-ip-1-9f244c5\t20001FAC\t00000000\t0001\t0\t0\t0\tE0FFFFFF\t0\t0\t0\n"
    )
    assert [str(r) for r in host_routes(table)] == [
        "192.0.2.0/24 dev eth0",
        "172.31.0.32/27 dev oe-ip-1-9f244c5",
    ]


def test_a_host_network_inside_the_vpc_range_is_a_conflict() -> None:
    routes = [_route("192.0.2.0/24", "eth0"), _route("172.31.200.0/24", "docker0")]
    assert conflicts(VPC, BLOCK, "oe-mine", routes) == [routes[1]]
    assert conflicts(VPC, BLOCK, "oe-mine", [_route("172.16.0.0/12", "wg0")])


def test_other_node_bridges_conflict_only_on_the_same_block() -> None:
    neighbours = [_route("172.31.16.32/27", "oe-ip-1-88439bb"), _route(BLOCK, "oe-mine")]
    assert conflicts(VPC, BLOCK, "oe-mine", neighbours) == []
    taken = [_route("172.31.0.32/28", "oe-other-region")]
    assert conflicts(VPC, BLOCK, "oe-mine", taken) == taken


def test_the_refusal_names_the_route_and_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostnet, "host_routes", lambda: [_route("172.31.0.0/16", "eth1")])
    assert hostnet.refusal(VPC, BLOCK, "oe-mine") == (
        "this host already routes addresses of the VPC's 172.31.0.0/16 (172.31.0.0/16 dev "
        "eth1); runc pods on 172.31.0.32/27 would take that traffic over, so the node is not "
        "started (use a VPC whose range the host does not use, or a simulated node group)"
    )
    monkeypatch.setattr(hostnet, "host_routes", lambda: [_route("10.0.0.0/8", "eth1")])
    assert hostnet.refusal(VPC, BLOCK, "oe-mine") is None
