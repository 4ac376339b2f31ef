"""The instance controller: EC2 instance documents in, node agents out.

An instance is a supervised `openeks kube node` process in its subnet's availability
zone (so a zone fault takes it down with the zone). One reconcile per instance:

- `pending`: read the user data (`userdata.parse`). An instance naming no cluster is a
  plain EC2 instance and just goes `running`. One naming a cluster joins it the way an
  EKS node does: its instance profile's role, as the session `arn:aws:sts::ACCT:assumed-
  role/ROLE/<instance id>`, must map to `system:node:<private DNS name>` in the group
  `system:nodes` through the cluster's access entries (type EC2_LINUX) or its aws-auth
  ConfigMap (`authorize`, given by the region service, which owns that mapping). Then the
  region signs the node a client certificate with the cluster's CA (the join is the
  bootstrap: upstream's TLS bootstrap with the CSR approved on the spot), gives it an
  address of its zone for its kubelet port and an aligned block of its subnet for its
  pods (VPC CNI prefix delegation), and starts the agent. An instance that may not join
  still runs — as in EKS, where the kubelet just fails to register — with the refusal
  in the region log and in `openeks.join` of its document.
- `running`: keep the process there (a restarted region brings it back).
- `shutting-down`: stop the process, delete its Node (as the cloud controller manager
  does for a terminated instance), free its addresses, go `terminated`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.apiserver.kubeconfig import issue_for
from openeks.kube.client import Client, load_kubeconfig
from openeks.kube.client.resources import NODES
from openeks.kube.node.instancetypes import lookup
from openeks.region.instances.userdata import JoinRequest, parse
from openeks.region.loop import RecordLoop
from openeks.region.process import ProcessSpec
from openeks.region.state import RegionState
from openeks.region.supervisor import Supervisor, UnknownProcessError
from openeks.region.vpc import instances as ec2
from openeks.region.vpc.documents import tag_map
from openeks.region.vpc.ipam import SubnetFullError, allocate_block, release
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
        self.authorize = authorize
        self.loop = RecordLoop(state, "instances", self.reconcile)

    async def run(self) -> None:
        await self.loop.run()

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
        if refusal is not None:
            log.warning(
                "instance %s may not join cluster %s: %s", instance_id, request.cluster, refusal
            )
        await self._record_join(instance_id, request.cluster, refusal)
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
        spec = await self._spec(doc, request, username, groups)
        if spec is None:
            return "its subnet has no free addresses left for pods"
        await self.supervisor.ensure(spec)
        return None

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

    async def _spec(
        self, doc: Doc, request: JoinRequest, username: str, groups: list[str]
    ) -> ProcessSpec | None:
        instance_id = doc["InstanceId"]
        directory = self.directory(instance_id)
        directory.mkdir(parents=True, exist_ok=True)
        kubeconfig = directory / "kubeconfig"
        cluster_dir = self.data_dir / "clusters" / request.cluster
        if not kubeconfig.exists():
            issue_for(cluster_dir, username, groups, kubeconfig)
        zone = doc["Placement"]["AvailabilityZone"]
        runtime = (
            "simulated" if tag_map(doc.get("Tags")).get(RUNTIME_TAG) == "simulated" else "runc"
        )
        itype = lookup(doc["InstanceType"])
        max_pods = request.max_pods or itype.max_pods
        private = doc.get("openeks") or {}
        block = private.get("podBlock")
        if block is None:
            try:
                block = await allocate_block(
                    self.state, doc["SubnetId"], pod_block_prefix(max_pods), f"pods/{instance_id}"
                )
            except SubnetFullError:
                return None
            await self._remember(instance_id, podBlock=block)
        address = self.allocator.endpoint(process_name(instance_id), zone, "kubelet", KUBELET_PORT)
        args = [
            "kube", "node",
            "--kubeconfig", str(kubeconfig),
            "--name", doc["PrivateDnsName"],
            "--zone", zone,
            "--instance-type", doc["InstanceType"],
            "--runtime", runtime,
            "--data-dir", str(directory / "node"),
            "--pod-cidr", block,
            "--address", address.host,
            "--port", str(address.port),
            "--max-pods", str(max_pods),
        ]  # fmt: skip
        if request.labels:
            labels = sorted(request.labels.items())
            args += ["--labels", ",".join(f"{k}={v}" for k, v in labels)]
        if request.taints:
            args += ["--taints", ",".join(request.taints)]
        return ProcessSpec(
            name=process_name(instance_id),
            zone=zone,
            argv=(sys.executable, "-m", "openeks.cli.main", *args),
            log_file=directory / "node.log",
            cwd=directory,
            start_timeout=None,
            stop_grace=10.0,
            order=5,
        )

    async def _record_join(self, instance_id: str, cluster: str, refusal: str | None) -> None:
        join = {"cluster": cluster, "status": "refused" if refusal else "joined"}
        if refusal:
            join["reason"] = refusal
        await self._remember(instance_id, join=join)

    async def _remember(self, instance_id: str, **values: Any) -> None:
        def change(current: Doc) -> Doc:
            current.setdefault("openeks", {}).update(values)
            return current

        await self.state.mutate("instances", instance_id, change)

    # -- running -------------------------------------------------------------------------
    async def _keep(self, doc: Doc) -> None:
        """Keep a joined node's process there; retry a refused join now and then, as a
        kubelet retries registering (the access entry or mapping may come later)."""
        join = (doc.get("openeks") or {}).get("join") or {}
        if not join:
            return
        if join.get("status") == "joined":
            with contextlib.suppress(UnknownProcessError):
                self.supervisor.spec(process_name(doc["InstanceId"]))
                return
        request = parse((doc.get("openeks") or {}).get("userData") or "")
        if request is None:
            return
        refusal = await self._join(doc, request)
        if refusal is None or refusal != join.get("reason"):
            if refusal is None and join.get("status") == "refused":
                log.warning("instance %s joined cluster %s", doc["InstanceId"], request.cluster)
            await self._record_join(doc["InstanceId"], request.cluster, refusal)

    # -- shutting-down -------------------------------------------------------------------
    async def _terminate(self, doc: Doc) -> None:
        instance_id = doc["InstanceId"]
        with contextlib.suppress(UnknownProcessError):
            await self.supervisor.remove(process_name(instance_id))
        join = (doc.get("openeks") or {}).get("join") or {}
        if join.get("status") == "joined":
            await self._delete_node(join["cluster"], doc["PrivateDnsName"])
        self.allocator.release(process_name(instance_id))
        await release(self.state, doc["SubnetId"], f"pods/{instance_id}")
        shutil.rmtree(self.directory(instance_id), ignore_errors=True)
        await ec2.finish_termination(self.state, instance_id)

    async def _delete_node(self, cluster: str, node: str) -> None:
        kubeconfig = self.data_dir / "clusters" / cluster / "admin.kubeconfig"
        if not kubeconfig.exists():
            return
        client = Client(load_kubeconfig(kubeconfig))
        try:
            await client.delete(NODES, node)
        except (ApiError, OSError) as e:
            if not isinstance(e, ApiError) or e.code != 404:
                log.warning("could not delete node %s of cluster %s: %s", node, cluster, e)
        finally:
            await client.close()
