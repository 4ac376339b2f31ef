"""The API server process: PKI, store, watch cache, bootstrap objects, HTTPS listener.

Start-up follows readiness, not sleeps: store open → watch cache loaded → system
namespaces and the `kubernetes` Service exist → listener bound → ready line printed.
Background loops (namespace finalizer, compaction) start after that and stop with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from openeks.kube.api import errors, meta, schema
from openeks.kube.api.resources import Resources, builtin_resources
from openeks.kube.apiserver import accessreviews, kubeconfig, pki, rbacbootstrap
from openeks.kube.apiserver.admission import Admission
from openeks.kube.apiserver.admission.plugins import build_admission
from openeks.kube.apiserver.auth import (
    AuthenticationChain,
    BearerAuthenticator,
    CertificateAuthenticator,
)
from openeks.kube.apiserver.authorization import RBACAuthorizer
from openeks.kube.apiserver.context import ApiContext, VersionInfo
from openeks.kube.apiserver.crds import CRDManager
from openeks.kube.apiserver.maintenance import Compactor
from openeks.kube.apiserver.masterleases import LeaseEndpointReconciler
from openeks.kube.apiserver.namespaces import NamespaceFinalizer
from openeks.kube.apiserver.openapi import OpenAPI
from openeks.kube.apiserver.proxy import NodeProxy
from openeks.kube.apiserver.registry import Registry, ResourceStore, WriteOptions, decode
from openeks.kube.apiserver.routes import Routes, auth_middleware, errors_middleware
from openeks.kube.apiserver.serviceaccounts import SigningKey, TokenIssuer
from openeks.kube.apiserver.strategies import SecretStrategy, ServiceNetwork, strategy_for
from openeks.kube.apiserver.strategies.rbac import BindingStrategy, RoleStrategy
from openeks.kube.apiserver.tokenfile import StaticTokens
from openeks.kube.apiserver.tokenwebhook import WebhookTokenAuthenticator
from openeks.kube.apiserver.watchcache import WatchCache
from openeks.store import Store, open_store

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class ServerConfig:
    """Settings of one API server; every field has the default `openeks kube up` uses."""

    data_dir: Path
    """Where certificates, kubeconfigs and (by default) the sqlite store live."""
    port: int = 6443
    bind_address: str = "127.0.0.1"
    store_url: str = ""
    """Empty means sqlite://<data_dir>/state.db."""
    version: str = ""
    """Kubernetes minor version to serve ('1.37'); empty means the newest available."""
    service_cidr: str = "10.100.0.0/16"
    extra_sans: list[str] = field(default_factory=list)
    """More names and addresses for the serving certificate."""
    cluster_name: str = "openeks"
    compaction_interval: float = 300.0
    service_account_issuer: str = "https://kubernetes.default.svc.cluster.local"
    """The `iss` of service account tokens; EKS puts its OIDC issuer URL here."""
    api_audiences: list[str] = field(default_factory=list)
    """Audiences tokens must carry to be accepted; default: the issuer."""
    authorization_mode: str = "RBAC"
    """'RBAC' or 'AlwaysAllow'."""
    pki_dir: Path | None = None
    """Certificates and keys; several API servers of one cluster share it. Default:
    <data_dir>/pki, created on first start."""
    external_url: str = ""
    """The URL clients should use (a load balancer in front of several API servers);
    written into generated kubeconfigs. Default: this server's own URL."""
    token_webhook_url: str = ""
    """Where unknown bearer tokens are sent as TokenReviews (the EKS IAM bridge)."""
    token_webhook_prefix: str = ""
    """Only tokens with this prefix go to the webhook ('' = all)."""
    token_auth_file: Path | None = None
    """Static bearer tokens, CSV: token,user,uid,"group1,group2"."""
    namespace_finalizer: bool = True
    """Empty terminating namespaces in-process (off when a controller manager does it)."""

    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite://{self.data_dir.resolve() / 'state.db'}"

    def resolved_version(self) -> str:
        served = schema.served_minors()
        if not self.version:
            return served[-1]
        if self.version not in served:
            raise ValueError(
                f"Kubernetes version {self.version} is not served; "
                f"choose one of {', '.join(served)}"
            )
        return self.version


class ApiServer:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store: Store | None = None
        self.cache: WatchCache | None = None
        self.ctx: ApiContext | None = None
        self.runner: web.AppRunner | None = None
        self.network = ServiceNetwork(cidr=config.service_cidr)
        self._tasks: list[asyncio.Task[None]] = []
        self._ready = False
        self.port = config.port
        self.bearer = BearerAuthenticator()
        self.node_proxy: NodeProxy | None = None
        self.token_webhook: WebhookTokenAuthenticator | None = None
        self.endpoints: LeaseEndpointReconciler | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config
        minor = cfg.resolved_version()
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        tls = self._pki()
        self.store = await open_store(cfg.resolved_store_url())
        resources = Resources(builtin_resources())
        self.cache = WatchCache(self.store)
        registry = Registry(self.store, self.cache)
        for info in resources.all():
            if info.stored:
                registry.add(info, strategy_for(info, self.network))
        await self.cache.start({rs.prefix: decode for rs in registry.stores()})
        self.ctx = ApiContext(resources, registry, schema.definitions(minor), VersionInfo(minor))
        self.ctx.admission = Admission(*build_admission(self.ctx))
        await self._bootstrap()
        await rbacbootstrap.reconcile(registry)
        if cfg.authorization_mode not in ("RBAC", "AlwaysAllow"):
            raise ValueError(f"unknown authorization mode {cfg.authorization_mode!r}")
        self.authorizer = RBACAuthorizer(
            self.cache, always_allow=cfg.authorization_mode == "AlwaysAllow"
        )
        for rs in registry.stores():
            if isinstance(rs.strategy, RoleStrategy | BindingStrategy):
                rs.strategy.authorizer = self.authorizer
        app = web.Application(
            middlewares=[
                errors_middleware,
                auth_middleware(self._authenticators(), self.authorizer),
            ],
            client_max_size=8 * 1024 * 1024,
        )
        openapi = OpenAPI(resources, self.ctx.definitions, minor)
        self.crds = CRDManager(self.ctx, openapi)
        await self.crds.sync()
        pki_dir = self.pki_dir
        self.node_proxy = NodeProxy(
            registry,
            pki_dir / "apiserver-kubelet-client.crt",
            pki_dir / "apiserver-kubelet-client.key",
        )
        self.issuer = TokenIssuer(
            SigningKey.load_or_create(pki_dir),
            cfg.service_account_issuer,
            cfg.api_audiences,
            registry,
        )
        self.bearer.token_authenticators.append(self.issuer)
        secrets = registry.for_storage("core/secrets").strategy
        assert isinstance(secrets, SecretStrategy)
        secrets.mint = self.issuer.legacy_token
        secrets.ca_pem = self.ca.cert_pem
        if cfg.token_auth_file is not None:
            self.bearer.token_authenticators.append(StaticTokens.load(cfg.token_auth_file))
        if cfg.token_webhook_url:
            self.token_webhook = WebhookTokenAuthenticator(
                cfg.token_webhook_url, prefix=cfg.token_webhook_prefix
            )
            self.bearer.token_authenticators.append(self.token_webhook)
        routes = Routes(
            self.ctx,
            openapi,
            f"{cfg.bind_address}:{cfg.port}",
            lambda: self._ready,
            self.node_proxy,
            issuer=self.issuer,
            bearer=self.bearer,
            server_url=f"https://{cfg.bind_address}:{cfg.port}",
        )
        authorizer = self.authorizer
        routes.access_reviews = lambda request, ri, info: accessreviews.serve(
            request, ri, info, authorizer
        )
        routes.install(app)
        self.runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self.runner.setup()
        site = web.TCPSite(self.runner, cfg.bind_address, cfg.port, ssl_context=tls, backlog=1024)
        await site.start()
        if cfg.port == 0:
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._write_admin_kubeconfig()
        if cfg.namespace_finalizer:
            self._tasks.append(
                asyncio.create_task(
                    NamespaceFinalizer(registry, resources, self.ca.cert_pem.decode()).run()
                )
            )
        self._tasks.append(
            asyncio.create_task(
                Compactor(self.store, cfg.compaction_interval, self.cache.compacted).run()
            )
        )
        self.endpoints = LeaseEndpointReconciler(self.store, registry, cfg.bind_address, self.port)
        self._tasks.append(asyncio.create_task(self.endpoints.run()))
        self._tasks.append(asyncio.create_task(rbacbootstrap.Aggregator(registry).run()))
        self._tasks.append(asyncio.create_task(self.crds.run()))
        self._ready = True

    async def stop(self) -> None:
        self._ready = False
        for task in self._tasks:
            task.cancel()
        if self.endpoints is not None:
            await self.endpoints.stop()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.runner is not None:
            await self.runner.cleanup()
        if self.node_proxy is not None:
            await self.node_proxy.close()
        if self.token_webhook is not None:
            await self.token_webhook.close()
        if self.cache is not None:
            await self.cache.stop()
        if self.store is not None:
            await self.store.close()

    @property
    def url(self) -> str:
        return f"https://{self.config.bind_address}:{self.port}"

    # -- set-up ------------------------------------------------------------------------
    def _authenticators(self) -> AuthenticationChain:
        return AuthenticationChain([CertificateAuthenticator(), self.bearer])

    def _pki(self) -> ssl.SSLContext:
        cfg = self.config
        pki_dir = self.pki_dir
        self.ca = pki.load_or_create_ca(pki_dir)
        hosts = [
            "127.0.0.1",
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            self.network.first_ip(),
            cfg.bind_address,
            *cfg.extra_sans,
        ]
        serving = pki.load_or_issue(
            pki_dir, "apiserver", lambda: pki.issue_serving(self.ca, sorted(set(hosts)))
        )
        pki.load_or_issue(
            pki_dir,
            "apiserver-kubelet-client",
            lambda: pki.issue_client(self.ca, "kube-apiserver-kubelet-client", ["system:masters"]),
        )
        self.admin = pki.load_or_issue(
            pki_dir,
            "admin",
            lambda: pki.issue_client(self.ca, "kubernetes-admin", ["system:masters"]),
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pki_dir / "apiserver.crt", pki_dir / "apiserver.key")
        context.load_verify_locations(cadata=self.ca.cert_pem.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
        context.set_alpn_protocols(["http/1.1"])
        del serving
        return context

    @property
    def pki_dir(self) -> Path:
        return self.config.pki_dir or self.config.data_dir / "pki"

    @property
    def client_url(self) -> str:
        return self.config.external_url or self.url

    def write_kubeconfig(
        self, filename: str, user: str, groups: list[str], local: bool = False
    ) -> Path:
        """A kubeconfig for `user` in `groups` with a client certificate (mode 0600);
        `local`: for this server itself rather than the cluster's external URL."""
        pki_dir = self.pki_dir
        stem = user.replace(":", "-")
        pair = pki.load_or_issue(pki_dir, stem, lambda: pki.issue_client(self.ca, user, groups))
        path = self.config.data_dir / filename
        url = self.url if local else self.client_url
        kubeconfig.write(path, url, self.ca.cert_pem, user, pair, self.config.cluster_name)
        return path

    def _write_admin_kubeconfig(self) -> None:
        cfg = self.config
        kubeconfig.write(
            cfg.data_dir / "admin.kubeconfig",
            self.client_url,
            self.ca.cert_pem,
            "kubernetes-admin",
            self.admin,
            cfg.cluster_name,
        )

    async def _bootstrap(self) -> None:
        """Create the system namespaces and the `kubernetes` Service if missing."""
        assert self.ctx is not None
        ctx = self.ctx
        namespaces = ctx.registry.for_storage("core/namespaces")
        for name in SYSTEM_NAMESPACES:
            await _ensure(
                namespaces,
                "",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            )
        services = ctx.registry.for_storage("core/services")
        await _ensure(
            services,
            "default",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": self.network.first_ip(),
                    "ports": [
                        {
                            "name": "https",
                            "port": 443,
                            "protocol": "TCP",
                            "targetPort": self.config.port,
                        }
                    ],
                    "sessionAffinity": "None",
                    "type": "ClusterIP",
                },
            },
        )
        endpoints = ctx.registry.for_storage("core/endpoints")
        await _ensure(
            endpoints,
            "default",
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {
                    "name": "kubernetes",
                    "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
                },
                "subsets": [
                    {
                        "addresses": [{"ip": self.config.bind_address}],
                        "ports": [{"name": "https", "port": self.config.port, "protocol": "TCP"}],
                    }
                ],
            },
        )


async def _ensure(rs: ResourceStore, namespace: str, obj: dict[str, Any]) -> None:
    """Create a system object unless it exists."""
    if await rs.store.get(rs.key(namespace, obj["metadata"]["name"])) is not None:
        return
    try:
        await rs.create(
            namespace, meta.deep_copy(obj), WriteOptions(field_manager="openeks-apiserver")
        )
    except errors.ApiError as e:
        if e.code != 409:
            raise


async def run(config: ServerConfig, ready_line: bool = True) -> None:
    """Run until SIGTERM/SIGINT, then stop cleanly."""
    import signal

    server = ApiServer(config)
    await server.start()
    if ready_line:
        print(
            f"openeks apiserver ready on {server.url} (Kubernetes v{server.ctx.version.minor}, "  # type: ignore[union-attr]
            f"store {config.resolved_store_url()}); "
            f"kubeconfig: {config.data_dir / 'admin.kubeconfig'}",
            flush=True,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
