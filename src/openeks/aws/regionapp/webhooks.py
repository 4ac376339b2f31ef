"""The region's HTTPS endpoint for the admission webhooks it installs in clusters.

API servers call admission webhooks over HTTPS only, checking the server against the
webhook's `caBundle`. The region has its own CA for that (`DATA/pki/ca.crt`, made once,
0600) and serves the webhook routes on a second, TLS site of its app, on a region-wide
loopback address of its own (kept across restarts, so installed webhook URLs stay
valid). Today one webhook lives there: Fargate's pod mutation
(`POST /openeks/fargate/<cluster>/mutate`, see `region.fargate.admission`).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from openeks.kube.apiserver import pki
from openeks.region.fargate.admission import review
from openeks.region.fargate.controller import Webhook
from openeks.region.state import RegionState
from openeks.region.zones import AddressAllocator

OWNER = "region/webhooks"


class WebhookSite:
    def __init__(self, state: RegionState, data_dir: Path, allocator: AddressAllocator) -> None:
        self.state = state
        self.endpoint = allocator.endpoint(OWNER, None, "https", 8443)
        directory = data_dir / "pki"
        directory.mkdir(parents=True, exist_ok=True)
        ca = pki.load_or_create_ca(directory, "openeks-region")
        pki.load_or_issue(
            directory, "webhooks", lambda: pki.issue_serving(ca, [self.endpoint.host])
        )
        self.ca_pem = ca.cert_pem
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(directory / "webhooks.crt", directory / "webhooks.key")

    @property
    def webhook(self) -> Webhook:
        base = f"https://{self.endpoint.host}:{self.endpoint.port}"
        return Webhook(
            url=lambda cluster: f"{base}/openeks/fargate/{cluster}/mutate", ca_pem=self.ca_pem
        )

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/openeks/fargate/{name}/mutate", self._fargate)]

    async def start(self, runner: web.AppRunner) -> None:
        site = web.TCPSite(runner, self.endpoint.host, self.endpoint.port, ssl_context=self.context)
        await site.start()

    async def _fargate(self, request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read())
            if not isinstance(body, dict):
                raise TypeError("not an object")
        except (orjson.JSONDecodeError, TypeError) as e:
            return web.json_response({"message": f"not an AdmissionReview: {e}"}, status=400)
        cluster = request.match_info["name"]
        records = await self.state.list("fargateprofiles", f"{cluster}/")
        answer: Any = review(body, [r.value for r in records])
        return web.json_response(answer)
