"""Content negotiation: what a request body is, and what the client wants back.

Bodies come as JSON, YAML, or one of the three patch types plus apply YAML. Responses
are JSON or YAML, optionally transformed as upstream does on request through the Accept
header's parameters: `as=Table` (server-side printing for kubectl get),
`as=PartialObjectMetadata(List)` (metadata-only clients such as the garbage collector)
and aggregated discovery (`as=APIGroupDiscoveryList`). Protobuf is not offered; clients
that also accept JSON get JSON, as they would from any server without protobuf support.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from openeks.kube.api import errors, protobuf

JSON = "application/json"
YAML = "application/yaml"
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply-cbor",
}


@dataclass(frozen=True)
class Output:
    media_type: str = JSON
    as_kind: str = ""
    """'' (the object itself), 'Table', 'PartialObjectMetadata', 'PartialObjectMetadataList',
    or 'APIGroupDiscoveryList'."""
    version: str = ""
    """The requested version of the transformed kind (v1, v1beta1, v2, v2beta1)."""
    include_object: str = "Metadata"

    @property
    def content_type(self) -> str:
        if self.as_kind == "APIGroupDiscoveryList":
            return f"{JSON};g=apidiscovery.k8s.io;v={self.version};as=APIGroupDiscoveryList"
        if self.as_kind:
            return f"{self.media_type};as={self.as_kind};v={self.version};g=meta.k8s.io"
        return self.media_type


def _parse_accept(accept: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for clause in accept.split(","):
        pieces = [p.strip() for p in clause.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        params: dict[str, str] = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip().lower()] = value.strip()
        out.append((media, params))
    return out


_TRANSFORMS = {
    ("Table", "meta.k8s.io"): ("v1", "v1beta1"),
    ("PartialObjectMetadata", "meta.k8s.io"): ("v1", "v1beta1"),
    ("PartialObjectMetadataList", "meta.k8s.io"): ("v1", "v1beta1"),
    ("APIGroupDiscoveryList", "apidiscovery.k8s.io"): ("v2", "v2beta1"),
}


def negotiate(accept: str | None, *, allowed: tuple[str, ...] = ("",)) -> Output:
    """Pick the first Accept clause we can serve; `allowed` lists acceptable `as=` kinds."""
    if not accept:
        return Output()
    for media, params in _parse_accept(accept):
        if media in ("*/*", "application/*", JSON, "application/json;stream=watch"):
            media = JSON
        elif media in (YAML, "application/x-yaml", "text/yaml"):
            media = YAML
        else:
            continue
        as_kind = params.get("as", "")
        if as_kind:
            versions = _TRANSFORMS.get((as_kind, params.get("g", "")))
            if versions is None or params.get("v") not in versions or as_kind not in allowed:
                continue
            return Output(media, as_kind, params["v"])
        if "" in allowed:
            return Output(media)
    raise errors.not_acceptable()


def encode(value: Any, output: Output) -> bytes:
    if output.media_type == YAML:
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True).encode()
    return orjson.dumps(value)


def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_body(body: bytes, content_type: str | None) -> Any:
    """Decode a request body by its Content-Type; 415 for types we do not read."""
    media = media_type_of(content_type)
    if media in (
        "",
        JSON,
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ):
        return _json(body)
    if media in (YAML, "application/apply-patch+yaml", "application/x-yaml", "text/yaml"):
        return _yaml(body)
    if media == protobuf.MEDIA_TYPE:
        try:
            return protobuf.decode(body)
        except protobuf.ProtobufError as e:
            raise errors.bad_request(f"error decoding protobuf: {e}") from None
    raise errors.unsupported_media_type(
        [
            JSON,
            YAML,
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ]
    )


def _json(body: bytes) -> Any:
    if not body.strip():
        raise errors.bad_request("the body of the request is empty")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise errors.bad_request(f"error decoding JSON: {e}") from None


def _yaml(body: bytes) -> Any:
    if not body.strip():
        raise errors.bad_request("the body of the request is empty")
    try:
        value = yaml.safe_load(body)
    except yaml.YAMLError as e:
        raise errors.bad_request(f"error converting YAML to JSON: {e}") from None
    return _plain(value)


def _plain(value: Any) -> Any:
    """YAML gives dates and non-string keys; make it JSON-shaped."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
