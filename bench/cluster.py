"""EKS clusters on one machine: time to ACTIVE, time to the first `kubectl get ns`, the
memory of an idle three-zone control plane, and how many clusters the machine holds.

Starts `openeks up` in a temporary directory, then for each cluster: CreateCluster with
boto3, poll DescribeCluster every 100 ms until ACTIVE, then run the real kubectl (with an
`openeks update-kubeconfig` kubeconfig, i.e. a k8s-aws-v1 token) until `get ns` works.
Memory is measured after the clusters have idled: RSS and PSS (shared pages divided
among the processes sharing them, so the per-cluster sum is honest) of every process
the supervisor runs for a cluster, with their children.

Usage: python bench/cluster.py [--clusters 5] [--runs 3]
Targets (issue 5): ACTIVE in <= 10 s; <= 400 MB per idle three-zone control plane.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.eks import ensure_role, role_arn, subnets
from tests.support.kubectl import kubectl_path
from tests.support.region import BIN, RegionProcess


def create_and_time(region: RegionProcess, name: str, workdir: Path) -> tuple[float, float]:
    eks = region.client("eks")
    started = time.monotonic()
    eks.create_cluster(
        name=name,
        roleArn=role_arn(region),
        resourcesVpcConfig={"subnetIds": subnets(region)},
    )
    while eks.describe_cluster(name=name)["cluster"]["status"] == "CREATING":
        time.sleep(0.1)
    active = time.monotonic() - started
    assert eks.describe_cluster(name=name)["cluster"]["status"] == "ACTIVE"
    kubeconfig = workdir / f"{name}.kubeconfig"
    env = region.env(KUBECONFIG=str(kubeconfig), HOME=str(workdir))
    subprocess.run(
        [
            str(BIN / "openeks"),
            "update-kubeconfig",
            "--name",
            name,
            "--kubeconfig",
            str(kubeconfig),
            "--endpoint-url",
            region.url,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    while subprocess.run([kubectl_path(), "get", "ns"], env=env, capture_output=True).returncode:
        time.sleep(0.1)
    return active, time.monotonic() - started


def _tree(pid: int) -> list[int]:
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += _tree(int(child))
    return out


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def cluster_memory(region: RegionProcess, name: str) -> dict[str, Any]:
    state = json.loads((region.data_dir / "supervisor" / "supervisor.json").read_text())
    by_kind: dict[str, list[int]] = {}
    rss_total = pss_total = 0
    for process, record in state["processes"].items():
        if not process.startswith(f"clusters/{name}/") or not record.get("pid"):
            continue
        kind = process.split("/")[2]
        rss = pss = 0
        for pid in _tree(int(record["pid"])):
            r, p = _memory(pid)
            rss, pss = rss + r, pss + p
        by_kind.setdefault(kind, []).append(pss)
        rss_total, pss_total = rss_total + rss, pss_total + pss
    return {
        "rss_mb": rss_total / 1024,
        "pss_mb": pss_total / 1024,
        "pss_by_kind_mb": {k: sum(v) / 1024 for k, v in sorted(by_kind.items())},
        "processes": sum(len(v) for v in by_kind.values()),
    }


def available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clusters", type=int, default=5, help="clusters to hold at once")
    parser.add_argument("--runs", type=int, default=3, help="create/delete runs to time")
    parser.add_argument("--idle", type=float, default=20, help="seconds to idle before measuring")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openeks-bench-") as tmp:
        workdir = Path(tmp)
        region = RegionProcess(workdir / "region").start()
        try:
            ensure_role(region)
            eks = region.client("eks")
            actives, firsts = [], []
            for run in range(args.runs):
                name = f"timed-{run}"
                active, first = create_and_time(region, name, workdir)
                actives.append(active)
                firsts.append(first)
                print(
                    f"run {run + 1}: ACTIVE in {active:.2f} s, first kubectl get ns {first:.2f} s"
                )
                if run < args.runs - 1:
                    eks.delete_cluster(name=name)
                    eks.get_waiter("cluster_deleted").wait(
                        name=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
                    )
            print(
                f"CreateCluster → ACTIVE: median {statistics.median(actives):.2f} s "
                f"(min {min(actives):.2f}, max {max(actives):.2f}; target ≤ 10 s)"
            )
            print(f"CreateCluster → first kubectl get ns: median {statistics.median(firsts):.2f} s")
            before = available_mb()
            names = [f"timed-{args.runs - 1}"]
            for i in range(1, args.clusters):
                name = f"held-{i}"
                create_and_time(region, name, workdir)
                names.append(name)
            time.sleep(args.idle)
            memories = [cluster_memory(region, name) for name in names]
            pss = [m["pss_mb"] for m in memories]
            rss = [m["rss_mb"] for m in memories]
            print(
                f"idle three-zone control plane ({memories[0]['processes']} processes): "
                f"PSS median {statistics.median(pss):.0f} MB, RSS median "
                f"{statistics.median(rss):.0f} MB (target ≤ 400 MB)"
            )
            print(
                "  PSS by component: "
                + ", ".join(f"{k} {v:.0f} MB" for k, v in memories[0]["pss_by_kind_mb"].items())
            )
            after = available_mb()
            ok = 0
            for name in names:
                kubeconfig = workdir / f"{name}.kubeconfig"
                env = region.env(KUBECONFIG=str(kubeconfig), HOME=str(workdir))
                done = subprocess.run([kubectl_path(), "get", "ns"], env=env, capture_output=True)
                ok += done.returncode == 0
            per_cluster = (before - after) / max(1, len(names) - 1)
            total = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) / 2**20
            print(
                f"{ok}/{len(names)} clusters ACTIVE and answering kubectl at once; "
                f"available memory fell {per_cluster:.0f} MB per added cluster → this "
                f"machine ({total / 1024:.0f} GiB) holds about "
                f"{int(after / max(per_cluster, 1)) + len(names)} (extrapolated)"
            )
        finally:
            region.stop()


if __name__ == "__main__":
    main()
