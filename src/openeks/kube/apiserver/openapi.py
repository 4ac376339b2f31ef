"""`/openapi/v3`: an index and one OpenAPI 3.0 document per group-version.

Schemas come from the official definitions (`kubernetes-validate`'s JSON Schema form),
rewritten to OpenAPI 3.0 the way upstream publishes them: `$ref`s point into
`components/schemas`, nullable type lists collapse to one type, a `$ref` with sibling
keys becomes `allOf: [{$ref}]`, IntOrString is `string` with format `int-or-string`.
Paths carry the operations kubectl looks for: every PATCH names its
`x-kubernetes-group-version-kind` and declares the `fieldValidation` query parameter,
which is how kubectl decides that the server validates fields itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from openeks.kube.api.resources import ResourceInfo, Resources
from openeks.kube.api.schema import Definitions

Obj = dict[str, Any]

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_ALWAYS = [_META + n for n in ("Status", "DeleteOptions", "Patch", "WatchEvent", "APIResourceList")]
_REF = "#/components/schemas/"


def _convert(node: Any) -> Any:
    """JSON Schema (draft 2020-12 as shipped) → OpenAPI 3.0 schema object."""
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: Obj = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = _REF + value.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out[key] = types[0] if types else "object"
        elif key in ("properties", "patternProperties"):
            out[key] = {k: _convert(v) for k, v in value.items()}
        elif key in ("$schema", "$id"):
            continue
        else:
            out[key] = _convert(value)
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}]
        out.setdefault("default", {})
    if "enum" in out and "type" in out and out.get("type") == "string":
        out["enum"] = [e for e in out["enum"] if e is not None]
    return out


def _special(name: str, schema: Obj) -> Obj:
    if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
        return {
            "description": schema.get("description", ""),
            "type": "string",
            "format": "int-or-string",
        }
    if name == "io.k8s.apimachinery.pkg.apis.meta.v1.Patch":
        return {"description": schema.get("description", ""), "type": "object"}
    return _convert(schema)


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def reachable(defs: Definitions, roots: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in defs.raw]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found: set[str] = set()
        _refs(defs.raw[name], found)
        todo.extend(n for n in found if n not in seen and n in defs.raw)
    return sorted(seen)


def _param(name: str, where: str, description: str, required: bool = False) -> Obj:
    p: Obj = {
        "name": name,
        "in": where,
        "description": description,
        "schema": {"type": "string", "uniqueItems": True},
    }
    if required:
        p["required"] = True
    return p


_DRY_RUN = _param(
    "dryRun", "query", "When present, indicates that modifications should not be persisted."
)
_FIELD_MANAGER = _param(
    "fieldManager",
    "query",
    "fieldManager is a name associated with the actor or entity that is making these changes.",
)
_FIELD_VALIDATION = _param(
    "fieldValidation",
    "query",
    "fieldValidation instructs the server on how to handle objects in the request containing "
    "unknown or duplicate fields. Valid values are: Ignore, Warn (the default) and Strict.",
)
_FORCE = {
    "name": "force",
    "in": "query",
    "description": 'Force is going to "force" Apply requests.',
    "schema": {"type": "boolean", "uniqueItems": True},
}
_PRETTY = _param("pretty", "query", "If 'true', then the output is pretty printed.")
_LIST_PARAMS = [
    {"name": n, "in": "query", "description": n, "schema": {"type": t, "uniqueItems": True}}
    for n, t in (
        ("allowWatchBookmarks", "boolean"),
        ("continue", "string"),
        ("fieldSelector", "string"),
        ("labelSelector", "string"),
        ("limit", "integer"),
        ("resourceVersion", "string"),
        ("resourceVersionMatch", "string"),
        ("sendInitialEvents", "boolean"),
        ("timeoutSeconds", "integer"),
        ("watch", "boolean"),
    )
]
_PATCH_TYPES = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
]


def _content(ref: str) -> Obj:
    schema = {"$ref": _REF + ref}
    return {m: {"schema": schema} for m in ("application/json", "application/yaml")}


def _op(
    action: str,
    op_id: str,
    gvk: Obj,
    schema: str,
    params: list[Obj],
    body: str | None = None,
    patch: bool = False,
) -> Obj:
    op: Obj = {
        "description": f"{action} {gvk['kind']}",
        "operationId": op_id,
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": _content(schema)}},
        "tags": [gvk["group"] or "core"],
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    }
    if body:
        media = _PATCH_TYPES if patch else ["*/*"]
        op["requestBody"] = {
            "content": {m: {"schema": {"$ref": _REF + body}} for m in media},
            "required": True,
        }
    if action == "post":
        op["responses"]["201"] = {"description": "Created", "content": _content(schema)}
    return op


def _camel(text: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in text.replace("-", ".").split("."))


def _paths_for(info: ResourceInfo, defs: Definitions, kind_schema: str) -> Obj:
    base = f"/api/{info.version}" if not info.group else f"/apis/{info.group}/{info.version}"
    gvk = {"group": info.group, "version": info.version, "kind": info.kind}
    gv_id = (
        _camel(info.group.split(".")[0]) + info.version[:1].upper() + info.version[1:]
        if info.group
        else "CoreV1"
    )
    scope = "Namespaced" if info.namespaced else ""
    coll = (
        f"{base}/namespaces/{{namespace}}/{info.plural}"
        if info.namespaced
        else f"{base}/{info.plural}"
    )
    item = coll + "/{name}"
    list_schema = defs.name_for_kind(info.group, info.version, info.list_kind) or kind_schema
    write_params = [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION]
    path_params = [_PRETTY]
    if info.namespaced:
        path_params = [_param("namespace", "path", "object name and auth scope", True), _PRETTY]
    name_param = _param("name", "path", f"name of the {info.kind}", True)
    paths: Obj = {
        coll: {
            "get": _op("list", f"list{gv_id}{scope}{info.kind}", gvk, list_schema, _LIST_PARAMS),
            "post": _op(
                "post",
                f"create{gv_id}{scope}{info.kind}",
                gvk,
                kind_schema,
                write_params,
                kind_schema,
            ),
            "delete": _op(
                "deletecollection",
                f"deletecollection{gv_id}{scope}{info.kind}",
                gvk,
                _META + "Status",
                _LIST_PARAMS,
                _META + "DeleteOptions",
            ),
            "parameters": path_params,
        },
        item: {
            "get": _op("get", f"read{gv_id}{scope}{info.kind}", gvk, kind_schema, []),
            "put": _op(
                "put",
                f"replace{gv_id}{scope}{info.kind}",
                gvk,
                kind_schema,
                write_params,
                kind_schema,
            ),
            "patch": _op(
                "patch",
                f"patch{gv_id}{scope}{info.kind}",
                gvk,
                kind_schema,
                [*write_params, _FORCE],
                _META + "Patch",
                patch=True,
            ),
            "delete": _op(
                "delete",
                f"delete{gv_id}{scope}{info.kind}",
                gvk,
                _META + "Status",
                [_DRY_RUN],
                _META + "DeleteOptions",
            ),
            "parameters": [name_param, *path_params],
        },
    }
    if info.namespaced:
        paths[f"{base}/{info.plural}"] = {
            "get": _op(
                "list", f"list{gv_id}{info.kind}ForAllNamespaces", gvk, list_schema, _LIST_PARAMS
            ),
            "parameters": [_PRETTY],
        }
    for sub in info.subresources:
        if sub.name not in ("status", "scale"):
            continue
        target = kind_schema
        sub_gvk = gvk
        if sub.name == "scale":
            target = "io.k8s.api.autoscaling.v1.Scale"
            sub_gvk = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
        suffix = _camel(sub.name)
        paths[f"{item}/{sub.name}"] = {
            "get": _op("get", f"read{gv_id}{scope}{info.kind}{suffix}", sub_gvk, target, []),
            "put": _op(
                "put",
                f"replace{gv_id}{scope}{info.kind}{suffix}",
                sub_gvk,
                target,
                write_params,
                target,
            ),
            "patch": _op(
                "patch",
                f"patch{gv_id}{scope}{info.kind}{suffix}",
                sub_gvk,
                target,
                [*write_params, _FORCE],
                _META + "Patch",
                patch=True,
            ),
            "parameters": [name_param, *path_params],
        }
    return paths


class OpenAPI:
    """Builds and caches the documents; rebuilt when the served resources change."""

    def __init__(self, resources: Resources, defs: Definitions, version: str) -> None:
        self.resources = resources
        self.defs = defs
        self.version = version
        self.extra_schemas: dict[str, Obj] = {}
        """Schemas that do not come from the definitions (custom resources), by name."""
        self._cache: dict[str, bytes] = {}
        self._generation = -1

    def _fresh(self) -> None:
        if self._generation != self.resources.generation:
            self._cache.clear()
            self._generation = self.resources.generation

    @staticmethod
    def gv_path(group: str, version: str) -> str:
        return f"apis/{group}/{version}" if group else f"api/{version}"

    def index(self) -> Obj:
        paths = {}
        for group, versions in self.resources.group_versions().items():
            for version in versions:
                path = self.gv_path(group, version)
                paths[path] = {
                    "serverRelativeURL": f"/openapi/v3/{path}?hash={self.hash(group, version)}"
                }
        return {"paths": dict(sorted(paths.items()))}

    def hash(self, group: str, version: str) -> str:
        body = self.document(group, version)
        return hashlib.sha512(body or b"").hexdigest()[:64].upper()

    def document(self, group: str, version: str) -> bytes | None:
        self._fresh()
        key = f"{group}/{version}"
        if key in self._cache:
            return self._cache[key]
        infos = self.resources.in_group_version(group, version)
        if not infos:
            return None
        paths: Obj = {}
        roots = list(_ALWAYS)
        custom: dict[str, Obj] = {}
        for info in infos:
            name = self.defs.name_for_kind(info.group, info.version, info.kind)
            if name is None:
                name = f"{_reverse(info.group)}.{info.version}.{info.kind}"
                if name in self.extra_schemas:
                    custom[name] = _convert(self.extra_schemas[name])
                    custom[name + "List"] = _list_schema(info, name)
                    roots += [_META + "ObjectMeta", _META + "ListMeta"]
            else:
                roots.append(name)
                list_name = self.defs.name_for_kind(info.group, info.version, info.list_kind)
                if list_name:
                    roots.append(list_name)
            paths.update(_paths_for(info, self.defs, name))
            if info.has_scale:
                roots.append("io.k8s.api.autoscaling.v1.Scale")
        schemas = {n: _special(n, self.defs.raw[n]) for n in reachable(self.defs, roots)}
        schemas.update(custom)
        doc = {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": f"v{self.version}.0"},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "BearerToken": {
                        "type": "apiKey",
                        "description": "Bearer Token authentication",
                        "name": "authorization",
                        "in": "header",
                    }
                },
            },
            "security": [{"BearerToken": []}],
        }
        body = orjson.dumps(doc)
        self._cache[key] = body
        return body


def _reverse(group: str) -> str:
    return ".".join(reversed(group.split(".")))


def _list_schema(info: ResourceInfo, item_name: str) -> Obj:
    return {
        "description": f"{info.kind}List is a list of {info.kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"allOf": [{"$ref": _REF + _META + "ListMeta"}], "default": {}},
            "items": {"type": "array", "items": {"$ref": _REF + item_name}},
        },
        "x-kubernetes-group-version-kind": [
            {"group": info.group, "version": info.version, "kind": info.list_kind}
        ],
    }
