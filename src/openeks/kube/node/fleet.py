"""Many simulated nodes in one process, for scale tests and capacity planning.

Each node is a full `NodeAgent` on its own `SimulatedRuntime` (its own pod CIDR from
100.64.0.0/10, one /24 per node), its own Node, Lease and pod watch — so the control
plane sees exactly the load of that many kubelets — but they share one HTTP client
(connection pool without a cap: every node holds a pod watch), one Service informer and
one Node informer, and run no HTTPS server. Lease renewals and status reports start at
random points of their interval so the API server sees a steady trickle instead of
bursts; pods are re-synced every ten minutes instead of every minute, since simulated
containers only change when told to. Registration is limited to `REGISTER_CONCURRENCY`
nodes at a time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from pathlib import Path

from openeks.kube.client.config import ClientConfig
from openeks.kube.client.informer import Informer
from openeks.kube.client.resources import NODES, SERVICES
from openeks.kube.client.rest import Client
from openeks.kube.node.agent import NodeAgent, kubelet_identity
from openeks.kube.node.config import NodeConfig
from openeks.kube.node.registration import SIMULATED_LABEL
from openeks.kube.node.runtime.simulated import SimulatedRuntime

log = logging.getLogger(__name__)

FLEET_POD_NETWORK = ipaddress.ip_network("100.64.0.0/10")
REGISTER_CONCURRENCY = 50
FLEET_RESYNC = 600.0


def pod_cidr(index: int) -> str:
    """The /24 of the index-th node of a fleet."""
    base = int(FLEET_POD_NETWORK.network_address) + index * 256
    return f"{ipaddress.ip_address(base)}/24"


def fleet_configs(
    client_config: ClientConfig,
    names: list[str],
    zones: list[str],
    instance_type: str,
    data_dir: Path,
) -> list[NodeConfig]:
    """One simulated NodeConfig per name, zones assigned round-robin."""
    configs = []
    for i, name in enumerate(names):
        zone = zones[i % len(zones)] if zones else ""
        configs.append(
            NodeConfig(
                client=client_config,
                name=name,
                zone=zone,
                instance_type=instance_type,
                runtime="simulated",
                data_dir=Path(data_dir) / name,
                pod_cidr=pod_cidr(i),
                serve=False,
                resync_interval=FLEET_RESYNC,
                start_jitter=10.0,
                node_events=False,
            )
        )
    return configs


class Fleet:
    """Start, hold and stop the agents of a fleet (`run_fleet` for the simple case)."""

    def __init__(self, configs: list[NodeConfig]) -> None:
        self.configs = configs
        first = configs[0].client if configs else ClientConfig(server="http://127.0.0.1")
        self.client = Client(kubelet_identity(first), connections=0)
        self.services = Informer(self.client, SERVICES)
        self.nodes = Informer(self.client, NODES, label_selector=f"{SIMULATED_LABEL}=true")
        self.agents = [
            NodeAgent(
                c,
                SimulatedRuntime(c.pod_cidr),
                client=self.client,
                services=self.services,
                nodes=self.nodes,
            )
            for c in configs
        ]
        by_name = {a.config.name: a for a in self.agents}
        self.nodes.on(update=lambda old, new: _poke(by_name, new))

    async def start(self) -> None:
        """Start every agent; returns when all have registered and listed their pods."""
        self.services.start()
        self.nodes.start()
        gate = asyncio.Semaphore(REGISTER_CONCURRENCY)

        async def one(agent: NodeAgent) -> None:
            async with gate:
                await agent.start()

        await asyncio.gather(*(one(a) for a in self.agents))

    async def wait(self) -> None:
        """The agents run in their own tasks; wait here until cancelled."""
        await asyncio.Event().wait()

    async def stop(self) -> None:
        await asyncio.gather(*(a.stop() for a in self.agents), return_exceptions=True)
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
