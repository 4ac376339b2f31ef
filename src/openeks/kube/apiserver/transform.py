"""Shape responses as the client asked: the object, a Table, or metadata only."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openeks.kube.api import errors, meta, printers
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver import codec
from openeks.kube.apiserver.context import ApiContext
from openeks.kube.apiserver.registry import ListResult

Obj = dict[str, Any]


def _include_object(request: web.Request) -> str:
    return request.query.get("includeObject", "Metadata") or "Metadata"


def partial(obj: Obj, version: str) -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": obj.get("metadata", {}),
    }


def crd_columns(ctx: ApiContext, info: ResourceInfo) -> list[Obj] | None:
    if not info.crd:
        return None
    return ctx.crd_columns.get((info.group, info.version, info.kind), [])


def table(
    ctx: ApiContext,
    info: ResourceInfo,
    objects: list[Obj],
    request: web.Request,
    list_meta: Obj | None = None,
    no_headers: bool = False,
) -> Obj:
    try:
        return printers.table_for(
            info.group,
            info.plural,
            objects,
            now=meta.now(),
            include_object=_include_object(request),
            crd_columns=crd_columns(ctx, info),
            list_meta=list_meta,
            no_headers=no_headers,
        )
    except printers.InvalidTableOptions as e:
        raise errors.bad_request(f"Unable to convert to Table as requested: {e}") from None
    except printers.TableConversionError as e:
        raise errors.internal(str(e)) from None


def render_object(
    ctx: ApiContext, info: ResourceInfo, obj: Obj, output: codec.Output, request: web.Request
) -> Obj:
    if output.as_kind == "Table":
        t = table(ctx, info, [obj], request)
        t.setdefault("metadata", {})["resourceVersion"] = obj["metadata"].get("resourceVersion", "")
        return t
    if output.as_kind == "PartialObjectMetadata":
        return partial(obj, output.version)
    return obj


def list_metadata(result: ListResult) -> Obj:
    m: Obj = {"resourceVersion": str(result.resource_version)}
    if result.continue_token:
        m["continue"] = result.continue_token
        if result.remaining is not None:
            m["remainingItemCount"] = result.remaining
    return m


def render_list(
    ctx: ApiContext,
    info: ResourceInfo,
    items: list[Obj],
    result: ListResult,
    output: codec.Output,
    request: web.Request,
) -> Obj:
    list_meta = list_metadata(result)
    if output.as_kind == "Table":
        return table(ctx, info, items, request, list_meta)
    if output.as_kind == "PartialObjectMetadataList":
        return {
            "kind": "PartialObjectMetadataList",
            "apiVersion": f"meta.k8s.io/{output.version}",
            "metadata": list_meta,
            "items": [partial(o, output.version) for o in items],
        }
    return {
        "kind": info.list_kind,
        "apiVersion": info.api_version,
        "metadata": list_meta,
        "items": items,
    }
