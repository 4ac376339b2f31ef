"""EKS-style pagination: `maxResults` (1 to 100, default 100) and an opaque `nextToken`.

A token is URL-safe base64 of a small JSON object naming the listing it belongs to and
the last key handed out, so a page boundary survives items being added or removed in
between. A token that does not decode, or that belongs to another listing, is answered
with InvalidParameterException, as EKS does for a token it did not issue.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from openeks.aws.eks import errors

T = TypeVar("T")
DEFAULT_PAGE = 100


def encode_token(listing: str, after: str) -> str:
    raw = json.dumps({"l": listing, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(listing: str, token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise errors.bad_next_token() from None
    if not isinstance(data, dict) or data.get("l") != listing or not isinstance(data.get("a"), str):
        raise errors.bad_next_token()
    return str(data["a"])


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    listing: str,
    max_results: int | None,
    token: str | None,
) -> tuple[list[T], str | None]:
    """One page of `items` (already sorted by `key`) and the token for the next, if any."""
    limit = max_results or DEFAULT_PAGE
    start = 0
    if token:
        after = decode_token(listing, token)
        start = next((i for i, item in enumerate(items) if key(item) > after), len(items))
    chunk = list(items[start : start + limit])
    more = start + limit < len(items)
    return chunk, encode_token(listing, key(chunk[-1])) if more and chunk else None
