"""Every failure the AWS edge reports to a client, and how auth failures are named.

An `AwsError` is the one exception type that crosses from a service backend (or from
the edge itself) to the wire: it carries the AWS error `code` the SDKs match on
(`botocore.exceptions.ClientError.response["Error"]["Code"]`), the human `message`,
the HTTP `status`, whether the caller is at fault, and optional modeled `fields`
(EKS's `ResourceNotFoundException` also carries `clusterName`, ...). Each protocol
module renders it once, in its own shape (JSON + `x-amzn-ErrorType`, `<ErrorResponse>`,
EC2's `<Response><Errors>`). The classes below only fix a code and a status, like
moto's exception classes, so backends can `raise ResourceNotFoundException("...")`.

`status=None` means "whatever the service model says": a code modeled as an exception
shape carries its `httpStatusCode`; unmodeled codes default to 400 (sender) or 500.

Authentication failures are named differently by each protocol family (the same wrong
secret is `SignatureDoesNotMatch` for IAM/STS, `InvalidSignatureException` for EKS and
`AuthFailure` for EC2), so `sigv4` reports an `AuthProblem` and `auth_error()` turns it
into the code, status and wording the real service family uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar


class AwsError(Exception):
    """An error in AWS's terms; subclasses only pin `CODE`, `STATUS` and `SENDER_FAULT`."""

    CODE: ClassVar[str] = ""
    STATUS: ClassVar[int | None] = None
    SENDER_FAULT: ClassVar[bool] = True

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        sender_fault: bool | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.CODE or type(self).__name__
        self.status = status if status is not None else self.STATUS
        self.sender_fault = self.SENDER_FAULT if sender_fault is None else sender_fault
        self.fields: dict[str, Any] = dict(fields or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


# Service errors that several services share by name.


class InvalidParameterException(AwsError):
    STATUS = 400


class InvalidRequestException(AwsError):
    STATUS = 400


class ResourceNotFoundException(AwsError):
    STATUS = 404


class ResourceInUseException(AwsError):
    STATUS = 409


class ResourceLimitExceededException(AwsError):
    STATUS = 400


class ValidationError(AwsError):
    """The query protocol's (IAM, STS, CloudFormation) input validation failure."""

    STATUS = 400


class ValidationException(AwsError):
    """The JSON protocols' generic input validation failure."""

    STATUS = 400


class SerializationException(AwsError):
    """A JSON body that cannot be read at all (not JSON, wrong type at the top)."""

    STATUS = 400


class AccessDenied(AwsError):
    STATUS = 403


class AccessDeniedException(AwsError):
    STATUS = 403


class UnknownOperationException(AwsError):
    """No operation of a rest-json service matches the method and path."""

    STATUS = 404


class InvalidAction(AwsError):
    """The query protocol's unknown `Action`."""

    STATUS = 400


class MissingAction(AwsError):
    STATUS = 400


class NotImplementedYet(AwsError):
    """An operation the model has but this backend does not implement."""

    CODE = "NotImplemented"
    STATUS = 501
    SENDER_FAULT = False


class InternalFailure(AwsError):
    """Only for our own bugs: an exception that was not an `AwsError`."""

    STATUS = 500
    SENDER_FAULT = False


# Authentication errors, by the names the services use.


class MissingAuthenticationToken(AwsError):
    STATUS = 403


class MissingAuthenticationTokenException(AwsError):
    STATUS = 403


class IncompleteSignature(AwsError):
    STATUS = 400


class IncompleteSignatureException(AwsError):
    STATUS = 403


class InvalidClientTokenId(AwsError):
    STATUS = 403


class UnrecognizedClientException(AwsError):
    STATUS = 403


class SignatureDoesNotMatch(AwsError):
    STATUS = 403


class InvalidSignatureException(AwsError):
    STATUS = 403


class ExpiredToken(AwsError):
    STATUS = 403


class ExpiredTokenException(AwsError):
    STATUS = 403


class AuthFailure(AwsError):
    STATUS = 401


class RequestExpired(AwsError):
    STATUS = 400


class AuthProblem(Enum):
    """What went wrong while authenticating, independent of any protocol's naming."""

    MISSING = "missing"  # no Authorization header and no presigned query
    INCOMPLETE = "incomplete"  # an Authorization header or presigned query we cannot read
    UNKNOWN_KEY = "unknown_key"  # the access key id is not known
    INVALID_TOKEN = "invalid_token"  # session token wrong, missing or unexpected
    EXPIRED_TOKEN = "expired_token"  # temporary credentials past their expiry
    MISMATCH = "mismatch"  # the signature (or its scope) is wrong
    EXPIRED = "expired"  # the request's date is outside the allowed window


SIGNATURE_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"
MISSING_TOKEN_MESSAGE = "Request is missing Authentication Token"
EC2_AUTH_FAILURE_MESSAGE = "AWS was not able to validate the provided access credentials"

# family -> problem -> (error class, message override or None to keep sigv4's wording)
_AUTH_ERRORS: dict[str, dict[AuthProblem, tuple[type[AwsError], str | None]]] = {
    "query": {
        AuthProblem.MISSING: (MissingAuthenticationToken, MISSING_TOKEN_MESSAGE),
        AuthProblem.INCOMPLETE: (IncompleteSignature, None),
        AuthProblem.UNKNOWN_KEY: (InvalidClientTokenId, INVALID_TOKEN_MESSAGE),
        AuthProblem.INVALID_TOKEN: (InvalidClientTokenId, INVALID_TOKEN_MESSAGE),
        AuthProblem.EXPIRED_TOKEN: (ExpiredToken, EXPIRED_TOKEN_MESSAGE),
        AuthProblem.MISMATCH: (SignatureDoesNotMatch, None),
        AuthProblem.EXPIRED: (SignatureDoesNotMatch, None),
    },
    "json": {
        AuthProblem.MISSING: (MissingAuthenticationTokenException, "Missing Authentication Token"),
        AuthProblem.INCOMPLETE: (IncompleteSignatureException, None),
        AuthProblem.UNKNOWN_KEY: (UnrecognizedClientException, INVALID_TOKEN_MESSAGE),
        AuthProblem.INVALID_TOKEN: (UnrecognizedClientException, INVALID_TOKEN_MESSAGE),
        AuthProblem.EXPIRED_TOKEN: (ExpiredTokenException, EXPIRED_TOKEN_MESSAGE),
        AuthProblem.MISMATCH: (InvalidSignatureException, None),
        AuthProblem.EXPIRED: (InvalidSignatureException, None),
    },
    "ec2": {
        AuthProblem.MISSING: (MissingAuthenticationToken, MISSING_TOKEN_MESSAGE),
        AuthProblem.INCOMPLETE: (IncompleteSignature, None),
        AuthProblem.UNKNOWN_KEY: (AuthFailure, EC2_AUTH_FAILURE_MESSAGE),
        AuthProblem.INVALID_TOKEN: (AuthFailure, EC2_AUTH_FAILURE_MESSAGE),
        AuthProblem.EXPIRED_TOKEN: (RequestExpired, "Request has expired."),
        AuthProblem.MISMATCH: (AuthFailure, EC2_AUTH_FAILURE_MESSAGE),
        AuthProblem.EXPIRED: (RequestExpired, "Request has expired."),
    },
}


def auth_error(problem: AuthProblem, message: str, family: str) -> AwsError:
    """The error a service of `family` ("query", "json" or "ec2") answers for `problem`."""
    cls, override = _AUTH_ERRORS[family][problem]
    return cls(override if override is not None else message)
