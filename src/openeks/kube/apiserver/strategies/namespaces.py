"""Namespaces: Active on create, Terminating on delete, gone once `spec.finalizers` empty.

Deleting a namespace only marks it; the namespace finalizer (see
`openeks.kube.apiserver.namespaces`) empties it, then removes the `kubernetes` entry
from `spec.finalizers` through the `finalize` subresource, which deletes it.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import defaults
from openeks.kube.apiserver.strategy import Strategy

Obj = dict[str, Any]


class NamespaceStrategy(Strategy):
    extra_fields = ("status.phase",)

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        defaults.apply_create_defaults("", "v1", "Namespace", obj)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        new["spec"] = old.get("spec") or {}

    def prepare_for_finalize(self, new: Obj, old: Obj) -> None:
        """The finalize subresource changes spec.finalizers and nothing else."""
        finalizers = (new.get("spec") or {}).get("finalizers") or []
        for key in list(new):
            if key not in ("metadata", "apiVersion", "kind"):
                del new[key]
        for key, value in old.items():
            if key not in ("metadata", "apiVersion", "kind"):
                new[key] = value
        new["metadata"] = {
            **old["metadata"],
            "resourceVersion": new["metadata"].get("resourceVersion"),
        }
        new["spec"] = {**(old.get("spec") or {}), "finalizers": finalizers}
        if not finalizers:
            new["spec"].pop("finalizers")

    def fields(self, obj: Obj) -> dict[str, str]:
        out = super().fields(obj)
        out["status.phase"] = (obj.get("status") or {}).get("phase", "")
        return out

    def blocks_deletion(self, obj: Obj) -> bool:
        return bool((obj.get("spec") or {}).get("finalizers"))

    def mark_terminating(self, obj: Obj) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"
