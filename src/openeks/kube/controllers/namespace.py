"""The namespace controller: a terminating namespace is emptied, then released.

`kubectl delete namespace` only marks the namespace (deletionTimestamp, phase
Terminating). For a namespace whose `spec.finalizers` still holds `kubernetes`, this
controller deletes everything in it through the API (`common.nsdeleter`, every
namespaced resource found by discovery), records on the namespace the conditions
upstream records (`NamespaceContentRemaining`, `NamespaceFinalizersRemaining`, ...),
waits, re-checking after the estimated time, until nothing is left, and then removes
`kubernetes` from `spec.finalizers` with `PUT .../namespaces/NAME/finalize`, after
which the API server deletes the namespace.

Upstream delays the first look at a deleted namespace by 5 s so HA API servers and etcd
members catch up; one API server needs no such pause, so `first_sync_delay` is short.
Waits are capped (`max_wait`) so a namespace goes as soon as its content does.
"""

from __future__ import annotations

import logging
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import resource_path
from openeks.kube.client.resources import NAMESPACES
from openeks.kube.controllers.base import Controller, ControllerContext
from openeks.kube.controllers.common.nsdeleter import ContentDeleter, update_conditions
from openeks.runtime import Requeue

log = logging.getLogger(__name__)

Obj = dict[str, Any]
FINALIZER = "kubernetes"


class NamespaceController(Controller):
    name = "namespace"
    workers = 4
    first_sync_delay = 0.5
    """Seconds between seeing a namespace deleted and emptying it (upstream: 5)."""
    max_wait = 5.0
    """Longest pause between passes while content is still going away."""
    error_wait = 5.0
    """Pause after a pass that could not delete or discover everything."""

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.deleter = ContentDeleter(self.client)

    def setup(self) -> None:
        informer = self.informers.get(NAMESPACES)
        informer.on(add=self._changed, update=lambda old, new: self._changed(new))

    def _changed(self, ns: Obj) -> None:
        if ns["metadata"].get("deletionTimestamp"):
            self.queue.add_after(ns["metadata"]["name"], self.first_sync_delay)

    async def reconcile(self, key: str) -> None:
        try:
            ns = await self.client.get(NAMESPACES, key)
        except ApiError as e:
            if e.code == 404:
                return
            raise
        if not ns["metadata"].get("deletionTimestamp"):
            return
        ns = await self._mark_terminating(ns)
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or ()):
            return
        outcome = await self.deleter.delete_all(ns, meta.now())
        await self._record_conditions(ns, outcome.failures)
        if outcome.errors:
            log.info("namespace %s: %s", key, "; ".join(outcome.errors))
            raise Requeue(self.error_wait, "; ".join(outcome.errors))
        if outcome.estimate > 0:
            raise Requeue(min(float(outcome.estimate), self.max_wait), "content remains")
        await self._finalize(ns)

    async def _mark_terminating(self, ns: Obj) -> Obj:
        if (ns.get("status") or {}).get("phase") == "Terminating":
            return ns
        new = meta.deep_copy(ns)
        new.setdefault("status", {})["phase"] = "Terminating"
        updated: Obj = await self.client.update_status(NAMESPACES, new)
        return updated

    async def _record_conditions(self, ns: Obj, failures: dict[str, tuple[str, str]]) -> None:
        new = meta.deep_copy(ns)
        if not update_conditions(new.setdefault("status", {}), failures, meta.rfc3339(meta.now())):
            return
        try:
            await self.client.update_status(NAMESPACES, new)
        except ApiError as e:
            log.info("namespace %s: could not update conditions: %s", ns["metadata"]["name"], e)

    async def _finalize(self, ns: Obj) -> None:
        """Drop our finalizer through the finalize subresource, retrying on conflicts."""
        name = ns["metadata"]["name"]
        for _ in range(5):
            new = meta.deep_copy(ns)
            spec = new.setdefault("spec", {})
            spec["finalizers"] = sorted({f for f in spec.get("finalizers") or () if f != FINALIZER})
            try:
                await self.client.request(
                    "PUT", resource_path(NAMESPACES, "", name, "finalize"), body=new
                )
                return
            except ApiError as e:
                if e.code == 404:
                    return
                if e.code != 409:
                    raise
            fresh: Obj = await self.client.get(NAMESPACES, name)
            if fresh["metadata"].get("uid") != ns["metadata"].get("uid"):
                raise ApiError("namespace uid has changed across retries", 409, "Conflict")
            ns = fresh
        raise ApiError(f"could not finalize namespace {name}: conflicts", 409, "Conflict")
