"""Many simulated nodes in one process, for scale tests and capacity planning.

Each node is a full `NodeAgent` on its own `SimulatedRuntime` (its own pod CIDR, by
default one /24 of 100.64.0.0/10 per node), its own Node, Lease and pod watch — so the
control plane sees exactly the load of that many kubelets — but they share one HTTP
client (connection pool without a cap: every node holds a pod watch), one Service
informer and one Node informer, and run no HTTPS server. Lease renewals and status
reports start at random points of their interval so the API server sees a steady
trickle instead of bursts; pods are re-synced every ten minutes instead of every
minute, since simulated containers only change when told to. Registration is limited
to `REGISTER_CONCURRENCY` nodes at a time.

Membership can change while the fleet runs (`Fleet.add`, `Fleet.remove`): an agent
starts or stops without disturbing the others. `run_fleet_file` (what `openeks kube
fleet` runs) keeps the fleet equal to a JSON list of node specs (`NodeSpec`), polling
the file's modification time every `FILE_POLL` seconds, and writes the names of its
registered nodes to `running.json` in its data directory after every change, so
whoever edits the list can tell when a node is gone. The region's instance controller
writes one such file per (cluster, zone) for its simulated instances.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openeks.kube.client.config import ClientConfig
from openeks.kube.client.informer import Informer
from openeks.kube.client.resources import NODES, SERVICES
from openeks.kube.client.rest import Client
from openeks.kube.node.agent import NodeAgent, kubelet_identity
from openeks.kube.node.config import NodeConfig, parse_taint, validate_node_labels
from openeks.kube.node.registration import SIMULATED_LABEL
from openeks.kube.node.runtime.simulated import SimulatedRuntime

log = logging.getLogger(__name__)

FLEET_POD_NETWORK = ipaddress.ip_network("100.64.0.0/10")
REGISTER_CONCURRENCY = 50
FLEET_RESYNC = 600.0
FILE_POLL = 0.5
RUNNING_FILE = "running.json"


def pod_cidr(index: int) -> str:
    """The /24 of the index-th node of a fleet."""
    base = int(FLEET_POD_NETWORK.network_address) + index * 256
    return f"{ipaddress.ip_address(base)}/24"


def _config(client: ClientConfig, name: str, data_dir: Path, **values: Any) -> NodeConfig:
    return NodeConfig(
        client=client,
        name=name,
        runtime="simulated",
        data_dir=Path(data_dir) / name,
        serve=False,
        resync_interval=FLEET_RESYNC,
        start_jitter=10.0,
        node_events=False,
        **values,
    )


def fleet_configs(
    client_config: ClientConfig,
    names: list[str],
    zones: list[str],
    instance_type: str,
    data_dir: Path,
) -> list[NodeConfig]:
    """One simulated NodeConfig per name, zones assigned round-robin."""
    return [
        _config(
            client_config,
            name,
            data_dir,
            zone=zones[i % len(zones)] if zones else "",
            instance_type=instance_type,
            pod_cidr=pod_cidr(i),
        )
        for i, name in enumerate(names)
    ]


@dataclass(frozen=True)
class NodeSpec:
    """One node of a fleet file: `{"name", "zone", "instanceType", "labels", "taints",
    "maxPods", "podCidr", "address", "providerId"}`; only `name` is required. Taints are
    kubelet's `key=value:Effect` strings or `{key, value, effect}` objects."""

    name: str
    zone: str = ""
    instance_type: str = "m5.large"
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[tuple[str, str, str], ...] = ()
    max_pods: int | None = None
    pod_cidr: str = ""
    address: str = "127.0.0.1"
    provider_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> NodeSpec:
        labels = {str(k): str(v) for k, v in (doc.get("labels") or {}).items()}
        validate_node_labels(labels)
        taints = []
        for taint in doc.get("taints") or ():
            t = parse_taint(taint) if isinstance(taint, str) else dict(taint)
            taints.append((str(t["key"]), str(t.get("value") or ""), str(t["effect"])))
        max_pods = doc.get("maxPods")
        return cls(
            name=str(doc["name"]),
            zone=str(doc.get("zone") or ""),
            instance_type=str(doc.get("instanceType") or "m5.large"),
            labels=tuple(sorted(labels.items())),
            taints=tuple(taints),
            max_pods=int(max_pods) if max_pods is not None else None,
            pod_cidr=str(doc.get("podCidr") or ""),
            address=str(doc.get("address") or "127.0.0.1"),
            provider_id=str(doc.get("providerId") or ""),
        )

    def config(self, client: ClientConfig, data_dir: Path, index: int) -> NodeConfig:
        """The agent's settings; `index` picks a pod CIDR when the spec names none."""
        taints = [{"key": k, "effect": e, **({"value": v} if v else {})} for k, v, e in self.taints]
        return _config(
            client,
            self.name,
            data_dir,
            zone=self.zone,
            instance_type=self.instance_type,
            labels=dict(self.labels),
            taints=taints,
            max_pods=self.max_pods,
            pod_cidr=self.pod_cidr or pod_cidr(index),
            address=self.address,
            provider_id=self.provider_id,
        )


class Fleet:
    """Start, hold and stop the agents of a fleet (`run_fleet` for the simple case)."""

    def __init__(self, configs: list[NodeConfig], client: ClientConfig | None = None) -> None:
        first = client or (configs[0].client if configs else ClientConfig("http://127.0.0.1"))
        self.client = Client(kubelet_identity(first), connections=0)
        self.services = Informer(self.client, SERVICES)
        self.nodes = Informer(self.client, NODES, label_selector=f"{SIMULATED_LABEL}=true")
        self._agents: dict[str, NodeAgent] = {}
        self._starting: dict[str, asyncio.Task[None]] = {}
        self._gate = asyncio.Semaphore(REGISTER_CONCURRENCY)
        self._pending = list(configs)
        self.nodes.on(update=lambda old, new: _poke(self._agents, new))

    @property
    def agents(self) -> list[NodeAgent]:
        return list(self._agents.values())

    def ready_names(self) -> list[str]:
        """Nodes whose agent has registered and runs."""
        return sorted(n for n, a in self._agents.items() if a.ready.is_set())

    async def start(self) -> None:
        """Start every agent given at construction; returns when all have registered and
        listed their pods."""
        self.services.start()
        self.nodes.start()
        configs, self._pending = self._pending, []
        await self.add(configs)

    async def add(self, configs: list[NodeConfig]) -> None:
        """Start agents for `configs` (names not yet in the fleet); returns once they run."""
        tasks = [self._spawn(c) for c in configs if c.name not in self._agents]
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, config: NodeConfig) -> asyncio.Task[None]:
        agent = NodeAgent(
            config,
            SimulatedRuntime(config.pod_cidr),
            client=self.client,
            services=self.services,
            nodes=self.nodes,
        )
        self._agents[config.name] = agent

        async def start() -> None:
            async with self._gate:
                await agent.start()

        task = asyncio.create_task(start(), name=f"fleet-start-{config.name}")
        self._starting[config.name] = task
        task.add_done_callback(lambda _: self._starting.pop(config.name, None))
        return task

    async def remove(self, names: list[str]) -> None:
        """Stop the agents of `names` (a start still under way is cancelled)."""

        async def one(name: str) -> None:
            agent = self._agents.pop(name, None)
            task = self._starting.pop(name, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if agent is not None:
                await agent.stop()

        await asyncio.gather(*(one(n) for n in names), return_exceptions=True)

    async def wait(self) -> None:
        """The agents run in their own tasks; wait here until cancelled."""
        await asyncio.Event().wait()

    async def stop(self) -> None:
        await self.remove(list(self._agents))
        await self.services.stop()
        await self.nodes.stop()
        await self.client.close()


def _poke(agents: dict[str, NodeAgent], node: dict[str, object]) -> None:
    meta = node.get("metadata")
    agent = agents.get(str(meta.get("name"))) if isinstance(meta, dict) else None
    if agent is not None:
        agent.poke_status()


async def run_fleet(
    client_config: ClientConfig,
    names: list[str],
    zones: list[str],
    instance_type: str,
    data_dir: Path,
) -> None:
    """Run len(names) simulated nodes in this event loop until cancelled."""
    fleet = Fleet(fleet_configs(client_config, names, zones, instance_type, data_dir))
    try:
        await fleet.start()
        log.info("fleet of %d simulated nodes is up", len(names))
        await fleet.wait()
    finally:
        await fleet.stop()


class FleetFile:
    """Keep a fleet equal to the node specs of a JSON file; see the module docstring."""

    def __init__(self, client: ClientConfig, nodes_file: Path, data_dir: Path) -> None:
        self.nodes_file = Path(nodes_file)
        self.data_dir = Path(data_dir)
        self.fleet = Fleet([], client)
        self.client = client
        self.specs: dict[str, NodeSpec] = {}
        self.indexes: dict[str, int] = {}
        self._seen: tuple[int, int, int] | None = None
        self._reported: list[str] | None = None
        self._adding: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Follow the file until cancelled; every agent is stopped on the way out."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await self.fleet.start()
        try:
            while True:
                await self.poll()
                await asyncio.sleep(FILE_POLL)
        finally:
            for task in self._adding:
                task.cancel()
            await self.fleet.stop()
            self._report([])

    async def poll(self) -> None:
        specs = self._read()
        if specs is not None:
            await self._apply(specs)
        ready = self.fleet.ready_names()
        if ready != self._reported:
            self._report(ready)

    def _read(self) -> dict[str, NodeSpec] | None:
        """The file's specs if it changed since the last read, else None."""
        try:
            st = os.stat(self.nodes_file)
        except FileNotFoundError:
            st = None
        seen = (st.st_mtime_ns, st.st_ino, st.st_size) if st else (0, 0, 0)
        if seen == self._seen:
            return None
        self._seen = seen
        if st is None:
            return {}
        try:
            listed = json.loads(self.nodes_file.read_text())
        except (OSError, ValueError) as e:
            log.error("cannot read %s: %s", self.nodes_file, e)
            return None
        specs: dict[str, NodeSpec] = {}
        for doc in listed if isinstance(listed, list) else ():
            try:
                spec = NodeSpec.from_json(doc)
            except (KeyError, TypeError, ValueError) as e:
                log.error("skipping node %r of %s: %s", doc, self.nodes_file, e)
                continue
            specs[spec.name] = spec
        return specs

    async def _apply(self, wanted: dict[str, NodeSpec]) -> None:
        gone = [n for n, s in self.specs.items() if wanted.get(n) != s]
        if gone:
            await self.fleet.remove(gone)
            for name in gone:
                self.specs.pop(name)
                self.indexes.pop(name)
                shutil.rmtree(self.data_dir / name, ignore_errors=True)
            log.info("fleet: stopped %d nodes", len(gone))
        new = [s for n, s in wanted.items() if n not in self.specs]
        configs = []
        used = set(self.indexes.values())
        free = (i for i in range(len(used) + len(new) + 1) if i not in used)
        for spec in new:
            self.specs[spec.name] = spec
            self.indexes[spec.name] = next(free)
            configs.append(spec.config(self.client, self.data_dir, self.indexes[spec.name]))
        if configs:
            log.info("fleet: starting %d nodes", len(configs))
            task = asyncio.create_task(self.fleet.add(configs))
            self._adding.add(task)
            task.add_done_callback(self._adding.discard)

    def _report(self, ready: list[str]) -> None:
        path = self.data_dir / RUNNING_FILE
        tmp = path.with_name(f".{RUNNING_FILE}.tmp")
        tmp.write_text(json.dumps({"running": ready}))
        os.replace(tmp, path)
        self._reported = ready


async def run_fleet_file(client: ClientConfig, nodes_file: Path, data_dir: Path) -> None:
    """What `openeks kube fleet` runs: follow `nodes_file` until SIGTERM, SIGINT or
    cancellation, then stop every agent."""
    task = asyncio.create_task(FleetFile(client, nodes_file, data_dir).run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
