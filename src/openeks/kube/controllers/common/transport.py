"""Requests whose answer shape is chosen by the Accept header.

The shared `Client` always asks for plain JSON. Two clients in the controller manager
need more: the garbage collector and the namespace controller read every resource as
`PartialObjectMetadata(List)` (they only need metadata, and it works for kinds they
know nothing about), and discovery asks for the aggregated `APIGroupDiscoveryList`.
These helpers are the client's own requests and watches with another Accept header,
so callers see the usual `ApiError`.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.client import Client

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
    result: Obj = await client.request(method, path, params=params, accept=accept) or {}
    return result
