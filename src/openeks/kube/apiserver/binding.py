"""`pods/binding`: how a scheduler assigns a pod to a node.

The only way to set `spec.nodeName` after creation. A pod already bound, or being
deleted, refuses with 409 as upstream does; success sets the `PodScheduled` condition
and answers 201 with a success `Status`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openeks.kube.api import errors, meta
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver import codec
from openeks.kube.apiserver.handlers import respond
from openeks.kube.apiserver.registry import ResourceStore, WriteOptions
from openeks.kube.apiserver.request import RequestInfo

Obj = dict[str, Any]


async def bind(
    request: web.Request, ri: RequestInfo, info: ResourceInfo, rs: ResourceStore
) -> web.StreamResponse:
    body = codec.decode_body(await request.read(), request.headers.get("Content-Type"))
    if not isinstance(body, dict) or body.get("kind", "Binding") != "Binding":
        raise errors.bad_request("the object provided is unrecognized (must be of type Binding)")
    target = body.get("target") or {}
    node = target.get("name", "")
    if not node:
        raise errors.invalid(
            "Binding",
            "",
            ri.name,
            [errors.Cause("FieldValueRequired", "Required value", "target.name")],
        )
    if target.get("kind", "Node") not in ("Node", ""):
        raise errors.invalid(
            "Binding",
            "",
            ri.name,
            [
                errors.Cause(
                    "FieldValueNotSupported",
                    'Unsupported value: "' + target["kind"] + '"',
                    "target.kind",
                )
            ],
        )
    want_uid = ((body.get("metadata") or {}).get("uid")) or ""

    async def assign(pod: Obj) -> Obj:
        m = pod["metadata"]
        if want_uid and m.get("uid") != want_uid:
            raise errors.conflict(
                "pods",
                "",
                ri.name,
                f"Precondition failed: UID in precondition: {want_uid}, "
                f"UID in object meta: {m.get('uid')}",
            )
        if m.get("deletionTimestamp"):
            raise errors.conflict(
                "pods", "", ri.name, f"pod {ri.name} is being deleted, cannot be assigned to a host"
            )
        spec = pod.setdefault("spec", {})
        if spec.get("nodeName"):
            raise errors.conflict(
                "pods",
                "",
                ri.name,
                f'pod {ri.name} is already assigned to node "{spec["nodeName"]}"',
            )
        spec["nodeName"] = node
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or () if c.get("type") != "PodScheduled"]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": meta.rfc3339(meta.now()),
            }
        )
        status["conditions"] = conditions
        return pod

    await rs.update(ri.namespace, ri.name, assign, WriteOptions(), "binding")
    return respond(
        request,
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        201,
    )
