"""The Fargate controller: Fargate profile records in, a webhook and a scheduler per cluster out.

One reconcile per profile (`fargateprofiles/<cluster>/<name>`):

- CREATING: install the Fargate mutating webhook in the cluster (pointing at the
  region's HTTPS webhook endpoint, `webhook`), make sure the cluster's Fargate scheduler
  runs, go ACTIVE.
- ACTIVE: keep both there (a restarted region starts the schedulers again).
- DELETING: delete the pods the profile placed (as EKS does), then the record.

The webhook's answers read the ACTIVE profiles from the region state on each request,
so a profile is in effect as soon as it is ACTIVE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, load_kubeconfig
from openeks.kube.client.resources import PODS, resource
from openeks.region.fargate.admission import WEBHOOK_NAME, configuration
from openeks.region.fargate.scheduler import FargateScheduler
from openeks.region.fargate.selectors import PROFILE_LABEL
from openeks.region.loop import RecordLoop
from openeks.region.state import Missing, RegionState
from openeks.region.supervisor import Supervisor
from openeks.region.vpc.documents import now_iso
from openeks.region.zones import AddressAllocator

log = logging.getLogger(__name__)

Doc = dict[str, Any]
MUTATING_WEBHOOKS = resource("mutatingwebhookconfigurations", "admissionregistration.k8s.io")


@dataclass(frozen=True)
class Webhook:
    url: Callable[[str], str]
    """cluster name → the URL its API servers call."""
    ca_pem: bytes


class FargateController:
    def __init__(
        self,
        state: RegionState,
        supervisor: Supervisor,
        allocator: AddressAllocator,
        data_dir: Path,
        region: str,
        webhook: Webhook,
    ) -> None:
        self.state = state
        self.supervisor = supervisor
        self.allocator = allocator
        self.data_dir = data_dir
        self.region = region
        self.webhook = webhook
        self.loop = RecordLoop(state, "fargateprofiles", self.reconcile)
        self.schedulers: dict[str, asyncio.Task[None]] = {}

    async def run(self) -> None:
        try:
            await self.loop.run()
        finally:
            for task in self.schedulers.values():
                task.cancel()
            await asyncio.gather(*self.schedulers.values(), return_exceptions=True)

    def client(self, cluster: str) -> Client:
        return Client(load_kubeconfig(self.data_dir / "clusters" / cluster / "admin.kubeconfig"))

    async def reconcile(self, name: str) -> None:
        record = await self.state.get("fargateprofiles", name)
        if record is None:
            return
        profile = record.value
        cluster = profile["clusterName"]
        status = profile.get("status")
        if status == "DELETING":
            await self._delete(name, profile)
            return
        self._ensure_scheduler(cluster)
        if status == "CREATING":
            await self._install_webhook(cluster)

            def activate(doc: Doc) -> Doc:
                if doc.get("status") == "CREATING":
                    doc["status"] = "ACTIVE"
                    doc.setdefault("openeks", {})["activatedAt"] = now_iso()
                return doc

            await self.state.mutate("fargateprofiles", name, activate)

    def _ensure_scheduler(self, cluster: str) -> None:
        task = self.schedulers.get(cluster)
        if task is not None and not task.done():
            return
        scheduler = FargateScheduler(
            cluster,
            self.client(cluster),
            self.state,
            self.supervisor,
            self.allocator,
            self.data_dir,
            self.region,
        )
        self.schedulers[cluster] = asyncio.create_task(
            scheduler.run(), name=f"fargate-scheduler-{cluster}"
        )

    async def _install_webhook(self, cluster: str) -> None:
        wanted = configuration(self.webhook.url(cluster), self.webhook.ca_pem)
        async with self.client(cluster) as client:
            try:
                current = await client.get(MUTATING_WEBHOOKS, WEBHOOK_NAME)
            except ApiError as e:
                if e.code != 404:
                    raise
                await client.create(MUTATING_WEBHOOKS, wanted)
                return
            wanted["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            await client.update(MUTATING_WEBHOOKS, wanted)

    async def _delete(self, name: str, profile: Doc) -> None:
        selector = f"{PROFILE_LABEL}={profile['fargateProfileName']}"
        async with self.client(profile["clusterName"]) as client:
            listed = await client.list(PODS, label_selector=selector)
            for pod in listed.get("items") or ():
                meta = pod["metadata"]
                with contextlib.suppress(ApiError):
                    await client.delete(PODS, meta["name"], meta["namespace"])
        with contextlib.suppress(Missing):
            await self.state.delete("fargateprofiles", name)
