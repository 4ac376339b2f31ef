"""IP address management for subnets: instance addresses and aligned pod blocks.

Each subnet has one document `subnetips/<subnet-id>`: `{"cidr": "10.0.1.0/24", "used":
{"10.0.1.4": "eni-…", "10.0.1.16/28": "pods/i-…"}}`, a map from a single address or an
aligned CIDR block to the owner holding it. Every change is one compare-and-swap of
that document (`RegionState.mutate`), so concurrent allocations never hand out the
same address: a losing writer re-reads and picks again.

As in AWS, five addresses of every subnet are never handed out: the network address,
+1 (the VPC router), +2 (DNS), +3 (reserved for future use) and the broadcast address.
Addresses are given lowest first; blocks (`allocate_block`, the VPC CNI's prefix
delegation: a node gets a /28 or so for its pods) are aligned to their size and never
overlap a reserved or used address.

After each change the subnet document's `AvailableIpAddressCount` is rewritten from the
allocation document read inside the subnet's own compare-and-swap, so the last writer
always publishes the newest count (see `_publish_count`).

Deleting a subnet first closes its allocation document (`close_subnet`: refused while
anything is allocated), so no allocation can slip in between the check and the delete.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

from openeks.region.state import Exists, Missing, RegionState
from openeks.region.vpc import errors
from openeks.region.vpc.documents import SUBNET_IPS, SUBNETS, load_subnet
from openeks.region.vpc.errors import SubnetFullError

__all__ = [
    "SubnetFullError",
    "allocate_block",
    "allocate_ip",
    "allocate_ips",
    "available_count",
    "close_subnet",
    "forget_subnet",
    "holdings",
    "release",
]

Doc = dict[str, Any]
RESERVED_LOW = 4
"""Network address, router, DNS, future use."""
RESERVED_COUNT = 5


def _span(key: str) -> tuple[int, int]:
    network = ipaddress.IPv4Network(key)
    start = int(network.network_address)
    return start, start + network.num_addresses


def _taken(doc: Doc) -> list[tuple[int, int]]:
    """Sorted half-open ranges nobody may be given: reserved and used."""
    start, end = _span(doc["cidr"])
    spans = [(start, start + RESERVED_LOW), (end - 1, end)]
    spans += [_span(key) for key in doc.get("used") or {}]
    return sorted(spans)


def _first_fit(doc: Doc, size: int, count: int) -> list[int]:
    """The lowest `count` free starts of `size`-aligned runs of `size` addresses (fewer
    if the subnet has no more room)."""
    start, end = _span(doc["cidr"])
    found: list[int] = []
    cursor = start
    for low, high in [*_taken(doc), (end, end)]:
        candidate = -(-cursor // size) * size
        while len(found) < count and candidate + size <= low:
            found.append(candidate)
            cursor = candidate + size
            candidate = cursor
        if len(found) == count:
            break
        cursor = max(cursor, high)
    return found


def available_count(doc: Doc) -> int:
    """Free addresses: the subnet's size less AWS's five and everything handed out."""
    start, end = _span(doc["cidr"])
    used = sum(high - low for low, high in (_span(key) for key in doc.get("used") or {}))
    return max(0, end - start - RESERVED_COUNT - used)


def holdings(doc: Doc, owner: str) -> list[str]:
    """The addresses and blocks `owner` holds in this allocation document."""
    return [key for key, holder in (doc.get("used") or {}).items() if holder == owner]


async def _ensure(state: RegionState, subnet_id: str) -> None:
    """Create the allocation document of a subnet made before it (the default VPC's)."""
    if await state.get(SUBNET_IPS, subnet_id) is not None:
        return
    subnet = await load_subnet(state, subnet_id)
    with contextlib.suppress(Exists):
        await state.create(SUBNET_IPS, subnet_id, {"cidr": subnet.value["CidrBlock"], "used": {}})


async def _change(state: RegionState, subnet_id: str, change: Callable[[Doc], Doc]) -> Doc:
    await _ensure(state, subnet_id)

    def guarded(doc: Doc) -> Doc:
        if doc.get("closed"):
            raise errors.subnet_not_found(subnet_id)
        doc.setdefault("used", {})
        return change(doc)

    try:
        record = await state.mutate(SUBNET_IPS, subnet_id, guarded)
    except Missing:
        raise errors.subnet_not_found(subnet_id) from None
    await _publish_count(state, subnet_id)
    return record.value


async def _publish_count(state: RegionState, subnet_id: str) -> None:
    async def change(subnet: Doc) -> Doc:
        ips = await state.get(SUBNET_IPS, subnet_id)
        if ips is not None:
            subnet["AvailableIpAddressCount"] = available_count(ips.value)
        return subnet

    with contextlib.suppress(Missing):
        await state.mutate(SUBNETS, subnet_id, change)


async def allocate_ips(state: RegionState, subnet_id: str, owners: Sequence[str]) -> list[str]:
    """One address per owner (lowest free first), all in one write or none at all:
    `SubnetFullError` if they do not all fit. An owner that already holds a single
    address gets that one back."""
    result: list[str] = []

    def change(doc: Doc) -> Doc:
        used: dict[str, str] = doc["used"]
        held = {owner: key for key, owner in used.items() if "/" not in key}
        wanted = [owner for owner in owners if owner not in held]
        starts = _first_fit(doc, 1, len(wanted))
        if len(starts) < len(wanted):
            raise errors.subnet_full(subnet_id)
        fresh = dict(zip(wanted, (str(ipaddress.IPv4Address(s)) for s in starts), strict=True))
        for owner, address in fresh.items():
            used[address] = owner
        result[:] = [held.get(owner) or fresh[owner] for owner in owners]
        return doc

    if owners:
        await _change(state, subnet_id, change)
    return list(result)


async def allocate_ip(state: RegionState, subnet_id: str, owner: str) -> str:
    """The lowest free address of the subnet for `owner`; `SubnetFullError` if none."""
    return (await allocate_ips(state, subnet_id, [owner]))[0]


async def allocate_block(state: RegionState, subnet_id: str, prefix_len: int, owner: str) -> str:
    """An aligned free `/prefix_len` block of the subnet for `owner` (its existing one of
    that size if it holds one); `SubnetFullError` if none is free."""
    result: list[str] = []

    def change(doc: Doc) -> Doc:
        network = ipaddress.IPv4Network(doc["cidr"])
        if not network.prefixlen <= prefix_len <= 32:
            raise errors.invalid_value(
                f"Value ({prefix_len}) for parameter prefix length is invalid for subnet "
                f"{network}."  # (openeks wording)
            )
        used: dict[str, str] = doc["used"]
        for key in holdings(doc, owner):
            if key.endswith(f"/{prefix_len}"):
                result[:] = [key]
                return doc
        starts = _first_fit(doc, 2 ** (32 - prefix_len), 1)
        if not starts:
            raise errors.no_free_blocks(subnet_id)
        block = f"{ipaddress.IPv4Address(starts[0])}/{prefix_len}"
        used[block] = owner
        result[:] = [block]
        return doc

    await _change(state, subnet_id, change)
    return result[0]


async def release(state: RegionState, subnet_id: str, owner: str) -> None:
    """Free every address and block `owner` holds in the subnet (nothing if none)."""
    current = await state.get(SUBNET_IPS, subnet_id)
    if current is None or not holdings(current.value, owner):
        return

    def change(doc: Doc) -> Doc:
        doc["used"] = {k: v for k, v in doc["used"].items() if v != owner}
        return doc

    with contextlib.suppress(errors.Ec2Error):
        await _change(state, subnet_id, change)


async def close_subnet(state: RegionState, subnet_id: str) -> None:
    """Refuse further allocations, or raise DependencyViolation if anything is held."""
    await _ensure(state, subnet_id)

    def change(doc: Doc) -> Doc:
        if doc.get("used"):
            raise errors.subnet_has_dependencies(subnet_id)
        doc["closed"] = True
        return doc

    try:
        await state.mutate(SUBNET_IPS, subnet_id, change)
    except Missing:
        raise errors.subnet_not_found(subnet_id) from None


async def forget_subnet(state: RegionState, subnet_id: str) -> None:
    with contextlib.suppress(Missing):
        await state.delete(SUBNET_IPS, subnet_id)
