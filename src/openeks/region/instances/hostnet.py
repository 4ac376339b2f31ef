"""Whether runc pods on a VPC's addresses can live on this host without breaking it.

A runc node puts the gateway of its pod block (an aligned block of its subnet, say
172.31.0.32/27) on a bridge in the host's network namespace, which gives the host a
connected route to that block. If the host already routes part of the VPC's range itself
(a LAN, a VPN or Docker network on 172.31.0.0/16), the more specific bridge route would
silently steal the host's traffic to those addresses; and a block another region's node
already has a bridge for would take over that node's pods. Both are refused before
anything is set up, with a reason naming the route (`conflicts`).

Routes come from `/proc/net/route` (the main IPv4 table). Default routes cover
everything and are no conflict; our own node bridges (`oe-…`) are expected to cover
blocks of the VPC and conflict only when they overlap the very block asked for.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

ROUTES = Path("/proc/net/route")
BRIDGE_PREFIX = "oe-"


@dataclass(frozen=True)
class Route:
    network: ipaddress.IPv4Network
    device: str

    def __str__(self) -> str:
        return f"{self.network} dev {self.device}"


def _address(hex_le: str) -> str:
    return socket.inet_ntoa(struct.pack("<I", int(hex_le, 16)))


def host_routes(table: Path = ROUTES) -> list[Route]:
    """The host's IPv4 routes, default routes left out."""
    try:
        lines = table.read_text().splitlines()[1:]
    except OSError:
        return []
    routes = []
    for line in lines:
        fields = line.split()
        if len(fields) < 8 or int(fields[7], 16) == 0:
            continue
        network = ipaddress.IPv4Network(
            f"{_address(fields[1])}/{_address(fields[7])}", strict=False
        )
        routes.append(Route(network, fields[0]))
    return routes


def conflicts(
    vpc_cidr: str, block: str, own_bridge: str, routes: list[Route] | None = None
) -> list[Route]:
    """Routes that forbid putting `block` (of the VPC `vpc_cidr`) on `own_bridge`."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    pods = ipaddress.IPv4Network(block)
    found = []
    for route in host_routes() if routes is None else routes:
        if route.device == own_bridge:
            continue
        if route.device.startswith(BRIDGE_PREFIX):
            if route.network.overlaps(pods):
                found.append(route)
        elif route.network.overlaps(vpc):
            found.append(route)
    return found


def refusal(vpc_cidr: str, block: str, own_bridge: str) -> str | None:
    """Why runc pods on `block` would break this host, or None when they would not."""
    found = conflicts(vpc_cidr, block, own_bridge)
    if not found:
        return None
    listed = ", ".join(str(r) for r in found)
    return (
        f"this host already routes addresses of the VPC's {vpc_cidr} ({listed}); "
        f"runc pods on {block} would take that traffic over, so the node is not started "
        "(use a VPC whose range the host does not use, or a simulated node group)"
    )
