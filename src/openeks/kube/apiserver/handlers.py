"""REST handlers for resource requests: the verbs of the generic registry over HTTP.

Each handler reads the request (query options, body in the served version), checks the
body against the schema the way upstream's typed decoding would (`structure.check`),
converts to the storage version, calls the `ResourceStore`, converts back and encodes
the answer as negotiated (object, Table, PartialObjectMetadata). PATCH lives in
`patching`, watch streams in `watching`, the scale subresource in `scale`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openeks.kube.api import conversion, errors, meta, structure
from openeks.kube.api import fields as field_selectors
from openeks.kube.api import labels as label_selectors
from openeks.kube.api.apply import manager_from_user_agent, update_managed_fields
from openeks.kube.api.errors import ApiError
from openeks.kube.api.labels import SelectorError
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver import codec, scale
from openeks.kube.apiserver.context import ApiContext
from openeks.kube.apiserver.registry import (
    DeleteOptions,
    ListOptions,
    ResourceStore,
    WriteOptions,
)
from openeks.kube.apiserver.request import RequestInfo
from openeks.kube.apiserver.transform import render_list, render_object

Obj = dict[str, Any]


def warn(request: web.Request, message: str) -> None:
    request.setdefault("warnings", []).append(message)


def respond(
    request: web.Request, value: Any, status: int = 200, output: codec.Output | None = None
) -> web.Response:
    output = output or codec.Output()
    return web.Response(
        body=codec.encode(value, output),
        status=status,
        headers={"Content-Type": output.content_type},
    )


def success_status(info: ResourceInfo, obj: Obj) -> Obj:
    m = obj.get("metadata") or {}
    details = {"name": m.get("name", ""), "kind": info.plural, "uid": m.get("uid", "")}
    if info.group:
        details["group"] = info.group
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


# -- options -------------------------------------------------------------------------
def dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise errors.bad_request(f'Invalid dry run value "{value}": dryRun must be "All"')
    return bool(values)


def field_validation(request: web.Request) -> str:
    value = request.query.get("fieldValidation", "Warn") or "Warn"
    if value not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(
            f"fieldValidation must be one of Ignore, Warn, Strict, got {value!r}"
        )
    return value


def field_manager(request: web.Request, required: bool = False) -> str:
    manager = request.query.get("fieldManager", "")
    if not manager:
        if required:
            raise errors.bad_request(
                "PATCH requests with apply content type must specify fieldManager"
            )
        manager = manager_from_user_agent(request.headers.get("User-Agent", ""))
    if len(manager) > 128:
        raise errors.bad_request("fieldManager may not exceed 128 characters")
    return manager


def selectors(ctx: ApiContext, rs: ResourceStore, request: web.Request) -> tuple[Any, bool]:
    """A matcher for labelSelector and fieldSelector, and whether anything filters."""
    label_text = request.query.get("labelSelector", "")
    field_text = request.query.get("fieldSelector", "")
    try:
        labels = label_selectors.parse(label_text) if label_text else None
        fields = field_selectors.parse(field_text) if field_text else None
        if fields is not None:
            fields.check_supported(rs.strategy.field_names)
    except SelectorError as e:
        raise errors.bad_request(str(e)) from None
    if labels is None and fields is None:
        return (lambda obj: True), False
    strategy = rs.strategy

    def matches(obj: Obj) -> bool:
        if labels is not None and not labels.matches(meta.labels_of(obj)):
            return False
        return fields is None or fields.matches(strategy.fields(obj))

    return matches, True


def _int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f"invalid value for {name}: {value!r}") from None


# -- decoding a body -------------------------------------------------------------------
async def read_object(
    request: web.Request, info: ResourceInfo, ctx: ApiContext, kind: str = ""
) -> Obj:
    """The request body as an object of `info`'s kind, checked like upstream's decoder."""
    body = await request.read()
    obj = codec.decode_body(body, request.headers.get("Content-Type"))
    expect_kind = kind or info.kind
    expect_version = info.api_version if not kind else "autoscaling/v1"
    check_object(request, obj, expect_kind, expect_version, ctx, info if not kind else None, body)
    return obj


def check_object(
    request: web.Request,
    obj: Any,
    kind: str,
    api_version: str,
    ctx: ApiContext,
    info: ResourceInfo | None,
    body: bytes = b"",
) -> None:
    if not isinstance(obj, dict):
        raise errors.bad_request(
            f"the object provided is unrecognized (must be of type {kind}): "
            "couldn't get version/kind; json parse error"
        )
    given_kind = obj.get("kind") or kind
    given_version = obj.get("apiVersion") or api_version
    if given_kind != kind:
        raise errors.bad_request(
            f"the object provided is unrecognized (must be of type {kind}): "
            f'no kind "{given_kind}" is registered for version "{given_version}"'
        )
    if given_version != api_version:
        raise errors.bad_request(
            f"the API version in the data ({given_version}) does not match the expected API "
            f"version ({api_version})"
        )
    obj["kind"], obj["apiVersion"] = kind, api_version
    if not isinstance(obj.get("metadata", {}), dict):
        raise errors.bad_request(
            f'{kind} in version "{api_version.split("/")[-1]}" cannot be '
            "handled as a " + kind + ": metadata must be an object"
        )
    node = ctx.schema(info) if info is not None else ctx.scale_schema()
    if node is None:
        return
    mode = field_validation(request)
    duplicates: list[str] = []
    if (
        mode != "Ignore"
        and body
        and request.headers.get("Content-Type", "").startswith("application/json")
    ):
        duplicates = structure.find_duplicates(body, obj)
    report = structure.check(obj, node)
    report.duplicates = duplicates
    version = api_version.split("/")[-1]
    prefix = f'{kind} in version "{version}" cannot be handled as a {kind}: '
    if report.type_errors and not (info is not None and info.crd):
        # Typed decoding fails for built-in kinds (400); custom resources are checked
        # against their schema afterwards and get a 422 instead, as upstream.
        raise errors.bad_request(prefix + report.type_errors[0])
    problems = report.strict_problems
    if problems:
        if mode == "Strict":
            raise errors.bad_request(prefix + report.strict_message())
        if mode == "Warn":
            for problem in problems:
                warn(request, problem)


# -- verbs ---------------------------------------------------------------------------
class ResourceHandlers:
    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    def managed_fields(
        self, request: web.Request, info: ResourceInfo, manager: str, subresource: str = ""
    ) -> Any:
        node = self.ctx.schema(info)
        if node is None:
            return None
        now = meta.rfc3339(meta.now())

        def compute(old: Obj | None, new: Obj) -> Obj:
            return update_managed_fields(
                old,
                new,
                manager=manager,
                operation="Update",
                schema=node,
                now=now,
                api_version=info.api_version,
                subresource=subresource,
            )

        return compute

    async def get(
        self, request: web.Request, ri: RequestInfo, info: ResourceInfo, rs: ResourceStore
    ) -> web.StreamResponse:
        if ri.subresource == "scale":
            obj = await rs.get(ri.namespace, ri.name)
            return respond(request, scale.scale_of(obj, info))
        if ri.subresource not in ("", "status"):
            raise errors.method_not_allowed()
        output = codec.negotiate(
            request.headers.get("Accept"), allowed=("", "Table", "PartialObjectMetadata")
        )
        obj = await rs.get(ri.namespace, ri.name)
        served = conversion.from_storage(info.group, info.version, info.kind, obj)
        return respond(
            request, render_object(self.ctx, info, served, output, request), output=output
        )

    async def list(
        self, request: web.Request, ri: RequestInfo, info: ResourceInfo, rs: ResourceStore
    ) -> web.StreamResponse:
        output = codec.negotiate(
            request.headers.get("Accept"), allowed=("", "Table", "PartialObjectMetadataList")
        )
        matches, filtered = selectors(self.ctx, rs, request)
        limit = _int_param(request, "limit") or 0
        opts = ListOptions(
            matches=matches,
            filtered=filtered,
            limit=max(limit, 0),
            continue_token=request.query.get("continue", ""),
            resource_version=request.query.get("resourceVersion", ""),
            resource_version_match=request.query.get("resourceVersionMatch", ""),
        )
        if opts.continue_token and opts.resource_version not in ("", "0"):
            raise errors.bad_request(
                "specifying resource version is not allowed when using continue"
            )
        result = await rs.list(ri.namespace, opts)
        items = [
            conversion.from_storage(info.group, info.version, info.kind, o) for o in result.items
        ]
        body = render_list(self.ctx, info, items, result, output, request)
        return respond(request, body, output=output)

    async def create(
        self, request: web.Request, ri: RequestInfo, info: ResourceInfo, rs: ResourceStore
    ) -> web.StreamResponse:
        if ri.subresource:
            raise errors.method_not_allowed()
        if info.namespaced and not ri.namespace:
            raise errors.ApiError(
                "the server could not find the requested resource", 404, "NotFound"
            )
        obj = await read_object(request, info, self.ctx)
        stored = conversion.to_storage(info.group, info.version, info.kind, obj)
        manager = field_manager(request)
        opts = WriteOptions(
            user=request.get("user"),
            admission=self.ctx.admission,
            warnings=request.setdefault("warnings", []),
            dry_run=dry_run(request),
            field_manager=manager,
            managed_fields=self.managed_fields(request, info, manager),
        )
        result = await rs.create(ri.namespace, stored, opts)
        served = conversion.from_storage(info.group, info.version, info.kind, result)
        return respond(request, served, 201)

    async def update(
        self, request: web.Request, ri: RequestInfo, info: ResourceInfo, rs: ResourceStore
    ) -> web.StreamResponse:
        sub = ri.subresource
        if sub not in ("", "status", "scale", "finalize") or (sub and not info.subresource(sub)):
            raise errors.method_not_allowed()
        manager = field_manager(request)
        opts = WriteOptions(
            user=request.get("user"),
            admission=self.ctx.admission,
            warnings=request.setdefault("warnings", []),
            dry_run=dry_run(request),
            field_manager=manager,
            managed_fields=self.managed_fields(
                request, info, manager, sub if sub == "status" else ""
            ),
        )
        if sub == "scale":
            wanted = await read_object(request, info, self.ctx, kind="Scale")
            result, _ = await rs.update(
                ri.namespace, ri.name, scale.setter(wanted, info, ri.name), opts
            )
            return respond(request, scale.scale_of(result, info))
        obj = await read_object(request, info, self.ctx)
        stored = conversion.to_storage(info.group, info.version, info.kind, obj)
        if meta.name_of(stored) and meta.name_of(stored) != ri.name:
            raise errors.bad_request(
                f"the name of the object ({meta.name_of(stored)}) does not match the name on "
                f"the URL ({ri.name})"
            )

        async def replace(old: Obj) -> Obj:
            return meta.deep_copy(stored)

        async def create() -> Obj:
            return await rs.create(ri.namespace, meta.deep_copy(stored), opts)

        allow_create = rs.strategy.allow_create_on_update and not sub
        result, created = await rs.update(
            ri.namespace, ri.name, replace, opts, sub, create=create if allow_create else None
        )
        served = conversion.from_storage(info.group, info.version, info.kind, result)
        return respond(request, served, 201 if created else 200)

    async def delete(
        self, request: web.Request, ri: RequestInfo, info: ResourceInfo, rs: ResourceStore
    ) -> web.StreamResponse:
        if ri.subresource:
            raise errors.method_not_allowed()
        opts = await delete_options(request)
        opts.admission, opts.user = self.ctx.admission, request.get("user")
        obj, gone = await rs.delete(ri.namespace, ri.name, opts)
        if gone:
            return respond(request, success_status(info, obj))
        served = conversion.from_storage(info.group, info.version, info.kind, obj)
        return respond(request, served)

    async def delete_collection(
        self, request: web.Request, ri: RequestInfo, info: ResourceInfo, rs: ResourceStore
    ) -> web.StreamResponse:
        opts = await delete_options(request)
        matches, filtered = selectors(self.ctx, rs, request)
        result = await rs.list(ri.namespace, ListOptions(matches=matches, filtered=filtered))
        deleted = []
        for obj in result.items:
            try:
                gone_obj, _ = await rs.delete(
                    obj["metadata"].get("namespace", ""), obj["metadata"]["name"], opts
                )
            except ApiError as e:
                if e.code == 404:
                    continue
                raise
            deleted.append(conversion.from_storage(info.group, info.version, info.kind, gone_obj))
        return respond(
            request,
            {
                "kind": info.list_kind,
                "apiVersion": info.api_version,
                "metadata": {"resourceVersion": str(result.resource_version)},
                "items": deleted,
            },
        )


async def delete_options(request: web.Request) -> DeleteOptions:
    body: Obj = {}
    raw = await request.read()
    if raw.strip():
        decoded = codec.decode_body(raw, request.headers.get("Content-Type"))
        if not isinstance(decoded, dict):
            raise errors.bad_request("DeleteOptions must be an object")
        body = decoded
    grace = _int_param(request, "gracePeriodSeconds")
    if grace is None and body.get("gracePeriodSeconds") is not None:
        grace = int(body["gracePeriodSeconds"])
    propagation = request.query.get("propagationPolicy") or body.get("propagationPolicy") or ""
    orphan = request.query.get("orphanDependents")
    if orphan is None and body.get("orphanDependents") is not None:
        orphan = str(body["orphanDependents"]).lower()
    if orphan is not None and not propagation:
        propagation = "Orphan" if orphan == "true" else "Background"
    if propagation not in ("", "Orphan", "Background", "Foreground"):
        raise errors.invalid(
            "DeleteOptions",
            "",
            "",
            [
                errors.Cause(
                    "FieldValueNotSupported",
                    f'Unsupported value: "{propagation}": supported values: "Foreground", '
                    '"Background", "Orphan", "nil"',
                    "propagationPolicy",
                )
            ],
        )
    preconditions = body.get("preconditions") or {}
    values = request.query.getall("dryRun", []) or body.get("dryRun") or []
    return DeleteOptions(
        grace_period=grace,
        propagation=propagation,
        precondition_uid=str(preconditions.get("uid") or ""),
        precondition_rv=str(preconditions.get("resourceVersion") or ""),
        dry_run="All" in values,
    )
