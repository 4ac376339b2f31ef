"""Fixtures for the AWS edge: the endpoint on 127.0.0.1 in a thread, real boto3 clients
and the real AWS CLI pointed at it.

boto3 and the CLI block, so the aiohttp server runs on its own event loop in a
background thread and the tests themselves are synchronous.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from openeks.aws.server import make_app
from tests.aws import fakes

AWS_CLI = str(Path(sys.executable).parent / "aws")


class ServerThread:
    """An aiohttp application served on 127.0.0.1:<free port> from a background thread."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(app, access_log=None)
        self.port = 0

    def __enter__(self) -> ServerThread:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.port = int(self.runner.addresses[0][1])

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Edge:
    url: str
    services: dict[str, fakes.Recorder]
    home: Path

    def client(
        self,
        service: str,
        credential: Any = fakes.ALICE,
        *,
        secret: str | None = None,
        validate: bool = True,
        region: str = fakes.REGION,
    ) -> Any:
        session = boto3.session.Session(
            aws_access_key_id=credential.access_key_id,
            aws_secret_access_key=secret or credential.secret_access_key,
            aws_session_token=credential.session_token,
            region_name=region,
        )
        config = Config(
            retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=validate
        )
        return session.client(service, endpoint_url=self.url, config=config)

    def raw(
        self,
        method: str,
        target: str,
        *,
        service: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        credential: Any = fakes.ALICE,
        sign: bool = True,
    ) -> RawResponse:
        """One HTTP request to `target` (path and query), signed for `service` unless
        `sign` is False, sent with http.client: no SDK between the test and the wire."""
        request = AWSRequest(
            method=method, url=f"{self.url}{target}", headers=dict(headers or {}), data=body
        )
        if sign:
            keys = Credentials(credential.access_key_id, credential.secret_access_key)
            SigV4Auth(keys, service, fakes.REGION).add_auth(request)
        prepared = request.prepare()
        host, port = self.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            connection.request(method, target, body=prepared.body, headers=dict(prepared.headers))
            response = connection.getresponse()
            data = response.read()
            headers_out = {name.lower(): value for name, value in response.getheaders()}
            return RawResponse(response.status, headers_out, data)
        finally:
            connection.close()

    def aws(
        self, *args: str, credential: Any = fakes.ALICE, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_ACCESS_KEY_ID": credential.access_key_id,
            "AWS_SECRET_ACCESS_KEY": credential.secret_access_key,
            **(env or {}),
        }
        command = [AWS_CLI, "--endpoint-url", self.url, "--region", fakes.REGION]
        return subprocess.run(
            [*command, "--output", "json", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def aws_json(self, *args: str, **kwargs: Any) -> Any:
        done = self.aws(*args, **kwargs)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    services = fakes.all_services()
    app = make_app(services, fakes.lookup, fakes.REGION)
    with ServerThread(app) as server:
        yield Edge(server.url, services, tmp_path_factory.mktemp("aws-home"))
