"""Scalar conversions every protocol shares: timestamps, blobs, booleans, numbers.

On the wire a timestamp is ISO 8601 (query, EC2, rest URIs and query strings), epoch
seconds (JSON bodies) or RFC 822 (headers), unless the shape pins `timestampFormat`.
Backends see aware UTC `datetime`s and may hand back a `datetime` (naive means UTC),
epoch seconds or an ISO string. Blobs are base64 on the wire and `bytes` in Python.

Request-side conversions raise `ValueError` with a short description of what was
expected; the protocol modules turn that into the service's validation error.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import math
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from botocore.utils import parse_timestamp

ISO8601 = "iso8601"
EPOCH = "unixtimestamp"
RFC822 = "rfc822"


def to_datetime(value: Any) -> datetime:
    """A backend's timestamp (datetime, epoch number or string) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        return parse_timestamp(value).astimezone(UTC)
    raise TypeError(f"not a timestamp: {value!r}")


def format_timestamp(value: Any, fmt: str, *, millis: bool = False) -> str | int | float:
    """`value` in wire format `fmt`; `millis` always writes three fractional digits."""
    moment = to_datetime(value)
    if fmt == EPOCH:
        seconds = calendar.timegm(moment.timetuple())
        if moment.microsecond:
            return round(seconds + moment.microsecond / 1e6, 3)
        return seconds
    if fmt == RFC822:
        return formatdate(calendar.timegm(moment.timetuple()), usegmt=True)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_wire_timestamp(value: Any) -> datetime:
    """A client's timestamp in any format botocore may send, as an aware UTC datetime."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("Member must be a timestamp")
    try:
        parsed = parse_timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise ValueError("Member must be a timestamp") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def encode_blob(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(bytes(value)).decode("ascii")


def decode_blob(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("Member must be base64-encoded binary data") from None


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError("Member must be a boolean (true or false)")


def parse_int(text: Any) -> int:
    if isinstance(text, bool):
        raise ValueError("Member must be an integer")
    if isinstance(text, int):
        return text
    if isinstance(text, float) and text.is_integer():
        return int(text)
    if isinstance(text, str):
        try:
            return int(text.strip())
        except ValueError:
            pass
    raise ValueError("Member must be an integer")


def parse_float(text: Any) -> float:
    if isinstance(text, bool):
        raise ValueError("Member must be a number")
    if isinstance(text, int | float):
        return float(text)
    if isinstance(text, str):
        try:
            return float(text.strip())
        except ValueError:
            pass
    raise ValueError("Member must be a number")


def float_to_wire(value: Any) -> float | str:
    """JSON cannot carry NaN or infinities; AWS writes them as strings."""
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


def float_to_text(value: Any) -> str:
    wire = float_to_wire(value)
    return wire if isinstance(wire, str) else repr(wire)


def bool_to_text(value: Any) -> str:
    return "true" if value else "false"
