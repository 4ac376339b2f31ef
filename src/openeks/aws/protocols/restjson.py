"""The rest-json protocol (EKS): operations by method and path, JSON bodies.

Requests: the route (`routing.Router`) names the operation and yields the URI labels;
each input member is then read from where the model binds it (`location`): `uri`,
`querystring` (a map member without a name takes all remaining parameters), `header`,
`headers` (a prefix map), or the JSON body (or the raw body when the input shape names a
`payload` member). Text values (URI, query, headers) are converted by type; timestamps
there are ISO 8601 (RFC 822 in headers) unless `timestampFormat` says otherwise.

Responses mirror that: header-bound output members become headers, a `statusCode`
member the status, the rest the JSON body; the status otherwise comes from the
operation's `http.responseCode`. Errors are `{"message": ...}` plus any modeled fields,
with the code in `x-amzn-ErrorType` (which is where botocore's `RestJSONParser` reads
it) and the request id in `x-amzn-RequestId`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.utils import is_json_value_header

from openeks.aws.errors import AwsError, SerializationException, UnknownOperationException
from openeks.aws.protocols import values
from openeks.aws.protocols.base import Call, WireProtocol
from openeks.aws.protocols.jsonshape import from_json, structure_to_json, to_json
from openeks.aws.protocols.routing import Router
from openeks.aws.protocols.validation import InvalidInput, Violation, member_path
from openeks.aws.wire import Request, Response

JSON_CONTENT_TYPE = "application/json"


class RestJsonProtocol(WireProtocol):
    family = "json"
    validation_code = "ValidationException"

    def __init__(self, model: ServiceModel) -> None:
        super().__init__(model)
        self.router = Router(model)

    def claims(self, request: Request) -> bool:
        return self.router.path_known(request.path)

    # Requests.

    def decode(self, request: Request) -> Call:
        matched = self.router.match(request.method, request.path, request.query)
        if matched is None:
            raise UnknownOperationException(
                f"No operation of {self.model.service_name} matches {request.method} {request.path}"
            )
        operation, labels = matched
        shape = operation.input_shape
        if shape is None:
            return Call(operation, {})
        params = self._bound_members(request, shape, labels)
        params.update(self._body_members(request, shape))
        return Call(operation, params)

    def _bound_members(
        self, request: Request, shape: StructureShape, labels: dict[str, str]
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        bound_query = {
            member.serialization.get("name", name)
            for name, member in shape.members.items()
            if member.serialization.get("location") == "querystring" and member.type_name != "map"
        }
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            path = member_path("", name)
            value: Any = None
            if location == "uri" and wire in labels:
                value = _from_text(member, labels[wire], path, name)
            elif location == "querystring":
                value = _query_member(request, member, wire, bound_query, path, name)
            elif location == "header":
                text = request.header(wire)
                if text is not None:
                    value = _from_text(member, text, path, name)
            elif location == "headers":
                value = _prefixed_headers(request, wire) or None
            if value is not None:
                params[name] = value
        return params

    def _body_members(self, request: Request, shape: StructureShape) -> dict[str, Any]:
        payload = shape.serialization.get("payload")
        if payload is not None:
            member = shape.members[payload]
            if not request.body:
                return {}
            if member.type_name == "blob":
                return {payload: request.body}
            if member.type_name == "string":
                return {payload: request.body.decode("utf-8", "replace")}
            document = _load_json(request.body)
            return {payload: from_json(member, document, member_path("", payload), payload)}
        if not request.body.strip():
            return {}
        document = _load_json(request.body)
        if not isinstance(document, dict):
            raise SerializationException("The request body must be a JSON object")
        parsed = from_json(shape, document)
        assert isinstance(parsed, dict)
        return parsed

    # Responses.

    def encode(self, operation: OperationModel, result: Any, request_id: str) -> Response:
        status = int(operation.http.get("responseCode", 200))
        headers = {"x-amzn-RequestId": request_id}
        shape = operation.output_shape
        if not isinstance(shape, StructureShape):
            return Response(status, b"", headers)
        result = result or {}
        for name, member in shape.members.items():
            value = result.get(name)
            location = member.serialization.get("location")
            if value is None or location is None:
                continue
            wire = member.serialization.get("name", name)
            if location == "header":
                headers[wire] = _to_header(member, value)
            elif location == "headers":
                headers.update({f"{wire}{key}": str(item) for key, item in value.items()})
            elif location == "statusCode":
                status = int(value)
        body, content_type = _encode_body(shape, result)
        if status == 204:
            body = b""
        else:
            headers["Content-Type"] = content_type
        return Response(status, body, headers)

    def encode_error(self, error: AwsError, request_id: str) -> Response:
        body: dict[str, Any] = {}
        shape = self.error_shape(error.code)
        message_key = "message"
        if shape is not None:
            known = {name: value for name, value in error.fields.items() if name in shape.members}
            body.update(structure_to_json(shape, known))
            if "Message" in shape.members and "message" not in shape.members:
                message_key = "Message"
        members = shape.members if shape is not None else {}
        body.update({key: v for key, v in error.fields.items() if key not in members})
        body[message_key] = error.message
        headers = {
            "x-amzn-ErrorType": error.code,
            "x-amzn-RequestId": request_id,
            "Content-Type": JSON_CONTENT_TYPE,
        }
        return Response(self.error_status(error), orjson.dumps(body, default=str), headers)


def _encode_body(shape: StructureShape, result: Any) -> tuple[bytes, str]:
    payload = shape.serialization.get("payload")
    if payload is None:
        return orjson.dumps(structure_to_json(shape, result)), JSON_CONTENT_TYPE
    member = shape.members[payload]
    value = result.get(payload)
    if member.type_name == "blob":
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value or b"")
        return data, "application/octet-stream"
    if member.type_name == "string":
        return str(value or "").encode("utf-8"), "text/plain"
    if value is None:
        return b"{}", JSON_CONTENT_TYPE
    return orjson.dumps(to_json(member, value)), JSON_CONTENT_TYPE


def _load_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise SerializationException("The request body is not valid JSON") from None


def _query_member(
    request: Request, member: Shape, wire: str, bound: set[str], path: str, name: str
) -> Any:
    if member.type_name == "map":
        return _query_map(request, member, bound)
    if member.type_name == "list":
        assert isinstance(member, ListShape)
        texts = request.query_values(wire)
        if not texts:
            return None
        return [
            _from_text(member.member, text, f"{path}.{i}.member", name)
            for i, text in enumerate(texts, 1)
        ]
    texts = request.query_values(wire)
    return _from_text(member, texts[0], path, name) if texts else None


def _query_map(request: Request, member: Shape, bound: set[str]) -> dict[str, Any] | None:
    as_lists = getattr(member, "value", None) is not None and member.value.type_name == "list"
    collected: dict[str, Any] = {}
    for key, value in request.query_pairs:
        if key in bound:
            continue
        if as_lists:
            collected.setdefault(key, []).append(value)
        else:
            collected.setdefault(key, value)
    return collected or None


def _prefixed_headers(request: Request, prefix: str) -> dict[str, str]:
    lowered = prefix.lower()
    return {
        name[len(prefix) :]: value
        for name, value in request.headers
        if name.lower().startswith(lowered)
    }


def _from_text(shape: Shape, text: str, path: str, name: str) -> Any:
    """A URI label, query value or header as the Python value of `shape`."""
    kind = shape.type_name
    try:
        if kind == "string":
            if is_json_value_header(shape):
                return json.loads(values.decode_blob(text))
            return text
        if kind == "boolean":
            return values.parse_bool(text)
        if kind in ("integer", "long"):
            return values.parse_int(text)
        if kind in ("float", "double"):
            return values.parse_float(text)
        if kind == "timestamp":
            return values.parse_wire_timestamp(text)
        if kind == "blob":
            return values.decode_blob(text)
        if kind == "list":
            assert isinstance(shape, ListShape)
            items = _split_header_list(text)
            return [_from_text(shape.member, item, path, name) for item in items]
    except ValueError as error:
        raise InvalidInput([Violation(path, text, str(error), name)]) from None
    return text


def _quote_header_item(text: str) -> str:
    if "," in text or '"' in text:
        return '"' + text.replace('"', '\\"') + '"'
    return text


def _split_header_list(text: str) -> list[str]:
    """A comma-separated header list, where `"a,b"` (with `\\"` escapes) is one item."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


def _to_header(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", values.RFC822)
        return str(values.format_timestamp(value, fmt))
    if kind == "list":
        assert isinstance(shape, ListShape)
        return ",".join(_quote_header_item(_to_header(shape.member, item)) for item in value)
    if kind == "string" and is_json_value_header(shape):
        return values.encode_blob(json.dumps(value, separators=(",", ":")))
    if kind == "boolean":
        return values.bool_to_text(value)
    if kind in ("float", "double"):
        return values.float_to_text(value)
    if kind == "blob":
        return values.encode_blob(value)
    return str(value)
