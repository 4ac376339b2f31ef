"""EC2's own variant of the query protocol.

Requests differ from the query protocol only in naming: a member is sent under its
`queryName`, else its `locationName` capitalised (`dryRun` → `DryRun`), and every list
is `Name.N` (never `.member.N`, never `Name=` for an empty list) — what botocore's
`EC2Serializer` writes, e.g. `Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-123`.

Responses have no `Result` wrapper: `<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/
doc/2016-11-15/"><requestId>..</requestId><vpcSet><item>..</item></vpcSet>` using the
model's lower-camel `locationName`s (list items are `<item>`) and millisecond ISO 8601
timestamps. Errors are `<Response><Errors><Error><Code/><Message/></Error></Errors>
<RequestID/></Response>`; a missing required parameter is `MissingParameter`, other bad
values `InvalidParameterValue`, as EC2 answers.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from botocore.model import ListShape, OperationModel, Shape, StructureShape

from openeks.aws.errors import AwsError
from openeks.aws.protocols import values
from openeks.aws.protocols.query import QueryProtocol
from openeks.aws.protocols.validation import NOT_NULL, Violation, describe
from openeks.aws.wire import Response

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class Ec2Protocol(QueryProtocol):
    family = "ec2"
    validation_code = "InvalidParameterValue"

    @property
    def namespace(self) -> str:
        namespace = str(self.model.metadata.get("xmlNamespace", ""))
        return namespace if not namespace or namespace.endswith("/") else namespace + "/"

    def member_key(self, member: Shape, name: str) -> str:
        if "queryName" in member.serialization:
            return str(member.serialization["queryName"])
        location_name = member.serialization.get("name")
        if location_name:
            return str(location_name[0].upper() + location_name[1:])
        return name

    def list_item_prefix(self, shape: ListShape, prefix: str) -> str:
        return prefix

    def validation_error(self, violations: list[Violation]) -> AwsError:
        missing = [violation for violation in violations if violation.constraint == NOT_NULL]
        if missing:
            return AwsError(
                f"The request must contain the parameter {missing[0].member}",
                code="MissingParameter",
                status=400,
            )
        return AwsError(describe(violations), code=self.validation_code, status=400)

    def encode(self, operation: OperationModel, result: Any, request_id: str) -> Response:
        root = self.root_element(f"{operation.name}Response")
        ET.SubElement(root, "requestId").text = request_id
        shape = operation.output_shape
        if isinstance(shape, StructureShape):
            self.write_members(root, shape, result or {})
        return self.xml_response(200, root, request_id)

    def encode_error(self, error: AwsError, request_id: str) -> Response:
        root = ET.Element("Response")
        errors = ET.SubElement(root, "Errors")
        detail = ET.SubElement(errors, "Error")
        ET.SubElement(detail, "Code").text = error.code
        ET.SubElement(detail, "Message").text = error.message
        self.write_error_fields(detail, error)
        ET.SubElement(root, "RequestID").text = request_id
        return self.xml_response(self.error_status(error), root, request_id)

    def xml_response(self, status: int, root: ET.Element, request_id: str) -> Response:
        response = super().xml_response(status, root, request_id)
        response.body = XML_DECLARATION + response.body
        return response

    def scalar_text(self, shape: Shape, value: Any) -> str:
        if shape.type_name == "timestamp" and "timestampFormat" not in shape.serialization:
            return str(values.format_timestamp(value, values.ISO8601, millis=True))
        return super().scalar_text(shape, value)
