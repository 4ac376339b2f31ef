"""The resource quota controller: `status.hard` follows `spec.hard`, `status.used` is recounted.

As upstream's `resourcequota-controller`: admission charges each quota as objects are
created, but only this controller ever gives usage back. It keeps `status.hard` equal to
`spec.hard` and recomputes `status.used` from the objects themselves — listed through the
API (consistent reads), measured by the same evaluators admission uses
(`openeks.kube.api.quota`) — for every quota, every `resync` seconds (10 by default),
at once when a quota's limits change, and when an object that quota counts goes away
(a pod deleted or finished, a service, claim, config map or secret deleted), so deletes
free quota promptly. Usage the controller cannot measure (a `count/` of an unknown
resource) keeps its last value; resources no longer limited are dropped. Writes go to
`/status` with the quota's resourceVersion; a conflict is retried with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from openeks.kube.api import quota
from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client import key_of, split_key
from openeks.kube.client.resources import CONFIGMAPS, PODS, PVCS, SECRETS, SERVICES, resource
from openeks.kube.controllers.base import Controller

Obj = dict[str, Any]
RESOURCEQUOTAS = resource("resourcequotas")
_TYPED = ("pods", "services", "persistentvolumeclaims")
_ALIASES = {
    "configmaps": "count/configmaps",
    "secrets": "count/secrets",
    "resourcequotas": "count/resourcequotas",
    "replicationcontrollers": "count/replicationcontrollers",
}


class ResourceQuotaController(Controller):
    name = "resourcequota"
    workers = 2
    resync: float = 10.0

    def setup(self) -> None:
        self.quotas = self.informers.get(RESOURCEQUOTAS)
        self.quotas.on(add=self._quota_added, update=self._quota_updated)
        self.quotas.on(delete=self._namespace_changed)
        self.pods = self.informers.get(PODS)
        self.pods.on(update=self._pod_updated, delete=self._namespace_changed)
        self.informers.get(SERVICES).on(
            update=self._service_updated, delete=self._namespace_changed
        )
        for res in (PVCS, CONFIGMAPS, SECRETS):
            self.informers.get(res).on(delete=self._namespace_changed)
        self._resources: dict[tuple[str, str], ResourceInfo | None] = {}

    async def run(self) -> None:
        ticker = asyncio.create_task(self._resync_loop())
        try:
            await super().run()
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync)
            for rq in self.quotas.list():
                self.enqueue(key_of(rq))

    # -- event handlers ---------------------------------------------------------------------
    def _quota_added(self, rq: Obj) -> None:
        self.enqueue(key_of(rq))

    def _quota_updated(self, old: Obj, new: Obj) -> None:
        hard = (new.get("spec") or {}).get("hard") or {}
        status = new.get("status") or {}
        if (
            hard != ((old.get("spec") or {}).get("hard") or {})
            or not quota.equals(quota.from_json(hard), quota.from_json(status.get("hard")))
            or any(k not in (status.get("used") or {}) for k in hard)
        ):
            self.enqueue(key_of(new))

    def _namespace_changed(self, obj: Obj) -> None:
        namespace = (obj.get("metadata") or {}).get("namespace", "")
        for rq in self.quotas.list(namespace):
            self.enqueue(key_of(rq))

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        now = time.time()
        if quota.pod_counts(old, now) and not quota.pod_counts(new, now):
            self._namespace_changed(new)

    def _service_updated(self, old: Obj, new: Obj) -> None:
        if (old.get("spec") or {}).get("type") != (new.get("spec") or {}).get("type"):
            self._namespace_changed(new)

    # -- sync ---------------------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        rq = self.quotas.get(key)
        if rq is None:
            return
        namespace, _ = split_key(key)
        hard = quota.from_json((rq.get("spec") or {}).get("hard"))
        status = rq.get("status") or {}
        used = quota.from_json(status.get("used"))
        used.update(await self.usage(namespace, list(hard), quota.scope_selectors(rq)))
        used = quota.mask(used, hard)
        new_status = {"hard": quota.to_json(hard), "used": quota.to_json(used)}
        if (
            "hard" in status
            and "used" in status
            and quota.equals(quota.from_json(status.get("hard")), hard)
            and quota.equals(quota.from_json(status.get("used")), used)
        ):
            return
        body = {**rq, "status": new_status}
        try:
            await self.client.update_status(RESOURCEQUOTAS, body)
        except ApiError as e:
            if e.code != 404:
                raise

    async def usage(self, namespace: str, hard: list[str], scopes: list[Obj]) -> quota.ResourceList:
        """Current usage in `namespace` of the resources the evaluators can measure."""
        out: quota.ResourceList = {}
        now = time.time()
        for tracked in _TYPED:
            names = quota.matching_resources(tracked, hard)
            if not names:
                continue
            total: quota.ResourceList = dict.fromkeys(names, quota.quantity(0))
            for obj in await self._list("", tracked, namespace):
                if tracked != "pods" and scopes:
                    continue
                if scopes and not all(quota.pod_matches_scope(s, obj) for s in scopes):
                    continue
                total = quota.add(total, _usage(tracked, obj, now))
            out.update(quota.mask(total, names))
        for name in hard:
            counted = _counted(name)
            if counted is None or (counted[1] in _TYPED and not counted[0]):
                continue
            items = await self._list(counted[0], counted[1], namespace, optional=True)
            if items is not None:
                out[name] = quota.quantity(0 if scopes else len(items))
        return out

    async def _list(
        self, group: str, plural: str, namespace: str, optional: bool = False
    ) -> list[Obj] | Any:
        info = await self._resource(group, plural)
        if info is None:
            return None if optional else []
        listed = await self.client.list(info, namespace)
        return list(listed.get("items") or [])

    async def _resource(self, group: str, plural: str) -> ResourceInfo | None:
        if (group, plural) in self._resources:
            return self._resources[(group, plural)]
        info: ResourceInfo | None
        try:
            info = resource(plural, group)
        except KeyError:
            info = await self._discover(group, plural)
        self._resources[(group, plural)] = info
        return info

    async def _discover(self, group: str, plural: str) -> ResourceInfo | None:
        """A resource outside the built-in table (a CRD): its group's preferred version."""
        if not group:
            return None
        try:
            found = await self.client.request("GET", f"/apis/{group}")
        except ApiError:
            return None
        version = ((found or {}).get("preferredVersion") or {}).get("version")
        if not version:
            return None
        return ResourceInfo(group, version, "", plural, plural, True)


def _usage(tracked: str, obj: Obj, now: float) -> quota.ResourceList:
    if tracked == "pods":
        return quota.pod_usage(obj, now)
    if tracked == "services":
        return quota.service_usage(obj)
    return quota.pvc_usage(obj)


def _counted(name: str) -> tuple[str, str] | None:
    """(group, plural) that a `count/...` name (or a legacy alias) counts."""
    for plural, alias in _ALIASES.items():
        if name == plural:
            name = alias
    if not name.startswith("count/"):
        return None
    plural, _, group = name[len("count/") :].partition(".")
    return group, plural
