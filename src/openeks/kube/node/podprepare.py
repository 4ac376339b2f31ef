"""What a pod needs before its containers can start: sources, volumes, sandbox, /etc/hosts.

In kubelet's order: the configMaps and secrets the pod reads (env, envFrom, volumes,
imagePullSecrets) are fetched, volumes are set up (and refreshed every resync interval,
which is how mounted configMaps and secrets follow their sources), then the sandbox is
created — its address is the pod IP — and the kubelet-managed /etc/hosts is written.
A step that fails leaves the pod in ContainerCreating with kubelet's event (FailedMount,
FailedCreatePodSandBox) and asks for another sync shortly.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.node import envvars, sandbox, volumes
from openeks.kube.node.containers import ContainerRunner, StartInputs
from openeks.kube.node.context import AgentContext
from openeks.kube.node.podstate import PodState
from openeks.kube.node.runtime.base import RuntimeFailure

log = logging.getLogger(__name__)

Obj = dict[str, Any]
RETRY = 2.0
SANDBOX_RETRY = 5.0


class PodPreparer:
    def __init__(self, ctx: AgentContext, state: PodState, runner: ContainerRunner) -> None:
        self.ctx = ctx
        self.state = state
        self.runner = runner
        self.volumes: dict[str, volumes.VolumePath] = {}
        self.volumes_at = -1e9

    @property
    def pod(self) -> Obj:
        return self.runner.pod

    @property
    def spec(self) -> Obj:
        return self.pod.get("spec") or {}

    @property
    def pod_dir(self) -> Path:
        return self.ctx.pod_dir(self.state.uid)

    def pod_ips(self) -> list[str]:
        if self.spec.get("hostNetwork"):
            return list(self.ctx.host_ips)
        if self.state.sandbox is not None and self.state.sandbox.ip:
            return [self.state.sandbox.ip]
        old = (self.pod.get("status") or {}).get("podIPs") or []
        return [p["ip"] for p in old if p.get("ip")]

    def resync_in(self) -> float:
        """Seconds until volumes are due for a refresh."""
        return max(0.5, self.ctx.config.resync_interval - (time.monotonic() - self.volumes_at))

    # -- the steps ----------------------------------------------------------------------
    async def prepare(self) -> StartInputs | None:
        """Sources, volumes, sandbox, hosts file; None when the pod has to wait."""
        try:
            sources = await self._sources()
        except ApiError as e:
            log.debug("pod %s: cannot read sources: %s", self.state.name, e)
            self.runner.retry(RETRY)
            return None
        downward = envvars.PodContext(
            self.pod, self.pod_ips(), self.ctx.host_ips, self.ctx.allocatable
        )
        if not await self._setup_volumes(sources, downward):
            return None
        if not await self._ensure_sandbox():
            return None
        assert self.state.sandbox is not None
        downward.pod_ips = self.pod_ips()
        services = envvars.service_env(envvars.services_for_pod(self.pod, self.ctx.services()))
        secret_names = [s.get("name", "") for s in self.spec.get("imagePullSecrets") or ()]
        pull_secrets = [sources.secrets[n] for n in secret_names if sources.secrets.get(n)]
        return StartInputs(
            downward=downward,
            sources=sources,
            services=services,
            volumes=self.volumes,
            sandbox=self.state.sandbox,
            hosts_file=self._write_hosts(),
            pull_secrets=[s for s in pull_secrets if s is not None],
        )

    async def _sources(self) -> envvars.Sources:
        configmaps, secrets = volumes.referenced_sources(self.pod)
        for c in (self.spec.get("containers") or []) + (self.spec.get("initContainers") or []):
            cms, secs = envvars.referenced_sources(c)
            configmaps |= cms
            secrets |= secs
        secrets |= {s.get("name", "") for s in self.spec.get("imagePullSecrets") or ()}
        return await self.ctx.sources.fetch(self.state.namespace, configmaps, secrets)

    async def _token(self, volume: Obj) -> str | None:
        for source in (volume.get("projected") or {}).get("sources") or ():
            token = source.get("serviceAccountToken")
            if token:
                account = self.spec.get("serviceAccountName") or "default"
                expiration = int(token.get("expirationSeconds") or 3600)
                return await self.ctx.sources.token(
                    self.pod, account, token.get("audience", ""), expiration
                )
        return None

    async def _setup_volumes(self, sources: envvars.Sources, downward: envvars.PodContext) -> bool:
        due = time.monotonic() - self.volumes_at >= self.ctx.config.resync_interval
        if self.volumes and not due:
            return True
        for volume in self.spec.get("volumes") or ():
            try:
                token = await self._token(volume)
                self.volumes[volume["name"]] = volumes.setup_volume(
                    volume, self.pod_dir, sources, downward, token
                )
            except volumes.VolumeError as e:
                self.ctx.event(
                    self.pod,
                    "Warning",
                    "FailedMount",
                    f'MountVolume.SetUp failed for volume "{volume.get("name")}" : {e}',
                )
                self.runner.retry(RETRY)
                return False
            except OSError as e:
                log.warning("pod %s: volume %s: %s", self.state.name, volume.get("name"), e)
                self.runner.retry(RETRY)
                return False
        self.volumes_at = time.monotonic()
        return True

    async def _ensure_sandbox(self) -> bool:
        if self.state.sandbox is not None:
            return True
        config = sandbox.sandbox_config(
            self.pod, self.ctx.config.cluster_dns, self.ctx.config.cluster_domain, self.ctx.host_dns
        )
        try:
            self.state.sandbox = await self.ctx.runtime.run_sandbox(config)
        except (RuntimeFailure, OSError) as e:
            self.ctx.event(
                self.pod, "Warning", "FailedCreatePodSandBox", f"Failed to create pod sandbox: {e}"
            )
            self.runner.retry(SANDBOX_RETRY)
            return False
        self.state.save(self.pod_dir)
        return True

    def _write_hosts(self) -> Path | None:
        if self.spec.get("hostNetwork"):
            return None
        ips = self.pod_ips()
        path = self.pod_dir / "etc-hosts"
        content = sandbox.hosts_file(self.pod, ips, self.ctx.config.cluster_domain)
        if not path.exists() or path.read_text() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            path.chmod(0o644)
        return path

    async def teardown_sandbox(self) -> None:
        if self.state.sandbox is None:
            return
        try:
            await self.ctx.runtime.stop_sandbox(self.state.sandbox)
        except (RuntimeFailure, OSError) as e:
            log.warning("pod %s: stopping sandbox: %s", self.state.name, e)
        self.state.sandbox = None
        self.state.save(self.pod_dir)
