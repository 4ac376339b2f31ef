"""State survives a kill -9 of the API server: every acknowledged object comes back."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.support.apiserver import ApiServerProcess


def _tls(kubeconfig: Path, tmp: Path) -> ssl.SSLContext:
    import base64

    cfg = yaml.safe_load(kubeconfig.read_text())
    user = cfg["users"][0]["user"]
    cert, key = tmp / "c.crt", tmp / "c.key"
    cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
    key.write_bytes(base64.b64decode(user["client-key-data"]))
    ctx = ssl.create_default_context(
        cadata=base64.b64decode(
            cfg["clusters"][0]["cluster"]["certificate-authority-data"]
        ).decode()
    )
    ctx.load_cert_chain(cert, key)
    return ctx


async def _create_many(url: str, tls: ssl.SSLContext, count: int) -> set[str]:
    done: set[str] = set()
    sem = asyncio.Semaphore(16)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls, limit=16)) as session:

        async def one(i: int) -> None:
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm-{i}"},
                "data": {"i": str(i)},
            }
            async with (
                sem,
                session.post(f"{url}/api/v1/namespaces/default/configmaps", json=body) as r,
            ):
                assert r.status == 201, await r.text()
                done.add(f"cm-{i}")

        await asyncio.gather(*(one(i) for i in range(count)))
    return done


async def _names(url: str, tls: ssl.SSLContext) -> set[str]:
    connector = aiohttp.TCPConnector(ssl=tls)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(f"{url}/api/v1/namespaces/default/configmaps") as r,
    ):
        data = json.loads(await r.text())
    return {i["metadata"]["name"] for i in data["items"]}


@pytest.mark.parametrize("store", ["sqlite"])
def test_a_thousand_objects_survive_kill_9(tmp_path: Path, store: str) -> None:
    api = ApiServerProcess(tmp_path / "kube")
    api.start()
    try:
        tls = _tls(api.kubeconfig, tmp_path)
        written = asyncio.run(_create_many(api.url, tls, 1000))
        assert len(written) == 1000
        api.stop(kill=True)
        api.start()
        names = asyncio.run(_names(api.url, tls))
        assert written <= names
    finally:
        api.stop()
