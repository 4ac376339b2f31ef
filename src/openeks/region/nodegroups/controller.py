"""The node group controller: EKS node group records in, instances that are Ready nodes out.

One reconcile per node group (`nodegroups/<cluster>/<name>`), run on every change and
every two seconds, each step idempotent:

- CREATING: give the node role access to the cluster (`grant_node_access`, as EKS adds
  an EC2_LINUX access entry or an aws-auth mapping), launch instances up to the desired
  size, go ACTIVE once that many are Ready nodes.
- ACTIVE: keep the desired size — an instance that was terminated or failed is
  replaced, the Auto Scaling group's behaviour.
- UPDATING: carry out the InProgress update: a ConfigUpdate scales (scale-in cordons,
  drains respecting PodDisruptionBudgets, terminates) and relabels/retaints nodes; a
  VersionUpdate rolls every node over to the new image (`rolling.py`). The update ends
  Successful or Failed (with EKS's error codes) and the group goes ACTIVE.
- DELETING: drain (forcing after a short wait) and terminate every instance, then
  forget the group and its updates.

A group whose instances cannot be launched (no addresses left in its subnets) or do not
become Ready within a while is DEGRADED with `health.issues`, as EKS reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from openeks.kube.client import Client, load_kubeconfig
from openeks.region.loop import RecordLoop
from openeks.region.nodegroups import members as m
from openeks.region.nodegroups import relabel, rolling, scaling
from openeks.region.nodegroups.drain import PodEvictionFailure, drain
from openeks.region.state import Missing, RegionState
from openeks.region.vpc.documents import now_iso
from openeks.region.vpc.ipam import SubnetFullError
from openeks.region.zones import Region

log = logging.getLogger(__name__)

Doc = dict[str, Any]
GrantNodeAccess = Callable[[str, str], Awaitable[None]]
"""(cluster, node role ARN) → the role's instances may join the cluster as nodes."""

READY_TIMEOUT = 120.0
DRAIN_TIMEOUT = 60.0
DELETE_DRAIN_TIMEOUT = 5.0
TERMINATE_TIMEOUT = 60.0


class NodegroupController:
    def __init__(
        self,
        state: RegionState,
        region: Region,
        account: str,
        data_dir: Path,
        grant_node_access: GrantNodeAccess,
    ) -> None:
        self.state = state
        self.region = region
        self.account = account
        self.data_dir = data_dir
        self.grant_node_access = grant_node_access
        self.ready_timeout = READY_TIMEOUT
        self.drain_timeout = DRAIN_TIMEOUT
        self.loop = RecordLoop(state, "nodegroups", self.reconcile, interval=2.0)

    async def run(self) -> None:
        await self.loop.run()

    def client(self, cluster: str) -> Client:
        return Client(load_kubeconfig(self.data_dir / "clusters" / cluster / "admin.kubeconfig"))

    async def reconcile(self, name: str) -> None:
        record = await self.state.get("nodegroups", name)
        if record is None:
            return
        group = record.value
        client = self.client(group["clusterName"])
        try:
            status = group.get("status")
            if status == "CREATING":
                await self._create(name, group, client)
            elif status in ("ACTIVE", "DEGRADED"):
                await self._keep(name, group, client)
            elif status == "UPDATING":
                await self._update(name, group, client)
            elif status == "DELETING":
                await self._delete(name, group, client)
        finally:
            await client.close()

    # -- members -------------------------------------------------------------------------
    async def members(self, group: Doc) -> list[Doc]:
        instances = [r.value for r in await self.state.list("instances")]
        return m.live([i for i in instances if m.is_member(i, group)])

    async def _subnet_zones(self) -> dict[str, str]:
        return {r.name: r.value["AvailabilityZone"] for r in await self.state.list("subnets")}

    async def launch(self, group: Doc, count: int, image: str) -> list[Doc]:
        """Launch `count` instances spread over the group's zones (fewest members first)."""
        placed = m.spread(group, await self.members(group), await self._subnet_zones(), count)
        return await scaling.launch(self.state, self.region, self.account, group, placed, image)

    async def remove(
        self, client: Client, instances: list[Doc], timeout: float, force: bool
    ) -> None:
        """Drain the instances' nodes (concurrently), terminate them and wait until they
        are gone (their Nodes deleted), as an Auto Scaling group's scale-in completes."""

        async def one(instance: Doc) -> None:
            await drain(client, instance["PrivateDnsName"], timeout, force=force)

        results = await asyncio.gather(*(one(i) for i in instances), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        drained = [i for i, r in zip(instances, results, strict=True) if r is None]
        if drained:
            ids = [i["InstanceId"] for i in drained]
            await scaling.terminate(self.state, ids)
            await scaling.wait_terminated(self.state, ids, TERMINATE_TIMEOUT + len(ids) / 10)
        if failures:
            raise failures[0]

    async def converge(self, group: Doc, client: Client, desired: int) -> list[Doc]:
        """Launch or remove members until there are `desired`; the members after."""
        image = m.image_id(group)
        current = await self.members(group)
        if len(current) < desired:
            await self.launch(group, desired - len(current), image)
        elif len(current) > desired:
            extra = m.scale_in_order(current)[: len(current) - desired]
            await self.remove(client, extra, self.drain_timeout, force=False)
        return await self.members(group)

    async def wait_ready(self, client: Client, group: Doc, names: set[str], timeout: float) -> bool:
        """Wait until `names` are Ready nodes of the group; False after `timeout`, or as
        soon as one of the group's instances was refused joining the cluster."""
        deadline = time.monotonic() + timeout
        pause = min(2.0, max(0.5, len(names) / 500))  # a list of 1,000 nodes is not free
        while time.monotonic() < deadline:
            if names <= await m.ready_nodes(client, group):
                return True
            if m.refusals(await self.members(group)):
                return False
            await asyncio.sleep(pause)
        return False

    # -- statuses ------------------------------------------------------------------------
    async def _create(self, name: str, group: Doc, client: Client) -> None:
        await self.grant_node_access(group["clusterName"], group["nodeRole"])
        desired = group["scalingConfig"]["desiredSize"]
        try:
            current = await self.converge(group, client, desired)
        except SubnetFullError as e:
            await self._degrade(name, "Ec2SubnetInvalidConfiguration", str(e), [])
            return
        names = {i["PrivateDnsName"] for i in current}
        if await self.wait_ready(client, group, names, self.ready_timeout):
            await self._remember_applied(name)
            await self._set_status(name, "ACTIVE", from_status="CREATING")
        else:
            refused = m.refusals(await self.members(group))
            ids = sorted(refused) or [i["InstanceId"] for i in current]
            message = "Instances failed to join the kubernetes cluster"
            if refused:  # (openeks wording after the colon: the reason the region refused)
                message += ": " + sorted(refused.values())[0]
            await self._degrade(name, "NodeCreationFailure", message, ids)

    async def _keep(self, name: str, group: Doc, client: Client) -> None:
        desired = group["scalingConfig"]["desiredSize"]
        try:
            current = await self.converge(group, client, desired)
        except SubnetFullError as e:
            await self._degrade(name, "InsufficientFreeAddresses", str(e), [])
            return
        if group.get("status") == "DEGRADED":
            names = {i["PrivateDnsName"] for i in current}
            if names <= await m.ready_nodes(client, group):
                await self._set_status(name, "ACTIVE", from_status="DEGRADED")

    async def _update(self, name: str, group: Doc, client: Client) -> None:
        update = await self._open_update(group)
        outcome, errors = "Successful", []
        try:
            if update is not None and update["type"] == "VersionUpdate":
                await rolling.roll(self, group, client, update)
            else:
                await self._apply_config(name, group, client)
        except PodEvictionFailure as e:
            outcome, errors = "Failed", [_error("PodEvictionFailure", str(e), group)]
        except Exception as e:
            log.exception("updating node group %s", name)
            outcome, errors = "Failed", [_error("Unknown", str(e), group)]
        await self._finish(name, update, outcome, errors)

    async def _apply_config(self, name: str, group: Doc, client: Client) -> None:
        current = await self.converge(group, client, group["scalingConfig"]["desiredSize"])
        previous = (group.get("openeks") or {}).get("applied") or relabel.applied({})
        await relabel.relabel(client, group, [i["PrivateDnsName"] for i in current], previous)
        await self._remember_applied(name)
        names = {i["PrivateDnsName"] for i in current}
        await self.wait_ready(client, group, names, self.ready_timeout)

    async def _delete(self, name: str, group: Doc, client: Client) -> None:
        current = await self.members(group)
        with contextlib.suppress(Exception):
            await self.remove(client, current, DELETE_DRAIN_TIMEOUT, force=True)
        left = [i["InstanceId"] for i in await self.members(group)]
        if left:  # a drain that failed even with force: terminate all the same
            await scaling.terminate(self.state, left)
        for record in await self.state.list("updates", f"{group['clusterName']}/"):
            if (record.value.get("openeks") or {}).get("nodegroup") == group["nodegroupName"]:
                with contextlib.suppress(Missing):
                    await self.state.delete("updates", record.name)
        with contextlib.suppress(Missing):
            await self.state.delete("nodegroups", name)

    # -- records -------------------------------------------------------------------------
    async def _open_update(self, group: Doc) -> Doc | None:
        for record in await self.state.list("updates", f"{group['clusterName']}/"):
            update = record.value
            private = update.get("openeks") or {}
            mine = private.get("nodegroup") == group["nodegroupName"]
            if mine and update["status"] == "InProgress":
                return {**update, "_name": record.name}
        return None

    async def _finish(self, name: str, update: Doc | None, outcome: str, errors: list[Doc]) -> None:
        def close(current: Doc) -> Doc:
            current["status"] = outcome
            current["errors"] = errors
            return current

        if update is not None:
            await self.state.mutate("updates", update["_name"], close)

        def activate(current: Doc) -> Doc:
            if current.get("status") != "UPDATING":
                return current
            private = current.setdefault("openeks", {})
            if outcome == "Successful" and update is not None and update["type"] == "VersionUpdate":
                current["version"] = private.get("desiredVersion", current["version"])
                current["releaseVersion"] = private.get(
                    "desiredReleaseVersion", current.get("releaseVersion")
                )
            current["status"] = "ACTIVE"
            current["modifiedAt"] = now_iso()
            return current

        await self.state.mutate("nodegroups", name, activate)

    async def _remember_applied(self, name: str) -> None:
        def remember(doc: Doc) -> Doc:
            doc.setdefault("openeks", {})["applied"] = relabel.applied(doc)
            return doc

        await self.state.mutate("nodegroups", name, remember)

    async def _set_status(self, name: str, status: str, from_status: str) -> None:
        def change(current: Doc) -> Doc:
            if current.get("status") == from_status:
                current["status"] = status
                current["health"] = {"issues": []}
                current["modifiedAt"] = now_iso()
            return current

        await self.state.mutate("nodegroups", name, change)

    async def _degrade(self, name: str, code: str, message: str, ids: list[str]) -> None:
        def change(current: Doc) -> Doc:
            if current.get("status") in ("CREATING", "ACTIVE"):
                current["status"] = "DEGRADED" if current["status"] == "ACTIVE" else "CREATE_FAILED"
                current["health"] = {
                    "issues": [{"code": code, "message": message, "resourceIds": ids}]
                }
            return current

        await self.state.mutate("nodegroups", name, change)


def _error(code: str, message: str, group: Doc) -> Doc:
    return {"errorCode": code, "errorMessage": message, "resourceIds": [group["nodegroupName"]]}
