"""Pod sandboxes of the runc runtime: namespaces, address and pod files, on disk.

A sandbox is a directory `sandboxes/<id>/` holding `sandbox.json` (its record), the
persistent IPC/UTS namespace files under `ns/`, and the pod's hosts, resolv.conf and
hostname files; its network namespace is `/run/netns/oe-<id prefix>` (so `ip netns`
shows it). The record is written before anything is made and marked `ready` last: a
record that is not ready after a crash is a half-made sandbox that `cleanup` tears
down. Teardown is idempotent, so it can be retried after any failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from openeks.kube.api.meta import now, rfc3339
from openeks.kube.node.network import NetworkError, PodNetwork
from openeks.kube.node.runtime.base import RuntimeFailure, Sandbox, SandboxConfig
from openeks.kube.node.runtime.mounts import (
    MountError,
    create_namespaces,
    destroy_namespaces,
    netns_path,
)
from openeks.kube.node.runtime.podfiles import hostname_of, write_pod_files


@dataclass
class SandboxRecord:
    id: str
    pod_uid: str
    name: str
    namespace: str
    hostname: str
    host_network: bool
    ip: str = ""
    netns: str = ""
    created_at: str = ""
    ready: bool = False

    def sandbox(self) -> Sandbox:
        return Sandbox(id=self.id, ip=self.ip, netns=self.netns)


class Sandboxes:
    """The sandboxes of one node agent, under `root/sandboxes/`."""

    def __init__(self, root: Path, network: PodNetwork) -> None:
        self.root = Path(root) / "sandboxes"
        self.root.mkdir(parents=True, exist_ok=True)
        self.network = network

    def path(self, sandbox_id: str) -> Path:
        return self.root / sandbox_id

    def ns_path(self, sandbox_id: str, kind: str) -> str:
        """Host path of the sandbox's persistent `ipc` or `uts` namespace."""
        return str(self.path(sandbox_id) / "ns" / kind)

    def pod_files(self, sandbox_id: str) -> dict[str, Path]:
        directory = self.path(sandbox_id)
        names = ("hosts", "resolv.conf", "hostname")
        return {f"/etc/{name}": directory / name for name in names}

    def load(self, sandbox_id: str) -> SandboxRecord | None:
        try:
            data = json.loads((self.path(sandbox_id) / "sandbox.json").read_text())
            return SandboxRecord(**data)
        except (OSError, ValueError, TypeError):
            return None

    def all(self) -> list[SandboxRecord]:
        records = (self.load(entry.name) for entry in self.root.iterdir())
        return [record for record in records if record is not None]

    def _save(self, record: SandboxRecord) -> None:
        path = self.path(record.id) / "sandbox.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(record), indent=1))
        os.replace(tmp, path)

    async def create(self, config: SandboxConfig) -> SandboxRecord:
        sandbox_id = secrets.token_hex(32)
        record = SandboxRecord(
            id=sandbox_id,
            pod_uid=config.pod_uid,
            name=config.name,
            namespace=config.namespace,
            hostname=hostname_of(config),
            host_network=config.host_network,
            netns="" if config.host_network else netns_path(f"oe-{sandbox_id[:16]}"),
            created_at=rfc3339(now()),
        )
        self.path(sandbox_id).mkdir(parents=True)
        self._save(record)
        try:
            await create_namespaces(
                self.path(sandbox_id) / "ns", record.netns, record.hostname, not config.host_network
            )
            if config.host_network:
                record.ip = await self.network.node_ip()
            else:
                record.ip = await self.network.attach(sandbox_id, record.netns)
            await asyncio.to_thread(write_pod_files, self.path(sandbox_id), config, record.ip)
        except BaseException as exc:
            # Whatever failed, leave no namespace, address or directory behind.
            with contextlib.suppress(Exception):
                await self.destroy(sandbox_id)
            if not isinstance(exc, MountError | NetworkError | OSError):
                raise
            raise RuntimeFailure(
                "FailedCreatePodSandBox", f"Failed to create pod sandbox: {exc}"
            ) from exc
        record.ready = True
        self._save(record)
        return record

    async def destroy(self, sandbox_id: str) -> None:
        """Free the address, drop the namespaces, delete the directory; idempotent."""
        record = self.load(sandbox_id)
        netns = record.netns if record else netns_path(f"oe-{sandbox_id[:16]}")
        if record is None or not record.host_network:
            await self.network.detach(sandbox_id)
        destroy_namespaces(self.path(sandbox_id) / "ns", netns)
        shutil.rmtree(self.path(sandbox_id), ignore_errors=True)
