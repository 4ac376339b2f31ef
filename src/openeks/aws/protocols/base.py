"""What every wire protocol does, and the parts they share.

A `WireProtocol` is built from one service's botocore model and turns a `wire.Request`
into `(operation, params)` and a backend result or an `AwsError` back into a
`wire.Response`, byte-compatible with what botocore's own response parsers expect.
The three AWS families served here differ in routing (path templates vs. `Action`),
in input encoding (JSON + URI/query/header bindings vs. flattened form fields) and in
output encoding (JSON vs. two XML dialects), so each is a subclass; the error status
lookup, the validation-error naming and the request-id plumbing live here.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.model import OperationModel, ServiceModel, StructureShape

from openeks.aws.errors import AwsError
from openeks.aws.protocols.validation import Violation, describe
from openeks.aws.wire import Request, Response

# The validation error code each service answers with, where it is not the protocol's.
SERVICE_VALIDATION_CODES = {"eks": "InvalidParameterException"}


@dataclass(frozen=True)
class Call:
    """A decoded request: which operation, with which (not yet validated) input."""

    operation: OperationModel
    params: dict[str, Any]


class WireProtocol(abc.ABC):
    """One service's protocol: decode requests, encode results and errors."""

    family: ClassVar[str]
    """How auth failures are named: "json", "query" or "ec2" (see errors.auth_error)."""
    validation_code: ClassVar[str]

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.service_name = model.service_name

    @abc.abstractmethod
    def claims(self, request: Request) -> bool:
        """Whether an unsigned request looks addressed to this service."""

    @abc.abstractmethod
    def decode(self, request: Request) -> Call:
        """The operation and its input; raises `AwsError` (unknown operation, unreadable
        body) or `validation.InvalidInput` (values of the wrong type)."""

    @abc.abstractmethod
    def encode(self, operation: OperationModel, result: Any, request_id: str) -> Response:
        """The operation's output (a dict shaped like what boto3 returns)."""

    @abc.abstractmethod
    def encode_error(self, error: AwsError, request_id: str) -> Response: ...

    def validation_error(self, violations: list[Violation]) -> AwsError:
        code = SERVICE_VALIDATION_CODES.get(self.service_name, self.validation_code)
        return AwsError(describe(violations), code=code, status=400)

    def error_status(self, error: AwsError) -> int:
        """The error's own status, else the modeled one, else 400 (sender) or 500."""
        if error.status is not None:
            return error.status
        shape = self.error_shape(error.code)
        if shape is not None:
            status = shape.metadata.get("error", {}).get("httpStatusCode")
            if status:
                return int(status)
        return 400 if error.sender_fault else 500

    def error_shape(self, code: str) -> StructureShape | None:
        shape = self.model.shape_for_error_code(code)
        return shape if isinstance(shape, StructureShape) else None
