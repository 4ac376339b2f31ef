"""Requests whose answer shape is chosen by the Accept header.

The shared `Client` always asks for plain JSON. Two clients in the controller manager
need more: the garbage collector and the namespace controller read every resource as
`PartialObjectMetadata(List)` (they only need metadata, and it works for kinds they
know nothing about), and discovery asks for the aggregated `APIGroupDiscoveryList`.
These helpers reuse the client's session, server and credentials and rebuild errors
with the client's own `error_from_status`, so callers see the usual `ApiError`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client
from openeks.kube.client.rest import error_from_status

Obj = dict[str, Any]

AS_METADATA_LIST = (
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
)
AS_METADATA = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json"
AS_AGGREGATED_DISCOVERY = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
)


async def request_as(
    client: Client,
    method: str,
    path: str,
    accept: str,
    *,
    params: dict[str, str] | None = None,
) -> Obj:
    """One request answered as `accept` asks; 4xx/5xx raise `ApiError`."""
    try:
        async with client.session.request(
            method,
            client.config.server + path,
            params=params,
            headers={"Accept": accept},
            timeout=aiohttp.ClientTimeout(total=client.timeout),
        ) as resp:
            payload = await resp.read()
            if resp.status >= 400:
                raise error_from_status(resp.status, payload)
    except (TimeoutError, aiohttp.ClientError) as e:
        raise ApiError(f"cannot reach the API server: {e}", 503, "ServiceUnavailable") from e
    result: Obj = orjson.loads(payload) if payload else {}
    return result


async def watch_as(
    client: Client, path: str, accept: str, params: dict[str, str]
) -> AsyncIterator[tuple[str, Obj]]:
    """(type, object) pairs of a watch answered as `accept` asks; ERROR events raise."""
    try:
        async with client.session.get(
            client.config.server + path,
            params={**params, "watch": "true"},
            headers={"Accept": accept},
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=client.timeout),
        ) as resp:
            if resp.status >= 400:
                raise error_from_status(resp.status, await resp.read())
            async for line in resp.content:
                if not line.strip():
                    continue
                event = json.loads(line)
                if event["type"] == "ERROR":
                    status = event["object"]
                    raise error_from_status(int(status.get("code") or 500), orjson.dumps(status))
                yield event["type"], event["object"]
    except (TimeoutError, aiohttp.ClientError) as e:
        raise ApiError(f"watch connection lost: {e}", 503, "ServiceUnavailable") from e
