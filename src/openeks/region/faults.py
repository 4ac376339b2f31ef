"""Fault injection over HTTP: the region service's `/openeks/fault` endpoints.

`openeks fault zone-down us-east-1a` runs in another process than the region service
that owns the supervisor, so the command needs a way in. It is the region service's own
HTTP endpoint, not a shared file: requests are serialised by the supervisor's lock, the
caller learns at once whether it worked (and which processes went down), and there is
one writer of the supervisor's state file. Mount the routes on the region's app:

    app.add_routes(fault_routes(supervisor))

    POST /openeks/fault/zone-down?zone=us-east-1a
        → 200 {"zone": "us-east-1a", "state": "down", "processes": [names killed]}
    POST /openeks/fault/zone-up?zone=us-east-1a
        → 200 {"zone": "us-east-1a", "state": "up", "processes": [names started]}
    GET  /openeks/fault
        → 200 {"zones": [{"name", "state": "up"|"down", "since", "processes": [status]}]}

A zone may be given by name or by zone id when a `Region` is passed. Errors answer
400 (no zone parameter) or 404 (unknown zone) with {"message": ...}. The endpoints have
no authentication of their own: they are meant for a region service listening on
loopback; put them behind the region's auth middleware otherwise.

`request_zone_fault` and `fault_status` are the client side, for the CLI.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from openeks.region.supervisor import Supervisor
from openeks.region.zones import Region, UnknownZoneError


def fault_routes(supervisor: Supervisor, region: Region | None = None) -> list[web.RouteDef]:
    """The fault endpoints for `supervisor` (see the module docstring)."""

    def zone_of(request: web.Request) -> str:
        zone = request.query.get("zone", "")
        if not zone:
            raise _error(web.HTTPBadRequest, "query parameter 'zone' is required")
        if region is not None:
            try:
                return region.zone(zone).name
            except UnknownZoneError as e:
                raise _error(web.HTTPNotFound, str(e)) from None
        return zone

    async def zone_down(request: web.Request) -> web.Response:
        zone = zone_of(request)
        try:
            names = await supervisor.zone_down(zone)
        except UnknownZoneError as e:
            raise _error(web.HTTPNotFound, str(e)) from None
        return web.json_response({"zone": zone, "state": "down", "processes": names})

    async def zone_up(request: web.Request) -> web.Response:
        zone = zone_of(request)
        try:
            names = await supervisor.zone_up(zone)
        except UnknownZoneError as e:
            raise _error(web.HTTPNotFound, str(e)) from None
        return web.json_response({"zone": zone, "state": "up", "processes": names})

    async def list_zones(request: web.Request) -> web.Response:
        return web.json_response({"zones": [z.to_json() for z in supervisor.zone_states()]})

    return [
        web.post("/openeks/fault/zone-down", zone_down),
        web.post("/openeks/fault/zone-up", zone_up),
        web.get("/openeks/fault", list_zones),
    ]


def _error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=json.dumps({"message": message}), content_type="application/json")


class FaultRequestError(RuntimeError):
    """The region service refused the request or could not be reached."""


async def request_zone_fault(
    base_url: str, zone: str, *, down: bool, timeout: float = 30.0
) -> dict[str, Any]:
    """POST zone-down (or zone-up) to a region service at `base_url` ("http://host:port")."""
    action = "zone-down" if down else "zone-up"
    return await _call(base_url, "POST", f"/openeks/fault/{action}?zone={quote(zone)}", timeout)


async def fault_status(base_url: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """GET /openeks/fault from a region service at `base_url`."""
    return await _call(base_url, "GET", "/openeks/fault", timeout)


async def _call(base_url: str, method: str, path: str, timeout: float) -> dict[str, Any]:
    url = base_url.rstrip("/") + path
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.request(method, url) as response,
        ):
            document = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as e:
        raise FaultRequestError(f"cannot reach the region service at {base_url}: {e}") from e
    if status != 200:
        message = document.get("message") if isinstance(document, dict) else None
        raise FaultRequestError(message or f"HTTP {status}")
    return dict(document)
