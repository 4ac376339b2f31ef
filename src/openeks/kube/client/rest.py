"""An async Kubernetes API client: the verbs on resources, over one aiohttp session.

Every component that talks to a cluster (controllers, scheduler, node agents, the
region's cluster drivers) uses this client; none reaches into a store. Errors come back
as the same `ApiError` the server raised (code, reason, message, causes), rebuilt from
the `Status` body, so callers branch on `e.code == 409` exactly as client-go users do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from openeks.kube.api.errors import ApiError, Cause
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client.config import ClientConfig

Obj = dict[str, Any]

PATCH_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


def error_from_status(code: int, body: bytes) -> ApiError:
    try:
        status = orjson.loads(body)
    except orjson.JSONDecodeError:
        status = None
    if not isinstance(status, dict) or status.get("kind") != "Status":
        text = body.decode(errors="replace")[:500]
        return ApiError(text or f"HTTP {code}", code, "" if code < 500 else "InternalError")
    details = status.get("details") or {}
    return ApiError(
        status.get("message", ""),
        int(status.get("code") or code),
        status.get("reason", ""),
        name=details.get("name", ""),
        group=details.get("group", ""),
        kind=details.get("kind", ""),
        causes=[
            Cause(c.get("reason", ""), c.get("message", ""), c.get("field", ""))
            for c in details.get("causes") or ()
        ],
        retry_after=int(details.get("retryAfterSeconds") or 0),
    )


def resource_path(
    res: ResourceInfo, namespace: str = "", name: str = "", subresource: str = ""
) -> str:
    base = f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"
    path = (
        f"{base}/namespaces/{namespace}/{res.plural}"
        if res.namespaced and namespace
        else f"{base}/{res.plural}"
    )
    if name:
        path += f"/{name}"
        if subresource:
            path += f"/{subresource}"
    return path


class Client:
    """One cluster's API, as one identity. Use as an async context manager or close()."""

    list_accept = "application/json"
    """What lists ask for; a metadata-only client asks for PartialObjectMetadataList."""
    watch_accept = "application/json"

    def __init__(
        self, config: ClientConfig, *, connections: int = 32, timeout: float = 30.0
    ) -> None:
        self.config = config
        self.timeout = timeout
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"User-Agent": self.config.user_agent}
            if self.config.token:
                headers["Authorization"] = f"Bearer {self.config.token}"
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    ssl=self.config.ssl_context() or False, limit=self._connections
                ),
                headers=headers,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- raw -----------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        raw: bool = False,
        accept: str = "application/json",
    ) -> Any:
        data = None
        headers = {"Accept": accept}
        if body is not None:
            data = body if isinstance(body, bytes) else orjson.dumps(body)
            headers["Content-Type"] = content_type
        url = self.config.server + path
        try:
            async with self.session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                payload = await resp.read()
                if resp.status >= 400:
                    raise error_from_status(resp.status, payload)
        except (TimeoutError, aiohttp.ClientError) as e:
            raise ApiError(f"cannot reach the API server: {e}", 503, "ServiceUnavailable") from e
        if raw:
            return payload
        return orjson.loads(payload) if payload else None

    # -- verbs ---------------------------------------------------------------------------
    async def get(
        self, res: ResourceInfo, name: str, namespace: str = "", subresource: str = ""
    ) -> Obj:
        result: Obj = await self.request("GET", resource_path(res, namespace, name, subresource))
        return result

    async def list(
        self,
        res: ResourceInfo,
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> Obj:
        params = _params(
            labelSelector=label_selector,
            fieldSelector=field_selector,
            limit=str(limit) if limit else "",
            resourceVersion=resource_version,
        )
        if continue_token:
            params["continue"] = continue_token
        result: Obj = await self.request(
            "GET", resource_path(res, namespace), params=params, accept=self.list_accept
        )
        return result

    async def create(
        self,
        res: ResourceInfo,
        obj: Obj,
        namespace: str = "",
        *,
        subresource: str = "",
        name: str = "",
        field_manager: str = "",
    ) -> Obj:
        namespace = namespace or (obj.get("metadata") or {}).get("namespace", "")
        path = (
            resource_path(res, namespace, name, subresource)
            if subresource
            else resource_path(res, namespace)
        )
        result: Obj = await self.request(
            "POST", path, params=_params(fieldManager=field_manager), body=obj
        )
        return result

    async def update(
        self, res: ResourceInfo, obj: Obj, *, subresource: str = "", field_manager: str = ""
    ) -> Obj:
        m = obj["metadata"]
        path = resource_path(res, m.get("namespace", ""), m["name"], subresource)
        result: Obj = await self.request(
            "PUT", path, params=_params(fieldManager=field_manager), body=obj
        )
        return result

    async def update_status(self, res: ResourceInfo, obj: Obj) -> Obj:
        return await self.update(res, obj, subresource="status")

    async def patch(
        self,
        res: ResourceInfo,
        name: str,
        patch: Any,
        namespace: str = "",
        *,
        patch_type: str = "merge",
        subresource: str = "",
        field_manager: str = "",
        force: bool = False,
    ) -> Obj:
        params = _params(fieldManager=field_manager, force="true" if force else "")
        body = patch if isinstance(patch, bytes) else orjson.dumps(patch)
        result: Obj = await self.request(
            "PATCH",
            resource_path(res, namespace, name, subresource),
            params=params,
            body=body,
            content_type=PATCH_TYPES[patch_type],
        )
        return result

    async def delete(
        self,
        res: ResourceInfo,
        name: str,
        namespace: str = "",
        *,
        grace_period: int | None = None,
        propagation: str = "",
        uid: str = "",
        resource_version: str = "",
    ) -> Obj:
        options: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        if propagation:
            options["propagationPolicy"] = propagation
        if uid or resource_version:
            options["preconditions"] = _params(uid=uid, resourceVersion=resource_version)
        result: Obj = await self.request(
            "DELETE", resource_path(res, namespace, name), body=options
        )
        return result

    async def watch(
        self,
        res: ResourceInfo,
        namespace: str = "",
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        timeout_seconds: int = 0,
        bookmarks: bool = True,
    ) -> AsyncIterator[tuple[str, Obj]]:
        """(type, object) pairs; ERROR events are raised as ApiError (410 = relist)."""
        params = _params(
            resourceVersion=resource_version,
            labelSelector=label_selector,
            fieldSelector=field_selector,
            allowWatchBookmarks="true" if bookmarks else "",
            timeoutSeconds=str(timeout_seconds) if timeout_seconds else "",
        )
        path = resource_path(res, namespace)
        async for event in self.watch_path(path, params, self.watch_accept):
            yield event

    async def watch_path(
        self, path: str, params: dict[str, str], accept: str = "application/json"
    ) -> AsyncIterator[tuple[str, Obj]]:
        """A watch of any collection path, its events answered as `accept` asks."""
        try:
            async with self.session.get(
                self.config.server + path,
                params={**params, "watch": "true"},
                headers={"Accept": accept},
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeout),
            ) as resp:
                if resp.status >= 400:
                    raise error_from_status(resp.status, await resp.read())
                async for line in resp.content:
                    if not line.strip():
                        continue
                    event = orjson.loads(line)
                    if event["type"] == "ERROR":
                        status = event["object"]
                        raise error_from_status(
                            int(status.get("code") or 500), orjson.dumps(status)
                        )
                    yield event["type"], event["object"]
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ApiError(f"watch connection lost: {e}", 503, "ServiceUnavailable") from e


def _params(**values: str) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}
