"""Pods: Pending status and QoS class on create, graceful deletion, selectable fields."""

from __future__ import annotations

from typing import Any

from openeks.kube.apiserver.strategy import Strategy

Obj = dict[str, Any]

_POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
)


def qos_class(pod: Obj) -> str:
    """Guaranteed, Burstable or BestEffort, as upstream's GetPodQOS computes it."""
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or ()) + list(spec.get("initContainers") or ())
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req = {k: v for k, v in (res.get("requests") or {}).items() if k in ("cpu", "memory")}
        lim = {k: v for k, v in (res.get("limits") or {}).items() if k in ("cpu", "memory")}
        requests.update(req)
        limits.update(lim)
        if set(lim) != {"cpu", "memory"}:
            guaranteed = False
        for k, v in req.items():
            if str(lim.get(k)) != str(v):
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


DEFAULT_TOLERATION_SECONDS = 300
_NOT_READY = "node.kubernetes.io/not-ready"
_UNREACHABLE = "node.kubernetes.io/unreachable"


def add_default_tolerations(pod: Obj) -> None:
    """DefaultTolerationSeconds: tolerate not-ready/unreachable NoExecute for 300 s.

    Upstream does this in an admission plugin; it happens here, on create, until the
    admission chain exists."""
    spec = pod.setdefault("spec", {})
    tolerations = spec.setdefault("tolerations", [])
    for key in (_NOT_READY, _UNREACHABLE):
        covered = any(
            (t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
            and t.get("effect") in (None, "", "NoExecute")
            for t in tolerations
        )
        if not covered:
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )


class PodStrategy(Strategy):
    extra_fields = _POD_FIELDS

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj)}
        add_default_tolerations(obj)

    def fields(self, obj: Obj) -> dict[str, str]:
        out = super().fields(obj)
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        out["spec.nodeName"] = spec.get("nodeName", "")
        out["spec.restartPolicy"] = spec.get("restartPolicy", "")
        out["spec.schedulerName"] = spec.get("schedulerName", "")
        out["spec.serviceAccountName"] = spec.get("serviceAccountName", "")
        out["spec.hostNetwork"] = "true" if spec.get("hostNetwork") else "false"
        out["status.phase"] = status.get("phase", "")
        out["status.podIP"] = status.get("podIP", "")
        out["status.podIPs"] = ",".join(i.get("ip", "") for i in status.get("podIPs") or ())
        out["status.nominatedNodeName"] = status.get("nominatedNodeName", "")
        return out

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        spec = obj.get("spec") or {}
        if not spec.get("nodeName"):
            return 0
        if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(requested, 0)
        return int(spec.get("terminationGracePeriodSeconds", 30))
