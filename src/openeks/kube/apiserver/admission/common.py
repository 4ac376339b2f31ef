"""What several admission plugins share: upstream's Forbidden shape and cached reads.

`forbidden(req, why)` is `admission.NewForbidden`: `<resource> "<name>" is forbidden:
<why>` with 403 and the resource as `details.kind`, the name taken from the request, else
the object's name, else its generateName. Plugins read the objects they consult
(LimitRanges, ResourceQuotas, Namespaces, webhook configurations) from the API server's
watch cache, as upstream's plugins read informers: no store round trip per request
(a namespace the cache has not seen yet is read from the store).
"""

from __future__ import annotations

from typing import Any

import orjson

from openeks.kube.api.errors import ApiError
from openeks.kube.apiserver.admission.base import AdmissionRequest
from openeks.kube.apiserver.registry import Registry

Obj = dict[str, Any]


def object_name(req: AdmissionRequest) -> str:
    if req.name:
        return req.name
    m = (req.obj or req.old or {}).get("metadata") or {}
    return str(m.get("name") or m.get("generateName") or "")


def forbidden(req: AdmissionRequest, why: str, name: str | None = None) -> ApiError:
    name = object_name(req) if name is None else name
    resource = req.info.qualified
    message = (
        f'{resource} "{name}" is forbidden: {why}' if name else f"{resource} is forbidden: {why}"
    )
    return ApiError(
        message, 403, "Forbidden", name=name, group=req.info.group, kind=req.info.plural
    )


def aggregate(messages: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message alone, several de-duplicated in []."""
    seen: list[str] = []
    for m in messages:
        if m not in seen:
            seen.append(m)
    return seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"


def cached(registry: Registry, storage_path: str, namespace: str = "") -> list[Obj]:
    """Objects of one resource (in one namespace) from the watch cache, by key order."""
    cache = registry.cache.cache(f"/registry/{storage_path}/")
    prefix = f"/registry/{storage_path}/{namespace}/" if namespace else cache.prefix
    return cache.items(prefix)


def cached_one(registry: Registry, storage_path: str, namespace: str, name: str) -> Obj | None:
    cache = registry.cache.cache(f"/registry/{storage_path}/")
    key = f"/registry/{storage_path}/{namespace}/{name}" if namespace else cache.prefix + name
    return cache.objects.get(key)


async def namespace(registry: Registry, name: str) -> Obj | None:
    """A namespace from the watch cache, or from the store if the cache has not seen it yet
    (upstream's plugins fall back to a live read the same way)."""
    found = cached_one(registry, "core/namespaces", "", name)
    if found is not None:
        return found
    kv = await registry.store.get(f"/registry/core/namespaces/{name}")
    return None if kv is None else dict(orjson.loads(kv.value))
