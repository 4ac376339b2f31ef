"""The query protocol (IAM, STS, CloudFormation): form parameters in, XML out.

Requests carry `Action` and `Version` plus the input flattened into dotted names, in the
query string (GET) or an `application/x-www-form-urlencoded` body (POST, what botocore
sends): structures as `Parent.Member`, lists as `Name.member.N` (`Name.N` when
flattened; `Name=` alone for an empty list), maps as `Name.entry.N.key` /
`Name.entry.N.value`. Member names are the model's `locationName` or the member name.
Reading walks the input shape and looks names up in a set of every dotted prefix the
request has, so absent branches (and recursive shapes) cost nothing.

Responses are `<OpResponse xmlns=...><OpResult>...</OpResult><ResponseMetadata>
<RequestId>` with timestamps in ISO 8601, lists as `<member>` (or the member's
`locationName`), maps as `<entry><key/><value/></entry>`. Errors are
`<ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/>`.
`ec2.py` overrides the naming and the envelopes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from openeks.aws.errors import AwsError, InvalidAction, MissingAction
from openeks.aws.protocols import values
from openeks.aws.protocols.base import Call, WireProtocol
from openeks.aws.protocols.validation import InvalidInput, Violation, member_path
from openeks.aws.wire import Request, Response

XML_CONTENT_TYPE = "text/xml"
_MISSING: Any = object()
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class QueryProtocol(WireProtocol):
    family = "query"
    validation_code = "ValidationError"

    @property
    def namespace(self) -> str:
        return str(self.model.metadata.get("xmlNamespace", ""))

    def claims(self, request: Request) -> bool:
        params = request.params
        version = params.get("Version")
        if version is not None and version != self.model.api_version:
            return False
        return params.get("Action") in self.model.operation_names

    # Requests.

    def decode(self, request: Request) -> Call:
        params = request.params
        action = params.get("Action")
        if not action:
            raise MissingAction("The request must contain the parameter Action")
        version = params.get("Version", "")
        if action not in self.model.operation_names or version not in (
            "",
            self.model.api_version,
        ):
            raise InvalidAction(f"Could not find operation {action} for version {version}")
        operation = self.model.operation_model(action)
        shape = operation.input_shape
        if shape is None:
            return Call(operation, {})
        prefixes = _prefixes(params)
        parsed = self._read_structure(shape, params, prefixes, "", "")
        return Call(operation, parsed)

    def member_key(self, member: Shape, name: str) -> str:
        return str(member.serialization.get("name", name))

    def list_item_prefix(self, shape: ListShape, prefix: str) -> str:
        if shape.serialization.get("flattened"):
            item_name = shape.member.serialization.get("name")
            if item_name:
                return ".".join([*prefix.split(".")[:-1], item_name])
            return prefix
        return f"{prefix}.{shape.member.serialization.get('name', 'member')}"

    def _read(
        self,
        shape: Shape,
        params: dict[str, str],
        prefixes: set[str],
        prefix: str,
        path: str,
        name: str,
    ) -> Any:
        kind = shape.type_name
        if kind == "list":  # a flattened list's items may live under another name
            assert isinstance(shape, ListShape)
            return self._read_list(shape, params, prefixes, prefix, path, name)
        if prefix not in prefixes:
            return _MISSING
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            return self._read_structure(shape, params, prefixes, prefix, path) or _MISSING
        if kind == "map":
            assert isinstance(shape, MapShape)
            return self._read_map(shape, params, prefixes, prefix, path, name)
        text = params.get(prefix)
        if text is None:
            return _MISSING
        return _from_text(shape, text, path, name)

    def _read_structure(
        self,
        shape: StructureShape,
        params: dict[str, str],
        prefixes: set[str],
        prefix: str,
        path: str,
    ) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = self.member_key(member, name)
            full = f"{prefix}.{key}" if prefix else key
            value = self._read(member, params, prefixes, full, member_path(path, name), name)
            if value is not _MISSING:
                parsed[name] = value
        return parsed

    def _read_list(
        self,
        shape: ListShape,
        params: dict[str, str],
        prefixes: set[str],
        prefix: str,
        path: str,
        name: str,
    ) -> Any:
        if params.get(prefix) == "":
            return []
        item_prefix = self.list_item_prefix(shape, prefix)
        items: list[Any] = []
        while True:
            index = len(items) + 1
            item = self._read(
                shape.member,
                params,
                prefixes,
                f"{item_prefix}.{index}",
                f"{path}.{index}.member",
                name,
            )
            if item is _MISSING:
                break
            items.append(item)
        return items or _MISSING

    def _read_map(
        self,
        shape: MapShape,
        params: dict[str, str],
        prefixes: set[str],
        prefix: str,
        path: str,
        name: str,
    ) -> Any:
        entry = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        parsed: dict[str, Any] = {}
        index = 1
        while (key := params.get(f"{entry}.{index}.{key_name}")) is not None:
            value = self._read(
                shape.value,
                params,
                prefixes,
                f"{entry}.{index}.{value_name}",
                f"{path}.{key}",
                name,
            )
            parsed[key] = None if value is _MISSING else value
            index += 1
        return parsed or _MISSING

    # Responses.

    def encode(self, operation: OperationModel, result: Any, request_id: str) -> Response:
        root = self.root_element(f"{operation.name}Response")
        shape = operation.output_shape
        if isinstance(shape, StructureShape):
            wrapper_name = shape.serialization.get("resultWrapper", f"{operation.name}Result")
            wrapper = ET.SubElement(root, wrapper_name)
            self.write_members(wrapper, shape, result or {})
        metadata = ET.SubElement(root, "ResponseMetadata")
        ET.SubElement(metadata, "RequestId").text = request_id
        return self.xml_response(200, root, request_id)

    def encode_error(self, error: AwsError, request_id: str) -> Response:
        root = self.root_element("ErrorResponse")
        detail = ET.SubElement(root, "Error")
        ET.SubElement(detail, "Type").text = "Sender" if error.sender_fault else "Receiver"
        ET.SubElement(detail, "Code").text = error.code
        ET.SubElement(detail, "Message").text = _clean(error.message)
        self.write_error_fields(detail, error)
        ET.SubElement(root, "RequestId").text = request_id
        return self.xml_response(self.error_status(error), root, request_id)

    def root_element(self, name: str) -> ET.Element:
        namespace = self.namespace
        return ET.Element(name, xmlns=namespace) if namespace else ET.Element(name)

    def write_error_fields(self, parent: ET.Element, error: AwsError) -> None:
        shape = self.error_shape(error.code)
        if shape is None or not error.fields:
            return
        fields = {
            name: value
            for name, value in error.fields.items()
            if name in shape.members and name.lower() != "message"
        }
        self.write_members(parent, shape, fields)

    def xml_response(self, status: int, root: ET.Element, request_id: str) -> Response:
        body = ET.tostring(root, encoding="unicode").encode("utf-8")
        headers = {"Content-Type": XML_CONTENT_TYPE, "x-amzn-RequestId": request_id}
        return Response(status, body, headers)

    def write_members(self, parent: ET.Element, shape: StructureShape, value: Any) -> None:
        if not hasattr(value, "get"):
            raise TypeError(f"{shape.name} must be a mapping, got {type(value).__name__}")
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None:
                continue
            if member.serialization.get("xmlAttribute"):
                parent.set(member.serialization.get("name", name), self.scalar_text(member, item))
                continue
            self.write(parent, member, item, self.element_name(member, name))

    def element_name(self, member: Shape, name: str) -> str:
        if member.type_name == "list" and member.serialization.get("flattened"):
            assert isinstance(member, ListShape)
            item_name = member.member.serialization.get("name")
            if item_name:
                return str(item_name)
        return str(member.serialization.get("name", name))

    def write(self, parent: ET.Element, shape: Shape, value: Any, name: str) -> None:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            self.write_members(ET.SubElement(parent, name), shape, value)
        elif kind == "list":
            assert isinstance(shape, ListShape)
            self.write_list(parent, shape, value, name)
        elif kind == "map":
            assert isinstance(shape, MapShape)
            self.write_map(parent, shape, value, name)
        else:
            ET.SubElement(parent, name).text = self.scalar_text(shape, value)

    def write_list(self, parent: ET.Element, shape: ListShape, value: Any, name: str) -> None:
        if shape.serialization.get("flattened"):
            for item in value:
                if item is not None:
                    self.write(parent, shape.member, item, name)
            return
        container = ET.SubElement(parent, name)
        item_name = str(shape.member.serialization.get("name", "member"))
        for item in value:
            if item is not None:
                self.write(container, shape.member, item, item_name)

    def write_map(self, parent: ET.Element, shape: MapShape, value: Any, name: str) -> None:
        flattened = bool(shape.serialization.get("flattened"))
        container = parent if flattened else ET.SubElement(parent, name)
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        for key, item in value.items():
            if item is None:
                continue
            entry = ET.SubElement(container, name if flattened else "entry")
            ET.SubElement(entry, key_name).text = _clean(str(key))
            self.write(entry, shape.value, item, value_name)

    def scalar_text(self, shape: Shape, value: Any) -> str:
        kind = shape.type_name
        if kind == "timestamp":
            fmt = shape.serialization.get("timestampFormat", values.ISO8601)
            return str(values.format_timestamp(value, fmt))
        if kind == "boolean":
            return values.bool_to_text(value)
        if kind == "blob":
            return values.encode_blob(value)
        if kind in ("integer", "long"):
            return str(int(value))
        if kind in ("float", "double"):
            return values.float_to_text(value)
        return _clean(str(value))


def _prefixes(params: dict[str, str]) -> set[str]:
    """Every dotted prefix of every parameter name: `A.B.1` gives `A`, `A.B`, `A.B.1`."""
    found: set[str] = set()
    for key in params:
        parts = key.split(".")
        for end in range(1, len(parts) + 1):
            found.add(".".join(parts[:end]))
    return found


def _from_text(shape: Shape, text: str, path: str, name: str) -> Any:
    kind = shape.type_name
    try:
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
    except ValueError as error:
        raise InvalidInput([Violation(path, text, str(error), name)]) from None
    return text


def _clean(text: str) -> str:
    """Characters XML 1.0 cannot carry at all would make the client's parser fail."""
    return _INVALID_XML_CHARS.sub("\ufffd", text)
