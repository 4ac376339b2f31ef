"""One instance, one node agent process: how a runc instance's `openeks kube node` is run
and how what it leaves on the host is removed when the instance goes.

The agent gets the instance's private DNS name as its Node name, its subnet's zone, its
instance type (capacity and max pods), the pod block the controller took from its subnet
(`--pod-cidr`, so pods show VPC addresses as with the VPC CNI), an address of its zone
for its kubelet port, and the labels and taints of its user data. Everything it keeps is
under the instance's directory: `kubeconfig`, `node/` (pods, runtime, network state) and
`node.log`.

Stopping an agent leaves its containers running, as stopping a kubelet does (a restarted
region adopts them). Terminating the instance must not: after the process is stopped,
`reset` runs `openeks kube node-reset` with the agent's own flags, which stops every pod
sandbox (containers, shims, network namespaces), deletes the node's bridge and, when no
other agent of the cluster on this host still runs a service proxy, the cluster's
iptables rules.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from openeks.region.process import ProcessSpec

log = logging.getLogger(__name__)

RESET_TIMEOUT = 120.0


@dataclass(frozen=True)
class Agent:
    """What one node agent process is started with."""

    directory: Path
    """The instance's directory."""
    name: str
    zone: str
    instance_type: str
    runtime: str
    pod_cidr: str
    address: str
    port: int
    max_pods: int
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    """More `kube node` flags (a Fargate node's `--cpu`, `--memory`, `--no-proxy`)."""

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    def common_args(self) -> list[str]:
        """The flags `kube node` and `kube node-reset` share."""
        return [
            "--kubeconfig", str(self.kubeconfig),
            "--name", self.name,
            "--zone", self.zone,
            "--instance-type", self.instance_type,
            "--runtime", self.runtime,
            "--data-dir", str(self.directory / "node"),
            "--pod-cidr", self.pod_cidr,
            "--address", self.address,
        ]  # fmt: skip

    def node_args(self) -> list[str]:
        args = ["kube", "node", *self.common_args()]
        args += ["--port", str(self.port), "--max-pods", str(self.max_pods)]
        if self.labels:
            args += ["--labels", ",".join(f"{k}={v}" for k, v in self.labels)]
        if self.taints:
            args += ["--taints", ",".join(self.taints)]
        return [*args, *self.extra]

    def reset_argv(self) -> list[str]:
        return [sys.executable, "-m", "openeks.cli.main", "kube", "node-reset", *self.common_args()]

    def spec(self, process_name: str) -> ProcessSpec:
        return ProcessSpec(
            name=process_name,
            zone=self.zone,
            argv=(sys.executable, "-m", "openeks.cli.main", *self.node_args()),
            log_file=self.directory / "node.log",
            cwd=self.directory,
            start_timeout=None,
            stop_grace=10.0,
            order=5,
        )


async def reset(argv: list[str], log_file: Path) -> bool:
    """Run `kube node-reset` (`Agent.reset_argv`); True when it finished cleanly."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL
        )
        try:
            code = await asyncio.wait_for(process.wait(), RESET_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            log.error("node-reset timed out: %s", " ".join(argv))
            return False
    if code != 0:
        log.error("node-reset failed (exit %d), see %s", code, log_file)
    return code == 0
