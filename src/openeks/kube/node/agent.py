"""The node agent: one Node, its heartbeats, and the pods bound to it.

Start-up follows readiness, as kubelet's does: the HTTPS API listens (its port goes into
the Node), the Node is registered, checkpoints are read, the pod list arrives (pods are
admitted oldest first), checkpoints of pods that are gone are cleaned up, the service
proxy starts (`proxy/`, runc nodes; it elects one agent per cluster and host to program
the rules), then the heartbeats start. From then on the pod informer (field selector
`spec.nodeName=<node>`) drives one worker per pod (`podworker`), and container exits come
from the runtime's events or from polling.

Stopping the agent leaves containers running, like stopping a kubelet: the next agent on
the same data directory adopts them. Many agents can share one API client and one
Service informer (`fleet`), which is how a thousand simulated nodes fit in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client.config import ClientConfig
from openeks.kube.client.events import EventRecorder
from openeks.kube.client.informer import Informer
from openeks.kube.client.resources import NODES, PODS, SERVICES
from openeks.kube.client.rest import Client
from openeks.kube.node import registration, servingcert
from openeks.kube.node.config import NodeConfig
from openeks.kube.node.context import AgentContext
from openeks.kube.node.heartbeat import LeaseKeeper, NodeStatusReporter
from openeks.kube.node.imageref import normalized_image
from openeks.kube.node.instancetypes import lookup, node_resources
from openeks.kube.node.podworker import PodWorkers
from openeks.kube.node.proxy import ProxyConfig, ServiceProxy
from openeks.kube.node.runtime.base import Runtime
from openeks.kube.node.sandbox import read_resolv_conf
from openeks.kube.node.server import ContainerRef, NodeServer
from openeks.kube.node.sources import ConfigSource

log = logging.getLogger(__name__)

Obj = dict[str, Any]
DEFAULT_RUNTIME_VERSIONS = {"runc": "1.1.5"}
SYNC_TIMEOUT = 60.0
MAX_NODE_IMAGES = 50
AGENT_VERSION = "v1.37.0"
T = TypeVar("T")


async def _until_reachable(call: Callable[[], Awaitable[T]], what: str) -> T:
    """Retry while the API server is unreachable or overloaded, as kubelet keeps trying."""
    delay = 0.2
    while True:
        try:
            return await call()
        except ApiError as e:
            if e.code < 500 and e.code != 429:
                raise
            log.warning("unable to %s (%s); retrying in %.1fs", what, e, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)


def kubelet_identity(client: ClientConfig) -> ClientConfig:
    """Present ourselves as kubelet (field manager `kubelet`) unless told otherwise."""
    if client.user_agent != ClientConfig.user_agent:
        return client
    return dataclasses.replace(client, user_agent=f"kubelet/{AGENT_VERSION} (linux/amd64) openeks")


@runtime_checkable
class ContainerEvents(Protocol):
    """A runtime that tells us when a container changes state by itself."""

    def subscribe(self, callback: Callable[[str], None]) -> None: ...


class NodeAgent:
    def __init__(
        self,
        config: NodeConfig,
        runtime: Runtime,
        *,
        client: Client | None = None,
        services: Informer | None = None,
        nodes: Informer | None = None,
    ) -> None:
        """`client`, `services` and `nodes` (a Node informer that includes this node) may be
        shared between agents; their owner starts and stops them, and calls
        `poke_status` when this node's object changes."""
        self.config = config
        self.runtime = runtime
        self._own_client = client is None
        self.client = client or Client(kubelet_identity(config.client))
        self._services = services
        self._own_services = services is None
        self.itype = lookup(config.instance_type)
        self.resources = node_resources(self.itype, config.max_pods, config.capacity)
        self.ctx = AgentContext(
            config=config,
            client=self.client,
            runtime=runtime,
            recorder=EventRecorder(self.client, "kubelet", config.name),
            sources=ConfigSource(self.client),
            allocatable=self.resources.allocatable,
            host_dns=read_resolv_conf(),
        )
        self.workers = PodWorkers(self.ctx)
        self.pods = Informer(self.client, PODS, field_selector=f"spec.nodeName={config.name}")
        self._own_node_watch = nodes is None
        self.node_watch = nodes or Informer(
            self.client, NODES, field_selector=f"metadata.name={config.name}"
        )
        self.server: NodeServer | None = None
        self.lease: LeaseKeeper | None = None
        self.status: NodeStatusReporter | None = None
        self.node: Obj = {}
        self.facts: registration.NodeFacts | None = None
        self.ready = asyncio.Event()
        self.proxy: ServiceProxy | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -----------------------------------------------------------------------
    async def run(self) -> None:
        """Run until cancelled; stops cleanly (containers keep running)."""
        try:
            await self.start()
            done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.cancelled():
                    log.error("node %s: %s was cancelled", self.config.name, task.get_name())
                elif task.exception() is not None:
                    log.error(
                        "node %s: %s failed",
                        self.config.name,
                        task.get_name(),
                        exc_info=task.exception(),
                    )
                else:
                    log.error("node %s: %s ended", self.config.name, task.get_name())
            raise RuntimeError(f"node {self.config.name}: a part of the agent stopped")
        finally:
            await self.stop()

    async def start(self) -> None:
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        port = await self._start_server()
        self.facts = registration.NodeFacts(
            resources=self.resources,
            arch=self.itype.architecture,
            runtime_version=self._runtime_version(),
            kubelet_version=await _until_reachable(self._kubelet_version, "read the version"),
            port=port,
            host=registration.host_info(self.config.name, self.runtime.name == "simulated"),
            simulated=self.runtime.name == "simulated",
        )
        node = registration.node_object(self.config, self.facts)
        self.node = await _until_reachable(
            lambda: registration.register(self.client, node), "register the node"
        )
        await self._start_pods()
        self._start_proxy()
        self._start_heartbeats()
        if self.config.node_events:
            self._node_events()
        self.ready.set()

    async def stop(self) -> None:
        if self.proxy is not None:
            await self.proxy.stop()
            self.proxy = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.workers.stop()
        await self.ctx.probes.close()
        await self.pods.stop()
        if self._own_node_watch:
            await self.node_watch.stop()
        if self._own_services and self._services is not None:
            await self._services.stop()
        if self.server is not None:
            await self.server.stop()
            self.server = None
        await self.ctx.drain_events()
        if self._own_client:
            await self.client.close()

    # -- start-up steps ------------------------------------------------------------------
    async def _start_server(self) -> int:
        if not self.config.serve:
            return 0
        cert, key = servingcert.ensure_serving_cert(
            self.config.data_dir / "pki", self.config.address, self.config.name
        )
        tls = servingcert.server_context(cert, key, self.config.client.ca_data)
        self.server = NodeServer(self, self.runtime, self.config.address, self.config.port, tls)
        return await self.server.start()

    def _runtime_version(self) -> str:
        version = getattr(self.runtime, "version", "") or DEFAULT_RUNTIME_VERSIONS.get(
            self.runtime.name, ""
        )
        return f"{self.runtime.name}://{version}"

    async def _kubelet_version(self) -> str:
        info = await self.client.request("GET", "/version")
        return str((info or {}).get("gitVersion") or "v0.0.0")

    async def _start_pods(self) -> None:
        self.workers.load_checkpoints()
        if self._services is None:
            self._services = Informer(self.client, SERVICES)
        services = self._services
        self.ctx.services = services.list
        if self._own_services:
            services.start()
        self.pods.start()
        await self.pods.wait_synced(SYNC_TIMEOUT)
        existing = sorted(
            self.pods.list(),
            key=lambda p: (p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"]),
        )
        for pod in existing:
            self.workers.on_pod(pod)
        self.pods.on(
            add=self.workers.on_pod,
            update=self.workers.on_pod_update,
            delete=self.workers.on_pod_delete,
        )
        await self.workers.cleanup_orphans()
        if isinstance(self.runtime, ContainerEvents):
            self.runtime.subscribe(self.workers.container_changed)
        else:
            self._spawn(self.workers.poll_runtime(self.config.pleg_interval), "pleg")

    def _start_proxy(self) -> None:
        """The service proxy, sharing our Service informer; it elects itself per host."""
        if not self.config.proxy_enabled:
            return
        bridge = getattr(getattr(self.runtime, "network", None), "bridge", "")
        config = ProxyConfig.for_cluster(self.config.client, bridge=str(bridge or ""))
        self.proxy = ServiceProxy(self.client, config, services=self._services)
        self.proxy.start()

    def _start_heartbeats(self) -> None:
        uid = str(self.node.get("metadata", {}).get("uid", ""))
        self.lease = LeaseKeeper(
            self.client,
            self.config.name,
            uid,
            self.config.lease_seconds,
            jitter=self.config.start_jitter,
        )
        self.status = NodeStatusReporter(
            self.client,
            self.config.name,
            self._node_status,
            self.config.status_interval,
            self.config.status_report_interval,
            jitter=self.config.start_jitter,
            current=self._api_node_status,
        )
        if self._own_node_watch:
            self.node_watch.on(update=lambda old, new: self.poke_status())
            self.node_watch.start()
        self.status.last = self.node.get("status")
        self.status.last_at = time.monotonic()
        self._spawn(self.lease.run(), "lease")
        self._spawn(self._status_loop(), "node-status")

    def poke_status(self) -> None:
        """The Node object changed: compare and post status now rather than later."""
        if self.status is not None:
            self.status.poke()

    def _api_node_status(self) -> Obj | None:
        node = self.node_watch.get(self.config.name)
        return (node or {}).get("status") if node is not None else None

    async def _status_loop(self) -> None:
        assert self.status is not None
        await asyncio.sleep(self.config.status_interval)
        await self.status.run()

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"{self.config.name}-{name}"))

    def _node_status(self, old: Obj | None) -> Obj:
        assert self.facts is not None
        status = registration.node_status(self.config, self.facts, meta.rfc3339(meta.now()), old)
        images = []
        for spec_image, info in list(self.ctx.images.items())[-MAX_NODE_IMAGES:]:
            images.append(
                {"names": [info.ref, normalized_image(spec_image)], "sizeBytes": info.size}
            )
        if images:
            status["images"] = images
        return status

    def _node_events(self) -> None:
        ref = {"kind": "Node", "metadata": {"name": self.config.name, "uid": self.config.name}}
        name = self.config.name
        self.ctx.event(ref, "Normal", "Starting", "Starting kubelet.")
        self.ctx.event(
            ref, "Normal", "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods"
        )
        for reason in (
            "NodeHasSufficientMemory",
            "NodeHasNoDiskPressure",
            "NodeHasSufficientPID",
            "NodeReady",
        ):
            self.ctx.event(ref, "Normal", reason, f"Node {name} status is now: {reason}")

    # -- the HTTPS API's view of the pods ------------------------------------------------
    def _sync_for(self, namespace: str, pod: str) -> Any:
        for worker in self.workers.workers.values():
            state = worker.sync.state
            if state.namespace == namespace and state.name == pod and not worker.sync.done:
                return worker.sync
        return None

    def pod_exists(self, namespace: str, pod: str) -> bool:
        return self._sync_for(namespace, pod) is not None

    def locate(self, namespace: str, pod: str, container: str) -> ContainerRef | None:
        sync = self._sync_for(namespace, pod)
        if sync is None:
            return None
        record = sync.state.containers.get(container)
        if record is None or not record.id:
            return None
        log_dir = self.ctx.pod_log_dir(namespace, pod, sync.state.uid) / container
        previous = log_dir / f"{record.restart_count - 1}.log" if record.restart_count else None
        current = Path(record.log_path) if record.log_path else None
        return ContainerRef(container_id=record.id, log_path=current, previous_log_path=previous)
