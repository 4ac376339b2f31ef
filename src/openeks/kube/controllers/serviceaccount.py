"""The service account controller: every active namespace has a `default` ServiceAccount.

As upstream's `serviceaccounts-controller`: a namespace is checked when it appears or
changes, and again when one of its ServiceAccounts named `default` is deleted, so a
deleted `default` comes back. Terminating namespaces are left alone (creating in them
is refused anyway).
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.client.resources import NAMESPACES, SERVICEACCOUNTS
from openeks.kube.controllers.base import Controller

Obj = dict[str, Any]
MANAGED = ("default",)


class ServiceAccountController(Controller):
    name = "serviceaccount"
    workers = 2

    def setup(self) -> None:
        self.namespaces = self.informers.get(NAMESPACES)
        self.accounts = self.informers.get(SERVICEACCOUNTS)
        self.namespaces.on(
            add=lambda ns: self.enqueue(ns["metadata"]["name"]),
            update=lambda old, new: self.enqueue(new["metadata"]["name"]),
        )
        self.accounts.on(delete=self._account_deleted)

    def _account_deleted(self, sa: Obj) -> None:
        if sa["metadata"]["name"] in MANAGED:
            self.enqueue(sa["metadata"]["namespace"])

    async def reconcile(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or (ns.get("status") or {}).get("phase", "Active") != "Active":
            return
        if ns["metadata"].get("deletionTimestamp"):
            return
        for name in MANAGED:
            if self.accounts.get(f"{key}/{name}") is not None:
                continue
            body = {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": name, "namespace": key},
            }
            try:
                await self.client.create(SERVICEACCOUNTS, body, key)
            except ApiError as e:
                if e.code == 409:  # AlreadyExists: our cache was behind
                    continue
                if e.code == 403 and _namespace_terminating(e):
                    return
                raise


def _namespace_terminating(e: ApiError) -> bool:
    return any(c.type == "NamespaceTerminating" for c in e.causes)
