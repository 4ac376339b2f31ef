"""CustomResourceDefinitions and the custom resources they define.

`CRDStrategy`: a CRD is checked on write (`crd.definition.validate_crd`), gets the
cleanup finalizer (its objects are deleted before it goes) and starts with empty status;
the CRD manager (`apiserver/crds.py`) fills in `Established`.

`CustomResourceStrategy`: one per custom resource; validates objects against the
structural schema of their (storage) version after filling its defaults, validates
metadata as upstream does for unstructured objects, and applies the status-subresource
rules only when the CRD declares one.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import validation
from openeks.kube.api.crd import definition
from openeks.kube.api.crd import schema as crd_schema
from openeks.kube.api.errors import Cause
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.api.schema import Node
from openeks.kube.apiserver.strategy import Strategy, causes_of

Obj = dict[str, Any]


class CRDStrategy(Strategy):
    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {}
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if definition.CLEANUP_FINALIZER not in finalizers:
            finalizers.append(definition.CLEANUP_FINALIZER)

    def default(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("conversion", {"strategy": "None"})
        names = spec.setdefault("names", {})
        if names.get("kind") and not names.get("singular"):
            names["singular"] = names["kind"].lower()
        if names.get("kind") and not names.get("listKind"):
            names["listKind"] = names["kind"] + "List"

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + definition.validate_crd(obj)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_update(new, old) + definition.validate_crd(new)
        for key in ("group", "scope"):
            if (new.get("spec") or {}).get(key) != (old.get("spec") or {}).get(key):
                causes.append(
                    Cause("FieldValueInvalid", "Invalid value: field is immutable", f"spec.{key}")
                )
        return causes


class CustomResourceStrategy(Strategy):
    def __init__(self, info: ResourceInfo, schemas: dict[str, Node]) -> None:
        super().__init__(info)
        self.schemas = schemas
        """version -> schema of the whole object (apiVersion/kind/metadata included)."""

    def _schema(self, obj: Obj) -> Node | None:
        version = str(obj.get("apiVersion", "")).rpartition("/")[2]
        return self.schemas.get(version)

    def default(self, obj: Obj) -> None:
        node = self._schema(obj)
        if node is not None:
            crd_schema.apply_defaults(obj, node)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        if self.info.has_status:
            super().prepare_for_update(new, old)
            return
        generation = old["metadata"].get("generation", 1)
        if {k: v for k, v in new.items() if k != "metadata"} != {
            k: v for k, v in old.items() if k != "metadata"
        }:
            generation += 1
        new["metadata"]["generation"] = generation

    def _check(self, obj: Obj, old: Obj | None) -> list[Cause]:
        info = self.info
        causes = causes_of(
            validation.validate(
                info.group, info.version, info.kind, obj, old=old, namespaced=info.namespaced
            )
        )
        node = self._schema(obj)
        if node is not None:
            causes += crd_schema.validate(obj, node)
        return causes

    def validate(self, obj: Obj) -> list[Cause]:
        return self._check(obj, None)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return self._check(new, old)
