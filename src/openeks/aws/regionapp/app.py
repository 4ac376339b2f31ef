"""The region service — what `openeks up` runs.

One process per region: the AWS endpoint (EKS, IAM, STS, EC2 on one port, SigV4-checked
against the region's identities), the region state (sqlite by default), the supervisor
that runs every cluster's processes, and the cluster controller that turns EKS records
into running control planes. Besides the AWS APIs the endpoint serves the region's own
routes, matched first:

    POST /openeks/eks/clusters/<name>/tokenreview   the clusters' token webhook
    POST /openeks/eks/clusters/<name>/join          a hand-run node's kubeconfig (join.py)
    POST /openeks/fault/zone-down?zone=…            fault injection (see region.faults)
    GET  /openeks/eks/clusters/<name>/fargate-usage  Fargate usage records
    POST /openeks/fargate/<name>/mutate              the Fargate admission webhook (also
                                                     served over HTTPS, see webhooks.py)
    GET  /openeks/health                             200 once serving

Stopping (SIGTERM, SIGINT) stops the controller, then every supervised process; the
state file and the region state keep everything, so the next start brings every ACTIVE
cluster back on the same addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from openeks.aws.ec2 import Ec2Service
from openeks.aws.eks import EksService
from openeks.aws.iam import IamService
from openeks.aws.identity import Credential
from openeks.aws.regionapp.join import NodeJoin
from openeks.aws.regionapp.nodeaccess import NodeAccess
from openeks.aws.regionapp.tokens import TokenReviewer, credential_of
from openeks.aws.regionapp.webhooks import WebhookSite
from openeks.aws.server import make_app
from openeks.aws.sts import StsService
from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import builtin_resources
from openeks.kube.client import Client, load_kubeconfig
from openeks.region.clusters.controller import ClusterController
from openeks.region.fargate.controller import FargateController
from openeks.region.fargate.metering import USAGE_KIND
from openeks.region.faults import fault_routes
from openeks.region.identity import DEFAULT_ACCOUNT_ID, Identities, load_account
from openeks.region.instances.controller import InstanceController
from openeks.region.network import ensure_default_vpc
from openeks.region.nodegroups.controller import NodegroupController
from openeks.region.state import RegionState
from openeks.region.supervisor import Supervisor
from openeks.region.zones import AddressAllocator, Region
from openeks.store import Store, open_store

log = logging.getLogger(__name__)

Doc = dict[str, Any]
DEFAULT_PORT = 4566
CONFIG_MAPS = next(r for r in builtin_resources() if r.group == "" and r.plural == "configmaps")


@dataclass
class RegionConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    region: str = "us-east-1"
    store_url: str = ""
    """'' = sqlite in the data directory."""
    zones: int = 3
    account_id: str = DEFAULT_ACCOUNT_ID
    """The account's id when the region is first started (kept in the state after)."""

    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite://{self.data_dir.resolve() / 'region.db'}"


class RegionService:
    def __init__(self, config: RegionConfig) -> None:
        self.config = config
        self.region = Region.create(config.region, zone_count=config.zones)
        self.store: Store | None = None
        self.supervisor: Supervisor | None = None
        self.controller: ClusterController | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.port = config.port

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    async def start(self) -> None:
        cfg = self.config
        data_dir = cfg.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store = await open_store(cfg.resolved_store_url())
        state = RegionState(self.store)
        account = await load_account(state, self.region.name, cfg.account_id)
        identities = Identities(state, account)
        await identities.ensure_root_key(data_dir / "credentials")
        await ensure_default_vpc(state, self.region, account.id)
        self.supervisor = await Supervisor(data_dir / "supervisor", self.region.zone_names).open(
            resume=True
        )
        allocator = AddressAllocator(self.region, data_dir / "ipam.json")
        self.controller = ClusterController(
            state,
            self.supervisor,
            allocator,
            self.region.zone_names,
            data_dir,
            lambda name: f"{self.url}/openeks/eks/clusters/{name}/tokenreview",
            self.region.name,
        )
        reviewer = TokenReviewer(state, identities, self.region.name, aws_auth=self._aws_auth)

        async def credential(access_key_id: str) -> Credential | None:
            key = await identities.key(access_key_id)
            return None if key is None else credential_of(key)

        services = {
            "eks": EksService(state, identities, self.region),
            "iam": IamService(state, identities),
            "sts": StsService(state, identities),
            "ec2": Ec2Service(state, self.region),
        }
        webhooks = WebhookSite(state, data_dir, allocator)
        routes = [
            web.get("/openeks/health", _health),
            web.post("/openeks/eks/clusters/{name}/tokenreview", _token_review(reviewer)),
            NodeJoin(
                state, credential, reviewer.kubernetes_user, data_dir, self.region.name
            ).route(),
            web.get("/openeks/eks/clusters/{name}/fargate-usage", _fargate_usage(state)),
            *webhooks.routes(),
            *fault_routes(self.supervisor, self.region),
        ]
        app = make_app(services, credential, self.region.name, routes=routes)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, cfg.host, cfg.port)
        await site.start()
        await webhooks.start(self._runner)
        if cfg.port == 0:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        instances = InstanceController(
            state, self.supervisor, allocator, data_dir, reviewer.kubernetes_user
        )
        nodegroups = NodegroupController(
            state, self.region, account.id, data_dir, NodeAccess(state, data_dir).grant
        )
        fargate = FargateController(
            state, self.supervisor, allocator, data_dir, self.region.name, webhooks.webhook
        )
        for name, runner in (
            ("clusters", self.controller.run()),
            ("fargate", fargate.run()),
            ("instances", instances.run()),
            ("nodegroups", nodegroups.run()),
        ):
            self._tasks.append(asyncio.create_task(runner, name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
        if self.supervisor is not None:
            await self.supervisor.close()
        if self.store is not None:
            await self.store.close()

    async def _aws_auth(self, cluster: str) -> Doc | None:
        """The cluster's kube-system/aws-auth ConfigMap data (CONFIG_MAP access modes)."""
        assert self.controller is not None
        record = await self.controller.state.get("clusters", cluster)
        if record is None or record.value.get("status") not in ("ACTIVE", "UPDATING"):
            return None
        plan = self.controller.plan_for(record.value)
        try:
            async with Client(load_kubeconfig(plan.admin_kubeconfig)) as client:
                found = await client.get(CONFIG_MAPS, "aws-auth", namespace="kube-system")
        except (ApiError, OSError):
            return None
        data = found.get("data")
        return data if isinstance(data, dict) else None


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _token_review(reviewer: TokenReviewer) -> Any:
    async def review(request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read())
            token = body["spec"]["token"]
            if not isinstance(token, str):
                raise TypeError("spec.token must be a string")
        except (orjson.JSONDecodeError, KeyError, TypeError) as e:
            return web.json_response({"message": f"not a TokenReview: {e}"}, status=400)
        status = await reviewer.review(request.match_info["name"], token)
        return web.json_response(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}
        )

    return review


def _fargate_usage(state: RegionState) -> Any:
    """The cluster's Fargate usage records, for `openeks fargate usage --endpoint-url`."""

    async def usage(request: web.Request) -> web.Response:
        records = await state.list(USAGE_KIND, f"{request.match_info['name']}/")
        return web.json_response({"usage": [r.value for r in records]})

    return usage


async def run(config: RegionConfig) -> None:
    """Serve until SIGTERM/SIGINT, then stop everything started."""
    service = RegionService(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await service.start()
        print(
            f"openeks region {config.region} ready on {service.url} "
            f"(zones {', '.join(service.region.zone_names)}; "
            f"credentials: {config.data_dir / 'credentials'})",
            flush=True,
        )
        await stop.wait()
    finally:
        await service.stop()
