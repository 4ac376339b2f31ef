"""Start a real `openeks kube up` process for a test and stop it afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiServerProcess:
    """`with ApiServerProcess(tmp_path) as api:` → api.kubeconfig, api.url; always stopped."""

    def __init__(
        self,
        data_dir: Path,
        store: str = "",
        port: int = 0,
        extra: list[str] | None = None,
        control_plane: bool = False,
    ) -> None:
        """control_plane: also run the scheduler and controller manager (else API only)."""
        self.data_dir = data_dir
        self.store = store
        self.port = port or free_port()
        self.extra = list(extra or [])
        if not control_plane:
            self.extra += ["--no-scheduler", "--no-controllers"]
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "apiserver.log"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ApiServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "openeks.cli.main",
            "kube",
            "up",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
        ]
        if self.store:
            cmd += ["--store", self.store]
        cmd += self.extra
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=log, start_new_session=True
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if b"ready" in line or not line:
                break
        if b"ready" not in line:
            self.stop()
            raise RuntimeError(f"apiserver did not start: {self.log_path.read_text()[-3000:]}")
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> ApiServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
