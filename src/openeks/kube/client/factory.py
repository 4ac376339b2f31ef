"""Shared informers: one list+watch per resource, however many components read it."""

from __future__ import annotations

import asyncio

from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client.informer import Informer
from openeks.kube.client.rest import Client


class InformerFactory:
    def __init__(self, client: Client, resync: float = 0.0) -> None:
        self.client = client
        self.resync = resync
        self._informers: dict[tuple[str, str, str, str], Informer] = {}
        self._started = False

    def get(
        self,
        resource: ResourceInfo,
        *,
        namespace: str = "",
        field_selector: str = "",
        label_selector: str = "",
    ) -> Informer:
        key = (resource.group, resource.plural, namespace, field_selector + "|" + label_selector)
        informer = self._informers.get(key)
        if informer is None:
            informer = Informer(
                self.client,
                resource,
                namespace,
                field_selector=field_selector,
                label_selector=label_selector,
                resync=self.resync,
            )
            self._informers[key] = informer
            if self._started:
                informer.start()
        return informer

    def start(self) -> None:
        self._started = True
        for informer in self._informers.values():
            informer.start()

    async def wait_synced(self, timeout: float | None = 60.0) -> None:
        await asyncio.wait_for(
            asyncio.gather(*(i.synced.wait() for i in self._informers.values())), timeout
        )

    async def stop(self) -> None:
        await asyncio.gather(*(i.stop() for i in self._informers.values()))
