"""Field-level validation errors, as upstream's `k8s.io/apimachinery/.../validation/field`.

Validation, label selectors and defaulting all report problems the way the Go API server
does: a `FieldError` carries a machine reason (`FieldValueInvalid`, ...), the field path
(`spec.containers[0].image`), the offending value and a detail. `str(error)` is upstream's
`Error()` (`metadata.name: Invalid value: "Foo": a lowercase RFC 1123 ...`), `body` is
`ErrorBody()` (what a `Status` cause carries as its message) and `message` the bare detail.

Bad values are rendered as Go's `fmt` would render the Go value: strings quoted with Go
escaping, numbers and booleans plain, `None` as `null`, string lists and maps with `%#v`
syntax (`[]string{"a", "b"}`); `GoValue` lets a caller supply the exact Go rendering of a
struct (`v1.LabelSelector{...}`) where upstream prints one.

`Path` reproduces `field.Path.String()`, including its corner cases (`<nil>` for a nil
path, `[]` for `NewPath("")`), because those strings reach users verbatim.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"
FORBIDDEN = "FieldValueForbidden"
NOT_FOUND = "FieldValueNotFound"
INTERNAL = "InternalError"

_TYPE_TEXT = {
    NOT_FOUND: "Not found",
    REQUIRED: "Required value",
    DUPLICATE: "Duplicate value",
    INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
    FORBIDDEN: "Forbidden",
    TOO_LONG: "Too long",
    TOO_MANY: "Too many",
    INTERNAL: "Internal error",
}
# Types whose body never shows the value.
_VALUELESS = {REQUIRED, FORBIDDEN, TOO_LONG, INTERNAL}


class Path:
    """An immutable field path: `Path("spec").child("containers").index(0)`."""

    __slots__ = ("_index", "_name", "_parent")

    def __init__(self, name: str = "", *more: str) -> None:
        self._parent: Path | None = None
        self._name = name
        self._index = ""
        if more:
            leaf = Path(name).child(*more)
            self._parent, self._name, self._index = leaf._parent, leaf._name, leaf._index

    def _derive(self, name: str, index: str) -> Path:
        out = Path.__new__(Path)
        out._parent, out._name, out._index = self, name, index
        return out

    def child(self, name: str, *more: str) -> Path:
        out = self._derive(name, "")
        for extra in more:
            out = out._derive(extra, "")
        return out

    def index(self, i: int) -> Path:
        return self._derive("", str(i))

    def key(self, k: str) -> Path:
        return self._derive("", k)

    def __str__(self) -> str:
        elems: list[Path] = []
        node: Path | None = self
        while node is not None:
            elems.append(node)
            node = node._parent
        out = []
        for elem in reversed(elems):
            if elem._parent is not None and elem._name:
                out.append(".")
            out.append(elem._name if elem._name else f"[{elem._index}]")
        return "".join(out)

    def __repr__(self) -> str:
        return f"Path({str(self)!r})"


def path_str(path: Path | str | None) -> str:
    if path is None:
        return "<nil>"
    return str(path)


@dataclass(frozen=True)
class GoValue:
    """A value already rendered the way Go's `fmt` renders it (printed as is)."""

    text: str


OMIT = GoValue("")  # upstream's omitValue: the body shows only the type


@dataclass(frozen=True)
class FieldError:
    """One validation error, shaped and formatted as upstream's `field.Error`."""

    type: str
    field: str
    bad_value: Any = ""
    detail: str = ""

    @property
    def reason(self) -> str:
        return self.type

    @property
    def message(self) -> str:
        """The bare detail (`must be no more than 63 characters`)."""
        return self.detail

    @property
    def body(self) -> str:
        """upstream's `ErrorBody()`: what a Status cause carries as its message."""
        text = _TYPE_TEXT.get(self.type, self.type)
        if self.type not in _VALUELESS and self.bad_value is not OMIT:
            text = f"{text}: {go_format(self.bad_value)}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


def required(path: Path | str | None, detail: str = "") -> FieldError:
    return FieldError(REQUIRED, path_str(path), "", detail)


def invalid(path: Path | str | None, value: Any, detail: str) -> FieldError:
    return FieldError(INVALID, path_str(path), value, detail)


def not_supported(path: Path | str | None, value: Any, valid: Iterable[str]) -> FieldError:
    values = list(valid)
    detail = ""
    if values:
        detail = "supported values: " + ", ".join(go_quote(v) for v in values)
    return FieldError(NOT_SUPPORTED, path_str(path), value, detail)


def duplicate(path: Path | str | None, value: Any) -> FieldError:
    return FieldError(DUPLICATE, path_str(path), value, "")


def forbidden(path: Path | str | None, detail: str) -> FieldError:
    return FieldError(FORBIDDEN, path_str(path), "", detail)


def not_found(path: Path | str | None, value: Any) -> FieldError:
    return FieldError(NOT_FOUND, path_str(path), value, "")


def too_long(path: Path | str | None, max_length: int) -> FieldError:
    """upstream's `field.TooLong`: the value is never shown."""
    if max_length >= 0:
        unit = "byte" if max_length == 1 else "bytes"
        detail = f"may not be more than {max_length} {unit}"
    else:
        detail = "value is too long"
    return FieldError(TOO_LONG, path_str(path), "<value omitted>", detail)


def internal(path: Path | str | None, detail: str) -> FieldError:
    return FieldError(INTERNAL, path_str(path), None, detail)


def aggregate(errors: Sequence[FieldError | str]) -> str:
    """upstream's `ErrorList.ToAggregate().Error()`: one message, or `[a, b]` deduplicated."""
    seen: list[str] = []
    for err in errors:
        text = str(err)
        if text not in seen:
            seen.append(text)
    if not seen:
        return ""
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


# -- Go value rendering -----------------------------------------------------------------
_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(s: str) -> str:
    """Go's `strconv.Quote`."""
    out = ['"']
    for ch in s:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_float(value: float) -> str:
    """Go's `%v` for a float64, close enough for values a manifest carries."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def go_format(value: Any) -> str:
    """How upstream's ErrorBody prints a bad value (`%q`, `%v` or `%#v`)."""
    if isinstance(value, GoValue):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, Mapping):
        return go_map(value)
    if isinstance(value, list | tuple):
        return go_slice(value)
    return json.dumps(value, sort_keys=True, default=str)


def go_slice(values: Sequence[Any], elem: str | None = None) -> str:
    """`%#v` of a slice: `[]string{"a", "b"}`."""
    kind = elem or _elem_type(values)
    return f"[]{kind}{{" + ", ".join(go_format(v) for v in values) + "}"


def go_map(values: Mapping[str, Any], elem: str | None = None) -> str:
    """`%#v` of a map (Go prints keys sorted): `map[string]string{"a":"b"}`."""
    if values is None:
        return f"map[string]{elem or 'string'}(nil)"
    kind = elem or _elem_type(list(values.values()))
    items = ", ".join(f"{go_quote(k)}:{go_format(values[k])}" for k in sorted(values))
    return f"map[string]{kind}{{{items}}}"


def _elem_type(values: Sequence[Any]) -> str:
    if all(isinstance(v, str) for v in values):
        return "string"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int32"
    return "interface {}"
