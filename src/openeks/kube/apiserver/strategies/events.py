"""Events: the fields `kubectl describe` selects on (`involvedObject.*`, reason, type)."""

from __future__ import annotations

from typing import Any

from openeks.kube.apiserver.strategy import Strategy

Obj = dict[str, Any]

_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


class EventStrategy(Strategy):
    extra_fields = (
        *(f"involvedObject.{f}" for f in _INVOLVED),
        "reason",
        "reportingComponent",
        "source",
        "type",
    )

    def fields(self, obj: Obj) -> dict[str, str]:
        out = super().fields(obj)
        involved = obj.get("involvedObject") or {}
        for name in _INVOLVED:
            out[f"involvedObject.{name}"] = str(involved.get(name, ""))
        out["reason"] = obj.get("reason", "")
        out["reportingComponent"] = obj.get("reportingComponent", "")
        out["source"] = (obj.get("source") or {}).get("component", "")
        out["type"] = obj.get("type", "")
        return out
