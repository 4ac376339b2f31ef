"""The benchmarks still run: a short version of each in `make test`, the full in `make bench`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_apiserver_benchmark_runs_and_prints_every_figure() -> None:
    out = _run("bench/apiserver.py", "--quick", "--stores", "sqlite")
    for figure in (
        "create (16 clients)",
        "get (16",
        "update/patch",
        "steady 200/s",
        "list 1,000",
        "100 watchers",
        "RSS",
        "raw store put",
    ):
        assert figure in out, out


def test_rbac_benchmark_runs_and_compares_with_masters() -> None:
    out = _run("bench/rbac.py", "--requests", "300")
    assert "get as system:masters" in out and "RBAC cost" in out, out


@pytest.mark.slow
def test_apiserver_benchmark_full() -> None:
    print(_run("bench/apiserver.py"))


def test_cluster_benchmark_times_a_cluster_and_measures_its_memory() -> None:
    out = _run("bench/cluster.py", "--clusters", "1", "--runs", "1", "--idle", "2")
    for figure in (
        "CreateCluster → ACTIVE",
        "first kubectl get ns",
        "PSS median",
        "clusters ACTIVE",
    ):
        assert figure in out, out


def test_dataplane_benchmark_times_node_groups_and_reports_free_memory() -> None:
    out = _run("bench/dataplane.py", "--quick")
    for figure in (
        "(50 simulated nodes) → ACTIVE",
        "free memory (MemAvailable)",
        "DeleteNodegroup (50 simulated nodes)",
        "Fargate pod create → Running",
    ):
        assert figure in out, out
    assert "(3 runc nodes) → ACTIVE" in out or "runc node group: skipped" in out, out
