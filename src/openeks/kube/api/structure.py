"""Decoding checks a typed Go API server gets for free, done against the schema.

Upstream decodes JSON into Go structs: a field the struct lacks is unknown (rejected
under `fieldValidation=Strict`, reported as a warning under `Warn`, silently dropped
under `Ignore`), a value of the wrong JSON type fails decoding with a 400, and `null`
leaves the zero value. `check` reproduces that on plain dicts by walking the object and
its schema once: it prunes unknown fields and nulls in place and reports both kinds of
problem with upstream's wording.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api.schema import Node


@dataclass
class Report:
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    type_errors: list[str] = field(default_factory=list)

    def strict_message(self) -> str:
        parts = [f'unknown field "{p}"' for p in self.unknown]
        parts += [f'duplicate field "{p}"' for p in self.duplicates]
        return "strict decoding error: " + ", ".join(parts)

    @property
    def strict_problems(self) -> list[str]:
        return [f'unknown field "{p}"' for p in self.unknown] + [
            f'duplicate field "{p}"' for p in self.duplicates
        ]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _go_type(node: Node) -> str:
    t = node.type
    fmt = node.format
    if t == "integer":
        return fmt if fmt in ("int32", "int64") else "int"
    if t == "number":
        return "float64"
    if t == "boolean":
        return "bool"
    if t == "array":
        return "[]" + (_go_type(node.items) if node.items else "interface {}")
    if t == "object":
        if node.ref:
            return node.ref.rsplit(".", 1)[-1]
        if node.values is not None:
            return "map[string]" + _go_type(node.values)
        return "map[string]interface {}"
    return t or "interface {}"


class _Walker:
    def __init__(self, report: Report) -> None:
        self.report = report

    def type_error(self, value: Any, node: Node, path: str, owner: str) -> None:
        where = f"{owner}.{path}" if owner else path
        self.report.type_errors.append(
            f"json: cannot unmarshal {_json_type(value)} into Go struct field {where} "
            f"of type {_go_type(node)}"
        )

    def walk(self, value: Any, node: Node, path: str, owner: str) -> Any:
        """Check `value` against `node`; return the (possibly converted) value."""
        if node.int_or_string:
            if isinstance(value, bool) or not isinstance(value, int | str):
                if isinstance(value, float) and value.is_integer():
                    return int(value)
                self.type_error(value, node, path, owner)
            return value
        if node.quantity:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                self.type_error(value, node, path, owner)
            return value
        if node.open:
            return value
        t = node.type
        if t == "object":
            if not isinstance(value, dict):
                self.type_error(value, node, path, owner)
                return value
            if node.is_struct:
                self.struct(value, node, path)
            elif node.values is not None:
                self.map(value, node.values, path, owner)
            return value
        if t == "array":
            if not isinstance(value, list):
                self.type_error(value, node, path, owner)
                return value
            items = node.items
            if items is not None:
                for i, item in enumerate(value):
                    if item is not None:
                        value[i] = self.walk(item, items, f"{path}[{i}]", owner)
            return value
        if t == "string":
            if not isinstance(value, str):
                self.type_error(value, node, path, owner)
        elif t == "integer":
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                self.type_error(value, node, path, owner)
        elif t == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.type_error(value, node, path, owner)
        elif t == "boolean" and not isinstance(value, bool):
            self.type_error(value, node, path, owner)
        return value

    def struct(self, value: dict[str, Any], node: Node, path: str) -> None:
        owner = (node.ref or "").rsplit(".", 1)[-1]
        props = node.properties
        for key in list(value):
            child_path = f"{path}.{key}" if path else key
            child = props.get(key)
            if child is None:
                if key.startswith("$"):
                    # A strategic-merge directive left in freshly inserted values.
                    del value[key]
                    continue
                if node.values is not None:
                    child = node.values
                else:
                    self.report.unknown.append(child_path)
                    del value[key]
                    continue
            item = value[key]
            if item is None:
                del value[key]
                continue
            value[key] = self.walk(item, child, child_path, owner)

    def map(self, value: dict[str, Any], values: Node, path: str, owner: str) -> None:
        for key in list(value):
            item = value[key]
            if item is None:
                del value[key]
                continue
            value[key] = self.walk(item, values, f"{path}.{key}" if path else key, owner)


def check(obj: dict[str, Any], node: Node) -> Report:
    """Prune unknown fields and nulls from `obj` in place; report what was wrong."""
    report = Report()
    _Walker(report).struct(obj, node, "")
    return report


_KEY_TOKEN = re.compile(rb'"\s*:')


def _count_keys(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_count_keys(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_keys(v) for v in value)
    return 0


def find_duplicates(body: bytes, decoded: Any = None) -> list[str]:
    """Keys that appear twice in one JSON object.

    With the already decoded value, a cheap count settles the common case: every key in
    the body is followed by `":`, so if there are no more such tokens than keys in the
    decoded value, no key was lost to a duplicate and the slow parse is skipped."""
    if decoded is not None and len(_KEY_TOKEN.findall(body)) == _count_keys(decoded):
        return []
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                found.append(key)
            seen[key] = value
        return seen

    if b'"' not in body:
        return []
    try:
        json.loads(body, object_pairs_hook=hook)
    except ValueError:
        return []
    return found
