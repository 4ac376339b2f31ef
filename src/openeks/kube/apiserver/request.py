"""Turn a URL path and method into what it asks for, as upstream's RequestInfoFactory.

`/apis/apps/v1/namespaces/web/deployments/api/scale` with PATCH is verb "patch",
group "apps", version "v1", namespace "web", resource "deployments", name "api",
subresource "scale". Paths that are not resource requests (discovery, /version,
/openapi) come back with `resource` empty.
"""

from __future__ import annotations

from dataclasses import dataclass

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete", "GET": "get"}


@dataclass
class RequestInfo:
    verb: str
    path: str
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    prefix: str = ""
    """'api' or 'apis' for API paths, '' otherwise."""

    @property
    def is_resource(self) -> bool:
        return bool(self.resource)


def parse(method: str, path: str, query: dict[str, str]) -> RequestInfo:
    parts = [p for p in path.strip("/").split("/") if p]
    verb = _VERBS.get(method.upper(), method.lower())
    info = RequestInfo(verb=verb, path=path)
    if not parts or parts[0] not in ("api", "apis"):
        return info
    info.prefix = parts[0]
    rest = parts[1:]
    if info.prefix == "apis":
        if not rest:
            return info
        info.group, rest = rest[0], rest[1:]
    if not rest:
        return info
    info.version, rest = rest[0], rest[1:]
    if not rest:
        return info
    watch_path = False
    if rest[0] == "watch":
        watch_path, rest = True, rest[1:]
    if len(rest) >= 2 and rest[0] == "namespaces":
        if len(rest) == 2:
            # /namespaces/<name>: the namespace object itself.
            info.resource, info.name = "namespaces", rest[1]
            rest = []
        else:
            info.namespace, rest = rest[1], rest[2:]
            if not rest:
                return info
    if rest:
        info.resource = rest[0]
        if len(rest) > 1:
            info.name = rest[1]
        if len(rest) > 2:
            info.subresource = "/".join(rest[2:])
    _namespace_subresource(info)
    if verb == "get":
        if watch_path or _truthy(query.get("watch")):
            info.verb = "watch"
        elif not info.name:
            info.verb = "list"
    elif verb == "delete" and not info.name:
        info.verb = "deletecollection"
    return info


def _namespace_subresource(info: RequestInfo) -> None:
    """/api/v1/namespaces/<ns>/status first parses as resource 'status' in <ns>."""
    if (
        info.prefix == "api"
        and info.namespace
        and info.resource in ("status", "finalize")
        and not info.name
    ):
        info.subresource = info.resource
        info.resource = "namespaces"
        info.name = info.namespace
        info.namespace = ""


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")
