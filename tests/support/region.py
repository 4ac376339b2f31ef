"""Start a real `openeks up` region for a test, talk to it with boto3 and the AWS CLI,
and stop it (and every process it supervises) afterwards."""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.apiserver import free_port

REGION = "us-east-1"
BIN = Path(sys.executable).parent


class RegionProcess:
    """`with RegionProcess(tmp_path) as region:` → region.client("eks"), region.aws(...)."""

    def __init__(self, data_dir: Path, port: int = 0, extra: list[str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.extra = list(extra or [])
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "region.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials"

    def start(self, timeout: float = 60.0) -> RegionProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "openeks.cli.main", "--log-level", "INFO", "up"]
        cmd += ["--data-dir", str(self.data_dir), "--port", str(self.port), *self.extra]
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
            raise RuntimeError(f"region did not start: {self.log_path.read_text()[-3000:]}")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> None:
        """Stop the region; it stops every process it supervises. Anything left in its
        process group after `timeout` is killed."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL the region process only (its children die with it: PDEATHSIG)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> RegionProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clients ------------------------------------------------------------------------
    def root_key(self) -> tuple[str, str]:
        config = configparser.ConfigParser()
        config.read(self.credentials_file)
        section = config["default"]
        return section["aws_access_key_id"], section["aws_secret_access_key"]

    def client(self, service: str, key: tuple[str, str] | None = None, **extra: Any) -> Any:
        import boto3

        key_id, secret = key or self.root_key()
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            **extra,
        )

    def env(self, key: tuple[str, str] | None = None, **extra: str) -> dict[str, str]:
        """An environment for `aws`, `openeks` and `kubectl` children using this region."""
        key_id, secret = key or self.root_key()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=key_id,
            AWS_SECRET_ACCESS_KEY=secret,
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            **extra,
        )
        return env

    def aws(self, *args: str, key: tuple[str, str] | None = None, check: bool = True) -> Any:
        """Run the AWS CLI against the region: its JSON output parsed (other output as
        text), or the finished process when `check` is False."""
        cmd = [str(BIN / "aws"), "--endpoint-url", self.url, "--output", "json", *args]
        done = subprocess.run(cmd, env=self.env(key), capture_output=True, text=True, timeout=120)
        if not check:
            return done
        if done.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {done.stderr}")
        text = done.stdout.strip()
        return json.loads(text) if text[:1] in ("{", "[") else text
