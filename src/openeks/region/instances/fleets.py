"""Simulated instances of one cluster and zone share one fleet process.

A process per simulated instance does not scale to a thousand nodes, so the instance
controller hands simulated instances to a fleet instead: per (cluster, zone) one
supervised `openeks kube fleet` process in that zone (a zone fault takes its nodes down,
as it would take the instances) following a JSON file of node specs that this module
writes (`kube/node/fleet.py` reads it every half second and starts or stops agents
without touching the others). Directory `fleets/<cluster>/<zone>/` holds:

    nodes.json      the node specs (name, zone, instance type, labels, taints, max pods,
                    pod CIDR, address, provider id)
    kubeconfig      one region-signed certificate for `system:node:fleet-<cluster>-<zone>`
                    in `system:nodes`, which every node of the fleet uses (whether an
                    instance may join at all is still decided per instance)
    data/           the fleet's state; `data/running.json` lists its registered nodes
    fleet.log

Writes are batched: changes made within `FLUSH_DELAY` go to disk in one rewrite, so a
thousand instances joining at once cost a few writes, not a thousand. `remove` returns
once the fleet reports the node stopped (or the fleet is not running), so the Node can
be deleted without its agent registering it again. A fleet left without nodes is
stopped and its directory removed. Simulated pods take addresses from 100.64.0.0/10,
one /24 per node, a quarter of that range per zone, since a thousand nodes' pods would
not fit in the VPC's subnets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openeks.kube.apiserver.kubeconfig import issue_for
from openeks.kube.node.fleet import RUNNING_FILE, pod_cidr
from openeks.region.process import ProcessSpec, ProcessState
from openeks.region.supervisor import Supervisor, UnknownProcessError

Doc = dict[str, Any]
FLUSH_DELAY = 0.05
GONE_TIMEOUT = 15.0
SLOTS_PER_ZONE = 4096
LIVE = (ProcessState.STARTING, ProcessState.READY)


def fleet_user(cluster: str, zone: str) -> str:
    return f"system:node:fleet-{cluster}-{zone}"


@dataclass
class _Fleet:
    cluster: str
    zone: str
    directory: Path
    entries: dict[str, Doc]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    flush: asyncio.Task[None] | None = None
    retired: bool = False
    next_slot: int = 0
    """Where the search for a free pod CIDR starts (round-robin, as host-local IPAM)."""
    running: tuple[int, set[str]] = (0, set())
    """(mtime_ns of running.json, the names in it)."""

    @property
    def process(self) -> str:
        return f"fleets/{self.cluster}/{self.zone}"

    @property
    def nodes_file(self) -> Path:
        return self.directory / "nodes.json"


class Fleets:
    def __init__(self, supervisor: Supervisor, data_dir: Path, zones: list[str]) -> None:
        self.supervisor = supervisor
        self.data_dir = data_dir
        self.zones = list(zones)
        self._fleets: dict[tuple[str, str], _Fleet] = {}

    def _fleet(self, cluster: str, zone: str) -> _Fleet:
        key = (cluster, zone)
        if key not in self._fleets:
            directory = self.data_dir / "fleets" / cluster / zone
            self._fleets[key] = _Fleet(cluster, zone, directory, _load(directory / "nodes.json"))
        return self._fleets[key]

    def holds(self, cluster: str, zone: str, name: str) -> bool:
        return name in self._fleet(cluster, zone).entries

    def is_running(self, cluster: str, zone: str) -> bool:
        try:
            return self.supervisor.status(self._fleet(cluster, zone).process).state in LIVE
        except UnknownProcessError:
            return False

    async def add(self, cluster: str, zone: str, entry: Doc) -> None:
        """Put a node (`entry`: a `kube/node/fleet.NodeSpec` document without podCidr) in
        the fleet of (cluster, zone), and make sure that fleet runs."""
        while True:
            fleet = self._fleet(cluster, zone)
            async with fleet.lock:  # only to wait for a fleet being retired
                if fleet.retired:
                    continue
                current = fleet.entries.get(entry["name"])
                cidr = current["podCidr"] if current else self._pod_cidr(zone, fleet)
                entry = {**entry, "podCidr": cidr}
                fleet.entries[entry["name"]] = entry
                break
        if current != entry:
            await self._flush(fleet)
        await self.supervisor.ensure(self._spec(fleet))

    async def remove(self, cluster: str, zone: str, name: str) -> None:
        """Take a node out of its fleet; returns once its agent stopped."""
        fleet = self._fleet(cluster, zone)
        if fleet.entries.pop(name, None) is None:
            return
        await self._flush(fleet)
        deadline = time.monotonic() + GONE_TIMEOUT
        while self.is_running(cluster, zone) and time.monotonic() < deadline:
            if name not in self._running(fleet):
                break
            await asyncio.sleep(0.2)
        if not fleet.entries:
            async with fleet.lock:
                if not fleet.entries:
                    await self._retire(fleet)

    # -- internals -----------------------------------------------------------------------
    def _pod_cidr(self, zone: str, fleet: _Fleet) -> str:
        """The lowest free /24 of the zone's quarter of the fleet pod range (a zone
        fleet of 4,096 nodes is far beyond what one machine simulates)."""
        base = (self.zones.index(zone) % 4 if zone in self.zones else 0) * SLOTS_PER_ZONE
        taken = {e.get("podCidr") for e in fleet.entries.values()}
        while fleet.next_slot < SLOTS_PER_ZONE and pod_cidr(base + fleet.next_slot) in taken:
            fleet.next_slot += 1
        if fleet.next_slot >= SLOTS_PER_ZONE:
            fleet.next_slot = 0
            free = (i for i in range(SLOTS_PER_ZONE) if pod_cidr(base + i) not in taken)
            return pod_cidr(base + next(free, 0))
        fleet.next_slot += 1
        return pod_cidr(base + fleet.next_slot - 1)

    async def _flush(self, fleet: _Fleet) -> None:
        """Write the fleet's entries soon, together with other changes; wait for it."""
        if fleet.flush is None or fleet.flush.done():
            fleet.flush = asyncio.create_task(self._write_soon(fleet))
        await asyncio.shield(fleet.flush)

    async def _write_soon(self, fleet: _Fleet) -> None:
        await asyncio.sleep(FLUSH_DELAY)
        fleet.directory.mkdir(parents=True, exist_ok=True)
        listed = [fleet.entries[n] for n in sorted(fleet.entries)]
        tmp = fleet.nodes_file.with_name(".nodes.json.tmp")
        tmp.write_text(json.dumps(listed, indent=0))
        os.replace(tmp, fleet.nodes_file)

    def _running(self, fleet: _Fleet) -> set[str]:
        path = fleet.directory / "data" / RUNNING_FILE
        try:
            mtime = path.stat().st_mtime_ns
            if mtime != fleet.running[0]:
                fleet.running = (mtime, set(json.loads(path.read_text())["running"]))
        except (OSError, ValueError, KeyError):
            return set()
        return fleet.running[1]

    def _spec(self, fleet: _Fleet) -> ProcessSpec:
        kubeconfig = fleet.directory / "kubeconfig"
        if not kubeconfig.exists():
            cluster_dir = self.data_dir / "clusters" / fleet.cluster
            issue_for(
                cluster_dir, fleet_user(fleet.cluster, fleet.zone), ["system:nodes"], kubeconfig
            )
        argv = [
            sys.executable, "-m", "openeks.cli.main", "kube", "fleet",
            "--kubeconfig", str(kubeconfig),
            "--nodes", str(fleet.nodes_file),
            "--data-dir", str(fleet.directory / "data"),
        ]  # fmt: skip
        return ProcessSpec(
            name=fleet.process,
            zone=fleet.zone,
            argv=tuple(argv),
            log_file=fleet.directory / "fleet.log",
            cwd=fleet.directory,
            start_timeout=None,
            stop_grace=15.0,
            order=5,
        )

    async def _retire(self, fleet: _Fleet) -> None:
        """Stop an empty fleet and forget it."""
        fleet.retired = True
        with contextlib.suppress(UnknownProcessError):
            await self.supervisor.remove(fleet.process)
        if fleet.flush is not None:
            with contextlib.suppress(Exception):
                await fleet.flush
        shutil.rmtree(fleet.directory, ignore_errors=True)
        self._fleets.pop((fleet.cluster, fleet.zone), None)


def _load(path: Path) -> dict[str, Doc]:
    try:
        listed = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {e["name"]: e for e in listed if isinstance(e, dict) and "name" in e}
