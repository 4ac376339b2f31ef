"""ResourceQuota admission: refuse what would exceed a namespace's quotas, charge the rest.

As upstream's plugin (staging/.../admission/plugin/resourcequota): a create (or an update
that changes usage) of a namespaced object is measured by its kind's evaluator
(`openeks.kube.api.quota`: pods, services, claims, and object counts for everything
else), checked against every ResourceQuota of the namespace whose `status.hard` tracks a
resource the evaluator knows and whose scopes match the object, and refused with 403 and
upstream's words (`exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2`,
`failed quota: q: must specify limits.cpu for: c`, `status unknown for quota: ...`).

Admitted requests are charged to `status.used` before the object is stored, with
compare-and-swap through the registry; the charge is re-checked against the quota as
stored, so concurrent requests (here or on another API server) cannot both take the last
unit. Requests in one namespace are serialised, as upstream's per-namespace work queue
does. Dry runs are checked, never charged. The quota controller recounts `status.used`
from the objects themselves, which returns what deletes free and corrects charges for
writes that failed after admission.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openeks.kube.api import meta, quota
from openeks.kube.api.errors import ApiError
from openeks.kube.apiserver.admission.base import AdmissionRequest
from openeks.kube.apiserver.admission.common import cached, forbidden
from openeks.kube.apiserver.registry import Registry, WriteOptions

Obj = dict[str, Any]
IGNORED = {("", "events"), ("events.k8s.io", "events")}
_ALIASES = {
    "configmaps": "configmaps",
    "resourcequotas": "resourcequotas",
    "replicationcontrollers": "replicationcontrollers",
    "secrets": "secrets",
}


@dataclass(frozen=True)
class Evaluator:
    """How one resource is measured: upstream's quota.Evaluator, reduced to functions."""

    tracked: str
    """What `quota.matching_resources` calls this evaluator."""
    usage: Callable[[Obj], quota.ResourceList]
    scoped: bool = False
    """Whether quota scopes can match these objects (pods only)."""
    on_update: bool = False

    def handles(self, req: AdmissionRequest) -> bool:
        if req.operation == "CREATE":
            return True
        if req.operation != "UPDATE" or req.subresource:
            return False
        if self.tracked == "pods":
            return quota.pod_is_terminating(req.obj or {}) != quota.pod_is_terminating(
                req.old or {}
            )
        return self.on_update

    def matches(self, rq: Obj, obj: Obj) -> bool:
        hard = ((rq.get("status") or {}).get("hard") or {}).keys()
        if not quota.matching_resources(self.tracked, hard):
            return False
        selectors = quota.scope_selectors(rq)
        if selectors and not self.scoped:
            return False
        return all(quota.pod_matches_scope(s, obj) for s in selectors)

    def constraints(self, required: list[str], obj: Obj) -> str:
        return quota.pod_constraints(required, obj) if self.tracked == "pods" else ""


def evaluator_for(group: str, resource: str) -> Evaluator:
    if (group, resource) == ("", "pods"):
        return Evaluator("pods", lambda o: quota.pod_usage(o, time.time()), scoped=True)
    if (group, resource) == ("", "services"):
        return Evaluator("services", quota.service_usage, on_update=True)
    if (group, resource) == ("", "persistentvolumeclaims"):
        return Evaluator("persistentvolumeclaims", quota.pvc_usage, on_update=True)
    names = [quota.object_count_name(resource, group)]
    if not group and resource in _ALIASES:
        names.append(_ALIASES[resource])
    return Evaluator("|".join(names), lambda o: dict.fromkeys(names, quota.ONE))


class QuotaExceeded(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def check(quotas: list[Obj], req: AdmissionRequest, ev: Evaluator) -> dict[str, quota.ResourceList]:
    """New `status.used` of each quota the request changes; raises QuotaExceeded."""
    obj = req.obj or {}
    interesting: list[Obj] = []
    for rq in quotas:
        if not ev.matches(rq, obj):
            continue
        status = rq.get("status") or {}
        restricted = quota.matching_resources(ev.tracked, (status.get("hard") or {}).keys())
        why = ev.constraints(restricted, obj)
        if why:
            raise QuotaExceeded(f"failed quota: {meta.name_of(rq)}: {why}")
        used = status.get("used") or {}
        missing = [r for r in restricted if r not in used]
        if missing:
            raise QuotaExceeded(
                f"status unknown for quota: {meta.name_of(rq)}, resources: "
                + ",".join(sorted(restricted))
            )
        interesting.append(rq)
    delta = ev.usage(obj)
    negative = quota.negative(delta)
    if negative:
        raise QuotaExceeded(
            "quota usage is negative for resource(s): " + ",".join(sorted(negative))
        )
    if req.operation == "UPDATE" and req.old is not None:
        delta = quota.subtract_non_negative(delta, ev.usage(req.old))
    if quota.is_zero(delta):
        return {}
    out: dict[str, quota.ResourceList] = {}
    for rq in interesting:
        status = rq.get("status") or {}
        hard = quota.from_json(status.get("hard"))
        used = quota.from_json(status.get("used"))
        requested = quota.mask(delta, hard)
        new_used = quota.add(used, requested)
        ok, exceeded = quota.less_than_or_equal(quota.mask(new_used, requested), hard)
        if not ok:
            raise QuotaExceeded(
                f"exceeded quota: {meta.name_of(rq)}, "
                f"requested: {quota.pretty(quota.mask(requested, exceeded))}, "
                f"used: {quota.pretty(quota.mask(used, exceeded))}, "
                f"limited: {quota.pretty(quota.mask(hard, exceeded))}"
            )
        if not quota.equals(new_used, used):
            out[meta.name_of(rq)] = new_used
    return out


class ResourceQuotaAdmission:
    name = "ResourceQuota"

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._locks: dict[str, asyncio.Lock] = {}

    async def validate(self, req: AdmissionRequest) -> None:
        if req.subresource or req.operation not in ("CREATE", "UPDATE") or not req.namespace:
            return
        if (req.info.group, req.info.plural) in IGNORED or req.obj is None:
            return
        ev = evaluator_for(req.info.group, req.info.plural)
        if not ev.handles(req):
            return
        if not cached(self.registry, "core/resourcequotas", req.namespace):
            return
        lock = self._locks.setdefault(req.namespace, asyncio.Lock())
        async with lock:
            quotas = cached(self.registry, "core/resourcequotas", req.namespace)
            try:
                changes = check(quotas, req, ev)
            except QuotaExceeded as e:
                raise forbidden(req, e.why) from None
            if req.dry_run:
                return
            for name in changes:
                await self._charge(req, ev, name)

    async def _charge(self, req: AdmissionRequest, ev: Evaluator, name: str) -> None:
        """Write the charge to the quota as stored now, re-checked (compare-and-swap)."""
        store = self.registry.for_storage("core/resourcequotas")

        async def charged(rq: Obj) -> Obj:
            try:
                changes = check([rq], req, ev)
            except QuotaExceeded as e:
                raise forbidden(req, e.why) from None
            if name in changes:
                rq.setdefault("status", {})["used"] = quota.to_json(changes[name])
            return rq

        try:
            await store.update(req.namespace, name, charged, WriteOptions(), "status")
        except ApiError as e:
            if e.code != 404:  # a quota deleted meanwhile charges nothing
                raise
