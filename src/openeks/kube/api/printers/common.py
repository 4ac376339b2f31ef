"""Helpers every printer shares: safe field access, Go-compatible time and label formatting.

Printers read objects exactly as they come off the wire (plain dicts, camelCase keys), where
any field may be missing or `null`. Upstream prints Go structs whose missing fields are zero
values; `mapping`, `seq`, `text` and `integer` give the same zero values so a printer reads
like its Go original without `None` checks at every step.

Times follow upstream byte for byte: `translate_timestamp_since` is upstream's
`translateTimestampSince` (the AGE cells) and `human_duration` is
`k8s.io/apimachinery/pkg/util/duration.HumanDuration`, on integer nanoseconds and with Go's
truncating division. Go's number and boolean spellings (`go_float`, `go_bool_ptr`) live
here too, since cells must read as upstream's `fmt` would render them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NotRequired, TypedDict

_NANOS_PER_SECOND = 1_000_000_000
_NANOS_PER_MINUTE = 60 * _NANOS_PER_SECOND
_NANOS_PER_HOUR = 60 * _NANOS_PER_MINUTE

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})"
)
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


class TableConversionError(ValueError):
    """An object upstream's printer refuses to print (the request fails as a whole)."""


class ColumnDefinition(TypedDict):
    """One `meta.k8s.io/v1` `TableColumnDefinition`; every key is always serialised."""

    name: str
    type: str
    format: str
    description: str
    priority: int


class TableRow(TypedDict):
    """One `TableRow`; `object` is filled in by the caller from `includeObject`."""

    cells: list[Any]
    conditions: NotRequired[list[dict[str, str]]]
    object: NotRequired[Any]


def column(
    name: str, type_: str, description: str, *, format: str = "", priority: int = 0
) -> ColumnDefinition:
    """A column definition in upstream's field order."""
    return {
        "name": name,
        "type": type_,
        "format": format,
        "description": description,
        "priority": priority,
    }


# --- zero-value field access ---------------------------------------------------------


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else the empty one (Go's zero struct or map)."""
    return value if isinstance(value, Mapping) else {}


def seq(value: Any) -> Sequence[Any]:
    """`value` if it is a JSON array, else the empty one (Go's nil slice)."""
    return value if isinstance(value, list | tuple) else ()


def text(value: Any) -> str:
    """`value` if it is a string, else "" (Go's zero string)."""
    return value if isinstance(value, str) else ""


def integer(value: Any, default: int = 0) -> int:
    """`value` as an integer; `default` when missing or not a number."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return default


def present(value: Any) -> bool:
    """Whether a Go pointer field would be non-nil (the key is there and not `null`)."""
    return value is not None


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object's `metadata`."""
    return mapping(obj.get("metadata"))


def name_of(obj: Mapping[str, Any]) -> str:
    """`metadata.name`."""
    return text(meta(obj).get("name"))


# --- time ----------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as `metav1.Time` reads it; `None` for missing, zero or invalid."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        parsed = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tz
        )
        return None if parsed == _ZERO_TIME else parsed
    except (ValueError, OverflowError):
        return None


def is_valid_time(value: str) -> bool:
    """Whether `value` parses as RFC 3339 the way Go's `time.Parse` accepts it."""
    return value == "0001-01-01T00:00:00Z" or parse_time(value) is not None


def nanos_between(start: datetime, end: datetime) -> int:
    """`end.Sub(start)` in nanoseconds."""
    return ((end - start) // timedelta(microseconds=1)) * 1000


def _div(value: int, unit: int) -> int:
    """Go's integer division, which truncates toward zero."""
    quotient = abs(value) // unit
    return quotient if value >= 0 else -quotient


def human_duration(nanos: int) -> str:
    """`duration.HumanDuration`: a short, 2-3 significant figure rendering of a duration."""
    seconds = _div(nanos, _NANOS_PER_SECOND)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = nanos // _NANOS_PER_MINUTE
    if minutes < 10:
        secs = (nanos // _NANOS_PER_SECOND) % 60
        return f"{minutes}m" if secs == 0 else f"{minutes}m{secs}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = nanos // _NANOS_PER_HOUR
    if hours < 8:
        mins = minutes % 60
        return f"{hours}h" if mins == 0 else f"{hours}h{mins}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rem = hours % 24
        return f"{hours // 24}d" if rem == 0 else f"{hours // 24}d{rem}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def translate_timestamp_since(value: Any, now: datetime) -> str:
    """Upstream's `translateTimestampSince`: the AGE of a timestamp, "<unknown>" if unset."""
    when = value if isinstance(value, datetime) else parse_time(value)
    if when is None:
        return "<unknown>"
    return human_duration(nanos_between(when, now))


def format_rfc3339(value: Any) -> str:
    """`Time.UTC().Format(time.RFC3339)`, whole seconds; the zero time when unset."""
    when = parse_time(value)
    when = _ZERO_TIME if when is None else when.astimezone(UTC)
    return (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
        f"T{when.hour:02d}:{when.minute:02d}:{when.second:02d}Z"
    )


# --- Go value formatting -------------------------------------------------------------


def go_float(value: float) -> str:
    """`fmt.Sprint(float64)` (`%g`, shortest): exponent form below 1e-4 and from 1e6."""
    special = _special_float(value)
    if special is not None:
        return special
    digits, point = _shortest_digits(abs(value))
    sign = "-" if value < 0 else ""
    if point - 1 < -4 or point - 1 >= 6:
        return sign + _scientific(digits, point - 1)
    return sign + _fixed(digits, point)


def go_json_float(value: float) -> str:
    """`encoding/json`'s float: plain digits, exponent form below 1e-6 and from 1e21."""
    special = _special_float(value)
    if special is not None:
        return special
    digits, point = _shortest_digits(abs(value))
    sign = "-" if value < 0 else ""
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        rendered = _scientific(digits, point - 1)
        if rendered[-4:-1] == "e-0":  # encoding/json trims e-07 to e-7
            rendered = rendered[:-2] + rendered[-1]
        return sign + rendered
    return sign + _fixed(digits, point)


def _special_float(value: float) -> str | None:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    return None


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest round-tripping digits of `value` and where its decimal point goes."""
    mantissa, _, exp_part = repr(value).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    point = len(whole.lstrip("0")) + int(exp_part or 0)
    if not whole.lstrip("0"):  # 0.000123: leading zeros of the fraction move the point
        point -= len(frac) - len(frac.lstrip("0"))
    return digits.rstrip("0") or "0", point


def _scientific(digits: str, exponent: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _fixed(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def go_bool(value: bool) -> str:
    """`printBool`: "True" or "False"."""
    return "True" if value else "False"


def go_bool_ptr(value: Any) -> str:
    """`printBoolPtr`: "True", "False", or "<unset>" for a nil pointer."""
    return go_bool(value) if isinstance(value, bool) else "<unset>"


def int_or_string(value: Any) -> str:
    """`intstr.IntOrString.String()`."""
    if isinstance(value, str):
        return value
    return str(integer(value))


def join_host_port(host: str, port: int) -> str:
    """`net.JoinHostPort`: IPv6 hosts go in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --- shared cell builders ------------------------------------------------------------


def layout_container_cells(containers: Any) -> tuple[str, str]:
    """`layoutContainerCells`: container names and images, each comma-joined."""
    items = [mapping(c) for c in seq(containers)]
    names = ",".join(text(c.get("name")) for c in items)
    images = ",".join(text(c.get("image")) for c in items)
    return names, images


def pod_template_containers(template: Any) -> Sequence[Any]:
    """`template.spec.containers` of a pod template."""
    return seq(mapping(mapping(template).get("spec")).get("containers"))


def list_with_more_string(items: list[str], more: bool, count: int, limit: int) -> str:
    """`listWithMoreString`: the first `limit` items, "+ N more...", or "<unset>"."""
    rendered = ",".join(items)
    if more:
        return f"{rendered} + {count - limit} more..."
    return rendered or "<unset>"
