"""The cluster controller: EKS cluster records in, running control planes out.

One reconcile per cluster name, run whenever its record changes and every few seconds:

- CREATING: plan the processes, prepare the PKI, hand everything to the supervisor, put
  a load balancer in front of the API servers, wait for `/readyz` through it, install
  the RBAC bindings access policies map to, then record `endpoint`, the CA and the OIDC
  issuer and go ACTIVE (or FAILED with a health issue after a timeout).
- UPDATING with a version change: replace the API servers one zone at a time (the load
  balancer keeps serving from the others), then record the new version, mark the Update
  Successful and go ACTIVE.
- DELETING: stop and forget every process, the load balancer, the addresses and the
  files, then delete the record (and its updates and access entries).
- ACTIVE: keep the processes and the load balancer there (a restarted region brings them
  back), and keep access-policy bindings in line with the access entries.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openeks.region.clusters import access
from openeks.region.clusters.interfaces import (
    ensure_control_plane_interfaces,
    remove_control_plane_interfaces,
)
from openeks.region.clusters.plan import (
    ClusterPlan,
    ClusterSettings,
    apiserver_spec,
    owner,
    plan,
    prepare_pki,
    process_name,
    remove_files,
    specs,
)
from openeks.region.loadbalancer import HealthCheck, TcpLoadBalancer
from openeks.region.loop import RecordLoop
from openeks.region.state import Missing, RegionState
from openeks.region.supervisor import Supervisor, UnknownProcessError
from openeks.region.zones import AddressAllocator

log = logging.getLogger(__name__)

Doc = dict[str, Any]
CREATE_TIMEOUT = 180.0


class ClusterController:
    def __init__(
        self,
        state: RegionState,
        supervisor: Supervisor,
        allocator: AddressAllocator,
        zones: list[str],
        data_dir: Path,
        token_webhook_url: Callable[[str], str],
        region: str,
    ) -> None:
        self.state = state
        self.supervisor = supervisor
        self.allocator = allocator
        self.zones = zones
        self.data_dir = data_dir
        self.token_webhook_url = token_webhook_url
        self.region = region
        self.balancers: dict[str, TcpLoadBalancer] = {}
        self.loop = RecordLoop(state, "clusters", self.reconcile)

    async def run(self) -> None:
        try:
            await self.loop.run()
        finally:
            for balancer in self.balancers.values():
                await balancer.stop()

    # -- one cluster ---------------------------------------------------------------------
    def _settings(self, doc: Doc, version: str | None = None) -> ClusterSettings:
        private = doc.get("openeks") or {}
        issuer = (doc.get("identity") or {}).get("oidc", {}).get("issuer") or _issuer(
            self.region, f"{doc['name']}/{doc.get('createdAt', '')}"
        )
        return ClusterSettings(
            name=doc["name"],
            version=version or doc["version"],
            service_cidr=(doc.get("kubernetesNetworkConfig") or {}).get(
                "serviceIpv4Cidr", "10.100.0.0/16"
            ),
            issuer=issuer,
            token_webhook_url=self.token_webhook_url(doc["name"]),
            mode=private.get("mode", "three-zone"),
        )

    def plan_for(self, doc: Doc, version: str | None = None) -> ClusterPlan:
        return plan(self._settings(doc, version), self.data_dir, self.allocator, self.zones)

    async def reconcile(self, name: str) -> None:
        record = await self.state.get("clusters", name)
        if record is None:
            return
        doc = record.value
        status = doc.get("status")
        if status == "DELETING":
            await self._delete(doc)
        elif status == "CREATING":
            await self._create(doc)
        elif (
            status == "UPDATING"
            and (doc.get("openeks") or {}).get("desiredVersion", doc["version"]) != doc["version"]
        ):
            await self._upgrade(doc)
        elif status in ("ACTIVE", "UPDATING"):
            await self._keep(doc)

    async def _run_processes(self, cluster: ClusterPlan, version: str | None = None) -> None:
        prepare_pki(cluster)
        for spec in specs(cluster, version):
            await self.supervisor.ensure(spec)
        self._balancer(cluster)

    def _balancer(self, cluster: ClusterPlan) -> TcpLoadBalancer:
        name = cluster.settings.name
        backends = [(e.host, e.port) for e in cluster.apiservers.values()]
        balancer = self.balancers.get(name)
        if balancer is None:
            balancer = TcpLoadBalancer(
                (cluster.endpoint.host, cluster.endpoint.port),
                backends,
                HealthCheck(
                    kind="https",
                    path="/readyz",
                    interval=0.5,
                    timeout=1.0,
                    unhealthy_after=2,
                    healthy_after=1,
                ),
                name=f"{name}-endpoint",
            )
            self.balancers[name] = balancer
            asyncio.get_running_loop().create_task(balancer.start())
        else:
            balancer.set_backends(backends)
        return balancer

    async def _create(self, doc: Doc) -> None:
        cluster = self.plan_for(doc)
        started = time.monotonic()
        await self._run_processes(cluster)
        ready = await access.wait_ready(cluster, CREATE_TIMEOUT)
        if not ready:
            await self._set(
                doc["name"],
                _failed(f"the control plane did not become ready within {CREATE_TIMEOUT:.0f} s"),
            )
            return
        await access.bootstrap(cluster, self.state)
        account = doc["arn"].split(":")[4]
        await ensure_control_plane_interfaces(self.state, self.region, account, doc)
        ca = base64.b64encode(cluster.ca_pem).decode()
        issuer = cluster.settings.issuer

        def activate(current: Doc) -> Doc:
            if current.get("status") != "CREATING":
                return current
            current.update(
                status="ACTIVE",
                endpoint=cluster.endpoint_url,
                certificateAuthority={"data": ca},
                identity={"oidc": {"issuer": issuer}},
            )
            current.setdefault("openeks", {})["readySeconds"] = round(time.monotonic() - started, 2)
            return current

        await self.state.mutate("clusters", doc["name"], activate)
        log.info("cluster %s ACTIVE in %.1f s", doc["name"], time.monotonic() - started)

    async def _keep(self, doc: Doc) -> None:
        cluster = self.plan_for(doc)
        await self._run_processes(cluster)
        with contextlib.suppress(Exception):
            await access.sync_bindings(cluster, self.state)

    async def _upgrade(self, doc: Doc) -> None:
        target = doc["openeks"]["desiredVersion"]
        cluster = self.plan_for(doc)
        await self._run_processes(cluster)
        updates = [
            u
            for u in await self.state.list("updates", f"{doc['name']}/")
            if u.value["status"] == "InProgress"
        ]
        try:
            for zone in cluster.zones:
                new = self.plan_for(doc, target)
                await self.supervisor.ensure(apiserver_spec(new, zone, target))
                await self.supervisor.wait_ready(
                    process_name(doc["name"], "apiserver", zone), timeout=120
                )
                await access.wait_ready(cluster, 60)
            outcome = "Successful"
        except Exception as e:
            log.exception("upgrading %s", doc["name"])
            outcome, error = "Failed", str(e)
        else:
            error = ""

        def finish(current: Doc) -> Doc:
            if outcome == "Successful":
                current["version"] = target
            current["status"] = "ACTIVE"
            current.setdefault("openeks", {})["desiredVersion"] = current["version"]
            return current

        await self.state.mutate("clusters", doc["name"], finish)
        for update in updates:

            def close(u: Doc) -> Doc:
                u["status"] = outcome
                if outcome == "Failed":
                    u["errors"] = [
                        {
                            "errorCode": "Unknown",
                            "errorMessage": error,
                            "resourceIds": [doc["name"]],
                        }
                    ]
                return u

            await self.state.mutate("updates", update.name, close)

    async def _delete(self, doc: Doc) -> None:
        name = doc["name"]
        cluster = self.plan_for(doc)
        balancer = self.balancers.pop(name, None)
        if balancer is not None:
            await balancer.stop()
        for spec in reversed(specs(cluster)):
            with contextlib.suppress(UnknownProcessError):
                await self.supervisor.remove(spec.name)
        self.allocator.release_prefix(owner(name, ""))
        remove_files(cluster)
        await remove_control_plane_interfaces(self.state, name)
        for kind in ("updates", "accessentries"):
            for record in await self.state.list(kind, f"{name}/"):
                with contextlib.suppress(Missing):
                    await self.state.delete(kind, record.name)
        with contextlib.suppress(Missing):
            await self.state.delete("clusters", name)

    async def _set(self, name: str, change: Callable[[Doc], Doc]) -> None:
        await self.state.mutate("clusters", name, change)


def _failed(message: str) -> Callable[[Doc], Doc]:
    def fail(doc: Doc) -> Doc:
        doc["status"] = "FAILED"
        doc["health"] = {
            "issues": [
                {"code": "ClusterUnreachable", "message": message, "resourceIds": [doc["name"]]}
            ]
        }
        return doc

    return fail


def _issuer(region: str, name: str) -> str:
    import hashlib

    digest = hashlib.sha256(f"{region}/{name}".encode()).hexdigest()[:32].upper()
    return f"https://oidc.eks.{region}.amazonaws.com/id/{digest}"
