"""The instance controller: EC2 instance documents in, node agents out.

An instance that joins a cluster becomes a node agent in its subnet's availability zone
(so a zone fault takes it down with the zone). One reconcile per instance:

- `pending`: read the user data (`userdata.parse`). An instance naming no cluster is a
  plain EC2 instance and just goes `running`. One naming a cluster joins it the way an
  EKS node does: its instance profile's role, as the session `arn:aws:sts::ACCT:assumed-
  role/ROLE/<instance id>`, must map to `system:node:<private DNS name>` in the group
  `system:nodes` through the cluster's access entries (type EC2_LINUX) or its aws-auth
  ConfigMap (`authorize`, given by the region service, which owns that mapping; the
  answers for one role are shared for a few seconds, `joincache.py`). Then:
  - a runc instance (`agents.py`) gets a client certificate signed with the cluster's CA
    (the join is the bootstrap: upstream's TLS bootstrap with the CSR approved on the
    spot), an address of its zone for its kubelet port and an aligned block of its
    subnet for its pods (VPC CNI prefix delegation) — unless the host itself routes
    part of the VPC's range (`hostnet.py`), which would break the host, so the join is
    refused loudly instead — and its own supervised `openeks kube node` process;
  - a simulated instance (tag `openeks.io/runtime=simulated`) becomes a node of the
    fleet process of its cluster and zone (`fleets.py`), which scales to thousands.
  An instance that may not join still runs — as in EKS, where the kubelet just fails to
  register — with the refusal in the region log and in `openeks.join` of its document.
- `running`: keep the agent there (a restarted region brings it back); retry a refused
  join now and then, as a kubelet keeps trying to register.
- `shutting-down`: stop the agent and remove what it left on the host (`agents.reset`:
  containers, network namespaces, bridge), delete its Node (as the cloud controller
  manager does for a terminated instance), free its addresses, go `terminated`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.apiserver.kubeconfig import issue_for
from openeks.kube.client import Client, load_kubeconfig
from openeks.kube.client.resources import NODES, PODS
from openeks.kube.node.instancetypes import lookup
from openeks.kube.node.network import bridge_name
from openeks.region.instances import agents, hostnet
from openeks.region.instances.fleets import Fleets
from openeks.region.instances.joincache import JoinCache
from openeks.region.instances.userdata import JoinRequest, parse
from openeks.region.loop import RecordLoop
from openeks.region.state import RegionState
from openeks.region.supervisor import Supervisor, UnknownProcessError
from openeks.region.vpc import instances as ec2
from openeks.region.vpc.documents import tag_map
from openeks.region.vpc.errors import Ec2Error
from openeks.region.vpc.ipam import allocate_block, release
from openeks.region.zones import AddressAllocator

log = logging.getLogger(__name__)

Doc = dict[str, Any]
Authorize = Callable[[str, str, str], Awaitable[tuple[str, list[str]] | None]]
"""(cluster, caller ARN, node name) → (username, groups) the cluster maps it to, or None."""

KUBELET_PORT = 10250
RUNTIME_TAG = "openeks.io/runtime"


def process_name(instance_id: str) -> str:
    return f"instances/{instance_id}"


def pod_block_prefix(max_pods: int) -> int:
    """The smallest aligned block holding the bridge's network, gateway and broadcast
    addresses besides `max_pods` pods."""
    return 32 - math.ceil(math.log2(max_pods + 3))


def runtime_of(doc: Doc) -> str:
    return "simulated" if tag_map(doc.get("Tags")).get(RUNTIME_TAG) == "simulated" else "runc"


class InstanceController:
    def __init__(
        self,
        state: RegionState,
        supervisor: Supervisor,
        allocator: AddressAllocator,
        data_dir: Path,
        authorize: Authorize,
    ) -> None:
        self.state = state
        self.supervisor = supervisor
        self.allocator = allocator
        self.data_dir = data_dir
        self.authorize = JoinCache(authorize)
        self.fleets = Fleets(supervisor, data_dir, list(supervisor.zones))
        self.loop = RecordLoop(state, "instances", self.reconcile)
        self._clients: dict[str, tuple[int, Client]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._subnet_locks: dict[str, asyncio.Lock] = {}

    async def run(self) -> None:
        try:
            await self.loop.run()
        finally:
            await self.close()

    def directory(self, instance_id: str) -> Path:
        return self.data_dir / "instances" / instance_id

    async def reconcile(self, instance_id: str) -> None:
        record = await self.state.get("instances", instance_id)
        if record is None:
            return
        doc = record.value
        state = doc["State"]["Name"]
        if state == "pending":
            await self._launch(doc)
        elif state == "running":
            await self._keep(doc)
        elif state == "shutting-down":
            await self._terminate(doc)

    # -- pending -------------------------------------------------------------------------
    async def _launch(self, doc: Doc) -> None:
        instance_id = doc["InstanceId"]
        request = parse((doc.get("openeks") or {}).get("userData") or "")
        if request is None:
            await ec2.mark_running(self.state, instance_id)
            return
        refusal = await self._join(doc, request)
        await self._record_join(doc, request.cluster, refusal)
        await ec2.mark_running(self.state, instance_id)

    async def _join(self, doc: Doc, request: JoinRequest) -> str | None:
        """Start the node agent; the reason it may not join otherwise."""
        cluster = await self.state.get("clusters", request.cluster)
        if cluster is None or cluster.value.get("status") not in ("ACTIVE", "UPDATING"):
            return f"cluster {request.cluster} is not ACTIVE"
        role = await self._role_of(doc)
        if role is None:
            return "the instance has no instance profile, so no IAM identity to join with"
        account, role_name = role.split(":")[4], role.rsplit("/", 1)[-1]
        caller = f"arn:aws:sts::{account}:assumed-role/{role_name}/{doc['InstanceId']}"
        node_name = doc["PrivateDnsName"]
        identity = await self.authorize(request.cluster, caller, node_name)
        if identity is None:
            return f"{role} has no access entry of type EC2_LINUX and no aws-auth mapping"
        username, groups = identity
        if username != f"system:node:{node_name}" or "system:nodes" not in groups:
            return f"{role} maps to {username!r} {groups}, not to this node in system:nodes"
        if runtime_of(doc) == "simulated":
            await self.fleets.add(request.cluster, _zone(doc), _fleet_entry(doc, request))
            return None
        return await self._start_runc(doc, request, username, groups)

    async def _role_of(self, doc: Doc) -> str | None:
        """The role of the instance profile (a profile is looked up by name; a profile
        named like a role stands for that role, as the ones EKS and eksctl make do)."""
        arn = str((doc.get("IamInstanceProfile") or {}).get("Arn") or "")
        if not arn:
            return None
        name = arn.rsplit("/", 1)[-1]
        profile = await self.state.get("instanceprofiles", name)
        if profile is not None and profile.value.get("Roles"):
            return str(profile.value["Roles"][0]["Arn"])
        role = await self.state.get("roles", name)
        return None if role is None else str(role.value["Arn"])

    async def _start_runc(
        self, doc: Doc, request: JoinRequest, username: str, groups: list[str]
    ) -> str | None:
        instance_id = doc["InstanceId"]
        max_pods = request.max_pods or lookup(doc["InstanceType"]).max_pods
        block = (doc.get("openeks") or {}).get("podBlock")
        if block is None:
            block = await self._pod_block(doc["SubnetId"], max_pods, f"pods/{instance_id}")
            if block is None:
                return "its subnet has no free addresses left for pods"
            await self._remember(instance_id, podBlock=block)
        vpc = await self.state.get("vpcs", doc["VpcId"])
        vpc_cidr = str(vpc.value["CidrBlock"]) if vpc else block
        refusal = hostnet.refusal(vpc_cidr, block, bridge_name(doc["PrivateDnsName"]))
        if refusal is not None:
            log.error("instance %s: %s", instance_id, refusal)
            return refusal
        agent = self._agent(doc, block, max_pods, request)
        agent.directory.mkdir(parents=True, exist_ok=True)
        if not agent.kubeconfig.exists():
            issue_for(
                self.data_dir / "clusters" / request.cluster, username, groups, agent.kubeconfig
            )
        await self.supervisor.ensure(agent.spec(process_name(instance_id)))
        return None

    async def _pod_block(self, subnet_id: str, max_pods: int, owner: str) -> str | None:
        """The largest free block up to what `max_pods` needs: a nearly full subnet gives
        a node fewer pod addresses than pods, and the pods beyond them fail with
        FailedCreatePodSandBox ("no free address"), as pods do on EKS when the VPC CNI
        cannot get an address."""
        for prefix in range(pod_block_prefix(max_pods), 31):
            try:
                return await allocate_block(self.state, subnet_id, prefix, owner)
            except Ec2Error:  # no free block that size, or larger than the subnet
                continue
        return None

    def _agent(
        self, doc: Doc, block: str, max_pods: int = 0, request: JoinRequest | None = None
    ) -> agents.Agent:
        instance_id = doc["InstanceId"]
        zone = _zone(doc)
        address = self.allocator.endpoint(process_name(instance_id), zone, "kubelet", KUBELET_PORT)
        return agents.Agent(
            directory=self.directory(instance_id),
            name=doc["PrivateDnsName"] or (doc.get("openeks") or {}).get("privateDnsName", ""),
            zone=zone,
            instance_type=doc["InstanceType"],
            runtime="runc",
            pod_cidr=block,
            address=address.host,
            port=address.port,
            max_pods=max_pods,
            labels=tuple(sorted(request.labels.items())) if request else (),
            taints=request.taints if request else (),
        )

    async def _record_join(self, doc: Doc, cluster: str, refusal: str | None) -> None:
        join = {"cluster": cluster, "status": "refused" if refusal else "joined"}
        if refusal:
            log.warning(
                "instance %s may not join cluster %s: %s", doc["InstanceId"], cluster, refusal
            )
            join["reason"] = refusal
        else:
            join["runtime"] = runtime_of(doc)
        await self._remember(doc["InstanceId"], join=join)

    async def _remember(self, instance_id: str, **values: Any) -> None:
        def change(current: Doc) -> Doc:
            current.setdefault("openeks", {}).update(values)
            return current

        await self.state.mutate("instances", instance_id, change)

    # -- running -------------------------------------------------------------------------
    async def _keep(self, doc: Doc) -> None:
        """Keep a joined node's agent there; retry a refused join now and then, as a
        kubelet retries registering (the access entry or mapping may come later)."""
        join = (doc.get("openeks") or {}).get("join") or {}
        if not join:
            return
        if join.get("status") == "joined" and self._agent_kept(doc, join):
            return
        request = parse((doc.get("openeks") or {}).get("userData") or "")
        if request is None:
            return
        refusal = await self._join(doc, request)
        if refusal is None or refusal != join.get("reason"):
            if refusal is None and join.get("status") == "refused":
                log.warning("instance %s joined cluster %s", doc["InstanceId"], request.cluster)
            await self._record_join(doc, request.cluster, refusal)

    def _agent_kept(self, doc: Doc, join: Doc) -> bool:
        if join.get("runtime") == "simulated":
            return self.fleets.holds(join["cluster"], _zone(doc), doc["PrivateDnsName"])
        try:
            self.supervisor.spec(process_name(doc["InstanceId"]))
        except UnknownProcessError:
            return False
        return True

    # -- shutting-down -------------------------------------------------------------------
    async def _terminate(self, doc: Doc) -> None:
        instance_id = doc["InstanceId"]
        join = (doc.get("openeks") or {}).get("join") or {}
        if join.get("runtime") == "simulated":
            await self.fleets.remove(join["cluster"], _zone(doc), doc["PrivateDnsName"])
        else:
            await self._stop_runc(doc)
        if join.get("status") == "joined":
            await self._delete_node(join["cluster"], doc["PrivateDnsName"])
        self.allocator.release(process_name(instance_id))
        shutil.rmtree(self.directory(instance_id), ignore_errors=True)
        # One subnet's addresses are one document: freeing them one termination at a time
        # per subnet beats a thousand compare-and-swap retries when a node group goes.
        async with self._subnet_locks.setdefault(doc["SubnetId"], asyncio.Lock()):
            await release(self.state, doc["SubnetId"], f"pods/{instance_id}")
            await ec2.finish_termination(self.state, instance_id)

    async def _stop_runc(self, doc: Doc) -> None:
        """Stop the agent, then remove its pods' containers and network from the host."""
        instance_id = doc["InstanceId"]
        with contextlib.suppress(UnknownProcessError):
            await self.supervisor.remove(process_name(instance_id))
        block = (doc.get("openeks") or {}).get("podBlock")
        if block is None or not (self.directory(instance_id) / "node").exists():
            return
        agent = self._agent(doc, block)
        if not await agents.reset(agent.reset_argv(), agent.directory / "reset.log"):
            log.error("instance %s: could not remove everything its node left", instance_id)

    async def _delete_node(self, cluster: str, node: str) -> None:
        """Delete the Node and force-delete the pods still bound to it (the instance and
        its containers are gone; upstream's pod garbage collector does the same for pods
        of a Node that no longer exists), so their controllers replace them at once."""
        client = self._admin(cluster)
        if client is None:
            return
        try:
            await _ignore_missing(client.delete(NODES, node))
            listed = await client.list(PODS, field_selector=f"spec.nodeName={node}")
            for pod in listed.get("items") or ():
                meta = pod["metadata"]
                await _ignore_missing(
                    client.delete(PODS, meta["name"], meta["namespace"], grace_period=0)
                )
        except (ApiError, OSError) as e:
            log.warning("could not delete node %s of cluster %s: %s", node, cluster, e)

    def _admin(self, cluster: str) -> Client | None:
        """One admin client per cluster, kept (a TLS context costs tens of milliseconds,
        and a node group's scale-in deletes many Nodes at once); a new one when the
        cluster's kubeconfig changed (the cluster was made again)."""
        kubeconfig = self.data_dir / "clusters" / cluster / "admin.kubeconfig"
        try:
            stamp = kubeconfig.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        kept = self._clients.get(cluster)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        if kept is not None:
            closing = asyncio.create_task(kept[1].close())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        client = Client(load_kubeconfig(kubeconfig))
        self._clients[cluster] = (stamp, client)
        return client

    async def close(self) -> None:
        for _, client in self._clients.values():
            await client.close()
        self._clients.clear()


async def _ignore_missing(call: Awaitable[Any]) -> None:
    try:
        await call
    except ApiError as e:
        if e.code != 404:
            raise


def _zone(doc: Doc) -> str:
    return str(doc["Placement"]["AvailabilityZone"])


def _fleet_entry(doc: Doc, request: JoinRequest) -> Doc:
    """The instance as a node of its fleet (`kube/node/fleet.NodeSpec`)."""
    zone = _zone(doc)
    return {
        "name": doc["PrivateDnsName"],
        "zone": zone,
        "instanceType": doc["InstanceType"],
        "labels": dict(sorted(request.labels.items())),
        "taints": list(request.taints),
        "maxPods": request.max_pods or lookup(doc["InstanceType"]).max_pods,
        "providerId": f"aws:///{zone}/{doc['InstanceId']}",
    }
