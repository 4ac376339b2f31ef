"""Jobs: the API server generates the selector and the controller labels on create.

As upstream's Job strategy: unless `spec.manualSelector` is true, the pod template gets
`batch.kubernetes.io/controller-uid` and `batch.kubernetes.io/job-name` labels (and the
legacy `controller-uid` / `job-name`), and `spec.selector` matches the uid label — so
two Jobs never adopt each other's pods.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import errors
from openeks.kube.apiserver.strategy import Strategy

Obj = dict[str, Any]

UID_LABEL = "batch.kubernetes.io/controller-uid"
NAME_LABEL = "batch.kubernetes.io/job-name"


class JobStrategy(Strategy):
    extra_fields = ("status.successful",)

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        spec = obj.setdefault("spec", {})
        if spec.get("manualSelector"):
            return
        m = obj["metadata"]
        if spec.get("selector"):
            raise errors.invalid(
                "Job",
                "batch",
                m.get("name", ""),
                [
                    errors.Cause(
                        "FieldValueInvalid",
                        "Invalid value: ...: `selector` will be auto-generated",
                        "spec.selector",
                    )
                ],
            )
        uid, name = m["uid"], m.get("name") or m.get("generateName", "")
        labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
        labels.update({UID_LABEL: uid, NAME_LABEL: name, "controller-uid": uid, "job-name": name})
        spec["selector"] = {"matchLabels": {UID_LABEL: uid}}

    def fields(self, obj: Obj) -> dict[str, str]:
        out = super().fields(obj)
        out["status.successful"] = str((obj.get("status") or {}).get("succeeded", 0))
        return out
