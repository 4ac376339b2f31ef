"""The HTTP request and response as the AWS edge sees them, free of any web framework.

`sigv4` needs the request exactly as it travelled (the percent-encoded path and query
string, every header value including repeats, the body bytes) and the protocol modules
need decoded views of the same (query parameters, form fields, one header). Keeping
both in one small immutable value lets `server.py` be the only module that knows
aiohttp, and lets tests build requests from a URL without a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import parse_qsl, urlsplit

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]]


def header_pairs(headers: HeaderInput) -> tuple[tuple[str, str], ...]:
    """Headers as (name, value) pairs, keeping repeats (a multidict's `items()` does)."""
    items: Iterable[tuple[str, str]]
    if isinstance(headers, Mapping):
        items = headers.items()
    else:
        items = headers
    return tuple((str(name), str(value)) for name, value in items)


@dataclass(frozen=True)
class Request:
    """One HTTP request: raw path and query as sent, headers with repeats, body bytes."""

    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    remote: str = ""

    @classmethod
    def from_url(
        cls,
        method: str,
        url: str,
        headers: HeaderInput = (),
        body: bytes = b"",
    ) -> Request:
        """A request for `url`; adds the Host header from the URL when it is missing."""
        parts = urlsplit(url)
        pairs = header_pairs(headers)
        if parts.netloc and not any(name.lower() == "host" for name, _ in pairs):
            pairs = (("Host", _host_of(parts.scheme, parts.netloc)), *pairs)
        return cls(method.upper(), parts.path or "/", parts.query, pairs, body)

    def header(self, name: str) -> str | None:
        """The header's value, repeats joined with ',' as HTTP allows; None when absent."""
        values = self.header_values(name)
        return ",".join(values) if values else None

    def header_values(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    @cached_property
    def query_pairs(self) -> list[tuple[str, str]]:
        """The query string decoded into (name, value) pairs, in order, blanks kept."""
        return parse_qsl(self.query, keep_blank_values=True)

    @cached_property
    def form_pairs(self) -> list[tuple[str, str]]:
        """The body decoded as an HTML form when it is one (the query protocol's POST)."""
        content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != FORM_CONTENT_TYPE or not self.body:
            return []
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return []
        return parse_qsl(text, keep_blank_values=True)

    @cached_property
    def params(self) -> dict[str, str]:
        """Query string and form fields in one mapping (form wins), as the query protocol
        reads them; the first occurrence of a repeated name counts."""
        merged: dict[str, str] = {}
        for name, value in self.query_pairs:
            merged.setdefault(name, value)
        form: dict[str, str] = {}
        for name, value in self.form_pairs:
            form.setdefault(name, value)
        merged.update(form)
        return merged

    def query_values(self, name: str) -> list[str]:
        return [value for key, value in self.query_pairs if key == name]


@dataclass
class Response:
    """What a protocol module produced; `server.py` writes it out unchanged."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _host_of(scheme: str, netloc: str) -> str:
    """The Host header botocore signs: no userinfo, no default port, lowercase."""
    host = netloc.rsplit("@", 1)[-1].lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return host
