"""Kubernetes object schemas, read from the definitions `kubernetes-validate` carries.

`kubernetes-validate` ships, per Kubernetes minor version, the official OpenAPI
definitions as one JSON Schema document (`_definitions.json`, `$defs` keyed by names like
`io.k8s.api.apps.v1.Deployment`) with the upstream extensions kept:
`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`,
`x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, `x-kubernetes-group-version-kind`.

`Node` is a read-only view on one schema position that follows `$ref` and overlays the
referring property's own keys (the patch extensions live on the property, the shape on
the referenced definition). Validation, defaulting of unknown-field checks, strategic
merge patch, server-side apply and the OpenAPI documents all walk `Node`s; CRDs build
the same `Node`s from their `openAPIV3Schema`, so every consumer works for both.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Mapping
from typing import Any

import orjson

_SCHEMA_DIR = "kubernetes-json-schema"
_REF_PREFIXES = ("#/$defs/", "#/definitions/", "#/components/schemas/")


def served_minors() -> list[str]:
    """Minor versions with schemas on disk, oldest first: ['1.25', ..., '1.37']."""
    root = importlib.resources.files("kubernetes_validate") / _SCHEMA_DIR
    found = []
    for entry in root.iterdir():
        m = re.fullmatch(r"v(\d+)\.(\d+)\.0-local", entry.name)
        if m:
            found.append((int(m.group(1)), int(m.group(2))))
    return [f"{a}.{b}" for a, b in sorted(found)]


@functools.cache
def definitions(minor: str) -> Definitions:
    """All definitions for one minor version ('1.37'); loaded once per process."""
    path = (
        importlib.resources.files("kubernetes_validate")
        / _SCHEMA_DIR
        / f"v{minor}.0-local"
        / "_definitions.json"
    )
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ValueError(f"no schemas for Kubernetes {minor}") from None
    return Definitions(raw["$defs"])


def _gvk_key(group: str, version: str, kind: str) -> tuple[str, str, str]:
    return (group, version, kind)


class Definitions:
    """A named set of schemas plus the index from group/version/kind to a name."""

    def __init__(self, defs: Mapping[str, dict[str, Any]]) -> None:
        self.raw = defs
        self._nodes: dict[int, Node] = {}
        self.by_gvk: dict[tuple[str, str, str], str] = {}
        for name, schema in defs.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", ()):
                self.by_gvk[_gvk_key(gvk["group"], gvk["version"], gvk["kind"])] = name

    def named(self, name: str) -> Node:
        return self.wrap(self.raw[name])

    def for_kind(self, group: str, version: str, kind: str) -> Node | None:
        name = self.by_gvk.get(_gvk_key(group, version, kind))
        return self.named(name) if name else None

    def name_for_kind(self, group: str, version: str, kind: str) -> str | None:
        return self.by_gvk.get(_gvk_key(group, version, kind))

    def wrap(self, raw: Mapping[str, Any]) -> Node:
        node = self._nodes.get(id(raw))
        if node is None or node.raw is not raw:
            node = Node(raw, self)
            self._nodes[id(raw)] = node
        return node

    def resolve(self, ref: str) -> Mapping[str, Any]:
        for prefix in _REF_PREFIXES:
            if ref.startswith(prefix):
                return self.raw[ref[len(prefix) :]]
        raise KeyError(f"unsupported $ref {ref!r}")


_EMPTY: Mapping[str, Any] = {}


class Node:
    """One position in a schema, with `$ref` followed and the extensions surfaced."""

    __slots__ = (
        "_items",
        "_props",
        "_values",
        "defs",
        "int_or_string",
        "is_struct",
        "quantity",
        "raw",
        "ref",
        "s",
        "type",
    )

    def __init__(self, raw: Mapping[str, Any], defs: Definitions) -> None:
        self.raw = raw
        self.defs = defs
        ref = raw.get("$ref")
        if ref is None and "allOf" in raw and len(raw["allOf"]) == 1:
            ref = raw["allOf"][0].get("$ref")
        self.ref: str | None = ref.rsplit("/", 1)[-1] if ref else None
        if ref:
            merged = dict(defs.resolve(ref))
            merged.update((k, v) for k, v in raw.items() if k not in ("$ref", "allOf"))
            self.s: Mapping[str, Any] = merged
        else:
            self.s = raw
        self._props: dict[str, Node] | None = None
        self._items: Node | None = None
        self._values: Node | None = None
        s = self.s
        self.is_struct: bool = "properties" in s
        """Objects with declared properties (Go structs)."""
        t = _first_type(s)
        self.type: str | None = "object" if t is None and self.is_struct else t
        """'object', 'array', 'string', 'integer', 'number', 'boolean' or None (any)."""
        alternatives = {_first_type(alt) for alt in s.get("oneOf", ())}
        self.int_or_string: bool = bool(s.get("x-kubernetes-int-or-string")) or (
            alternatives == {"string", "integer"}
        )
        self.quantity: bool = self.ref == "io.k8s.apimachinery.pkg.api.resource.Quantity"

    # -- shape ---------------------------------------------------------------------
    @property
    def nullable(self) -> bool:
        t = self.s.get("type")
        return bool(self.s.get("nullable")) or (isinstance(t, list) and "null" in t)

    @property
    def properties(self) -> dict[str, Node]:
        if self._props is None:
            self._props = {k: self.defs.wrap(v) for k, v in self.s.get("properties", {}).items()}
        return self._props

    def field(self, name: str) -> Node | None:
        """The schema of field `name` of a struct, or of any value of a map."""
        node = self.properties.get(name)
        if node is None:
            return self.values
        return node

    @property
    def is_map(self) -> bool:
        return self.values is not None and not self.is_struct

    @property
    def values(self) -> Node | None:
        """The schema of map values (additionalProperties), if this is a map."""
        if self._values is None:
            extra = self.s.get("additionalProperties")
            if isinstance(extra, dict):
                self._values = self.defs.wrap(extra)
        return self._values

    @property
    def items(self) -> Node | None:
        if self._items is None:
            raw = self.s.get("items")
            if isinstance(raw, dict):
                self._items = self.defs.wrap(raw)
        return self._items

    @property
    def open(self) -> bool:
        """True where any field is allowed (free-form objects, preserve-unknown-fields)."""
        if self.s.get("x-kubernetes-preserve-unknown-fields"):
            return True
        if self.s.get("additionalProperties") is True:
            return True
        return self.type in ("object", None) and not self.is_struct and self.values is None

    @property
    def required(self) -> list[str]:
        return list(self.s.get("required", ()))

    @property
    def description(self) -> str:
        return str(self.s.get("description", ""))

    @property
    def format(self) -> str | None:
        return self.s.get("format")

    @property
    def enum(self) -> list[Any] | None:
        return self.s.get("enum")

    # -- patch and merge metadata ------------------------------------------------
    @property
    def patch_strategies(self) -> tuple[str, ...]:
        value = self.s.get("x-kubernetes-patch-strategy", "")
        return tuple(p for p in value.split(",") if p)

    @property
    def patch_merge_key(self) -> str | None:
        return self.s.get("x-kubernetes-patch-merge-key")

    @property
    def list_type(self) -> str:
        """'atomic', 'set' or 'map' (server-side apply semantics); atomic if unset."""
        return str(self.s.get("x-kubernetes-list-type", "atomic"))

    @property
    def list_map_keys(self) -> list[str]:
        return list(self.s.get("x-kubernetes-list-map-keys", ()))

    @property
    def map_type(self) -> str:
        """'granular' (default) or 'atomic' for objects and maps."""
        return str(self.s.get("x-kubernetes-map-type", "granular"))

    @property
    def embedded_resource(self) -> bool:
        return bool(self.s.get("x-kubernetes-embedded-resource"))

    @property
    def gvks(self) -> list[dict[str, str]]:
        return list(self.s.get("x-kubernetes-group-version-kind", ()))

    def __repr__(self) -> str:
        return f"Node({self.ref or self.type})"


def _first_type(schema: Mapping[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        return next((x for x in t if x != "null"), None)
    return t


def node_from_schema(schema: Mapping[str, Any]) -> Node:
    """A Node over a self-contained schema (a CRD's openAPIV3Schema)."""
    return Definitions({}).wrap(schema)
