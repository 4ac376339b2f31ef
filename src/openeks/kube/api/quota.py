"""Resource quota arithmetic and usage evaluators, pure: what a quota charges for an object.

A port of `k8s.io/apiserver/pkg/quota/v1` (resource-list arithmetic: `Add`,
`SubtractWithNonNegativeResult`, `Mask`, `LessThanOrEqual`, ...) and of the evaluators in
`pkg/quota/v1/evaluator/core` (pods, services, persistent volume claims, and the generic
object counter for `count/<resource>.<group>`). The ResourceQuota admission plugin and the
quota controller both use them, so an object is charged the same on admission as when the
controller recounts the namespace.

Resource lists are `dict[str, Quantity]`; `to_json`/`from_json` convert to and from the
`{"cpu": "500m"}` maps objects carry. Adding keeps the left operand's format unless it is
zero (upstream's `Quantity.Add`), so `0 + 1Gi` prints as `1Gi`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.validation.quantity import Quantity, canonical, parse

Obj = dict[str, Any]
ResourceList = dict[str, Quantity]

ZERO = Quantity(Fraction(0), "DecimalSI")
ONE = Quantity(Fraction(1), "DecimalSI")

STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
_PREFIX_HUGEPAGES = "hugepages-"
_PREFIX_REQUESTS = "requests."


# -- quantities and lists ----------------------------------------------------------------
def quantity(value: str | int | float) -> Quantity:
    try:
        return parse(value)
    except ValueError:
        return ZERO


def add_q(a: Quantity, b: Quantity) -> Quantity:
    return Quantity(a.value + b.value, b.format if a.value == 0 else a.format)


def sub_q(a: Quantity, b: Quantity) -> Quantity:
    return Quantity(a.value - b.value, b.format if a.value == 0 else a.format)


def from_json(raw: Obj | None) -> ResourceList:
    return {k: quantity(v) for k, v in (raw or {}).items()}


def to_json(rl: ResourceList) -> dict[str, str]:
    return {k: canonical(rl[k]) for k in sorted(rl)}


def add(a: ResourceList, b: ResourceList) -> ResourceList:
    out = dict(a)
    for key, value in b.items():
        out[key] = add_q(out[key], value) if key in out else value
    return out


def subtract_non_negative(a: ResourceList, b: ResourceList) -> ResourceList:
    out: ResourceList = {}
    for key, value in a.items():
        q = sub_q(value, b[key]) if key in b else value
        out[key] = q if q.value > 0 else quantity("0")
    for key in b:
        out.setdefault(key, quantity("0"))
    return out


def mask(rl: ResourceList, names: Iterable[str]) -> ResourceList:
    keep = set(names)
    return {k: v for k, v in rl.items() if k in keep}


def less_than_or_equal(a: ResourceList, b: ResourceList) -> tuple[bool, list[str]]:
    """Is every resource of `a` within `b`? And which exceed."""
    exceeded = [k for k, limit in b.items() if k in a and a[k].value > limit.value]
    return not exceeded, exceeded


def is_zero(rl: ResourceList) -> bool:
    return all(v.value == 0 for v in rl.values())


def negative(rl: ResourceList) -> list[str]:
    return [k for k, v in rl.items() if v.value < 0]


def equals(a: ResourceList, b: ResourceList) -> bool:
    return a.keys() == b.keys() and all(a[k].value == b[k].value for k in a)


def pretty(rl: ResourceList) -> str:
    return ",".join(f"{k}={canonical(rl[k])}" for k in sorted(rl))


def object_count_name(resource: str, group: str) -> str:
    return f"count/{resource}.{group}" if group else f"count/{resource}"


# -- pod requests and limits (component-helpers/resource) --------------------------------
def _add_into(total: ResourceList, more: ResourceList) -> None:
    for key, value in more.items():
        total[key] = add_q(total[key], value) if key in total else value


def _max_into(total: ResourceList, more: ResourceList) -> None:
    for key, value in more.items():
        if key not in total or value.value > total[key].value:
            total[key] = value


def _aggregate(pod: Obj, field: str) -> ResourceList:
    spec = pod.get("spec") or {}
    total: ResourceList = {}
    for c in spec.get("containers") or ():
        _add_into(total, from_json((c.get("resources") or {}).get(field)))
    sidecars: ResourceList = {}
    init_max: ResourceList = {}
    for c in spec.get("initContainers") or ():
        own = from_json((c.get("resources") or {}).get(field))
        if c.get("restartPolicy") == "Always":
            _add_into(total, own)
            _add_into(sidecars, own)
            effective = dict(sidecars)
        else:
            effective = dict(own)
            _add_into(effective, sidecars)
        _max_into(init_max, effective)
    _max_into(total, init_max)
    pod_level = from_json((spec.get("resources") or {}).get(field))
    for key in ("cpu", "memory"):
        if key in pod_level:
            total[key] = pod_level[key]
    overhead = from_json(spec.get("overhead"))
    if field == "requests":
        _add_into(total, overhead)
    else:
        _add_into(total, {k: v for k, v in overhead.items() if k in total})
    return total


def pod_requests(pod: Obj) -> ResourceList:
    return _aggregate(pod, "requests")


def pod_limits(pod: Obj) -> ResourceList:
    return _aggregate(pod, "limits")


# -- pods ---------------------------------------------------------------------------------
POD_RESOURCES = (
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
)
VALIDATION_SET = ("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


def is_native(name: str) -> bool:
    return "/" not in name or name.split("/", 1)[0].endswith("kubernetes.io")


def _extended_for_quota(name: str) -> bool:
    return name.startswith(_PREFIX_REQUESTS) and not is_native(name)


def compute_usage(requests: ResourceList, limits: ResourceList) -> ResourceList:
    """upstream's podComputeUsageHelper: what one container (or pod) asks for."""
    out: ResourceList = {"pods": ONE}
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name in requests:
            out[name] = requests[name]
            out[f"requests.{name}"] = requests[name]
        if name in limits:
            out[f"limits.{name}"] = limits[name]
    for name, value in requests.items():
        if name.startswith(_PREFIX_HUGEPAGES):
            out[name] = value
            out[_PREFIX_REQUESTS + name] = value
        elif not is_native(name):
            out[_PREFIX_REQUESTS + name] = value
    return out


def pod_is_terminating(pod: Obj) -> bool:
    deadline = (pod.get("spec") or {}).get("activeDeadlineSeconds")
    return deadline is not None and int(deadline) >= 0


def pod_is_best_effort(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    lists: list[Obj] = [spec.get("resources") or {}]
    for c in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]:
        lists.append(c.get("resources") or {})
    for res in lists:
        for field in ("requests", "limits"):
            for name, value in from_json(res.get(field)).items():
                if name in ("cpu", "memory") and value.value > 0:
                    return False
    return True


def pod_counts(pod: Obj, now: float) -> bool:
    """upstream's QuotaV1Pod: terminal pods, and pods past their deletion grace, are free."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    m = pod.get("metadata") or {}
    if m.get("deletionTimestamp") and m.get("deletionGracePeriodSeconds") is not None:
        try:
            when = meta.parse_time(m["deletionTimestamp"]).timestamp()
        except ValueError:
            return True
        if now > when + int(m["deletionGracePeriodSeconds"]):
            return False
    return True


def pod_usage(pod: Obj, now: float) -> ResourceList:
    out: ResourceList = {"count/pods": ONE}
    if not pod_counts(pod, now):
        return out
    return add(out, compute_usage(pod_requests(pod), pod_limits(pod)))


def _cross_namespace_affinity(pod: Obj) -> bool:
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        section = affinity.get(kind) or {}
        terms = list(section.get("requiredDuringSchedulingIgnoredDuringExecution") or ())
        terms += [
            w.get("podAffinityTerm") or {}
            for w in section.get("preferredDuringSchedulingIgnoredDuringExecution") or ()
        ]
        if any(t.get("namespaces") or t.get("namespaceSelector") is not None for t in terms):
            return True
    return False


def pod_matches_scope(selector: Obj, pod: Obj) -> bool:
    scope = selector.get("scopeName")
    if scope == "Terminating":
        return pod_is_terminating(pod)
    if scope == "NotTerminating":
        return not pod_is_terminating(pod)
    if scope == "BestEffort":
        return pod_is_best_effort(pod)
    if scope == "NotBestEffort":
        return not pod_is_best_effort(pod)
    if scope == "PriorityClass":
        name = (pod.get("spec") or {}).get("priorityClassName") or ""
        return _priority_matches(selector, name)
    if scope == "CrossNamespacePodAffinity":
        return _cross_namespace_affinity(pod)
    return False


def _priority_matches(selector: Obj, name: str) -> bool:
    op = selector.get("operator", "Exists")
    values = selector.get("values") or []
    if op == "Exists":
        return bool(name)
    if op == "DoesNotExist":
        return not name
    if op == "In":
        return bool(name) and name in values
    if op == "NotIn":
        return not name or name not in values
    return False


def pod_constraints(required: Iterable[str], pod: Obj) -> str:
    """'' or upstream's `must specify limits.cpu for: a,b; ...` for containers lacking a
    request or limit that a quota on cpu/memory requires (a backward-compatibility rule)."""
    spec = pod.get("spec") or {}
    if any(k in ("cpu", "memory") for k in (spec.get("resources") or {}).get("requests") or {}):
        return ""
    wanted = set(required) & set(VALIDATION_SET)
    missing: dict[str, set[str]] = {}
    for c in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]:
        res = c.get("resources") or {}
        have = set(compute_usage(from_json(res.get("requests")), from_json(res.get("limits"))))
        for name in wanted - have:
            missing.setdefault(name, set()).add(c.get("name", ""))
    if not missing:
        return ""
    parts = [f"{r} for: {','.join(sorted(missing[r]))}" for r in sorted(missing)]
    return "must specify " + "; ".join(parts)


# -- services, claims, object counts -----------------------------------------------------
SERVICE_RESOURCES = ("count/services", "services", "services.nodeports", "services.loadbalancers")
PVC_RESOURCES = ("count/persistentvolumeclaims", "persistentvolumeclaims", "requests.storage")


def service_usage(svc: Obj) -> ResourceList:
    spec = svc.get("spec") or {}
    ports = spec.get("ports") or []
    out: ResourceList = {
        "count/services": ONE,
        "services": ONE,
        "services.loadbalancers": quantity(0),
        "services.nodeports": quantity(0),
    }
    kind = spec.get("type", "ClusterIP")
    if kind == "NodePort":
        out["services.nodeports"] = quantity(len(ports))
    elif kind == "LoadBalancer":
        if spec.get("allocateLoadBalancerNodePorts") is False:
            out["services.nodeports"] = quantity(sum(1 for p in ports if p.get("nodePort")))
        else:
            out["services.nodeports"] = quantity(len(ports))
        out["services.loadbalancers"] = ONE
    return out


def claim_class(pvc: Obj) -> str:
    annotations = (pvc.get("metadata") or {}).get("annotations") or {}
    beta = annotations.get("volume.beta.kubernetes.io/storage-class")
    if beta is not None:
        return str(beta)
    return str((pvc.get("spec") or {}).get("storageClassName") or "")


def pvc_usage(pvc: Obj) -> ResourceList:
    out: ResourceList = {"persistentvolumeclaims": ONE, "count/persistentvolumeclaims": ONE}
    sc = claim_class(pvc)
    if sc:
        out[sc + STORAGE_CLASS_SUFFIX + "persistentvolumeclaims"] = ONE
    requested = ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
    if "storage" in requested:
        q = quantity(requested["storage"])
        q = Quantity(Fraction(math.ceil(q.value)), q.format)
        allocated = ((pvc.get("status") or {}).get("allocatedResources") or {}).get("storage")
        if allocated is not None and quantity(allocated).value > q.value:
            q = quantity(allocated)
        out["requests.storage"] = q
        if sc:
            out[sc + STORAGE_CLASS_SUFFIX + "requests.storage"] = q
    return out


def matching_resources(evaluator: str, names: Iterable[str]) -> list[str]:
    """Of the quota's resource names, those the evaluator ('pods', 'services',
    'persistentvolumeclaims', or a `count/...` name list joined by '|') tracks."""
    names = list(names)
    if evaluator == "pods":
        return [
            n
            for n in names
            if n in POD_RESOURCES
            or n.startswith((_PREFIX_HUGEPAGES, _PREFIX_REQUESTS + _PREFIX_HUGEPAGES))
            or _extended_for_quota(n)
        ]
    if evaluator == "services":
        return [n for n in names if n in SERVICE_RESOURCES]
    if evaluator == "persistentvolumeclaims":
        return [
            n
            for n in names
            if n in PVC_RESOURCES
            or (
                STORAGE_CLASS_SUFFIX in n
                and n.endswith(("/requests.storage", "/persistentvolumeclaims"))
            )
        ]
    tracked = evaluator.split("|")
    return [n for n in names if n in tracked]


def scope_selectors(quota: Obj) -> list[Obj]:
    spec = quota.get("spec") or {}
    out = [{"scopeName": s, "operator": "Exists"} for s in spec.get("scopes") or ()]
    out += list((spec.get("scopeSelector") or {}).get("matchExpressions") or ())
    return out
