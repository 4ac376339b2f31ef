"""Verification of AWS Signature Version 4, the way AWS services check it.

A request is signed either in its `Authorization` header
(`AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/eks/aws4_request,
SignedHeaders=host;x-amz-date, Signature=...`) or in its query string (a presigned URL:
`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
`X-Amz-SignedHeaders`, `X-Amz-Signature`, optional `X-Amz-Security-Token`). Both are
checked the same way, in two steps so that the credential lookup can be asynchronous:

1. `parse_auth(request)` reads what the client claims (key id, scope, signed headers,
   date, signature) without any secret; `None` means the request is not signed at all.
2. `check(request, auth, credential, now=...)` recomputes the signature with the
   secret the caller looked up and compares in constant time.

`verify()` and `verify_presigned()` (what `aws eks get-token` tokens need) do both.

The canonical request is built by `signing` exactly as AWS and botocore build it; the
payload hash is SHA-256 of the body, or the `x-amz-content-sha256` value (which must
match the body unless it is `UNSIGNED-PAYLOAD`).

The request date must be within 15 minutes of the server's clock. Like STS (and unlike
S3), a presigned URL is valid for those 15 minutes from `X-Amz-Date` whatever its
`X-Amz-Expires` says: `aws eks get-token` presigns with `X-Amz-Expires=60` but kubectl
caches the token for 14 minutes, and real STS accepts it.

Failures are `SigV4Error(problem, message)`; `errors.auth_error` names them per protocol.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from openeks.aws.errors import (
    EXPIRED_TOKEN_MESSAGE,
    INVALID_TOKEN_MESSAGE,
    SIGNATURE_MISMATCH_MESSAGE,
    AuthProblem,
)
from openeks.aws.identity import Credential, Lookup, Principal
from openeks.aws.signing import (
    ALGORITHM,
    TERMINATOR,
    Scope,
    canonical_request,
    signature,
    string_to_sign,
)
from openeks.aws.wire import HeaderInput, Request

__all__ = [
    "MAX_SKEW",
    "AuthParams",
    "Credential",
    "Lookup",
    "Principal",
    "Scope",
    "SigV4Error",
    "Verified",
    "check",
    "parse_auth",
    "verify",
    "verify_presigned",
]

AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_SKEW = timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 604800
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)


@dataclass(frozen=True)
class AuthParams:
    """What a signed request claims, read without any secret."""

    access_key_id: str
    scope: Scope
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    timestamp: datetime
    session_token: str | None
    presigned: bool


@dataclass(frozen=True)
class Verified:
    principal: Principal
    scope: Scope
    presigned: bool


class SigV4Error(Exception):
    def __init__(self, problem: AuthProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


def _incomplete(message: str) -> SigV4Error:
    return SigV4Error(AuthProblem.INCOMPLETE, message)


def _mismatch(message: str) -> SigV4Error:
    return SigV4Error(AuthProblem.MISMATCH, message)


# Step 1: read the claims.


def parse_auth(request: Request) -> AuthParams | None:
    """The signature claims of `request`, or None when it carries no signature at all."""
    header = request.header("authorization")
    if header is not None:
        return _from_header(request, header)
    names = {name for name, _ in request.query_pairs}
    if "X-Amz-Algorithm" in names or "X-Amz-Signature" in names or "X-Amz-Credential" in names:
        return _from_query(request)
    return None


def _from_header(request: Request, header: str) -> AuthParams:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _incomplete(f"Unsupported AWS 'algorithm': '{algorithm}'")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise _incomplete(
                f"Invalid key=value pair (missing equal-sign) in Authorization header: "
                f"'{part.strip()}'"
            )
        fields[key] = value
    amz_date = request.header("x-amz-date")
    http_date = request.header("date")
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if amz_date is None and http_date is None:
        missing.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if missing:
        raise _incomplete(" ".join(missing) + f" Authorization={header}")
    access_key_id, scope = _parse_credential(fields["Credential"])
    timestamp, amz_date = _parse_date(amz_date, http_date)
    return AuthParams(
        access_key_id=access_key_id,
        scope=scope,
        signed_headers=_parse_signed_headers(fields["SignedHeaders"]),
        signature=fields["Signature"],
        amz_date=amz_date,
        timestamp=timestamp,
        session_token=request.header("x-amz-security-token"),
        presigned=False,
    )


def _from_query(request: Request) -> AuthParams:
    params: dict[str, str] = {}
    for name, value in request.query_pairs:
        params.setdefault(name, value)
    if any(not params.get(name) for name in _PRESIGN_PARAMS):
        quoted = ", ".join(f"'{name}'" for name in _PRESIGN_PARAMS[:-1])
        raise _incomplete(
            f"AWS query-string parameters must include {quoted}, and 'X-Amz-Expires'. "
            "Re-examine the query-string parameters."
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise _incomplete(f"Unsupported AWS 'algorithm': '{params['X-Amz-Algorithm']}'")
    _parse_expires(params["X-Amz-Expires"])
    access_key_id, scope = _parse_credential(params["X-Amz-Credential"])
    timestamp, amz_date = _parse_date(params["X-Amz-Date"], None)
    return AuthParams(
        access_key_id=access_key_id,
        scope=scope,
        signed_headers=_parse_signed_headers(params["X-Amz-SignedHeaders"]),
        signature=params["X-Amz-Signature"],
        amz_date=amz_date,
        timestamp=timestamp,
        session_token=params.get("X-Amz-Security-Token"),
        presigned=True,
    )


def _parse_credential(value: str) -> tuple[str, Scope]:
    parts = value.split("/")
    if len(parts) != 5:
        raise _incomplete(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{value}'"
        )
    access_key_id, date, region, service, terminator = parts
    if terminator != TERMINATOR:
        raise _mismatch(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'."
        )
    return access_key_id, Scope(date, region, service)


def _parse_signed_headers(value: str) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in value.split(";") if name.strip())
    if "host" not in names:
        raise _incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    return names


def _parse_date(amz_date: str | None, http_date: str | None) -> tuple[datetime, str]:
    if amz_date is not None:
        try:
            parsed = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise _incomplete(
                f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
                "See http://en.wikipedia.org/wiki/ISO_8601"
            ) from None
        return parsed, amz_date
    try:
        parsed = parsedate_to_datetime(http_date or "").astimezone(UTC)
    except (TypeError, ValueError):
        raise _incomplete(f"Date must be in RFC 1123 format. Got '{http_date}'.") from None
    return parsed, parsed.strftime(AMZ_DATE_FORMAT)


def _parse_expires(value: str) -> int:
    try:
        expires = int(value)
    except ValueError:
        raise _incomplete(f"X-Amz-Expires should be a number, got '{value}'.") from None
    if expires < 0:
        raise _incomplete("X-Amz-Expires must be non-negative")
    if expires > MAX_PRESIGN_EXPIRES:
        raise _incomplete(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}"
        )
    return expires


# Step 2: check the claims against the secret.


def check(
    request: Request,
    auth: AuthParams,
    credential: Credential | None,
    *,
    now: datetime,
    regions: Collection[str] = (),
    service: str | None = None,
    max_skew: timedelta = MAX_SKEW,
) -> Verified:
    """Verify `auth` (from `parse_auth(request)`) with `credential` (looked up by key id).

    `regions` (empty: any) and `service` (None: any) restrict the credential scope.
    """
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    if credential is None:
        raise SigV4Error(AuthProblem.UNKNOWN_KEY, INVALID_TOKEN_MESSAGE)
    _check_token(auth, credential, now)
    _check_time(auth.timestamp, now, max_skew)
    _check_scope(auth, regions, service)
    canonical = canonical_request(
        request, auth.signed_headers, _payload_hash(request, auth), presigned=auth.presigned
    )
    to_sign = string_to_sign(auth.amz_date, auth.scope, canonical)
    expected = signature(credential.secret_access_key, auth.scope, to_sign)
    if not hmac.compare_digest(expected.encode(), auth.signature.encode()):
        raise _mismatch(
            f"{SIGNATURE_MISMATCH_MESSAGE}\n\n"
            f"The Canonical String for this request should have been\n'{canonical}'\n\n"
            f"The String-to-Sign should have been\n'{to_sign}'\n"
        )
    principal = Principal(
        access_key_id=credential.access_key_id,
        account_id=credential.account_id,
        arn=credential.arn,
        user_id=credential.user_id,
        temporary=credential.session_token is not None,
    )
    return Verified(principal, auth.scope, auth.presigned)


def _check_token(auth: AuthParams, credential: Credential, now: datetime) -> None:
    expected = credential.session_token
    given = auth.session_token
    if expected is None and given is None:
        return
    if (
        expected is None
        or given is None
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        raise SigV4Error(AuthProblem.INVALID_TOKEN, INVALID_TOKEN_MESSAGE)
    expiration = credential.expiration
    if expiration is not None and now >= _aware(expiration):
        raise SigV4Error(AuthProblem.EXPIRED_TOKEN, EXPIRED_TOKEN_MESSAGE)


def _check_time(timestamp: datetime, now: datetime, max_skew: timedelta) -> None:
    minutes = int(max_skew.total_seconds() // 60)
    if timestamp < now - max_skew:
        raise SigV4Error(
            AuthProblem.EXPIRED,
            f"Signature expired: {_fmt(timestamp)} is now earlier than "
            f"{_fmt(now - max_skew)} ({_fmt(now)} - {minutes} min.)",
        )
    if timestamp > now + max_skew:
        raise SigV4Error(
            AuthProblem.EXPIRED,
            f"Signature not yet current: {_fmt(timestamp)} is still later than "
            f"{_fmt(now + max_skew)} ({_fmt(now)} + {minutes} min.)",
        )


def _check_scope(auth: AuthParams, regions: Collection[str], service: str | None) -> None:
    scope = auth.scope
    if scope.date != auth.amz_date[:8]:
        raise _mismatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope.date}' != '{auth.amz_date[:8]}', from '{auth.amz_date}'."
        )
    if regions and scope.region not in regions:
        raise _mismatch(f"Credential should be scoped to a valid region, not '{scope.region}'. ")
    if service is not None and scope.service != service:
        raise _mismatch(f"Credential should be scoped to correct service: '{service}'. ")


def _payload_hash(request: Request, auth: AuthParams) -> str:
    declared = request.header("x-amz-content-sha256")
    if declared is None and auth.presigned:
        declared = dict(request.query_pairs).get("X-Amz-Content-Sha256")
    actual = hashlib.sha256(request.body).hexdigest()
    if declared is None or declared == UNSIGNED_PAYLOAD:
        return declared or actual
    if declared != actual:
        raise _mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    return declared


# Both steps at once.


def verify(
    request: Request,
    lookup: Lookup,
    *,
    now: datetime,
    regions: Collection[str] = (),
    service: str | None = None,
    max_skew: timedelta = MAX_SKEW,
) -> Verified:
    """Authenticate `request` (header-signed or presigned) with a synchronous `lookup`."""
    auth = parse_auth(request)
    if auth is None:
        raise SigV4Error(AuthProblem.MISSING, "Request is missing Authentication Token")
    credential = lookup(auth.access_key_id)
    return check(
        request, auth, credential, now=now, regions=regions, service=service, max_skew=max_skew
    )


def verify_presigned(
    url: str,
    headers: HeaderInput,
    lookup: Lookup,
    now: datetime,
    *,
    method: str = "GET",
    body: bytes = b"",
    regions: Collection[str] = (),
    service: str | None = "sts",
    max_skew: timedelta = MAX_SKEW,
) -> Verified:
    """Authenticate a presigned URL sent with `headers` (Host defaults to the URL's).

    This is how an `aws eks get-token` token (a presigned STS GetCallerIdentity URL,
    signed with the `x-k8s-aws-id` header) is checked without calling STS over HTTP.
    """
    request = Request.from_url(method, url, headers, body)
    auth = parse_auth(request)
    if auth is None or not auth.presigned:
        raise SigV4Error(AuthProblem.MISSING, "The URL is not presigned")
    credential = lookup(auth.access_key_id)
    return check(
        request, auth, credential, now=now, regions=regions, service=service, max_skew=max_skew
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _fmt(value: datetime) -> str:
    return value.astimezone(UTC).strftime(AMZ_DATE_FORMAT)
