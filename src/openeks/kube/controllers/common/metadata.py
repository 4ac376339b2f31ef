"""Metadata-only access to any resource: client-go's metadata client and informers.

The garbage collector watches every resource in the cluster and needs only names, uids,
owner references, finalizers and deletion timestamps. Asking the API server for
`PartialObjectMetadata` keeps those caches small and works for kinds the controller
manager has no schema for. `MetadataClient` is a `Client` whose `list` and `watch`
answer in that form, so the ordinary `Informer` (relist, resume, 410 handling) runs
unchanged on top of it; `get` and `delete` helpers cover single objects.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client import Client, Informer, resource_path
from openeks.kube.controllers.common.transport import (
    AS_METADATA,
    AS_METADATA_LIST,
    request_as,
)

Obj = dict[str, Any]


class MetadataClient(Client):
    """Shares the session of `base`; lists and watches return PartialObjectMetadata."""

    list_accept = AS_METADATA_LIST
    watch_accept = AS_METADATA

    def __init__(self, base: Client) -> None:
        super().__init__(base.config, timeout=base.timeout)
        self._base = base

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._base.session

    async def close(self) -> None:
        """The session belongs to the base client."""

    async def get_metadata(self, res: ResourceInfo, name: str, namespace: str = "") -> Obj:
        return await request_as(self._base, "GET", resource_path(res, namespace, name), AS_METADATA)


def metadata_informer(client: Client, res: ResourceInfo, namespace: str = "") -> Informer:
    """An informer over `res` that caches PartialObjectMetadata only."""
    return Informer(MetadataClient(client), res, namespace)
