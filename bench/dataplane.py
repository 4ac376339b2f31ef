"""Worker nodes on one machine: CreateNodegroup → ACTIVE for a group of three runc nodes,
and for a group of 1,000 simulated nodes, with the machine's free memory around it.

Starts `openeks up` in a temporary directory and one cluster (single-zone control plane
unless `--three-zone`), then:

- runc: CreateNodegroup (3 t3.medium over the three default subnets) with boto3, poll
  DescribeNodegroup every 100 ms until ACTIVE (every node Ready), DeleteNodegroup and
  wait until it is gone; `--runs` times, the median reported. Skipped without root/runc.
- simulated: CreateNodegroup of `--nodes` nodes (label `openeks.io/runtime: simulated`,
  one fleet process per zone) until ACTIVE, with MemAvailable before the create and once
  ACTIVE, the fleet processes' RSS, and the time DeleteNodegroup takes.

- fargate: a Fargate profile for namespace `bench` (simulated nodes: the figure is the
  Fargate path — webhook, sizing, node start, binding — not an image pull), then
  `--runs` single pods created through the API and timed until Running (median).

Usage: python bench/dataplane.py [--runs 3] [--nodes 1000] [--quick]
Targets (issue 6): 3 runc nodes ACTIVE in <= 10 s; 1,000 simulated nodes ACTIVE in <= 60 s;
a Fargate pod Running in <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.eks import create, ensure_role, subnets
from tests.support.kubectl import Kubectl
from tests.support.region import RegionProcess

CLUSTER = "bench"
TRUST_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def fleet_rss_mb(region: RegionProcess) -> float:
    return sum(rss_mb(pid) for pid in fleet_pids(region))


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fleet_pids(region: RegionProcess) -> list[int]:
    state = json.loads((region.data_dir / "supervisor" / "supervisor.json").read_text())
    return [
        int(record["pid"])
        for name, record in state["processes"].items()
        if name.startswith("fleets/") and record.get("pid")
    ]


def idle_cpu(region: RegionProcess, seconds: float) -> tuple[float, float]:
    """CPU use (in % of one core) of the region process and of the fleets while idle."""
    assert region.proc is not None
    pids = [region.proc.pid, *fleet_pids(region)]
    before = [cpu_seconds(p) for p in pids]
    time.sleep(seconds)
    used = [cpu_seconds(p) - b for p, b in zip(pids, before, strict=True)]
    return 100 * used[0] / seconds, 100 * sum(used[1:]) / seconds


def runc_available() -> bool:
    return os.geteuid() == 0 and shutil.which("runc") is not None


def time_to_active(region: RegionProcess, name: str, role: str, **extra: Any) -> float:
    eks = region.client("eks")
    started = time.monotonic()
    eks.create_nodegroup(
        clusterName=CLUSTER, nodegroupName=name, subnets=subnets(region), nodeRole=role, **extra
    )
    while True:
        status = eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=name)["nodegroup"]
        if status["status"] != "CREATING":
            break
        time.sleep(0.1)
    took = time.monotonic() - started
    if status["status"] != "ACTIVE":
        raise RuntimeError(f"node group {name} went {status['status']}: {status.get('health')}")
    return took


def delete_and_wait(region: RegionProcess, name: str) -> float:
    eks = region.client("eks")
    started = time.monotonic()
    eks.delete_nodegroup(clusterName=CLUSTER, nodegroupName=name)
    eks.get_waiter("nodegroup_deleted").wait(
        clusterName=CLUSTER, nodegroupName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 600}
    )
    return time.monotonic() - started


def bench_runc(region: RegionProcess, role: str, runs: int) -> None:
    if runs < 1 or not runc_available():
        print("runc node group: skipped" + ("" if runs < 1 else " (needs root and runc)"))
        return
    times = []
    for run in range(runs):
        took = time_to_active(
            region,
            f"runc-{run}",
            role,
            instanceTypes=["t3.medium"],
            scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 3},
        )
        times.append(took)
        print(f"run {run + 1}: 3 runc nodes ACTIVE in {took:.2f} s", flush=True)
        delete_and_wait(region, f"runc-{run}")
    print(
        f"CreateNodegroup (3 runc nodes) → ACTIVE: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}; target ≤ 10 s)",
        flush=True,
    )


def bench_simulated(region: RegionProcess, role: str, nodes: int) -> None:
    before = available_mb()
    took = time_to_active(
        region,
        "sim",
        role,
        instanceTypes=["t3.medium"],
        labels={"openeks.io/runtime": "simulated"},
        scalingConfig={"minSize": 1, "maxSize": nodes, "desiredSize": nodes},
    )
    after = available_mb()
    print(
        f"CreateNodegroup ({nodes:,} simulated nodes) → ACTIVE: {took:.1f} s "
        f"({nodes / took:.0f} nodes/s; target for 1,000: ≤ 60 s)",
        flush=True,
    )
    print(
        f"free memory (MemAvailable): {before:,.0f} MB before, {after:,.0f} MB once ACTIVE "
        f"({before - after:,.0f} MB used); fleet processes RSS {fleet_rss_mb(region):,.0f} MB",
        flush=True,
    )
    region_cpu, fleet_cpu = idle_cpu(region, 5 if nodes < 100 else 20)
    print(
        f"idle with {nodes:,} nodes: region process {region_cpu:.0f} % of a core, "
        f"fleet processes {fleet_cpu:.0f} %",
        flush=True,
    )
    gone = delete_and_wait(region, "sim")
    print(f"DeleteNodegroup ({nodes:,} simulated nodes) → gone: {gone:.1f} s", flush=True)


def bench_fargate(region: RegionProcess, runs: int) -> None:
    ec2, iam, eks = region.client("ec2"), region.client("iam"), region.client("eks")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnet = ec2.create_subnet(
        VpcId=vpc["VpcId"], CidrBlock="172.31.192.0/20", AvailabilityZone="us-east-1a"
    )["Subnet"]
    trust = TRUST_EC2.replace("ec2.amazonaws.com", "eks-fargate-pods.amazonaws.com")
    role = iam.create_role(RoleName="bench-fargate", AssumeRolePolicyDocument=trust)["Role"]
    eks.create_fargate_profile(
        clusterName=CLUSTER,
        fargateProfileName="bench",
        podExecutionRoleArn=role["Arn"],
        subnets=[subnet["SubnetId"]],
        selectors=[{"namespace": "bench"}],
        tags={"openeks.io/runtime": "simulated"},
    )
    eks.get_waiter("fargate_profile_active").wait(
        clusterName=CLUSTER, fargateProfileName="bench", WaiterConfig={"Delay": 1}
    )
    kubectl = Kubectl(region.data_dir / "clusters" / CLUSTER / "admin.kubeconfig", region.data_dir)
    kubectl("create", "namespace", "bench")
    while kubectl.run("get", "sa", "default", "-n", "bench", check=False).returncode:
        time.sleep(0.1)
    times = []
    for run in range(runs):
        name = f"pod-{run}"
        started = time.monotonic()
        kubectl("run", name, "-n", "bench", "--image=busybox", "--", "sleep", "3600")
        while True:
            pod = json.loads(kubectl("get", "pod", name, "-n", "bench", "-o", "json"))
            if pod["status"].get("phase") == "Running":
                break
            time.sleep(0.05)
        times.append(time.monotonic() - started)
    print(
        f"Fargate pod create → Running: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}; {runs} pods; target <= 3 s; "
        "includes a kubectl start per poll)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runc node groups to time")
    parser.add_argument("--nodes", type=int, default=1000, help="simulated node group size")
    parser.add_argument("--three-zone", action="store_true", help="three-zone control plane")
    parser.add_argument("--quick", action="store_true", help="1 runc run, 50 simulated nodes")
    args = parser.parse_args()
    runs, nodes = (1, 50) if args.quick else (args.runs, args.nodes)
    with tempfile.TemporaryDirectory(prefix="openeks-bench-") as tmp:
        region = RegionProcess(Path(tmp) / "region").start()
        try:
            ensure_role(region)
            extra = {} if args.three_zone else {"tags": {"openeks.io/control-plane": "single-zone"}}
            create(region, CLUSTER, **extra)
            iam = region.client("iam")
            role = iam.create_role(RoleName="bench-node", AssumeRolePolicyDocument=TRUST_EC2)
            bench_runc(region, role["Role"]["Arn"], runs)
            bench_simulated(region, role["Role"]["Arn"], nodes)
            bench_fargate(region, max(runs, 3))
        finally:
            region.stop()


if __name__ == "__main__":
    main()
