"""JSON values as Go's `interface{}` sees them: copying, typing, comparing, printing.

Upstream decodes JSON into `map[string]interface{}`, `[]interface{}`, `string`, `int64`,
`float64`, `bool` and `nil`, and compares with Go's `==`, under which `1` (int64) and `1.0`
(float64) differ and so do `true` and `1`. Python's `==` equates all of those, so every
comparison in the patch code goes through `json_equal`, and every error message that
prints a value uses `go_format` (Go's `%v`) so the text matches upstream's.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

MAP = "map[string]interface {}"
SLICE = "[]interface {}"


def deep_copy(value: Any) -> Any:
    """A copy of a JSON value that shares no dict or list with the original."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def go_type(value: Any) -> str:
    """The Go type name encoding/json gives this value ('int64' for ints, as apimachinery)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return MAP
    if isinstance(value, list):
        return SLICE
    return type(value).__name__


def json_equal(a: Any, b: Any) -> bool:
    """Deep equality with Go's typing: values of different JSON types are never equal."""
    if go_type(a) != go_type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(json_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def scalar_key(value: Any) -> tuple[str, Any]:
    """A hashable key under which two values collide only if `json_equal` holds."""
    if isinstance(value, dict | list):
        return (go_type(value), json.dumps(value, sort_keys=True))
    return (go_type(value), value)


def go_format(value: Any) -> str:
    """Go's `%v` of a decoded JSON value: `map[a:1 b:[x y]]`, `<nil>`, `1e+21`."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    return str(value)


def go_quote(text: str) -> str:
    """Go's `%q`/strconv.Quote, close enough for the ASCII paths found in patches."""
    return json.dumps(text, ensure_ascii=False)


def _go_float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exponent) - 1 if text != "0" else 0
    minus = "-" if sign else ""
    if point < -4 or point >= 21:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'-' if point < 0 else '+'}{abs(point):02d}"
    if point < 0:
        return f"{minus}0.{'0' * (-point - 1)}{text}"
    whole = text[: point + 1].ljust(point + 1, "0")
    fraction = text[point + 1 :]
    return f"{minus}{whole}{'.' + fraction if fraction else ''}"
