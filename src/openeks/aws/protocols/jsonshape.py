"""Walking JSON values along botocore shapes, in both directions.

`from_json` turns a decoded request body into the Python values a backend expects
(checking JSON types as it goes: a number where a string belongs is a validation
failure, not a crash); `to_json` turns a backend's result into JSON-ready values the way
botocore's `RestJSONParser` reads them back: member names from `locationName`,
timestamps as epoch seconds unless the shape says otherwise, blobs as base64, NaN and
infinities as strings. Shared by rest-json and any future `json` (X-Amz-Target)
protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from openeks.aws.protocols import values
from openeks.aws.protocols.validation import InvalidInput, Violation, member_path

_FLOAT_WORDS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def from_json(shape: Shape, value: Any, path: str = "", name: str = "") -> Any:
    """`value` (from json.loads) as the Python value of `shape`; raises InvalidInput."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if shape.is_document_type:
            return value
        return _structure_from_json(shape, _expect(value, dict, "structure", path, name), path)
    if kind == "list":
        assert isinstance(shape, ListShape)
        items = _expect(value, list, "list", path, name)
        return [
            None if item is None else from_json(shape.member, item, f"{path}.{i}.member", name)
            for i, item in enumerate(items, 1)
        ]
    if kind == "map":
        assert isinstance(shape, MapShape)
        entries = _expect(value, dict, "map", path, name)
        return {
            key: None if item is None else from_json(shape.value, item, f"{path}.{key}", name)
            for key, item in entries.items()
        }
    return _scalar_from_json(shape, value, path, name)


def _structure_from_json(shape: StructureShape, value: dict[str, Any], path: str) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name, member in shape.members.items():
        if member.serialization.get("location"):
            continue
        raw = value.get(member.serialization.get("name", name))
        if raw is not None:
            parsed[name] = from_json(member, raw, member_path(path, name), name)
    return parsed


def _scalar_from_json(shape: Shape, value: Any, path: str, name: str) -> Any:
    kind = shape.type_name
    if kind == "string":
        return _expect(value, str, "string", path, name)
    if kind == "boolean":
        return _expect(value, bool, "boolean", path, name)
    try:
        if kind in ("integer", "long"):
            if isinstance(value, str):
                raise ValueError("Member must be an integer")
            return values.parse_int(value)
        if kind in ("float", "double"):
            if isinstance(value, str) and value in _FLOAT_WORDS:
                return _FLOAT_WORDS[value]
            if isinstance(value, str):
                raise ValueError("Member must be a number")
            return values.parse_float(value)
        if kind == "timestamp":
            return values.parse_wire_timestamp(value)
        if kind == "blob":
            return values.decode_blob(_expect(value, str, "string", path, name))
    except ValueError as error:
        raise InvalidInput([Violation(path, value, str(error), name)]) from None
    return value


def _expect(value: Any, kind: type, noun: str, path: str, name: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        article = "an" if noun[0] in "aeiou" else "a"
        raise InvalidInput([Violation(path, value, f"Member must be {article} {noun}", name)])
    return value


def to_json(shape: Shape, value: Any) -> Any:
    """A backend's `value` of `shape` as JSON-ready data."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if shape.is_document_type:
            return value
        return structure_to_json(shape, value)
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [None if item is None else to_json(shape.member, item) for item in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        return {
            str(key): None if item is None else to_json(shape.value, item)
            for key, item in value.items()
        }
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", values.EPOCH)
        return values.format_timestamp(value, fmt)
    if kind == "blob":
        return values.encode_blob(value)
    if kind in ("float", "double"):
        return values.float_to_wire(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return bool(value)
    return str(value)


def structure_to_json(
    shape: StructureShape, value: Mapping[str, Any], *, body_only: bool = True
) -> dict[str, Any]:
    """The members of `value` that `shape` has, keyed by wire name; members bound to
    headers or the status code are left out when `body_only`."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{shape.name} must be a mapping, got {type(value).__name__}")
    encoded: dict[str, Any] = {}
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None or (body_only and member.serialization.get("location")):
            continue
        encoded[member.serialization.get("name", name)] = to_json(member, item)
    return encoded
