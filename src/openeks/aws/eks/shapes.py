"""Region documents → the output dicts boto3 users read.

Documents keep timestamps as ISO-8601 strings (they are JSON) and carry private members
the API never shows (`openeks`, `policies`). The conversion walks botocore's own output
shape: members the shape does not have are dropped, timestamp members become
`datetime`s, everything else passes through. One function per shape kind keeps the
modules that answer operations free of field lists.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from openeks.aws.service import load_model

Doc = dict[str, Any]


@functools.cache
def _shape(name: str) -> Shape:
    return load_model("eks").shape_for(name)


def render(shape: Shape, value: Any) -> Any:
    """`value` trimmed to `shape`, with ISO strings turned into datetimes."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, Mapping):
            return value
        return {
            name: render(member, value[name])
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [render(shape.member, item) for item in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        return {key: render(shape.value, item) for key, item in value.items()}
    if kind == "timestamp" and isinstance(value, str):
        return datetime.datetime.fromisoformat(value)
    return value


def cluster(doc: Doc) -> Doc:
    result: Doc = render(_shape("Cluster"), doc)
    return result


def update(doc: Doc) -> Doc:
    result: Doc = render(_shape("Update"), doc)
    return result


def access_entry(doc: Doc) -> Doc:
    result: Doc = render(_shape("AccessEntry"), doc)
    return result


def associated_policy(doc: Doc) -> Doc:
    result: Doc = render(_shape("AssociatedAccessPolicy"), doc)
    return result
