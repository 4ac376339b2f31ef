"""A cluster's etcd: one member per availability zone, run by the supervisor.

`plan_etcd_cluster(owner, directory, allocator, zones)` decides everything that must
stay the same for the cluster's whole life and persists it: each member's address and
ports (from the region's `AddressAllocator`, preferring etcd's well-known 2379/2380 on
the member's own zone address), its data directory (`<directory>/<zone>`), and the
cluster token (`<directory>/cluster.json`). Planning again after a region restart gives
back the same plan, so peer URLs, the store URL written into API server flags and every
member's data stay valid. `EtcdCluster.specs()` turns the plan into `ProcessSpec`s;
`start_etcd_cluster`/`stop_etcd_cluster` hand them to a `Supervisor`.

Bootstrap. etcd wants `--initial-cluster-state new` when a cluster is formed and
`existing` once it exists (a member started later with an empty data directory must
join the running cluster, not found a new one). The choice is made when the member
starts, not when the spec is built, so specs never change and `Supervisor.ensure`
never restarts members for it: the command is a two-line `sh` wrapper that passes
`existing` when the member has data (`<data dir>/member`) or the cluster has been
bootstrapped (the `<directory>/bootstrapped` marker, written by `start_etcd_cluster`
once a quorum of members is healthy), else `new`.

Timing: heartbeat 100 ms, election timeout 1 s (etcd's defaults are 100 ms and 1 s
too, but set explicitly here because failover time is a promise of the HA control
plane: after a zone loss a new leader is elected within about 1-2 s). Readiness is
GET /health on the client URL answering {"health":"true"}, i.e. the member is serving
and sees a leader. Members have no start timeout: a member waiting for its peers (two
zones down) is not broken, and restarting it would not help. On shutdown members stop
one at a time (`EtcdCluster.stop_order`), which takes a fraction of a second.

The three-member cluster spreads over the region's zones; `plan_single_member` is the
"small dev cluster" variant (one member in the first zone, no failover). Client and
peer traffic is plain HTTP on loopback addresses for now (openeks.store's etcd backend
does not speak TLS yet).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openeks.region.probes import HttpProbe
from openeks.region.process import ProcessSpec
from openeks.region.statefile import read_state, write_state
from openeks.region.supervisor import Supervisor
from openeks.region.zones import AddressAllocator, Endpoint

ETCD_BINARY = shutil.which("etcd") or "/usr/bin/etcd"
"""Debian's etcd-server installs /usr/bin/etcd (3.4)."""
CLIENT_PORT = 2379
PEER_PORT = 2380

_START_SCRIPT = (
    'state=new; if [ -e "$1" ] || [ -d "$2/member" ]; then state=existing; fi; '
    'shift 2; exec "$@" --initial-cluster-state="$state"'
)
"""$1: the cluster's bootstrap marker, $2: the member's data dir, then etcd's command."""


@dataclass(frozen=True, slots=True)
class EtcdTuning:
    heartbeat_ms: int = 100
    election_ms: int = 1000
    log_level: str = "info"
    extra_args: tuple[str, ...] = ()
    """More etcd flags for every member (e.g. "--quota-backend-bytes=...")."""


@dataclass(frozen=True, slots=True)
class EtcdMember:
    name: str
    """etcd member name: the zone name."""
    zone: str
    process: str
    """Supervisor process name and address-allocation owner: "<owner>/etcd/<zone>"."""
    client: Endpoint
    peer: Endpoint
    data_dir: Path
    log_file: Path

    @property
    def client_url(self) -> str:
        return self.client.url("http")

    @property
    def peer_url(self) -> str:
        return self.peer.url("http")


@dataclass(frozen=True, slots=True)
class EtcdCluster:
    owner: str
    directory: Path
    token: str
    members: tuple[EtcdMember, ...]
    binary: str = ETCD_BINARY
    tuning: EtcdTuning = EtcdTuning()

    @property
    def endpoints(self) -> list[str]:
        """Client endpoints, "host:port", in zone order."""
        return [str(m.client) for m in self.members]

    @property
    def store_url(self) -> str:
        """The openeks.store URL naming every member: "etcd://a:2379,b:2379,c:2379"."""
        return "etcd://" + ",".join(self.endpoints)

    @property
    def quorum(self) -> int:
        return len(self.members) // 2 + 1

    @property
    def bootstrap_marker(self) -> Path:
        return self.directory / "bootstrapped"

    def is_bootstrapped(self) -> bool:
        return self.bootstrap_marker.exists()

    def member(self, zone: str) -> EtcdMember:
        for member in self.members:
            if member.zone == zone:
                return member
        raise KeyError(f"{self.owner} has no etcd member in {zone}")

    def specs(self) -> list[ProcessSpec]:
        return [self.spec(m) for m in self.members]

    def stop_order(self, member: EtcdMember) -> int:
        """0, -1, -2, ...: members stop one at a time, after everything of order > 0.
        Stopped together, each leader waits for a leadership transfer that cannot happen
        and etcd takes about 7 s to stop instead of a tenth of a second each."""
        return -self.members.index(member)

    def spec(self, member: EtcdMember) -> ProcessSpec:
        wrapper = ("/bin/sh", "-c", _START_SCRIPT, "etcd-start")
        marker = (str(self.bootstrap_marker), str(member.data_dir))
        return ProcessSpec(
            name=member.process,
            zone=member.zone,
            argv=(*wrapper, *marker, self.binary, *self._flags(member)),
            log_file=member.log_file,
            cwd=self.directory,
            probe=HttpProbe(f"{member.client_url}/health", expect='"health":"true"'),
            start_timeout=None,
            stop_grace=5.0,
            order=self.stop_order(member),
        )

    def _flags(self, member: EtcdMember) -> list[str]:
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        tuning = self.tuning
        return [
            f"--name={member.name}",
            f"--data-dir={member.data_dir}",
            f"--listen-client-urls={member.client_url}",
            f"--advertise-client-urls={member.client_url}",
            f"--listen-peer-urls={member.peer_url}",
            f"--initial-advertise-peer-urls={member.peer_url}",
            f"--initial-cluster={initial}",
            f"--initial-cluster-token={self.token}",
            f"--heartbeat-interval={tuning.heartbeat_ms}",
            f"--election-timeout={tuning.election_ms}",
            "--logger=zap",
            "--log-outputs=stderr",
            f"--log-level={tuning.log_level}",
            *tuning.extra_args,
        ]


def plan_etcd_cluster(
    owner: str,
    directory: Path,
    allocator: AddressAllocator,
    zones: Sequence[str],
    *,
    binary: str = ETCD_BINARY,
    tuning: EtcdTuning | None = None,
) -> EtcdCluster:
    """The etcd cluster of `owner` (e.g. "clusters/prod"), one member per zone in `zones`,
    with its files under `directory`; created on first call, the same one afterwards."""
    if not zones or len(set(zones)) != len(zones):
        raise ValueError("an etcd cluster needs one or more distinct zones")
    directory = Path(directory)
    members = tuple(_member(owner, directory, allocator, zone) for zone in zones)
    token = _token(directory, members)
    return EtcdCluster(owner, directory, token, members, binary, tuning or EtcdTuning())


def plan_single_member(
    owner: str,
    directory: Path,
    allocator: AddressAllocator,
    zone: str,
    *,
    binary: str = ETCD_BINARY,
    tuning: EtcdTuning | None = None,
) -> EtcdCluster:
    """A one-member etcd in `zone`: the small dev cluster, no failover."""
    return plan_etcd_cluster(owner, directory, allocator, [zone], binary=binary, tuning=tuning)


async def start_etcd_cluster(
    supervisor: Supervisor, cluster: EtcdCluster, *, wait: bool = True, timeout: float = 60.0
) -> None:
    """Hand every member to the supervisor; with `wait`, return once a quorum is healthy
    (and mark the cluster bootstrapped). TimeoutError when no quorum forms in time."""
    for spec in cluster.specs():
        await supervisor.ensure(spec)
    if wait:
        await wait_for_quorum(supervisor, cluster, timeout=timeout)


async def wait_for_quorum(
    supervisor: Supervisor, cluster: EtcdCluster, *, timeout: float = 60.0
) -> None:
    """Wait until a majority of members is ready, then write the bootstrap marker."""
    waits = [asyncio.ensure_future(supervisor.wait_ready(m.process)) for m in cluster.members]
    try:
        async with asyncio.timeout(timeout):
            for ready, next_ready in enumerate(asyncio.as_completed(waits), start=1):
                await next_ready
                if ready >= cluster.quorum:
                    break
    finally:
        for waiting in waits:
            waiting.cancel()
    if not cluster.is_bootstrapped():
        write_state(cluster.bootstrap_marker, {"bootstrapped": True})


async def stop_etcd_cluster(
    supervisor: Supervisor,
    cluster: EtcdCluster,
    *,
    delete: bool = False,
    allocator: AddressAllocator | None = None,
) -> None:
    """Stop and forget every member; with `delete` also remove the cluster's files and
    give back its addresses (to `allocator`): the cluster is gone for good."""
    supervised = {status.name for status in supervisor.statuses()}
    for member in cluster.members:
        if member.process in supervised:
            await supervisor.remove(member.process)
    if delete:
        shutil.rmtree(cluster.directory, ignore_errors=True)
        if allocator is not None:
            for member in cluster.members:
                allocator.release(member.process)


def _member(owner: str, directory: Path, allocator: AddressAllocator, zone: str) -> EtcdMember:
    process = f"{owner}/etcd/{zone}"
    allocation = allocator.allocate(process, zone, {"client": CLIENT_PORT, "peer": PEER_PORT})
    return EtcdMember(
        name=zone,
        zone=zone,
        process=process,
        client=allocation.endpoint("client"),
        peer=allocation.endpoint("peer"),
        data_dir=directory / zone,
        log_file=directory / f"{zone}.log",
    )


def _token(directory: Path, members: tuple[EtcdMember, ...]) -> str:
    """The cluster token from `<directory>/cluster.json`, written on first use. The
    member set is fixed once written: changing it needs etcd member add/remove."""
    path = directory / "cluster.json"
    document = read_state(path)
    described = {
        m.name: {"zone": m.zone, "clientURL": m.client_url, "peerURL": m.peer_url} for m in members
    }
    if document is None:
        document = {"token": f"openeks-{uuid.uuid4().hex}", "members": described}
        write_state(path, document)
    elif document.get("members") != described:
        raise ValueError(
            f"{path} describes members {document.get('members')}, not {described}: "
            "changing an etcd cluster's members is not supported"
        )
    return str(document["token"])
