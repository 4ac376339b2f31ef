"""PATCH: JSON patch, merge patch, strategic merge patch and server-side apply.

The patch is applied to the live object in the served version inside the registry's
read-modify-write loop, so a concurrent writer makes us re-read and re-apply instead of
failing, exactly as upstream's patcher does. The result is checked like a decoded body
(unknown fields, types) before it is written. Server-side apply creates the object when
it does not exist and keeps `managedFields` itself; the other types record an "Update"
entry for their field manager.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openeks.kube.api import conversion, errors, meta, structure
from openeks.kube.api.apply import ApplyConflictError, ApplyError, BadApplyRequest, apply
from openeks.kube.api.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver import codec, scale
from openeks.kube.apiserver.handlers import (
    ResourceHandlers,
    check_object,
    dry_run,
    field_manager,
    field_validation,
    respond,
)
from openeks.kube.apiserver.registry import ResourceStore, WriteOptions
from openeks.kube.apiserver.request import RequestInfo

Obj = dict[str, Any]


def _conflict(info: ResourceInfo, name: str, e: ApplyConflictError) -> errors.ApiError:
    return errors.ApiError(
        str(e),
        409,
        "Conflict",
        name=name,
        group=info.group,
        kind=info.plural,
        causes=[errors.Cause(c["type"], c["message"], c.get("field", "")) for c in e.causes],
    )


async def patch(
    handlers: ResourceHandlers,
    request: web.Request,
    ri: RequestInfo,
    info: ResourceInfo,
    rs: ResourceStore,
) -> web.StreamResponse:
    ctx = handlers.ctx
    sub = ri.subresource
    if sub not in ("", "status", "scale") or (sub and not info.subresource(sub)):
        raise errors.method_not_allowed()
    media = codec.media_type_of(request.headers.get("Content-Type"))
    kind = codec.PATCH_TYPES.get(media)
    if kind is None or kind == "apply-cbor":
        raise errors.unsupported_media_type(list(codec.PATCH_TYPES)[:4])
    if kind == "strategic" and info.crd:
        raise errors.unsupported_media_type(
            [
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/apply-patch+yaml",
            ]
        )
    body = await request.read()
    document = codec.decode_body(body, media)
    force = request.query.get("force", "") == "true"
    if force and kind != "apply":
        raise errors.bad_request("force may only be specified with apply patch")
    manager = field_manager(request, required=kind == "apply")
    mode = field_validation(request)
    duplicates = (
        structure.find_duplicates(body, document)
        if mode != "Ignore" and media != codec.YAML
        else []
    )
    if duplicates and mode == "Strict":
        raise errors.bad_request(
            "strict decoding error: " + ", ".join(f'duplicate field "{d}"' for d in duplicates)
        )
    on_scale = sub == "scale"
    target_kind = "Scale" if on_scale else info.kind
    target_version = "autoscaling/v1" if on_scale else info.api_version
    schema = ctx.scale_schema() if on_scale else ctx.schema(info)
    is_apply = kind == "apply"
    opts = WriteOptions(
        user=request.get("user"),
        admission=ctx.admission,
        warnings=request.setdefault("warnings", []),
        dry_run=dry_run(request),
        field_manager=manager,
        managed_fields=None
        if is_apply
        else handlers.managed_fields(request, info, manager, "status" if sub == "status" else ""),
    )
    now = meta.rfc3339(meta.now())

    if is_apply:
        if not isinstance(document, dict):
            raise errors.bad_request("apply patches must be objects")
        check_object(
            request, document, target_kind, target_version, ctx, None if on_scale else info
        )
        config_name = (document.get("metadata") or {}).get("name")
        if config_name and config_name != ri.name:
            raise errors.bad_request(
                f"the name of the object ({config_name}) does not match the name on the URL "
                f"({ri.name})"
            )

    def patched(current: Obj | None) -> Obj:
        try:
            if current is None:
                assert schema is not None
                return apply(
                    None,
                    document,
                    manager=manager,
                    force=force,
                    schema=schema,
                    now=now,
                    api_version=target_version,
                )
            if kind == "json":
                if not isinstance(document, list):
                    raise PatchError("json patch must be a list of operations")
                return json_patch(current, document)
            if kind == "merge":
                return merge_patch(current, document)
            if kind == "strategic":
                if not isinstance(document, dict):
                    raise PatchError("strategic merge patch must be an object")
                return strategic_merge_patch(current, document, schema)
            assert schema is not None
            return apply(
                current,
                document,
                manager=manager,
                force=force,
                schema=schema,
                now=now,
                api_version=target_version,
            )
        except PatchError as e:
            reason = {400: "BadRequest", 422: "Invalid"}.get(e.code, "InternalError")
            raise errors.ApiError(str(e), e.code, reason) from None
        except ApplyConflictError as e:
            raise _conflict(info, ri.name, e) from None
        except BadApplyRequest as e:
            raise errors.bad_request(str(e)) from None
        except ApplyError as e:
            raise errors.ApiError(str(e), 422, "Invalid") from None

    async def mutate(old: Obj) -> Obj:
        if on_scale:
            current = scale.scale_of(old, info)
        else:
            current = conversion.from_storage(info.group, info.version, info.kind, old)
        new = patched(meta.deep_copy(current))
        check_object(request, new, target_kind, target_version, ctx, None if on_scale else info)
        if on_scale:
            return await scale.setter(new, info, ri.name)(old)
        new_meta = new.setdefault("metadata", {})
        if not is_apply and new_meta.get("resourceVersion") == current["metadata"].get(
            "resourceVersion"
        ):
            # The patch did not pin a version: write against whatever we read.
            new_meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        return conversion.to_storage(info.group, info.version, info.kind, new)

    async def create() -> Obj:
        new = patched(None)
        check_object(request, new, target_kind, target_version, ctx, info)
        new.setdefault("metadata", {})["name"] = ri.name
        if info.namespaced:
            new["metadata"].setdefault("namespace", ri.namespace)
        stored = conversion.to_storage(info.group, info.version, info.kind, new)
        return await rs.create(ri.namespace, stored, opts)

    can_create = is_apply and not sub
    result, created = await rs.update(
        ri.namespace,
        ri.name,
        mutate,
        opts,
        "status" if sub == "status" else "",
        create=create if can_create else None,
    )
    if on_scale:
        return respond(request, scale.scale_of(result, info))
    served = conversion.from_storage(info.group, info.version, info.kind, result)
    return respond(request, served, 201 if created else 200)
