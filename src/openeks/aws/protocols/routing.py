"""Finding a rest-json operation from an HTTP method and path, as the model describes.

Every operation has `http.method` and an `http.requestUri` template such as
`/clusters/{name}/node-groups/{nodegroupName}`, `/{Bucket}/{Key+}` (a greedy label
that may contain '/') or `/things?list` (a literal query the request must carry).
Templates become regular expressions matched against the *encoded* path, so an encoded
'/' (`%2F`) stays inside its label; captured labels are decoded afterwards. When several
templates match, the one with the most literal characters wins (`/clusters/{name}`
before `/{anything+}`), as with the services' own routers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from botocore.model import OperationModel, ServiceModel

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    query: tuple[tuple[str, str | None], ...]
    specificity: tuple[int, int, int]

    def match(self, method: str, path: str, query: dict[str, str]) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        for name, value in self.query:
            if name not in query or (value is not None and query[name] != value):
                return None
        texts = found.groups()
        return {label: unquote(text) for label, text in zip(self.labels, texts, strict=True)}


def build_route(operation: OperationModel) -> Route:
    template = operation.http.get("requestUri", "/")
    path_template, _, query_template = template.partition("?")
    pieces: list[str] = []
    labels: list[str] = []
    literal = 0
    greedy = 0
    position = 0
    for found in _LABEL.finditer(path_template):
        text = path_template[position : found.start()]
        pieces.append(re.escape(text))
        literal += len(text)
        name = found.group(1)
        if name.endswith("+"):
            pieces.append("(.+)")
            labels.append(name[:-1])
            greedy += 1
        else:
            pieces.append("([^/]+)")
            labels.append(name)
        position = found.end()
    tail = path_template[position:]
    pieces.append(re.escape(tail))
    literal += len(tail)
    query = tuple(_query_requirement(part) for part in query_template.split("&") if part)
    return Route(
        operation=operation,
        method=operation.http.get("method", "POST").upper(),
        pattern=re.compile("".join(pieces)),
        labels=tuple(labels),
        query=query,
        specificity=(len(query), literal, -greedy),
    )


def _query_requirement(part: str) -> tuple[str, str | None]:
    """`?uploads` requires the name; `?x-id=GetObject` requires the value too."""
    name, sep, value = part.partition("=")
    return unquote(name), (unquote(value) if sep else None)


class Router:
    """All of one service's routes, most specific first."""

    def __init__(self, model: ServiceModel) -> None:
        routes = [build_route(model.operation_model(name)) for name in model.operation_names]
        self.routes = sorted(routes, key=lambda route: route.specificity, reverse=True)

    def match(
        self, method: str, path: str, query_string: str
    ) -> tuple[OperationModel, dict[str, str]] | None:
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        for route in self.routes:
            labels = route.match(method.upper(), path, query)
            if labels is not None:
                return route.operation, labels
        return None

    def path_known(self, path: str) -> bool:
        """Whether any operation (of any method) has this path, for routing unsigned
        requests to the right service."""
        return any(route.pattern.fullmatch(path) for route in self.routes)
