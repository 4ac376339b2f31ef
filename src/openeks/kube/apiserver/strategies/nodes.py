"""Nodes: status is the node agent's to set, at create too; `spec.unschedulable` selectable."""

from __future__ import annotations

from typing import Any

from openeks.kube.apiserver.strategy import Strategy

Obj = dict[str, Any]


class NodeStrategy(Strategy):
    extra_fields = ("spec.unschedulable",)

    def prepare_for_create(self, obj: Obj) -> None:
        """Unlike most kinds, a node registers with its status filled in."""

    def fields(self, obj: Obj) -> dict[str, str]:
        out = super().fields(obj)
        out["spec.unschedulable"] = (
            "true" if (obj.get("spec") or {}).get("unschedulable") else "false"
        )
        return out
