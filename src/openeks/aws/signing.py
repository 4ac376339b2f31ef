"""The pure arithmetic of Signature Version 4: canonical request, string to sign, key.

This follows AWS (and botocore, whose signatures the tests verify): the path as
received (already percent-encoded) is dot-segment- and slash-normalised and encoded
once more (every service but S3 double-encodes); the query string is decoded pair by
pair byte-exactly, re-encoded with RFC 3986 unreserved characters only and sorted
(without `X-Amz-Signature` for presigned URLs); each signed header's values are
whitespace-collapsed and repeats joined with ','. `sigv4` decides what to feed in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from openeks.aws.wire import Request

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"


@dataclass(frozen=True)
class Scope:
    date: str
    region: str
    service: str

    def __str__(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"


def canonical_request(
    request: Request, signed_headers: tuple[str, ...], payload_hash: str, *, presigned: bool
) -> str:
    return "\n".join(
        [
            request.method.upper(),
            canonical_uri(request.path),
            canonical_query(request.query, drop=("X-Amz-Signature",) if presigned else ()),
            canonical_headers(request, signed_headers) + "\n",
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def canonical_uri(path: str) -> str:
    """The received (percent-encoded) path, normalised, encoded once more."""
    return quote(_normalize_path(path), safe="/~")


def _normalize_path(path: str) -> str:
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normalized = ("/" if path.startswith("/") else "") + "/".join(segments)
    if path.endswith("/") and segments:
        normalized += "/"
    return normalized or "/"


def canonical_query(query: str, drop: Collection[str] = ()) -> str:
    """Pairs decoded byte-exactly, re-encoded with only unreserved characters, sorted."""
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key = quote(unquote_to_bytes(raw_key), safe="-_.~")
        if key in drop:
            continue
        pairs.append((key, quote(unquote_to_bytes(raw_value), safe="-_.~")))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def canonical_headers(request: Request, names: tuple[str, ...]) -> str:
    lines = []
    for name in names:
        values = (" ".join(value.split()) for value in request.header_values(name))
        lines.append(f"{name}:{','.join(values)}")
    return "\n".join(lines)


def string_to_sign(amz_date: str, scope: Scope, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "\n".join([ALGORITHM, amz_date, str(scope), digest])


def signature(secret_access_key: str, scope: Scope, to_sign: str) -> str:
    key = _hmac(f"AWS4{secret_access_key}".encode(), scope.date)
    for part in (scope.region, scope.service, TERMINATOR):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
