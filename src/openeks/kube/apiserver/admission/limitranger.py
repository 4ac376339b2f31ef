"""LimitRanger: LimitRange defaults for pods, and min/max/ratio limits on pods and claims.

As upstream's plugin (plugin/pkg/admission/limitranger): on pod create the mutating half
fills each container's missing limits from the `default` and missing requests from the
`defaultRequest` of every `Container`-type limit, recording what it set in the
`kubernetes.io/limit-ranger` annotation; the validating half checks `min`, `max` and
`maxLimitRequestRatio` per container (`Container`) and for the pod's totals (`Pod`), and
`min`/`max` of a claim's storage request (`PersistentVolumeClaim`, on create and update).
Pod updates are not checked (containers are immutable), nor are subresources or objects
being deleted. A violation is 403 with upstream's words, e.g. `pods "x" is forbidden:
[maximum cpu usage per Container is 1, but limit is 2, ...]`.

LimitRanges come from the watch cache, in name order.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import quota
from openeks.kube.api.validation.quantity import Quantity, canonical
from openeks.kube.apiserver.admission.base import AdmissionRequest
from openeks.kube.apiserver.admission.common import aggregate, cached, forbidden
from openeks.kube.apiserver.registry import Registry

Obj = dict[str, Any]
Resources = dict[str, Quantity]
ANNOTATION = "kubernetes.io/limit-ranger"
_MAX_MILLI = (2**63 - 1) // 1000


class LimitRanger:
    name = "LimitRanger"

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def _applies(self, req: AdmissionRequest) -> bool:
        if req.subresource or req.obj is None or req.operation not in ("CREATE", "UPDATE"):
            return False
        if (req.old or {}).get("metadata", {}).get("deletionTimestamp"):
            return False
        if req.is_kind("", "Pod"):
            return req.operation == "CREATE"
        return req.is_kind("", "PersistentVolumeClaim")

    def _ranges(self, namespace: str) -> list[Obj]:
        return cached(self.registry, "core/limitranges", namespace)

    async def mutate(self, req: AdmissionRequest) -> None:
        if not self._applies(req) or not req.is_kind("", "Pod"):
            return
        assert req.obj is not None
        for limit_range in self._ranges(req.namespace):
            apply_defaults(limit_range, req.obj)

    async def validate(self, req: AdmissionRequest) -> None:
        if not self._applies(req):
            return
        assert req.obj is not None
        check = validate_pod if req.is_kind("", "Pod") else validate_claim
        for limit_range in self._ranges(req.namespace):
            problems = check(limit_range, req.obj)
            if problems:
                raise forbidden(req, aggregate(problems))


def _limits(limit_range: Obj) -> list[Obj]:
    return list((limit_range.get("spec") or {}).get("limits") or ())


# -- defaults ---------------------------------------------------------------------------------
def apply_defaults(limit_range: Obj, pod: Obj) -> None:
    """Merge the range's container defaults into a pod (upstream's PodMutateLimitFunc)."""
    limits: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    for item in _limits(limit_range):
        if item.get("type") == "Container":
            requests.update(item.get("defaultRequest") or {})
            limits.update(item.get("default") or {})
    spec = pod.get("spec") or {}
    notes: list[str] = []
    for key, label in (("containers", "container"), ("initContainers", "init container")):
        for container in spec.get(key) or ():
            notes += _merge(container, requests, limits, label)
    if notes:
        annotations = pod["metadata"].setdefault("annotations", {})
        annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)


def _merge(container: Obj, requests: Obj, limits: Obj, label: str) -> list[str]:
    notes = []
    for field, defaults, word in (("requests", requests, "request"), ("limits", limits, "limit")):
        if not defaults:
            continue
        resources = container.setdefault("resources", {})
        current = resources.get(field) or {}
        added = sorted(k for k in defaults if k not in current)
        if added:
            resources[field] = {**current, **{k: defaults[k] for k in added}}
            notes.append(f"{', '.join(added)} {word} for {label} {container.get('name', '')}")
    return notes


# -- constraints ------------------------------------------------------------------------------
def _values(*quantities: Quantity) -> list[int]:
    whole = [int(-(-q.value // 1)) for q in quantities]
    if all(v <= _MAX_MILLI for v in whole):
        return [q.milli_value for q in quantities]
    return whole


def _min(kind: str, name: str, enforced: Quantity, req: Resources, lim: Resources) -> str:
    if name not in req:
        return f"minimum {name} usage per {kind} is {canonical(enforced)}.  No request is specified"
    zero = quota.ZERO
    r, lo, e = _values(req[name], lim.get(name, zero), enforced)
    if r < e:
        return f"minimum {name} usage per {kind} is {canonical(enforced)}, but request is " + (
            canonical(req[name])
        )
    if name in lim and lo < e:
        return f"minimum {name} usage per {kind} is {canonical(enforced)}, but limit is " + (
            canonical(lim[name])
        )
    return ""


def _max(kind: str, name: str, enforced: Quantity, req: Resources, lim: Resources) -> str:
    if name not in lim:
        return f"maximum {name} usage per {kind} is {canonical(enforced)}.  No limit is specified"
    zero = quota.ZERO
    r, lo, e = _values(req.get(name, zero), lim[name], enforced)
    if lo > e:
        return f"maximum {name} usage per {kind} is {canonical(enforced)}, but limit is " + (
            canonical(lim[name])
        )
    if name in req and r > e:
        return f"maximum {name} usage per {kind} is {canonical(enforced)}, but request is " + (
            canonical(req[name])
        )
    return ""


def _max_request(kind: str, name: str, enforced: Quantity, req: Resources) -> str:
    if name not in req:
        return f"maximum {name} usage per {kind} is {canonical(enforced)}.  No request is specified"
    r, _, e = _values(req[name], quota.ZERO, enforced)
    if r > e:
        return f"maximum {name} usage per {kind} is {canonical(enforced)}, but request is " + (
            canonical(req[name])
        )
    return ""


def _ratio(kind: str, name: str, enforced: Quantity, req: Resources, lim: Resources) -> str:
    zero = quota.ZERO
    r, lo, _ = _values(req.get(name, zero), lim.get(name, zero), enforced)
    text = f"{name} max limit to request ratio per {kind} is {canonical(enforced)}"
    if name not in req or r == 0:
        return f"{text}, but no request is specified or request is 0"
    if name not in lim or lo == 0:
        return f"{text}, but no limit is specified or limit is 0"
    observed = lo / r
    whole = int(-(-enforced.value // 1))
    if whole <= _MAX_MILLI:
        exceeded = observed * 1000 > enforced.milli_value
    else:
        exceeded = observed > whole
    return f"{text}, but provided ratio is {observed:f}" if exceeded else ""


def _check(kind: str, item: Obj, req: Resources, lim: Resources) -> list[str]:
    out = []
    for name, value in sorted((item.get("min") or {}).items()):
        out.append(_min(kind, name, quota.quantity(value), req, lim))
    for name, value in sorted((item.get("max") or {}).items()):
        out.append(_max(kind, name, quota.quantity(value), req, lim))
    for name, value in sorted((item.get("maxLimitRequestRatio") or {}).items()):
        out.append(_ratio(kind, name, quota.quantity(value), req, lim))
    return [m for m in out if m]


def validate_pod(limit_range: Obj, pod: Obj) -> list[str]:
    spec = pod.get("spec") or {}
    problems: list[str] = []
    for item in _limits(limit_range):
        kind = item.get("type")
        if kind == "Container":
            for key in ("containers", "initContainers"):
                for c in spec.get(key) or ():
                    res = c.get("resources") or {}
                    req = quota.from_json(res.get("requests"))
                    lim = quota.from_json(res.get("limits"))
                    problems += _check("Container", item, req, lim)
        elif kind == "Pod":
            problems += _check(
                "Pod", item, _pod_totals(pod, "requests"), _pod_totals(pod, "limits")
            )
    return problems


def _pod_totals(pod: Obj, field: str) -> Resources:
    """upstream's limitranger podRequests/podLimits: no pod overhead, no pod-level values."""
    bare = {
        "spec": {
            k: v for k, v in (pod.get("spec") or {}).items() if k not in ("overhead", "resources")
        }
    }
    return quota.pod_requests(bare) if field == "requests" else quota.pod_limits(bare)


def validate_claim(limit_range: Obj, pvc: Obj) -> list[str]:
    requests = quota.from_json(((pvc.get("spec") or {}).get("resources") or {}).get("requests"))
    problems: list[str] = []
    for item in _limits(limit_range):
        if item.get("type") != "PersistentVolumeClaim":
            continue
        for name, value in sorted((item.get("min") or {}).items()):
            problems.append(
                _min("PersistentVolumeClaim", name, quota.quantity(value), requests, {})
            )
        for name, value in sorted((item.get("max") or {}).items()):
            problems.append(
                _max_request("PersistentVolumeClaim", name, quota.quantity(value), requests)
            )
    return [m for m in problems if m]
