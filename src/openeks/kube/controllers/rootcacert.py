"""The root CA publisher: a `kube-root-ca.crt` ConfigMap in every namespace.

Pods verify the API server with it (the projected service account volume mounts its
`ca.crt`). The CA is the one this controller manager trusts for the API server (its
kubeconfig's certificate authority), as upstream's root-ca-cert-publisher uses its own.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.api.rootca import NAME, config_map
from openeks.kube.client import key_of, split_key
from openeks.kube.client.resources import CONFIGMAPS, NAMESPACES
from openeks.kube.controllers.base import Controller

Obj = dict[str, Any]


class RootCACertPublisher(Controller):
    name = "root-ca-cert-publisher"
    workers = 2

    def setup(self) -> None:
        self.namespaces = self.informers.get(NAMESPACES)
        self.configmaps = self.informers.get(CONFIGMAPS, field_selector=f"metadata.name={NAME}")
        self.namespaces.on(
            add=lambda ns: self.enqueue(key_of(ns)),
            update=lambda old, new: self.enqueue(key_of(new)),
        )
        self.configmaps.on(
            update=lambda old, new: self.enqueue(new["metadata"]["namespace"]),
            delete=lambda cm: self.enqueue(cm["metadata"]["namespace"]),
        )

    @property
    def ca_pem(self) -> str:
        return (self.client.config.ca_data or b"").decode()

    async def reconcile(self, key: str) -> None:
        _, namespace = split_key(key)
        ns = self.namespaces.get(namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp") or not self.ca_pem:
            return
        wanted = {"ca.crt": self.ca_pem}
        current = self.configmaps.get(f"{namespace}/{NAME}")
        if current is not None:
            if current.get("data") == wanted:
                return
            await self.client.patch(CONFIGMAPS, NAME, {"data": wanted}, namespace)
            return
        body = config_map(namespace, self.ca_pem)
        try:
            await self.client.create(CONFIGMAPS, body)
        except ApiError as e:
            if e.code not in (409, 403, 404):
                raise
