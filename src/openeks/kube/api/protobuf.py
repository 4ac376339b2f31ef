"""Decode Kubernetes protobuf request bodies into the JSON-shaped dicts the server works with.

kubectl's typed clients (``create namespace``, ``create deployment``, ``auth can-i``,
``drain``...) send bodies as ``application/vnd.kubernetes.protobuf``: the magic
``k8s\\x00`` followed by a ``runtime.Unknown`` envelope ``{typeMeta{apiVersion, kind},
raw, contentEncoding, contentType}`` whose ``raw`` is the object's own message.  This
module turns that into exactly what the same object looks like as JSON, so the rest of
the API server never knows which encoding the client chose.

The wire format is parsed by hand (varints and length-delimited fields; no protobuf
runtime).  What each field number means — JSON name, type, repeated/map, whether Go
holds it behind a pointer, whether its JSON tag lacks ``omitempty``, whether the Go
struct is embedded (``json:",inline"``) — comes from ``protobuf_schema.json``, which
``tools/gen_protobuf_schema.py`` generates from upstream ``generated.proto`` files.

**Zero values.**  Upstream decodes protobuf into Go structs and encodes JSON with the
structs' tags; gogo-protobuf writes every non-pointer field, even ``""``/``0``/``false``.
To land on the JSON the server would hold, a decoded scalar (string, number, bool,
``bytes``, IntOrString) equal to its zero value is dropped unless the field is a Go
pointer (``replicas: 0`` is kept: it means "scale to zero", not "unset") or its JSON tag
has no ``omitempty`` (``containerPort``, ``PriorityClass.value``; the schema knows this
from OpenAPI ``required`` and kubectl's own struct tags).  Empty lists and maps are
dropped (gogo never writes them).  Nested messages are kept even when empty, as Go
encodes structs (``"spec": {}``).  Known differences from Go's JSON, all between "zero"
and "absent", which Go treats alike for non-pointer fields: a zero non-pointer
IntOrString (``targetPort`` unset) is dropped where Go writes ``0``; nil pointers and
empty lists/maps without ``omitempty`` are absent where Go writes ``null``
(``ClusterRole.rules``, ``TokenRequestSpec.boundObjectRef``); a zero value of a
non-``omitempty`` field whose tag the schema could not pin down is dropped
(``TokenRequestStatus.token: ""``); a non-pointer struct missing from the wire (gogo
always writes them) is absent instead of ``{}``.

**Special types** decode to their JSON forms: ``Time`` to RFC 3339 seconds,
``MicroTime`` to RFC 3339 microseconds (zero times are dropped, as Go writes
``null``), ``Duration`` to a Go duration string, ``Quantity`` to its string,
``IntOrString`` to an int or a string, ``RawExtension``/``FieldsV1``/apiextensions
``JSON`` to the parsed JSON they carry, ``bytes`` to base64, ``Verbs``/``ExtraValue`` to
string lists and the ``JSONSchemaPropsOr*`` unions to the schema or the bool/list.
Fields the schema does not know are skipped, as upstream does; so are the few fields of
the schema's development snapshot that the 1.37 API does not serve.  Only the built-in
kinds of the groups in the schema decode (custom resources are never sent as protobuf).
"""

from __future__ import annotations

import base64
import datetime
import functools
import importlib.resources
import json
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

_SCHEMA_FILE = "protobuf_schema.json"
_MAX_DEPTH = 100
_GO_ZERO_SECONDS = -62135596800  # time.Time{}.Unix(): 0001-01-01T00:00:00Z
_ABSENT: Any = object()  # a value Go would encode as null or omit

# Proto package prefixes as spelled in the schema file (see tools/gen_protobuf_schema.py).
_LONG_PACKAGES = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.": "meta.v1.",
    "k8s.io.apimachinery.pkg.runtime.": "runtime.",
    "k8s.io.apimachinery.pkg.api.resource.": "resource.",
    "k8s.io.apimachinery.pkg.util.intstr.": "intstr.",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.": "apiextensions.v1.",
    "k8s.io.api.": "",
}


class ProtobufError(ValueError):
    """The body is not a Kubernetes protobuf object this server can read."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    label: str  # "" singular, "r" repeated, "m" map<string, type>
    type: str
    pointer: bool
    required: bool
    inline: bool


@dataclass(frozen=True, slots=True)
class _Schema:
    messages: dict[str, dict[int, _Field]]
    packages: dict[str, str]  # apiVersion -> short package, e.g. "apps/v1" -> "apps.v1"


@functools.cache
def _schema() -> _Schema:
    text = (importlib.resources.files(__package__) / _SCHEMA_FILE).read_text()
    document = json.loads(text)
    messages = {
        name: {
            number: _Field(json_name, label, type_, "p" in flags, "q" in flags, "i" in flags)
            for number, json_name, label, type_, flags in rows
        }
        for name, rows in document["messages"].items()
    }
    packages = {version: package for package, version in document["groupVersions"].items()}
    return _Schema(messages, packages)


def decode(body: bytes) -> dict[str, Any]:
    """Decode a ``application/vnd.kubernetes.protobuf`` body to a JSON-shaped object."""
    if not body.startswith(MAGIC):
        raise ProtobufError("protobuf body does not start with the Kubernetes magic k8s\\x00")
    return _decode_unknown(body[len(MAGIC) :], depth=0)


def decode_message(type_name: str, data: bytes) -> Any:
    """Decode one message, named ``core.v1.Pod`` or ``k8s.io.api.core.v1.Pod``."""
    for long, short in _LONG_PACKAGES.items():
        if type_name.startswith(long):
            type_name = short + type_name[len(long) :]
            break
    if type_name not in _schema().messages:
        raise ProtobufError(f"no protobuf schema for message {type_name}")
    value = _decode(type_name, data, depth=0)
    return None if value is _ABSENT else value


def _decode_unknown(data: bytes, depth: int) -> dict[str, Any]:
    api_version = kind = encoding = ""
    raw = b""
    for number, wire, value in _fields(data):
        if number == 1 and wire == 2:
            for inner, inner_wire, inner_value in _fields(_as_bytes(value)):
                if inner == 1 and inner_wire == 2:
                    api_version = _text(inner_value)
                elif inner == 2 and inner_wire == 2:
                    kind = _text(inner_value)
        elif number == 2 and wire == 2:
            raw = _as_bytes(value)
        elif number == 3 and wire == 2:
            encoding = _text(value)
    if encoding:
        raise ProtobufError(f"unsupported protobuf contentEncoding {encoding!r}")
    if not api_version or not kind:
        raise ProtobufError("protobuf envelope has no apiVersion/kind")
    decoded = _decode(_message_for(api_version, kind), raw, depth)
    return {"kind": kind, "apiVersion": api_version, **decoded}


def _message_for(api_version: str, kind: str) -> str:
    schema = _schema()
    package = schema.packages.get(api_version)
    if package is not None:
        for name in (f"{package}.{kind}", f"meta.v1.{kind}"):
            if name in schema.messages:
                return name
    raise ProtobufError(f"no protobuf schema for {api_version} {kind}")


# --- wire format -------------------------------------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint in protobuf body")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint longer than 10 bytes in protobuf body")


def _fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(number, wire_type, value)``: an int for wire types 0/1/5, bytes for 2."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("protobuf field number 0")
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > end:
                raise ProtobufError(f"field {number} runs past the end of the protobuf body")
            yield number, wire, data[pos : pos + length]
            pos += length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > end:
                raise ProtobufError(f"field {number} runs past the end of the protobuf body")
            yield number, wire, int.from_bytes(data[pos : pos + size], "little")
            pos += size
        else:
            raise ProtobufError(f"unsupported protobuf wire type {wire} (field {number})")


def _as_bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a length-delimited protobuf field")
    return value


def _text(value: int | bytes) -> str:
    # Go keeps invalid UTF-8 in strings and its JSON encoder writes U+FFFD for it.
    return _as_bytes(value).decode("utf-8", errors="replace")


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _float(value: int, wire: int) -> float | int:
    if wire == 1:
        number = struct.unpack("<d", value.to_bytes(8, "little"))[0]
    else:
        number = struct.unpack("<f", value.to_bytes(4, "little"))[0]
    return int(number) if number.is_integer() else number  # Go writes 1.0 as 1


# Scalar type -> (wire type, converter).
_SCALARS: dict[str, tuple[int, Callable[[Any, int], Any]]] = {
    "string": (2, lambda v, w: _text(v)),
    "bytes": (2, lambda v, w: base64.b64encode(_as_bytes(v)).decode("ascii")),
    "bool": (0, lambda v, w: v != 0),
    "int32": (0, lambda v, w: _signed(v, 32)),
    "int64": (0, lambda v, w: _signed(v, 64)),
    "uint32": (0, lambda v, w: v & 0xFFFFFFFF),
    "uint64": (0, lambda v, w: v & 0xFFFFFFFFFFFFFFFF),
    "sint32": (0, lambda v, w: (v >> 1) ^ -(v & 1)),
    "sint64": (0, lambda v, w: (v >> 1) ^ -(v & 1)),
    "fixed32": (5, lambda v, w: v),
    "fixed64": (1, lambda v, w: v),
    "sfixed32": (5, lambda v, w: _signed(v, 32)),
    "sfixed64": (1, lambda v, w: _signed(v, 64)),
    "double": (1, _float),
    "float": (5, _float),
}


def _scalar(type_: str, wire: int, value: int | bytes, where: str) -> Any:
    expected, convert = _SCALARS[type_]
    if wire != expected:
        raise ProtobufError(f"{where}: wire type {wire} cannot carry a {type_}")
    return convert(value, wire)


def _packed(type_: str, data: bytes, where: str) -> list[Any]:
    """Elements of a packed repeated scalar field."""
    wire, _ = _SCALARS[type_]
    if wire == 2:
        raise ProtobufError(f"{where}: a {type_} list cannot be packed")
    out, pos = [], 0
    while pos < len(data):
        if wire == 0:
            value, pos = _varint(data, pos)
        else:
            size = 8 if wire == 1 else 4
            if pos + size > len(data):
                raise ProtobufError(f"{where}: truncated packed list")
            value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
        out.append(_SCALARS[type_][1](value, wire))
    return out


# --- messages ----------------------------------------------------------------------


def _decode(type_name: str, data: bytes, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise ProtobufError(f"protobuf messages nested deeper than {_MAX_DEPTH}")
    special = _SPECIAL.get(type_name)
    if special is not None:
        return special(data, depth)
    fields = _schema().messages[type_name]
    singles: dict[int, Any] = {}
    chunks: dict[int, list[bytes]] = {}
    lists: dict[int, list[Any]] = {}
    maps: dict[int, dict[str, Any]] = {}
    for number, wire, value in _fields(data):
        field = fields.get(number)
        if field is None:
            continue
        where = f"{type_name}.{field.name}"
        if field.label == "m":
            key, item = _map_entry(field, _as_bytes(value), depth, where)
            maps.setdefault(number, {})[key] = item
        elif field.type in _SCALARS:
            if field.label == "r" and wire == 2 and field.type not in ("string", "bytes"):
                lists.setdefault(number, []).extend(_packed(field.type, _as_bytes(value), where))
            elif field.label == "r":
                lists.setdefault(number, []).append(_scalar(field.type, wire, value, where))
            else:
                singles[number] = _scalar(field.type, wire, value, where)
        elif wire != 2:
            raise ProtobufError(f"{where}: wire type {wire} cannot carry a message")
        elif field.label == "r":
            item = _decode(field.type, _as_bytes(value), depth + 1)
            lists.setdefault(number, []).append(None if item is _ABSENT else item)
        else:  # repeated occurrences of a message field merge, i.e. concatenate
            chunks.setdefault(number, []).append(_as_bytes(value))
    for number, parts in chunks.items():
        singles[number] = _decode(fields[number].type, b"".join(parts), depth + 1)
    out: dict[str, Any] = {}
    for number, value in singles.items():
        field = fields[number]
        if value is _ABSENT:
            continue
        if field.inline and isinstance(value, dict):
            out.update(value)
        elif field.pointer or field.required or not _scalar_like(field) or not _is_zero(value):
            out[field.name] = value
    for number, items in lists.items():
        out[fields[number].name] = items
    for number, entries in maps.items():
        out[fields[number].name] = entries
    return out


def _scalar_like(field: _Field) -> bool:
    """Fields Go encodes from a value, not a struct: the ones omitempty can drop."""
    return field.type in _SCALARS or field.type == "intstr.IntOrString"


def _is_zero(value: Any) -> bool:
    if isinstance(value, str):
        return value == ""
    return value is None or value == 0  # 0, 0.0 and False


def _map_entry(field: _Field, data: bytes, depth: int, where: str) -> tuple[str, Any]:
    key, raw_value, wire = "", None, 2
    for number, entry_wire, value in _fields(data):
        if number == 1:
            key = _scalar("string", entry_wire, value, where)
        elif number == 2:
            raw_value, wire = value, entry_wire
    if field.type in _SCALARS:
        if raw_value is None:
            raw_value, wire = (b"", 2) if _SCALARS[field.type][0] == 2 else (0, 0)
        return key, _scalar(field.type, wire, raw_value, where)
    if wire != 2:
        raise ProtobufError(f"{where}: wire type {wire} cannot carry a message")
    item = _decode(field.type, _as_bytes(raw_value or b""), depth + 1)
    return key, None if item is _ABSENT else item


# --- special types -----------------------------------------------------------------


def _plain(data: bytes) -> dict[int, int | bytes]:
    """Last value of each field of a small fixed message."""
    return {number: value for number, _, value in _fields(data)}


def _timestamp(data: bytes) -> tuple[int, int] | None:
    values = _plain(data)
    seconds = _signed(_int(values.get(1, 0)), 64)
    nanos = _signed(_int(values.get(2, 0)), 32)
    if not data or (seconds == _GO_ZERO_SECONDS and nanos == 0):
        return None
    return seconds, nanos


def _int(value: int | bytes) -> int:
    if isinstance(value, bytes):
        raise ProtobufError("expected a varint protobuf field")
    return value


def _utc(seconds: int) -> datetime.datetime:
    try:
        return datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
            seconds=seconds
        )
    except OverflowError as exc:
        raise ProtobufError(f"timestamp {seconds} is out of range") from exc


def _time(data: bytes, depth: int) -> Any:
    stamp = _timestamp(data)
    if stamp is None:
        return _ABSENT
    moment = _utc(stamp[0])  # metav1.Time keeps whole seconds only
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}Z"


def _micro_time(data: bytes, depth: int) -> Any:
    stamp = _timestamp(data)
    if stamp is None:
        return _ABSENT
    seconds, nanos = stamp
    moment = _utc(seconds + nanos // 1_000_000_000)
    micros = (nanos % 1_000_000_000) // 1000
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{micros:06d}Z"


def _duration(data: bytes, depth: int) -> str:
    return go_duration(_signed(_int(_plain(data).get(1, 0)), 64))


def go_duration(nanoseconds: int) -> str:
    """Format like Go's ``time.Duration.String``: ``1h2m3.5s``, ``1.5ms``, ``0s``."""
    if nanoseconds == 0:
        return "0s"
    sign, value = ("-" if nanoseconds < 0 else ""), abs(nanoseconds)

    def fraction(whole_and_frac: int, precision: int) -> str:
        whole, frac = divmod(whole_and_frac, 10**precision)
        digits = f"{frac:0{precision}d}".rstrip("0")
        return f"{whole}.{digits}" if digits else str(whole)

    if value < 1000:
        return f"{sign}{value}ns"
    if value < 1_000_000:
        return f"{sign}{fraction(value, 3)}µs"
    if value < 1_000_000_000:
        return f"{sign}{fraction(value, 6)}ms"
    seconds = value // 1_000_000_000
    text = fraction(seconds % 60 * 1_000_000_000 + value % 1_000_000_000, 9) + "s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes // 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


def _quantity(data: bytes, depth: int) -> str:
    value = _plain(data).get(1)
    return "0" if value is None else _text(value)


def _int_or_string(data: bytes, depth: int) -> int | str:
    values = _plain(data)
    if _int(values.get(1, 0)) == 1:
        return _text(values.get(3, b""))
    return _signed(_int(values.get(2, 0)), 32)


def _raw_json(data: bytes, depth: int) -> Any:
    raw = _as_bytes(_plain(data).get(1, b""))
    if not raw:
        return _ABSENT
    if raw.startswith(MAGIC):
        return _decode_unknown(raw[len(MAGIC) :], depth + 1)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ProtobufError(f"embedded raw object is neither JSON nor protobuf: {exc}") from exc


def _string_list(data: bytes, depth: int) -> list[str]:
    return [_scalar("string", wire, value, "items") for _, wire, value in _fields(data)]


def _schema_or_bool(data: bytes, depth: int) -> Any:
    values = _plain(data)
    if 2 in values:
        return _decode("apiextensions.v1.JSONSchemaProps", _as_bytes(values[2]), depth + 1)
    return _int(values.get(1, 0)) != 0


def _schema_or_array(data: bytes, depth: int) -> Any:
    schemas, schema = [], _ABSENT
    for number, _, value in _fields(data):
        decoded = _decode("apiextensions.v1.JSONSchemaProps", _as_bytes(value), depth + 1)
        if number == 2:
            schemas.append(decoded)
        elif number == 1:
            schema = decoded
    return schemas or schema


def _schema_or_strings(data: bytes, depth: int) -> Any:
    strings, schema = [], _ABSENT
    for number, wire, value in _fields(data):
        if number == 2:
            strings.append(_scalar("string", wire, value, "property"))
        elif number == 1:
            schema = _decode("apiextensions.v1.JSONSchemaProps", _as_bytes(value), depth + 1)
    return strings or schema


_SPECIAL: dict[str, Callable[[bytes, int], Any]] = {
    "meta.v1.Time": _time,
    "meta.v1.MicroTime": _micro_time,
    "meta.v1.Duration": _duration,
    "meta.v1.FieldsV1": _raw_json,
    "meta.v1.Verbs": _string_list,
    "resource.Quantity": _quantity,
    "intstr.IntOrString": _int_or_string,
    "runtime.RawExtension": _raw_json,
    "apiextensions.v1.JSON": _raw_json,
    "apiextensions.v1.JSONSchemaPropsOrBool": _schema_or_bool,
    "apiextensions.v1.JSONSchemaPropsOrArray": _schema_or_array,
    "apiextensions.v1.JSONSchemaPropsOrStringArray": _schema_or_strings,
    "authentication.v1.ExtraValue": _string_list,
    "authorization.v1.ExtraValue": _string_list,
    "certificates.v1.ExtraValue": _string_list,
}
