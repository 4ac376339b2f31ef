"""Namespace stand-ins for an API server without a controller manager.

The namespace finalizer empties a terminating namespace, then lets it go; and every
active namespace gets its `default` service account and its `kube-root-ca.crt` ConfigMap
(what the service account and root CA publisher controllers do in a full control plane),
so that pods, whose service account volume needs both, start in API-only mode too.

Deleting a namespace marks it Terminating (`NamespaceStrategy`); this loop deletes every
namespaced object in it, waits for them to be gone (their own finalizers and grace
periods are respected), and then removes the `kubernetes` finalizer from
`spec.finalizers`, which deletes the namespace — what upstream's namespace controller
does through the API. It runs inside the API server so that `kubectl delete namespace`
completes even in a cluster without a controller manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from openeks.kube.api import meta, rootca
from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import Resources
from openeks.kube.apiserver.registry import DeleteOptions, ListOptions, Registry, WriteOptions

log = logging.getLogger(__name__)

Obj = dict[str, Any]
_PREFIX = "/registry/core/namespaces/"


class NamespaceFinalizer:
    def __init__(
        self, registry: Registry, resources: Resources, ca_pem: str = "", period: float = 1.0
    ) -> None:
        self.registry = registry
        self.resources = resources
        self.ca_pem = ca_pem
        self.period = period

    async def run(self) -> None:
        cache = self.registry.cache
        watcher = cache.subscribe(_PREFIX, _PREFIX, lambda obj: True)
        try:
            while True:
                await self.sweep()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watcher.queue.get(), self.period)
        finally:
            cache.unsubscribe(_PREFIX, watcher)

    async def sweep(self) -> None:
        namespaces = self.registry.cache.cache(_PREFIX).objects.values()
        for ns in list(namespaces):
            if not ns["metadata"].get("deletionTimestamp"):
                await self.ensure_default_account(ns["metadata"]["name"])
                await self.ensure_root_ca(ns["metadata"]["name"])
            if ns["metadata"].get("deletionTimestamp") and "kubernetes" in (
                (ns.get("spec") or {}).get("finalizers") or ()
            ):
                try:
                    await self.finalize(ns["metadata"]["name"])
                except ApiError as e:
                    log.warning("finalizing namespace %s: %s", ns["metadata"]["name"], e)

    async def ensure_default_account(self, namespace: str) -> None:
        """Without a controller manager nobody creates `default` service accounts, and
        pods need one (ServiceAccount admission): make it, as the SA controller would."""
        accounts = self.registry.for_storage("core/serviceaccounts")
        key = accounts.key(namespace, "default")
        if key in self.registry.cache.cache("/registry/core/serviceaccounts/").objects:
            return
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}
        try:
            await accounts.create(namespace, body, WriteOptions())
        except ApiError as e:
            if e.code not in (403, 404, 409):
                raise

    async def ensure_root_ca(self, namespace: str) -> None:
        if not self.ca_pem:
            return
        config_maps = self.registry.for_storage("core/configmaps")
        key = config_maps.key(namespace, rootca.NAME)
        if key in self.registry.cache.cache("/registry/core/configmaps/").objects:
            return
        try:
            await config_maps.create(
                namespace, rootca.config_map(namespace, self.ca_pem), WriteOptions()
            )
        except ApiError as e:
            if e.code not in (403, 404, 409):
                raise

    async def finalize(self, name: str) -> None:
        remaining = 0
        for rs in self.registry.stores():
            if not rs.info.namespaced:
                continue
            listed = await rs.list(name, ListOptions(resource_version="0"))
            for obj in listed.items:
                remaining += 1
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    await rs.delete(
                        name, obj["metadata"]["name"], DeleteOptions(propagation="Background")
                    )
                except ApiError as e:
                    if e.code != 404:
                        raise
        if remaining:
            return
        namespaces = self.registry.for_storage("core/namespaces")

        async def drop_finalizer(ns: Obj) -> Obj:
            spec = ns.setdefault("spec", {})
            spec["finalizers"] = [f for f in spec.get("finalizers") or () if f != "kubernetes"]
            if not spec["finalizers"]:
                del spec["finalizers"]
            return ns

        async def finalize_update(ns: Obj) -> Obj:
            new = await drop_finalizer(meta.deep_copy(ns))
            return new

        try:
            await namespaces.update(
                "", name, finalize_update, WriteOptions(), subresource="finalize"
            )
        except ApiError as e:
            if e.code != 404:
                raise
