"""A whole cluster for end-to-end tests: control plane process plus node agent processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.apiserver import ApiServerProcess


class NodeProcess:
    """`openeks kube node` as a process of its own (so a test can kill it)."""

    def __init__(
        self,
        kubeconfig: Path,
        data_dir: Path,
        name: str,
        *,
        zone: str = "us-east-1a",
        runtime: str = "runc",
        pod_cidr: str = "",
        extra: list[str] | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.data_dir = data_dir
        self.name = name
        self.zone = zone
        self.runtime = runtime
        self.pod_cidr = pod_cidr
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> NodeProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "openeks.cli.main",
            "--log-level",
            "INFO",
            "kube",
            "node",
            "--kubeconfig",
            str(self.kubeconfig),
            "--name",
            self.name,
            "--zone",
            self.zone,
            "--runtime",
            self.runtime,
            "--data-dir",
            str(self.data_dir),
        ]
        if self.pod_cidr:
            cmd += ["--pod-cidr", self.pod_cidr]
        cmd += self.extra
        log = open(self.data_dir / "node.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
        log.close()
        return self

    def stop(self, kill: bool = False, reset: bool = False) -> None:
        """Stop the agent (its containers keep running, as a kubelet's do); with `reset`,
        also stop those containers and remove the node's network."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None
        if reset and self.runtime == "runc":
            cmd = [
                sys.executable,
                "-m",
                "openeks.cli.main",
                "kube",
                "node-reset",
                "--kubeconfig",
                str(self.kubeconfig),
                "--name",
                self.name,
                "--runtime",
                "runc",
                "--data-dir",
                str(self.data_dir),
                "--pod-cidr",
                self.pod_cidr,
            ]
            subprocess.run(cmd, capture_output=True, timeout=120)

    def log(self) -> str:
        path = self.data_dir / "node.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""


class Cluster:
    """A control plane (API server, scheduler, controllers) and its node agents."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.api = ApiServerProcess(root / "control-plane", control_plane=True)
        self.nodes: list[NodeProcess] = []

    @property
    def kubeconfig(self) -> Path:
        return self.api.kubeconfig

    def start(self) -> Cluster:
        self.api.start()
        return self

    def node_kubeconfig(self, name: str) -> Path:
        """Credentials of the node's own identity: system:node:<name> in system:nodes."""
        from openeks.kube.apiserver.kubeconfig import issue_for

        out = self.root / f"{name}.kubeconfig"
        return issue_for(self.api.data_dir, f"system:node:{name}", ["system:nodes"], out)

    def add_node(self, name: str, **kw: object) -> NodeProcess:
        kubeconfig = self.node_kubeconfig(name)
        node = NodeProcess(kubeconfig, self.root / name, name, **kw)  # type: ignore[arg-type]
        self.nodes.append(node)
        return node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop(reset=True)
        self.api.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(check: object, timeout: float = 60.0, interval: float = 0.5, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()  # type: ignore[operator]
        except AssertionError as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or check}: {last}")
