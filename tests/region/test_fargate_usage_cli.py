"""`openeks fargate usage --cluster X`: the usage table and JSON from a stopped region's
sqlite state, from a running region's route, and the errors in between."""

from __future__ import annotations

import asyncio
import datetime
import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from openeks.cli.main import main
from openeks.region.fargate.metering import USAGE_KIND, usage_document
from openeks.region.state import RegionState
from openeks.store import open_store
from tests.aws.conftest import ServerThread

START = datetime.datetime(2025, 1, 1, 10, 0, 0, tzinfo=datetime.UTC)


def documents() -> dict[str, dict[str, Any]]:
    web_pod = usage_document("serverless", "web-1", START, 1, 2)
    web_pod["end"] = (START + datetime.timedelta(hours=1)).isoformat()
    short = usage_document("serverless", "web-2", START, 0.25, 0.5)
    short["end"] = (START + datetime.timedelta(seconds=10)).isoformat()
    return {"c1/uid-1": web_pod, "c1/uid-2": short, "c2/uid-3": dict(web_pod, namespace="other")}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    async def fill() -> None:
        store = await open_store(f"sqlite://{tmp_path / 'region.db'}")
        state = RegionState(store)
        for name, doc in documents().items():
            await state.create(USAGE_KIND, name, doc)
        await store.close()

    asyncio.run(fill())
    return tmp_path


def test_the_table_shows_usage_and_cost_per_namespace(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fargate", "usage", "--cluster", "c1", "--data-dir", str(data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "NAMESPACE",
        "PODS",
        "RUNNING",
        "VCPU-SECONDS",
        "GB-SECONDS",
        "COST",
        "(USD)",
    ]
    cost = (3615 * 0.04048 + 7230 * 0.004445) / 3600
    assert lines[1].split() == ["serverless", "2", "0", "3615.0", "7230.0", f"{cost:.6f}"]
    assert lines[2].split() == ["total", "2", "0", "3615.0", "7230.0", f"{cost:.6f}"]
    assert len(lines) == 3


def test_json_output_names_the_rates(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["fargate", "usage", "--cluster", "c2", "--data-dir", str(data_dir), "--output", "json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cluster"] == "c2"
    assert report["rates"] == {"vcpuHourUsd": 0.04048, "gbHourUsd": 0.004445}
    assert [n["namespace"] for n in report["namespaces"]] == ["other"]
    assert report["total"]["vcpuSeconds"] == 3600


def test_a_running_region_is_asked_over_http(capsys: pytest.CaptureFixture[str]) -> None:
    async def usage(request: web.Request) -> web.Response:
        cluster = request.match_info["cluster"]
        found = [d for n, d in documents().items() if n.startswith(f"{cluster}/")]
        return web.json_response({"usage": found})

    app = web.Application()
    app.router.add_get("/openeks/eks/clusters/{cluster}/fargate-usage", usage)
    with ServerThread(app) as server:
        args = ["fargate", "usage", "--cluster", "c1", "--endpoint-url", server.url]
        assert main([*args, "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"]["pods"] == 2 and report["total"]["vcpuSeconds"] == 3615


def test_a_locked_or_missing_state_is_a_clear_error(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    fd = os.open(data_dir / "region.db.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["fargate", "usage", "--cluster", "c1", "--data-dir", str(data_dir)]) == 2
    finally:
        os.close(fd)
    assert "is running; ask it with --endpoint-url" in capsys.readouterr().err
    empty = tmp_path_factory.mktemp("empty")
    assert main(["fargate", "usage", "--cluster", "c1", "--data-dir", str(empty)]) == 2
    assert f"no region state in {empty}" in capsys.readouterr().err
    assert not (empty / "region.db").exists()
