"""Availability zones on one machine, and the addresses their processes listen on.

A `Region` ("us-east-1") has three availability zones named like AWS's (`us-east-1a`,
`us-east-1b`, `us-east-1c`) with AWS-style zone ids (`use1-az1`, `use1-az2`, `use1-az3`;
AWS shuffles the name → id mapping per account, we keep it in order).

Address plan. Linux routes all of 127.0.0.0/8 to the loopback interface, so every
address in it can be bound without configuring anything. A region takes four /16 blocks
starting at a configurable second octet N (default 100):

    127.N.0.0/16        region-wide: things that belong to no single zone (load balancers)
    127.(N+1).0.0/16    zone a  (zone id ...-az1)
    127.(N+2).0.0/16    zone b  (zone id ...-az2)
    127.(N+3).0.0/16    zone c  (zone id ...-az3)

so an address tells at a glance where it lives (127.102.0.3 is in zone b, as az2 is).
127.0.0.0/16 (where 127.0.0.1 lives) and 127.255.0.0/16 (the broadcast address) are never
used, hence 1 <= N and N + zones <= 254.

Allocation is per *owner*, like an EC2 instance's private IP: each owner (one process,
e.g. "clusters/prod/etcd/us-east-1a") gets its own address in its zone's block and any
number of named ports on it. Because addresses are not shared, an owner gets the port it
prefers (2379 for etcd, 6443 for an API server) unless something outside the region
already holds it; only then does the kernel pick one. Outgoing loopback connections take
127.0.0.1 as their source address, so ephemeral ports never collide with these listeners.

Allocations are persisted (`ipam.json` in the region's data directory) and handed back
unchanged to the same owner: etcd peer URLs and kubeconfigs written into a cluster must
stay valid across region restarts. An existing allocation is never re-tested or moved;
if its port was taken by a foreign process meanwhile, the owner's process fails to bind
and the supervisor reports it crashing, which is the honest outcome.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openeks.region.statefile import read_state, write_state

DEFAULT_OCTET = 100
"""Second octet of the region-wide block; zones follow at DEFAULT_OCTET + 1, + 2, + 3."""

_REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_PART_ABBREVIATIONS = {
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "central": "c",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
    "gov": "g",
    "iso": "i",
}


class UnknownZoneError(ValueError):
    """A zone name or id that is not one of the region's zones."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An (address, port) pair; `str()` gives "host:port"."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, scheme: str) -> str:
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def pair(self) -> tuple[str, int]:
        return (self.host, self.port)


@dataclass(frozen=True, slots=True)
class AvailabilityZone:
    name: str
    """AWS zone name: region name + letter, "us-east-1a"."""
    zone_id: str
    """AWS zone id: "use1-az1"."""
    index: int
    """1 for zone a, 2 for b, ..."""
    network: ipaddress.IPv4Network
    """The zone's loopback block, 127.(N+index).0.0/16."""


@dataclass(frozen=True, slots=True)
class Region:
    """A region's name, zones and address blocks (pure data; see the module docstring)."""

    name: str
    octet: int
    zones: tuple[AvailabilityZone, ...]
    network: ipaddress.IPv4Network
    """The region-wide block, 127.N.0.0/16."""

    @classmethod
    def create(cls, name: str, *, zone_count: int = 3, octet: int = DEFAULT_OCTET) -> Region:
        if not _REGION_NAME.match(name):
            raise ValueError(f"not a region name like us-east-1: {name!r}")
        if not 1 <= zone_count <= 6:
            raise ValueError("a region has between 1 and 6 availability zones")
        if not 1 <= octet <= 254 - zone_count:
            raise ValueError(
                f"octet must be in 1..{254 - zone_count} (127.0/16 and 127.255/16 are reserved)"
            )
        prefix = zone_id_prefix(name)
        zones = tuple(
            AvailabilityZone(
                name=f"{name}{'abcdef'[i - 1]}",
                zone_id=f"{prefix}-az{i}",
                index=i,
                network=_block(octet + i),
            )
            for i in range(1, zone_count + 1)
        )
        return cls(name=name, octet=octet, zones=zones, network=_block(octet))

    @property
    def zone_names(self) -> list[str]:
        return [z.name for z in self.zones]

    def zone(self, name_or_id: str) -> AvailabilityZone:
        """The zone called `name_or_id` ("us-east-1a" or "use1-az1")."""
        for zone in self.zones:
            if name_or_id in (zone.name, zone.zone_id):
                return zone
        raise UnknownZoneError(f"no availability zone {name_or_id!r} in {self.name}")

    def block(self, zone: str | None) -> ipaddress.IPv4Network:
        """The address block of `zone`, or the region-wide block for None."""
        return self.network if zone is None else self.zone(zone).network


def zone_id_prefix(region: str) -> str:
    """AWS's short region code: us-east-1 → use1, ap-southeast-2 → apse2, us-gov-west-1 → usgw1."""
    parts = region.split("-")
    middle = "".join(_PART_ABBREVIATIONS.get(p, p[:1]) for p in parts[1:-1])
    return f"{parts[0]}{middle}{parts[-1]}"


def _block(second_octet: int) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(f"127.{second_octet}.0.0/16")


def port_is_free(host: str, port: int) -> bool:
    """Whether a listener could bind (host, port) now (SO_REUSEADDR, as servers set it, so
    connections lingering in TIME_WAIT do not count as "in use")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _kernel_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Allocation:
    """One owner's address and named ports."""

    owner: str
    zone: str | None
    """Zone name, or None for the region-wide block."""
    address: str
    ports: Mapping[str, int] = field(default_factory=dict)

    def endpoint(self, port_name: str) -> Endpoint:
        return Endpoint(self.address, self.ports[port_name])

    def to_json(self) -> dict[str, Any]:
        return {"zone": self.zone, "address": self.address, "ports": dict(self.ports)}


class AddressAllocator:
    """Hands out per-owner addresses and ports in a region's blocks; persisted in `path`.

    Methods are synchronous (a bind test and a small file write) and thread-safe; the
    region service is the only writer of the file.
    """

    def __init__(self, region: Region, path: Path) -> None:
        self.region = region
        self.path = path
        self._lock = threading.Lock()
        self._allocations: dict[str, Allocation] = {}
        self._load()

    def allocate(self, owner: str, zone: str | None, ports: Mapping[str, int]) -> Allocation:
        """`owner`'s allocation in `zone` (None: region-wide), with at least the named
        `ports` (name → preferred port, 0 for any). Idempotent: an owner keeps its address
        and every port it was given; only missing port names are added."""
        if zone is not None:
            zone = self.region.zone(zone).name
        with self._lock:
            current = self._allocations.get(owner)
            if current is not None and current.zone != zone:
                raise ValueError(
                    f"{owner} has an address in {current.zone or self.region.name}, not {zone}"
                )
            address = current.address if current else self._free_address(zone)
            granted = dict(current.ports) if current else {}
            for name, preferred in ports.items():
                if name not in granted:
                    granted[name] = self._free_port(address, preferred, set(granted.values()))
            allocation = Allocation(owner=owner, zone=zone, address=address, ports=granted)
            if allocation != current:
                self._allocations[owner] = allocation
                self._save()
            return allocation

    def endpoint(
        self, owner: str, zone: str | None, port_name: str, preferred: int = 0
    ) -> Endpoint:
        """Shortcut for one named port of an owner."""
        return self.allocate(owner, zone, {port_name: preferred}).endpoint(port_name)

    def get(self, owner: str) -> Allocation | None:
        with self._lock:
            return self._allocations.get(owner)

    def allocations(self) -> list[Allocation]:
        with self._lock:
            return sorted(self._allocations.values(), key=lambda a: a.owner)

    def release(self, owner: str) -> bool:
        """Free an owner's address and ports; False when it had none."""
        with self._lock:
            if self._allocations.pop(owner, None) is None:
                return False
            self._save()
            return True

    def release_prefix(self, prefix: str) -> list[str]:
        """Free every owner whose name starts with `prefix` (a deleted cluster's processes)."""
        with self._lock:
            owners = [o for o in self._allocations if o.startswith(prefix)]
            for owner in owners:
                del self._allocations[owner]
            if owners:
                self._save()
            return owners

    # -- internals -------------------------------------------------------------------

    def _free_address(self, zone: str | None) -> str:
        used = {a.address for a in self._allocations.values()}
        for candidate in _host_addresses(self.region.block(zone)):
            if candidate not in used:
                return candidate
        raise RuntimeError(f"no free address left in {self.region.block(zone)}")

    @staticmethod
    def _free_port(address: str, preferred: int, taken: set[int]) -> int:
        if preferred and preferred not in taken and port_is_free(address, preferred):
            return preferred
        for _ in range(100):
            port = _kernel_port(address)
            if port not in taken:
                return port
        raise RuntimeError(f"no free port on {address}")

    def _load(self) -> None:
        document = read_state(self.path)
        if document is None:
            return
        expected = {"region": self.region.name, "octet": self.region.octet}
        found = {key: document.get(key) for key in expected}
        if found != expected:
            raise ValueError(f"{self.path} belongs to {found}, not {expected}")
        for owner, entry in document.get("allocations", {}).items():
            self._allocations[owner] = Allocation(
                owner=owner,
                zone=entry.get("zone"),
                address=str(entry["address"]),
                ports={str(k): int(v) for k, v in entry.get("ports", {}).items()},
            )

    def _save(self) -> None:
        document = {
            "version": 1,
            "region": self.region.name,
            "octet": self.region.octet,
            "allocations": {o: a.to_json() for o, a in sorted(self._allocations.items())},
        }
        write_state(self.path, document)


def _host_addresses(network: ipaddress.IPv4Network) -> Iterator[str]:
    """Addresses of a block in order, skipping those ending in .0 or .255 (readability:
    they look like network and broadcast addresses even where they are not)."""
    for address in network.hosts():
        last = int(address) & 0xFF
        if last not in (0, 255):
            yield str(address)
