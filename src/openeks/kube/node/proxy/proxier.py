"""The service proxy a node agent runs: kube-proxy's iptables mode, one leader per host.

`ServiceProxy.start()` runs two loops until `stop()`:

- housekeeping, on every agent: keep the node's bridge ready for service traffic
  (`kernel.tune_bridge`), every second;
- leading: poll the host lock (`election`) every second until this agent holds it, then
  watch Services, EndpointSlices and the `default/kubernetes` Endpoints through
  informers and keep the iptables rules equal to what they describe.

Syncs follow upstream's rhythm: a change marks the proxy dirty, the sync waits for 200 ms
without further changes but never more than 1 s after the first, and writes only the
chains whose rules changed (`restore.sync_input`). Every 30 s a full sync reads the
tables back and also rewrites chains that went missing or changed length, deletes
leftovers and restores missing hooks; a new leader, or one after a failed write, writes
everything once. Building the rules runs in a thread so a large cluster does not stall
the agent's event loop.

Before a leader first writes, it looks for other clusters' rules on the host that claim
any of its cluster IPs. If that cluster's proxy holds its lock, the two clusters have
overlapping service CIDRs, which cannot work on one host: the proxy logs an error and
programs nothing, retrying at each full-sync period. If nobody holds that cluster's
lock, its rules are leftovers of a dead cluster and are removed.

`stop()` removes the cluster's rules (when leading) before releasing the lock, so the
next leader starts from clean tables; writes are shielded from cancellation and
serialized with the clean-up so a stop never races a restore.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client.config import ClientConfig
from openeks.kube.client.informer import Informer
from openeks.kube.client.resources import ENDPOINTS, ENDPOINTSLICES, SERVICES
from openeks.kube.client.rest import Client
from openeks.kube.node.proxy import kernel, model
from openeks.kube.node.proxy.election import (
    DEFAULT_LOCK_DIR,
    HostLock,
    lock_held_by_other,
    lock_path,
)
from openeks.kube.node.proxy.iptables import Iptables, IptablesError
from openeks.kube.node.proxy.names import Chains, cluster_identity, cluster_tag
from openeks.kube.node.proxy.restore import Written, sync_input
from openeks.kube.node.proxy.rules import RuleSet, build_rules
from openeks.kube.node.proxy.tables import Table, other_clusters

log = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclass
class ProxyConfig:
    """One node agent's proxy. Only `identity` has no default."""

    identity: str
    """The cluster as seen from this host (`names.cluster_identity`)."""
    bridge: str = ""
    """The node's pod bridge, kept ready for service traffic; empty: none."""
    lock_dir: Path = DEFAULT_LOCK_DIR
    """Where the per-(cluster, host) leader lock lives."""
    debounce: float = 0.2
    """A sync waits this long without changes before it runs..."""
    max_delay: float = 1.0
    """...but never longer than this after the first change."""
    full_resync: float = 30.0
    """Seconds between full syncs (and between retries after refusing to start)."""
    poll_interval: float = 1.0
    """How often a follower tries the lock and the bridge settings are checked."""
    sync_timeout: float = 60.0
    """How long the leader waits for its informers' first lists."""

    @classmethod
    def for_cluster(cls, client: ClientConfig, **kw: Any) -> ProxyConfig:
        return cls(identity=cluster_identity(client.server, client.ca_data), **kw)


@dataclass
class SyncStats:
    """What the last sync did (for logs, tests and performance figures)."""

    full: bool = False
    seconds: float = 0.0
    rules: int = 0
    restore_lines: int = 0
    count: int = 0
    skipped: int = 0


class ProxyRefused(Exception):
    """Another live cluster on this host owns some of our cluster IPs."""


class ProxyNotReady(Exception):
    """The informers did not sync (unreachable API server, or no permission)."""


class Source(Protocol):
    """What the proxy needs of an informer (so tests can hand it plain lists)."""

    def list(self, namespace: str = "") -> list[Obj]: ...

    def on(self, add: Any = None, update: Any = None, delete: Any = None) -> None: ...

    async def wait_synced(self, timeout: float | None = None) -> None: ...


class ServiceProxy:
    def __init__(
        self,
        client: Client | None,
        config: ProxyConfig,
        *,
        services: Source | None = None,
        slices: Source | None = None,
        endpoints: Source | None = None,
        iptables: Iptables | None = None,
    ) -> None:
        """Informers handed in (the agent's Service informer, say) are started by their
        owner; the missing ones are created on `client` when this proxy first leads."""
        self.client = client
        self.config = config
        self.chains = Chains(cluster_tag(config.identity))
        self.iptables = iptables or Iptables()
        self.lock = HostLock(lock_path(config.lock_dir, config.identity))
        self.stats = SyncStats()
        self._services = services
        self._slices = slices
        self._endpoints = endpoints
        self._own: list[Informer] = []
        self._watching = False
        self._dirty = asyncio.Event()
        self._written: Written | None = None
        self._last_full = 0.0
        self._masquerade_all = False
        self._programmed = False
        self._io = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def leading(self) -> bool:
        return self.lock.held

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._housekeeping(), name=f"proxy-{self.chains.tag}-bridge"),
            asyncio.create_task(self._lead(), name=f"proxy-{self.chains.tag}-leader"),
        ]

    async def stop(self) -> None:
        """Stop; when leading, remove the cluster's rules, then let another agent lead."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.lock.held:
            async with self._io:
                try:
                    await self.iptables.cleanup(self.chains)
                except (IptablesError, OSError) as exc:
                    log.error("service proxy %s: removing rules failed: %s", self.chains.tag, exc)
            self.lock.release(unlink=True)
        for informer in self._own:
            await informer.stop()
        self._programmed = False
        self._written = None

    # -- loops ---------------------------------------------------------------------------
    async def _housekeeping(self) -> None:
        while True:
            changed = await asyncio.to_thread(kernel.tune_bridge, self.config.bridge)
            if changed:
                log.debug("service proxy: set %s", ", ".join(changed))
            await asyncio.sleep(self.config.poll_interval)

    async def _lead(self) -> None:
        if not self.iptables.available():
            log.error("service proxy: iptables-save/iptables-restore not found; not proxying")
            return
        while not self.lock.try_acquire():
            await asyncio.sleep(self.config.poll_interval)
        log.info("service proxy %s: leading for this host (%s)", self.chains.tag, self.lock.path)
        self._masquerade_all = not kernel.bridge_netfilter()
        if self._masquerade_all:
            log.warning("service proxy: br_netfilter is not available; masquerading all traffic")
        while True:
            try:
                await self._start_informers()
                await self._sync_loop()
            except Exception as exc:
                log.error(
                    "service proxy %s: %s; retrying",
                    self.chains.tag,
                    exc,
                    exc_info=not isinstance(exc, ProxyNotReady),
                )
                self._written = None
                await asyncio.sleep(self.config.full_resync)

    async def _start_informers(self) -> None:
        if self._watching:
            return
        self._services = self._services or self._informer(SERVICES)
        self._slices = self._slices or self._informer(ENDPOINTSLICES)
        self._endpoints = self._endpoints or self._informer(
            ENDPOINTS, "default", field_selector="metadata.name=kubernetes"
        )
        for source in (self._services, self._slices, self._endpoints):
            source.on(add=self._changed, update=self._updated, delete=self._changed)
        for informer in self._own:
            informer.start()
        self._watching = True
        try:
            await self._services.wait_synced(self.config.sync_timeout)
            await self._slices.wait_synced(self.config.sync_timeout)
        except TimeoutError:
            raise ProxyNotReady(
                f"Services and EndpointSlices not listed within {self.config.sync_timeout:g}s "
                "(the node's identity needs list and watch on them, as ClusterRole "
                "system:node-proxier grants)"
            ) from None
        with contextlib.suppress(TimeoutError):
            await self._endpoints.wait_synced(min(5.0, self.config.sync_timeout))

    def _informer(
        self, resource: ResourceInfo, namespace: str = "", field_selector: str = ""
    ) -> Informer:
        if self.client is None:
            raise RuntimeError("the service proxy needs a client or informers")
        informer = Informer(self.client, resource, namespace, field_selector=field_selector)
        self._own.append(informer)
        return informer

    def _changed(self, obj: Any) -> None:
        self._dirty.set()

    def _updated(self, old: Any, new: Any) -> None:
        self._dirty.set()

    async def _sync_loop(self) -> None:
        backoff = 1.0
        while True:
            full = await self._wait_for_work()
            try:
                await self.sync(full)
            except ProxyRefused as exc:
                log.error("service proxy %s: not programming rules: %s", self.chains.tag, exc)
                await asyncio.sleep(self.config.full_resync)
                continue
            except (IptablesError, OSError) as exc:
                log.error("service proxy %s: sync failed: %s", self.chains.tag, exc)
                self._written = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.config.full_resync)
                continue
            backoff = 1.0

    async def _wait_for_work(self) -> bool:
        """Wait for a change (debounced) or the next full sync; True for a full one."""
        if self._written is None:
            return True
        remaining = self._last_full + self.config.full_resync - time.monotonic()
        if remaining <= 0:
            return True
        try:
            await asyncio.wait_for(self._dirty.wait(), remaining)
        except TimeoutError:
            return True
        await self._debounce()
        return False

    async def _debounce(self) -> None:
        first = time.monotonic()
        while True:
            self._dirty.clear()
            remaining = min(self.config.debounce, first + self.config.max_delay - time.monotonic())
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._dirty.wait(), remaining)
            except TimeoutError:
                return

    # -- one sync ------------------------------------------------------------------------
    def _desired(
        self, services: list[Obj], slices: list[Obj], endpoints: list[Obj]
    ) -> tuple[list[model.ProxiedPort], RuleSet]:
        ports = model.build(services, slices, endpoints)
        return ports, build_rules(self.chains, ports, self._masquerade_all)

    async def sync(self, full: bool) -> None:
        """Bring the tables in line with the informers (raises ProxyRefused, IptablesError)."""
        self._dirty.clear()
        started = time.monotonic()
        sources = (self._services, self._slices, self._endpoints)
        building = asyncio.to_thread(self._desired, *(s.list() if s else [] for s in sources))
        existing: dict[str, Table] | None = None
        if full:  # read the tables while the rules are built
            saved, (ports, desired) = await asyncio.gather(self.iptables.save(), building)
            existing = await self._check_other_clusters(saved, ports)
        else:
            ports, desired = await building
        written = self._written
        text, changes, new_written = await asyncio.to_thread(
            lambda: sync_input(desired, self.chains, written=written, existing=existing)
        )
        if full:
            self._last_full = started
        if not changes:
            self._written = new_written
            self.stats.skipped += 1
            return
        await self._guarded(self.iptables.restore(text))
        self._written = new_written
        self._programmed = True
        self.stats = SyncStats(
            full=full,
            seconds=time.monotonic() - started,
            rules=desired.count(),
            restore_lines=text.count("\n"),
            count=self.stats.count + 1,
            skipped=self.stats.skipped,
        )
        log.debug(
            "service proxy %s: %s sync of %d rules (%d lines) in %.3fs",
            self.chains.tag,
            "full" if full else "partial",
            self.stats.rules,
            self.stats.restore_lines,
            self.stats.seconds,
        )

    async def _guarded(self, write: Coroutine[Any, Any, Any]) -> None:
        """Run a write to completion even if we are cancelled meanwhile (see stop)."""

        async def locked() -> None:
            async with self._io:
                await write

        await asyncio.shield(asyncio.ensure_future(locked()))

    async def _check_other_clusters(
        self, existing: dict[str, Table], ports: list[model.ProxiedPort]
    ) -> dict[str, Table]:
        mine = {p.port.cluster_ip for p in ports}
        clashes = {tag: ips & mine for tag, ips in other_clusters(existing, self.chains).items()}
        stale = False
        for tag, ips in sorted(clashes.items()):
            if not ips:
                continue
            if lock_held_by_other(self.config.lock_dir, tag):
                message = (
                    f"cluster {tag} on this host also serves {', '.join(sorted(ips))}: "
                    "clusters sharing a host need service CIDRs that do not overlap"
                )
                if not self._programmed:
                    raise ProxyRefused(message)
                log.error("service proxy %s: %s", self.chains.tag, message)
            else:
                log.warning(
                    "service proxy %s: removing leftover rules of stopped cluster %s",
                    self.chains.tag,
                    tag,
                )
                await self._guarded(self.iptables.cleanup(Chains(tag)))
                stale = True
        return await self.iptables.save() if stale else existing


def cluster_chains(client: ClientConfig) -> Chains:
    """The chain names of the cluster a client config points at."""
    return Chains(cluster_tag(cluster_identity(client.server, client.ca_data)))


async def cleanup_rules(
    client: ClientConfig, lock_dir: Path = DEFAULT_LOCK_DIR, iptables: Iptables | None = None
) -> bool:
    """Remove the cluster's proxy rules from this host unless a live proxy owns them
    (`openeks kube node-reset`, tests). True if rules were removed."""
    iptables = iptables or Iptables()
    if not iptables.available():
        return False
    identity = cluster_identity(client.server, client.ca_data)
    lock = HostLock(lock_path(lock_dir, identity))
    if not lock.try_acquire():
        return False
    try:
        return await iptables.cleanup(Chains(cluster_tag(identity)))
    finally:
        lock.release(unlink=True)
