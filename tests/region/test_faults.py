"""Fault injection over the region service's HTTP endpoint, as `openeks fault` uses it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from openeks.region import ProcessSpec, ProcessState, Region, Supervisor, TcpProbe
from openeks.region.faults import (
    FaultRequestError,
    fault_routes,
    fault_status,
    request_zone_fault,
)
from tests.region.support import CHILD, free_port


@pytest.fixture
async def endpoint(supervisor: Supervisor, region: Region) -> AsyncIterator[str]:
    app = web.Application()
    app.add_routes(fault_routes(supervisor, region))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_zone_down_and_up_through_http(
    endpoint: str, supervisor: Supervisor, workdir: Path
) -> None:
    port = free_port()
    argv = (
        sys.executable,
        CHILD,
        "a1",
        "--record",
        str(workdir / "r"),
        "--listen",
        f"127.0.0.1:{port}",
    )
    spec = ProcessSpec(
        "a1", argv, workdir / "a1.log", zone="us-east-1a", probe=TcpProbe("127.0.0.1", port)
    )
    await supervisor.ensure(spec)
    await supervisor.wait_ready("a1", timeout=10)

    answer = await request_zone_fault(endpoint, "use1-az1", down=True)  # zone ids work too
    assert answer == {"zone": "us-east-1a", "state": "down", "processes": ["a1"]}
    assert supervisor.status("a1").state == ProcessState.ZONE_DOWN

    listing = await fault_status(endpoint)
    zones = {z["name"]: z for z in listing["zones"]}
    assert zones["us-east-1a"]["state"] == "down" and zones["us-east-1a"]["since"]
    assert zones["us-east-1a"]["processes"][0]["state"] == "zone-down"
    assert zones["us-east-1b"] == {
        "name": "us-east-1b",
        "state": "up",
        "since": None,
        "processes": [],
    }

    answer = await request_zone_fault(endpoint, "us-east-1a", down=False)
    assert answer["state"] == "up"
    assert (await supervisor.wait_ready("a1", timeout=10)).state == ProcessState.READY


async def test_bad_fault_requests_get_clear_errors(endpoint: str) -> None:
    with pytest.raises(FaultRequestError, match="no availability zone 'us-east-1z'"):
        await request_zone_fault(endpoint, "us-east-1z", down=True)
    with pytest.raises(FaultRequestError, match="cannot reach"):
        await request_zone_fault(f"http://127.0.0.1:{free_port()}", "us-east-1a", down=True)


async def test_a_fault_request_without_a_zone_is_a_bad_request(endpoint: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{endpoint}/openeks/fault/zone-down") as response,
    ):
        assert response.status == 400
        assert await response.json() == {"message": "query parameter 'zone' is required"}
