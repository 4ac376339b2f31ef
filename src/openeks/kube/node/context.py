"""What every pod worker of one node agent shares: settings, client, runtime, caches.

One `AgentContext` per node. It owns the paths (`pods/<uid>` for volumes and
checkpoints, `logs/<ns>_<pod>_<uid>/<container>/<n>.log` as kubelet lays out
/var/log/pods), the back-off books for crash loops and image pulls, the images pulled so
far (for "already present on machine" and the node's image list), and event recording
that never blocks a pod worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openeks.kube.client.events import EventRecorder
from openeks.kube.client.rest import Client
from openeks.kube.node.backoff import Backoff
from openeks.kube.node.config import NodeConfig
from openeks.kube.node.probes import ProbeManager
from openeks.kube.node.runtime.base import ImageInfo, Runtime
from openeks.kube.node.sandbox import HostDNS
from openeks.kube.node.sources import ConfigSource

Obj = dict[str, Any]


@dataclass
class AgentContext:
    config: NodeConfig
    client: Client
    runtime: Runtime
    recorder: EventRecorder
    sources: ConfigSource
    allocatable: dict[str, str]
    services: Callable[[], list[Obj]] = list
    """The cluster's Services (for service environment variables)."""
    host_dns: HostDNS = field(default_factory=HostDNS)
    probes: ProbeManager = field(default_factory=ProbeManager)
    crash_backoff: Backoff = field(default_factory=Backoff)
    pull_backoff: Backoff = field(default_factory=Backoff)
    images: dict[str, ImageInfo] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def node_name(self) -> str:
        return self.config.name

    @property
    def host_ips(self) -> list[str]:
        return [self.config.address]

    @property
    def network_probes(self) -> bool:
        """Simulated pods have no reachable address: their network probes just pass."""
        return self.runtime.name != "simulated"

    # -- paths -------------------------------------------------------------------------
    @property
    def pods_dir(self) -> Path:
        return self.config.data_dir / "pods"

    @property
    def logs_dir(self) -> Path:
        return self.config.data_dir / "logs"

    def pod_dir(self, uid: str) -> Path:
        return self.pods_dir / uid

    def pod_log_dir(self, namespace: str, name: str, uid: str) -> Path:
        return self.logs_dir / f"{namespace}_{name}_{uid}"

    def container_id_url(self, container_id: str) -> str:
        return f"{self.runtime.name}://{container_id}" if container_id else ""

    # -- events ------------------------------------------------------------------------
    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        """Record an Event in the background; a pod worker never waits for it."""
        task = asyncio.create_task(self.recorder.event(obj, type_, reason, message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain_events(self) -> None:
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
