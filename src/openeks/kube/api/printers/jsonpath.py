"""The slice of client-go's JSONPath that CRD `additionalPrinterColumns` use.

Upstream evaluates each column's `jsonPath` with `k8s.io/client-go/util/jsonpath` (missing
keys allowed) and keeps the first result. Columns in the wild use a small part of that
language, which this module implements with the same results:

- `.a.b`, `['a.b']` / `["a.b"]` field access (on objects only; `null` values stop a path),
- `[n]`, `[-n]`, `[start:end:step]` and `[*]` / `.*` on arrays (wildcards on objects too),
- `..name` recursive descent,
- `[?(@.x == "y")]` filters with `==`, `!=`, `<`, `>`, `<=`, `>=` or bare existence.

`compile_path` raises `JSONPathError` on syntax it does not know (upstream then falls back
to the columns parsed so far); `JSONPath.find` raises it for evaluation errors such as an
index out of range, which a table cell shows as `null`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_FIELD_END = re.compile(r"[.\[\]()=<>!,@${}\s]")
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")

Step = Callable[[list[Any]], list[Any]]


class JSONPathError(ValueError):
    """A path that does not parse, or that fails on the data it is applied to."""


@dataclass(frozen=True)
class JSONPath:
    """A compiled path; `find` returns every value it selects, in document order."""

    steps: tuple[Step, ...]

    def find(self, data: Any) -> list[Any]:
        values = [data]
        for step in self.steps:
            values = step(values)
        return values


def compile_path(path: str) -> JSONPath:
    """Compile the body of a `{...}` JSONPath template such as `.status.phase`."""
    return JSONPath(tuple(_parse(path.strip())))


def _parse(path: str) -> list[Step]:
    steps: list[Step] = []
    i = 1 if path.startswith(("$", "@")) else 0
    while i < len(path):
        if path.startswith("..", i):
            steps.append(_recursive)
            i += 2
            if i < len(path) and path[i] not in ".[":
                i = _parse_name(path, i, steps)
        elif path[i] == ".":
            i += 1
            if i < len(path) and path[i] not in ".[":
                i = _parse_name(path, i, steps)
        elif path[i] == "[":
            end = _closing_bracket(path, i)
            steps.append(_bracket(path[i + 1 : end].strip()))
            i = end + 1
        else:
            raise JSONPathError(f"unrecognized character in path at {path[i:]!r}")
    return steps


def _parse_name(path: str, start: int, steps: list[Step]) -> int:
    match = _FIELD_END.search(path, start)
    end = match.start() if match else len(path)
    name = path[start:end]
    if not name:
        raise JSONPathError(f"empty field name at {path[start:]!r}")
    steps.append(_wildcard if name == "*" else _field(name))
    return end


def _closing_bracket(path: str, start: int) -> int:
    depth, quote = 0, ""
    for i in range(start, len(path)):
        char = path[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0:
                return i
    raise JSONPathError(f"unclosed bracket in {path[start:]!r}")


def _bracket(body: str) -> Step:
    if body == "*":
        return _wildcard
    if body.startswith("?(") and body.endswith(")"):
        return _filter(body[2:-1].strip())
    if body[:1] in ("'", '"'):
        if len(body) < 2 or body[-1] != body[0]:
            raise JSONPathError(f"unterminated quoted key {body!r}")
        return _field(body[1:-1])
    parts = [p.strip() for p in body.split(":")]
    try:
        bounds = [int(p) if p else None for p in parts]
    except ValueError as err:
        raise JSONPathError(f"invalid array index {body!r}") from err
    if len(bounds) == 1 and bounds[0] is not None:
        return _index(bounds[0])
    if 2 <= len(bounds) <= 3:
        return _slice(bounds[0], bounds[1], bounds[2] if len(bounds) == 3 else None)
    raise JSONPathError(f"invalid array index {body!r}")


def _field(name: str) -> Step:
    def step(values: list[Any]) -> list[Any]:
        return [v[name] for v in values if isinstance(v, Mapping) and name in v]

    return step


def _wildcard(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, Mapping):
            out.extend(value[key] for key in sorted(value))
        elif isinstance(value, list):
            out.extend(value)
    return out


def _recursive(values: list[Any]) -> list[Any]:
    out: list[Any] = []

    def walk(value: Any) -> None:
        out.append(value)
        children = (value[k] for k in sorted(value)) if isinstance(value, Mapping) else value
        if isinstance(value, Mapping | list):
            for child in children:
                walk(child)

    for value in values:
        walk(value)
    return out


def _arrays(values: list[Any]) -> list[Sequence[Any]]:
    arrays: list[Sequence[Any]] = []
    for value in values:
        if value is None:
            continue
        if not isinstance(value, list):
            raise JSONPathError(f"{type(value).__name__} is not array or slice")
        arrays.append(value)
    return arrays


def _index(index: int) -> Step:
    def step(values: list[Any]) -> list[Any]:
        out = []
        for array in _arrays(values):
            position = index + len(array) if index < 0 else index
            if not 0 <= position < len(array):
                raise JSONPathError(f"array index out of bounds: index {index}")
            out.append(array[position])
        return out

    return step


def _slice(start: int | None, end: int | None, stride: int | None) -> Step:
    if stride is not None and stride <= 0:
        raise JSONPathError("step must be > 0")

    def step(values: list[Any]) -> list[Any]:
        out: list[Any] = []
        for array in _arrays(values):
            length = len(array)
            first = 0 if start is None else start + length if start < 0 else start
            last = length if end is None else end + length if end < 0 else end
            if first == last:
                continue
            if not 0 <= first < length or not 0 <= last <= length or first > last:
                raise JSONPathError(f"array slice out of bounds: {first}:{last}")
            out.extend(array[first : last : stride or 1])
        return out

    return step


def _filter(expression: str) -> Step:
    left_text, operator, right_text = _split_condition(expression)
    left = _operand(left_text)
    right = _operand(right_text) if operator else None

    def step(values: list[Any]) -> list[Any]:
        out = []
        for array in _arrays(values):
            for item in array:
                lefts = left(item)
                if not operator:
                    if lefts:
                        out.append(item)
                    continue
                assert right is not None
                rights = right(item)
                if not lefts or not rights:
                    continue
                if len(lefts) > 1 or len(rights) > 1:
                    raise JSONPathError("can only compare one element at a time")
                if _compare(lefts[0], operator, rights[0]):
                    out.append(item)
        return out

    return step


def _split_condition(expression: str) -> tuple[str, str, str]:
    quote = ""
    for i, char in enumerate(expression):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        else:
            for operator in _OPERATORS:
                if expression.startswith(operator, i):
                    rest = expression[i + len(operator) :]
                    return expression[:i].strip(), operator, rest.strip()
    return expression.strip(), "", ""


def _operand(source: str) -> Callable[[Any], list[Any]]:
    if source.startswith("@"):
        path = JSONPath(tuple(_parse(source)))
        return path.find
    literal = _literal(source)
    return lambda _item: [literal]


def _literal(source: str) -> Any:
    if len(source) >= 2 and source[0] == source[-1] and source[0] in "'\"":
        return source[1:-1]
    if source in ("true", "false"):
        return source == "true"
    if re.fullmatch(r"-?\d+", source):
        return int(source)
    if re.fullmatch(r"-?\d+\.\d*", source):
        return float(source)
    raise JSONPathError(f"invalid filter operand {source!r}")


def _compare(left: Any, operator: str, right: Any) -> bool:
    kinds = {_kind(left), _kind(right)}
    if len(kinds) != 1 or None in kinds:
        raise JSONPathError("incompatible types for comparison")
    if operator == "==":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if kinds == {"bool"}:
        raise JSONPathError("invalid type for comparison")
    if operator == "<":
        return bool(left < right)
    if operator == ">":
        return bool(left > right)
    if operator == "<=":
        return bool(left <= right)
    return bool(left >= right)


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return None
