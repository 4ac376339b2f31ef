"""Custom resources checked against their CRD's structural schema, as upstream does.

`validate(obj, schema)` reports what the apiextensions API server reports for an
invalid custom resource (422 causes with upstream's wording: `spec.size in body must be
of type integer: "string"`, `Unsupported value`, `Required value`, bounds, lengths,
patterns, item counts); `apply_defaults(obj, schema)` fills `default` values in, on
writes and on reads. Unknown fields are pruned elsewhere (`structure.check`, which walks
the same schema `Node`s).
"""

from __future__ import annotations

import re
from typing import Any

from openeks.kube.api.errors import Cause
from openeks.kube.api.meta import deep_copy
from openeks.kube.api.schema import Node

Obj = dict[str, Any]

_GO_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return _GO_TYPES.get(type(value), "object")


def _quote(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Validator:
    def __init__(self) -> None:
        self.causes: list[Cause] = []

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self.causes.append(
            Cause("FieldValueInvalid", f"Invalid value: {_quote(value)}: {detail}", path)
        )

    def walk(self, value: Any, node: Node, path: str) -> None:
        s = node.s
        if value is None:
            if not node.nullable:
                self.invalid(
                    path, "null", f'{path} in body must be of type {node.type or "object"}: "null"'
                )
            return
        if node.int_or_string:
            if not isinstance(value, int | str) or isinstance(value, bool):
                self.invalid(
                    path, _json_type(value), f"{path} in body must be of type integer-or-string"
                )
            return
        t = node.type
        if t and not self._type_ok(value, t):
            self.causes.append(
                Cause(
                    "FieldValueInvalid",
                    f'Invalid value: "{_json_type(value)}": {path} in body must be of type '
                    f'{t}: "{_json_type(value)}"',
                    path,
                )
            )
            return
        enum = s.get("enum")
        if enum is not None and value not in enum:
            supported = ", ".join(_quote(e) for e in enum)
            self.causes.append(
                Cause(
                    "FieldValueNotSupported",
                    f"Unsupported value: {_quote(value)}: supported values: {supported}",
                    path,
                )
            )
        self._bounds(value, s, path)
        if isinstance(value, dict):
            self._object(value, node, path)
        elif isinstance(value, list) and node.items is not None:
            for i, item in enumerate(value):
                self.walk(item, node.items, f"{path}[{i}]")

    @staticmethod
    def _type_ok(value: Any, t: str) -> bool:
        if t == "integer":
            return (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, float) and value.is_integer()
            )
        if t == "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        if t == "string":
            return isinstance(value, str)
        if t == "boolean":
            return isinstance(value, bool)
        if t == "array":
            return isinstance(value, list)
        if t == "object":
            return isinstance(value, dict)
        return True

    def _bounds(self, value: Any, s: Any, path: str) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "maximum" in s:
                exclusive = s.get("exclusiveMaximum") is True
                if value > s["maximum"] or (exclusive and value == s["maximum"]):
                    word = "less than" if exclusive else "less than or equal to"
                    self.invalid(path, value, f"{path} in body should be {word} {s['maximum']}")
            if "minimum" in s:
                exclusive = s.get("exclusiveMinimum") is True
                if value < s["minimum"] or (exclusive and value == s["minimum"]):
                    word = "greater than" if exclusive else "greater than or equal to"
                    self.invalid(path, value, f"{path} in body should be {word} {s['minimum']}")
            if "multipleOf" in s and s["multipleOf"] and value % s["multipleOf"]:
                self.invalid(
                    path, value, f"{path} in body should be a multiple of {s['multipleOf']}"
                )
        if isinstance(value, str):
            if "maxLength" in s and len(value) > s["maxLength"]:
                self.causes.append(
                    Cause(
                        "FieldValueTooLong",
                        f"Too long: may not be more than {s['maxLength']} bytes",
                        path,
                    )
                )
            if "minLength" in s and len(value) < s["minLength"]:
                self.invalid(
                    path, value, f"{path} in body should be at least {s['minLength']} chars long"
                )
            if "pattern" in s and not re.search(s["pattern"], value):
                self.invalid(path, value, f"{path} in body should match '{s['pattern']}'")
        if isinstance(value, list):
            if "maxItems" in s and len(value) > s["maxItems"]:
                self.causes.append(
                    Cause(
                        "FieldValueTooMany",
                        f"Too many: {len(value)}: must have at most {s['maxItems']} items",
                        path,
                    )
                )
            if "minItems" in s and len(value) < s["minItems"]:
                self.invalid(
                    path, len(value), f"{path} in body should have at least {s['minItems']} items"
                )
        if isinstance(value, dict):
            if "maxProperties" in s and len(value) > s["maxProperties"]:
                self.causes.append(
                    Cause(
                        "FieldValueTooMany",
                        f"Too many: {len(value)}: must have at most {s['maxProperties']} items",
                        path,
                    )
                )
            if "minProperties" in s and len(value) < s["minProperties"]:
                self.invalid(
                    path,
                    len(value),
                    f"{path} in body should have at least {s['minProperties']} properties",
                )

    def _object(self, value: Obj, node: Node, path: str) -> None:
        prefix = f"{path}." if path else ""
        for name in node.required:
            if name not in value:
                self.causes.append(Cause("FieldValueRequired", "Required value", prefix + name))
        props = node.properties
        for key, item in value.items():
            child = props.get(key) or node.values
            if child is None:
                continue
            if path == "" and key in ("apiVersion", "kind", "metadata"):
                continue
            self.walk(item, child, prefix + key)


def validate(obj: Obj, schema: Node) -> list[Cause]:
    v = _Validator()
    v._object(obj, schema, "")
    return v.causes


def apply_defaults(value: Any, node: Node) -> None:
    """Fill `default`s of absent properties, recursively (in place)."""
    if isinstance(value, dict):
        for name, child in node.properties.items():
            if name not in value and "default" in child.s:
                value[name] = deep_copy(child.s["default"])
            if name in value:
                apply_defaults(value[name], child)
        if node.values is not None and not node.properties:
            for item in value.values():
                apply_defaults(item, node.values)
    elif isinstance(value, list) and node.items is not None:
        for item in value:
            apply_defaults(item, node.items)
