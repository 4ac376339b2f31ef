"""Input validation against the service model, worded the way AWS words it.

botocore validates client-side, but the AWS CLI and boto3 can turn that off and raw
HTTP never had it, so the edge checks every parsed input again before a backend sees
it: required members, string/list/map lengths, numeric ranges, enums and patterns. A
failure is a list of `Violation`s; `describe()` renders them the way AWS's services do
("1 validation error detected: Value null at 'userName' failed to satisfy constraint:
Member must not be null"), and each protocol picks the error code its services use
(`ValidationError` for IAM, `InvalidParameterException` for EKS, ...).

Patterns come from Java: they must match the whole value; the few that Python's `re`
cannot compile (`\\p{L}` classes) are not checked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

NOT_NULL = "Member must not be null"
_INT_BOUNDS = {"integer": (-(2**31), 2**31 - 1, 32), "long": (-(2**63), 2**63 - 1, 64)}


@dataclass(frozen=True)
class Violation:
    path: str
    """Where, in AWS's lowerCamel dotted form: `userName`, `tags.1.member.key`."""
    value: Any
    constraint: str
    member: str = ""
    """The member's own name as modeled (`VpcId`), for messages that use it."""
    sensitive: bool = False

    @property
    def text(self) -> str:
        if self.sensitive:
            return f"Value at '{self.path}' failed to satisfy constraint: {self.constraint}"
        return (
            f"Value {_render(self.value)} at '{self.path}' failed to satisfy constraint: "
            f"{self.constraint}"
        )


class InvalidInput(Exception):
    """Raised by the request parsers and by `check()`; carries the violations."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(describe(violations))
        self.violations = violations


def describe(violations: list[Violation]) -> str:
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(v.text for v in violations)


def member_path(parent: str, name: str) -> str:
    camel = name[:1].lower() + name[1:]
    return f"{parent}.{camel}" if parent else camel


def check(shape: StructureShape | None, params: Mapping[str, Any]) -> None:
    """Raise `InvalidInput` unless `params` satisfies `shape`'s constraints."""
    if shape is None:
        return
    violations: list[Violation] = []
    _structure(shape, params, "", violations)
    if violations:
        raise InvalidInput(violations)


def _structure(
    shape: StructureShape, value: Mapping[str, Any], path: str, out: list[Violation]
) -> None:
    if shape.is_document_type:
        return
    for name in shape.required_members:
        if value.get(name) is None:
            out.append(Violation(member_path(path, name), None, NOT_NULL, name))
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            _value(member, item, member_path(path, name), name, out)


def _value(shape: Shape, value: Any, path: str, name: str, out: list[Violation]) -> None:
    sensitive = bool(shape.metadata.get("sensitive"))

    def fail(constraint: str) -> None:
        out.append(Violation(path, value, constraint, name, sensitive))

    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        assert isinstance(shape, StructureShape)
        _structure(shape, value, path, out)
    elif kind == "list" and isinstance(value, list):
        assert isinstance(shape, ListShape)
        _length(shape, len(value), fail)
        for index, item in enumerate(value, 1):
            if item is not None:
                _value(shape.member, item, f"{path}.{index}.member", name, out)
    elif kind == "map" and isinstance(value, Mapping):
        assert isinstance(shape, MapShape)
        _length(shape, len(value), fail)
        for key, item in value.items():
            _value(shape.key, key, f"{path}.{key}.key", name, out)
            if item is not None:
                _value(shape.value, item, f"{path}.{key}.value", name, out)
    elif kind == "string" and isinstance(value, str):
        _length(shape, len(value), fail)
        _enum(shape, value, fail)
        _pattern(shape, value, fail)
    elif kind == "blob" and isinstance(value, bytes | bytearray):
        _length(shape, len(value), fail)
    elif kind in ("integer", "long", "float", "double") and isinstance(value, int | float):
        _range(shape, value, fail)
        if kind in _INT_BOUNDS and not _INT_BOUNDS[kind][0] <= value <= _INT_BOUNDS[kind][1]:
            fail(f"Member must be a {_INT_BOUNDS[kind][2]}-bit integer")


def _length(shape: Shape, length: int, fail: Any) -> None:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if low is not None and length < low:
        fail(f"Member must have length greater than or equal to {low}")
    if high is not None and length > high:
        fail(f"Member must have length less than or equal to {high}")


def _range(shape: Shape, number: float, fail: Any) -> None:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if low is not None and number < low:
        fail(f"Member must have value greater than or equal to {low}")
    if high is not None and number > high:
        fail(f"Member must have value less than or equal to {high}")


def _enum(shape: Shape, value: str, fail: Any) -> None:
    allowed = shape.metadata.get("enum")
    if allowed and value not in allowed:
        fail(f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def _pattern(shape: Shape, value: str, fail: Any) -> None:
    pattern = shape.metadata.get("pattern")
    if not pattern:
        return
    compiled = _compile(pattern)
    if compiled is not None and compiled.fullmatch(value) is None:
        fail(f"Member must satisfy regular expression pattern: {pattern}")


@functools.cache
def _compile(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def _render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        text = value if len(value) <= 256 else value[:256] + "..."
        return f"'{text}'"
    if isinstance(value, bytes | bytearray):
        return f"'<{len(value)} bytes>'"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, list):
        return "'[" + ", ".join(str(item) for item in value[:20]) + "]'"
    return f"'{value}'"
