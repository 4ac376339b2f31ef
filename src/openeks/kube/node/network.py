"""The node's pod network: one Linux bridge, one pod CIDR, one veth pair per pod.

Each node agent owns a bridge (named after its node, at most 15 characters) carrying
the gateway address `.1` of the node's pod CIDR. A pod's network namespace gets the
`eth0` end of a veth pair with the next free address and a default route via the
gateway; the host end joins the bridge. Because every node agent on the machine puts
its gateway on a bridge in the host's namespace, the host has a connected route to
every node's CIDR: with IP forwarding on, pods of different nodes reach each other
through the host, and the host (probes, the API server's proxy) reaches every pod IP.
There is no NAT: pod traffic never leaves the machine.

Addresses are allocated like the `host-local` CNI plugin: round-robin after the last
one handed out (so a just-freed address is not reused at once), recorded in
`ipam.json` under the node's state directory under an exclusive `flock`, so a
restarted agent does not hand out a live pod's address. Netlink work goes through
pyroute2 (tested with 0.9; `pyroute2>=0.9,<0.10`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.exceptions import NetlinkError

_EEXIST = 17
_ENODEV = 19


class NetworkError(Exception):
    """The pod network could not be set up (no free address, netlink failure, ...)."""


def bridge_name(node_name: str) -> str:
    """`oe-<node>` when that fits in an interface name, else a hashed short form."""
    clean = re.sub(r"[^a-z0-9-]", "", node_name.lower())
    if clean == node_name and len(clean) <= 12:
        return f"oe-{clean}"
    digest = hashlib.sha256(node_name.encode()).hexdigest()
    return f"oe-{clean[:4]}-{digest[:7]}"


def veth_name(sandbox_id: str) -> str:
    """The host end of a pod's veth pair."""
    return f"oev{sandbox_id[:12]}"


class PodNetwork:
    """One node's bridge and address pool; see the module docstring."""

    def __init__(
        self,
        node_name: str,
        pod_cidr: str,
        state_dir: Path,
        node_ip: str = "",
        mtu: int = 1500,
    ) -> None:
        self.node_name = node_name
        self.cidr = ipaddress.ip_network(pod_cidr, strict=False)
        if self.cidr.version != 4 or self.cidr.num_addresses < 4:
            raise ValueError(f"pod CIDR {pod_cidr}: need an IPv4 network of /30 or larger")
        self.gateway = str(self.cidr.network_address + 1)
        self.bridge = bridge_name(node_name)
        self.state_dir = Path(state_dir)
        self.mtu = mtu
        self._node_ip = node_ip
        self._ready = False
        self._lock = asyncio.Lock()

    # -- the bridge ----------------------------------------------------------------------

    async def setup(self) -> None:
        """Create the bridge with the gateway address and enable forwarding; idempotent."""
        async with self._lock:
            if self._ready:
                return
            self.state_dir.mkdir(parents=True, exist_ok=True)
            async with AsyncIPRoute() as ipr:
                index = await self._ensure_bridge(ipr)
                await _ensure_address(ipr, index, self.gateway, self.cidr.prefixlen)
                await ipr.link("set", index=index, state="up")
            await asyncio.to_thread(enable_forwarding, self.bridge)
            self._ready = True

    async def _ensure_bridge(self, ipr: AsyncIPRoute) -> int:
        found = await ipr.link_lookup(ifname=self.bridge)
        if not found:
            with contextlib.suppress(NetlinkError):
                await ipr.link("add", ifname=self.bridge, kind="bridge", mtu=self.mtu)
            found = await ipr.link_lookup(ifname=self.bridge)
        if not found:
            raise NetworkError(f"could not create bridge {self.bridge}")
        return int(found[0])

    async def teardown(self) -> None:
        """Delete the bridge (tests, node removal); pods must be detached first."""
        async with AsyncIPRoute() as ipr:
            with contextlib.suppress(NetlinkError):
                await ipr.link("del", ifname=self.bridge)
        self._ready = False

    async def node_ip(self) -> str:
        """The address host-network pods get: the configured one, else the host's source
        address for its default route (asked of the kernel; no packet is sent)."""
        if self._node_ip:
            return self._node_ip
        async with AsyncIPRoute() as ipr:
            with contextlib.suppress(NetlinkError):
                for route in await _collect(await ipr.route("get", dst="198.51.100.1")):
                    source = route.get("RTA_PREFSRC")
                    if source:
                        self._node_ip = str(source)
                        return self._node_ip
        return "127.0.0.1"

    # -- pods ----------------------------------------------------------------------------

    async def attach(self, sandbox_id: str, netns_path: str) -> str:
        """Give the pod in `netns_path` an `eth0` on this node's bridge; returns its IP."""
        await self.setup()
        ip = self.allocate(sandbox_id)
        try:
            await self._plumb(sandbox_id, netns_path, ip)
        except BaseException:
            self.release(sandbox_id)
            with contextlib.suppress(NetlinkError):
                await self._delete_link(veth_name(sandbox_id))
            raise
        return ip

    async def _plumb(self, sandbox_id: str, netns_path: str, ip: str) -> None:
        host_end = veth_name(sandbox_id)
        try:
            async with AsyncIPRoute() as ipr:
                bridge = await self._ensure_bridge(ipr)
                peer = {"ifname": "eth0", "net_ns_fd": netns_path, "mtu": self.mtu}
                await ipr.link("add", ifname=host_end, kind="veth", mtu=self.mtu, peer=peer)
                (index,) = await ipr.link_lookup(ifname=host_end)
                await ipr.link("set", index=index, master=bridge, state="up")
            async with AsyncIPRoute(netns=netns_path) as pod:
                (lo,) = await pod.link_lookup(ifname="lo")
                await pod.link("set", index=lo, state="up")
                (eth0,) = await pod.link_lookup(ifname="eth0")
                await pod.addr("add", index=eth0, address=ip, prefixlen=self.cidr.prefixlen)
                await pod.link("set", index=eth0, state="up")
                await pod.route("add", dst="0.0.0.0/0", gateway=self.gateway)
        except (NetlinkError, ValueError, OSError) as exc:
            raise NetworkError(f"pod network for {sandbox_id[:12]}: {exc}") from exc

    async def detach(self, sandbox_id: str) -> None:
        """Remove the pod's veth pair and free its address; idempotent."""
        with contextlib.suppress(NetlinkError):
            await self._delete_link(veth_name(sandbox_id))
        self.release(sandbox_id)

    async def _delete_link(self, name: str) -> None:
        async with AsyncIPRoute() as ipr:
            try:
                await ipr.link("del", ifname=name)
            except NetlinkError as exc:
                if exc.code != _ENODEV:
                    raise

    async def cleanup(self, live_sandboxes: Iterable[str]) -> list[str]:
        """Detach every sandbox holding an address or a veth that is not in
        `live_sandboxes` (leftovers of a crash); returns the ids cleaned up."""
        live = set(live_sandboxes)
        stale = {sid for sid in self.allocations().values() if sid not in live}
        live_veths = {veth_name(sid) for sid in live}
        async with AsyncIPRoute() as ipr:
            bridge = await ipr.link_lookup(ifname=self.bridge)
            for link in await _collect(await ipr.get_links()) if bridge else []:
                name = str(link.get("IFLA_IFNAME"))
                mine = link.get("IFLA_MASTER") == bridge[0] and name.startswith("oev")
                if mine and name not in live_veths:
                    with contextlib.suppress(NetlinkError):
                        await ipr.link("del", index=link["index"])
        for sid in stale:
            self.release(sid)
        return sorted(stale)

    # -- addresses -----------------------------------------------------------------------

    def allocations(self) -> dict[str, str]:
        """IP → sandbox id of every address handed out."""
        with self._ipam() as state:
            return dict(state["allocations"])

    def ip_of(self, sandbox_id: str) -> str:
        return next((ip for ip, sid in self.allocations().items() if sid == sandbox_id), "")

    def allocate(self, sandbox_id: str) -> str:
        """The sandbox's address: the one it holds, else the next free one."""
        with self._ipam(write=True) as state:
            allocations: dict[str, str] = state["allocations"]
            for ip, owner in allocations.items():
                if owner == sandbox_id:
                    return ip
            hosts = [str(h) for h in self.cidr.hosts() if str(h) != self.gateway]
            start = hosts.index(state["last"]) + 1 if state.get("last") in hosts else 0
            for ip in hosts[start:] + hosts[:start]:
                if ip not in allocations:
                    allocations[ip] = sandbox_id
                    state["last"] = ip
                    return ip
        raise NetworkError(f"no free address in {self.cidr} for node {self.node_name}")

    def release(self, sandbox_id: str) -> None:
        """Free whatever address the sandbox holds."""
        with self._ipam(write=True) as state:
            allocations: dict[str, str] = state["allocations"]
            for ip in [ip for ip, owner in allocations.items() if owner == sandbox_id]:
                del allocations[ip]

    @contextlib.contextmanager
    def _ipam(self, write: bool = False) -> Iterator[dict[str, Any]]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.state_dir / "ipam.json"
        with open(self.state_dir / "ipam.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(path.read_text())
            except (FileNotFoundError, ValueError):
                state = {}
            if state.get("cidr") != str(self.cidr):
                kept = {
                    ip: sid
                    for ip, sid in (state.get("allocations") or {}).items()
                    if ipaddress.ip_address(ip) in self.cidr
                }
                state = {"cidr": str(self.cidr), "last": "", "allocations": kept}
            yield state
            if write:
                tmp = path.with_name(f".ipam.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
                os.replace(tmp, path)


async def _collect(result: Any) -> list[Any]:
    """pyroute2 answers dumps with a list or an async generator, depending on the call."""
    if hasattr(result, "__aiter__"):
        return [item async for item in result]
    return list(result)


async def _ensure_address(ipr: AsyncIPRoute, index: int, address: str, prefixlen: int) -> None:
    try:
        await ipr.addr("add", index=index, address=address, prefixlen=prefixlen)
    except NetlinkError as exc:
        if exc.code != _EEXIST:
            raise


def enable_forwarding(bridge: str) -> None:
    """IPv4 forwarding on, and make sure the FORWARD chain lets the bridge's traffic
    through when its policy drops (as Docker leaves it)."""
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    iptables = shutil.which("iptables")
    if not iptables:
        return
    listing = subprocess.run(
        [iptables, "-w", "-S", "FORWARD"], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0 or "-P FORWARD ACCEPT" in listing.stdout:
        return
    for direction in ("-i", "-o"):
        rule = ["FORWARD", direction, bridge, "-j", "ACCEPT"]
        check = subprocess.run([iptables, "-w", "-C", *rule], capture_output=True, check=False)
        if check.returncode != 0:
            subprocess.run([iptables, "-w", "-I", *rule], capture_output=True, check=False)
