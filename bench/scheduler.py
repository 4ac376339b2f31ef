"""Scheduler benchmark: pods bound per second and create→bound latency.

Starts a real API server (`openeks kube up`, sqlite store, its own scheduler and
controllers off), creates N Node objects through the API (labelled
`openeks.io/simulated=true`, zones a/b/c, 4 cpu / 16Gi / 110 pods each), starts the
Scheduler in this process, waits for its caches, then creates M small pods as fast as
16 concurrent clients can while the scheduler binds them. Reported:

- scheduling throughput: pods bound per second, from the first bind to the last;
- create→bound latency p50/p99 (from just before the create request to the moment the
  scheduler's bind request returned);
- the create rate achieved, and the scheduler's own counters.

Pods and binds are both writes, so with both flowing the API server's write rate
(~1,200/s on sqlite) is shared between them: streaming measures the pipeline, bounded by
the API server. Backlog mode creates all pods first and then starts the scheduler, which
measures how fast the scheduler drains a queue (binds are then the only writes). Both
run by default. `--replicaset` makes the pods a ReplicaSet's, so the system default
topology spreading (zone and hostname) is computed for every pod.

Usage: python bench/scheduler.py [--quick] [--mode both|streaming|backlog] [--replicaset]
       [--no-events]
Target (issue): >= 500 pods/s at 1,000 nodes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openeks.kube.client import Client, ClientConfig, load_kubeconfig
from openeks.kube.client.resources import NAMESPACES, NODES, PODS, REPLICASETS
from openeks.kube.scheduler import Scheduler, SchedulerConfig
from openeks.kube.scheduler.framework.types import PodInfo
from tests.support.apiserver import ApiServerProcess

CLIENTS = 48
NAMESPACE = "bench"


def node(i: int) -> dict[str, Any]:
    name = f"node-{i:04d}"
    resources = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "openeks.io/simulated": "true",
                "kubernetes.io/hostname": name,
                "topology.kubernetes.io/zone": "abc"[i % 3],
            },
        },
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


REPLICASET = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "metadata": {"name": "bench", "namespace": NAMESPACE},
    "spec": {
        "replicas": 0,
        "selector": {"matchLabels": {"app": "bench"}},
        "template": {
            "metadata": {"labels": {"app": "bench"}},
            "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]},
        },
    },
}


def pod(i: int, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": f"pod-{i:05d}",
        "namespace": NAMESPACE,
        "labels": {"app": "bench"},
    }
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                }
            ]
        },
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


async def concurrently(count: int, op: Any, clients: int = CLIENTS) -> float:
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            i = next_index
            next_index += 1
            await op(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - start


class Run:
    def __init__(
        self, config: ClientConfig, nodes: int, pods: int, args: argparse.Namespace, api_pid: int
    ):
        self.api_pid = api_pid
        self.config = config
        self.nodes = nodes
        self.pods = pods
        self.args = args
        self.created: dict[str, float] = {}
        self.bound: dict[str, float] = {}
        self.done = asyncio.Event()
        self.owner: dict[str, Any] | None = None

    def on_bound(self, p: PodInfo, host: str) -> None:
        self.bound[p.key] = time.perf_counter()
        if len(self.bound) >= self.pods:
            self.done.set()

    async def create_pods(self, client: Client) -> float:
        async def create(i: int) -> None:
            body = pod(i, self.owner)
            self.created[f"{NAMESPACE}/{body['metadata']['name']}"] = time.perf_counter()
            await client.create(PODS, body, NAMESPACE)

        return await concurrently(self.pods, create)

    async def start_scheduler(self) -> tuple[Scheduler, asyncio.Task[None]]:
        sched = Scheduler(
            SchedulerConfig(
                self.config,
                leader_elect=False,
                record_scheduled_events=not self.args.no_events,
            )
        )
        sched.on_bound = self.on_bound
        task = asyncio.create_task(sched.run())
        while sched.cache is None or sched.cache.num_nodes < self.nodes:
            await asyncio.sleep(0.05)
        return sched, task

    async def go(self) -> list[str]:
        async with Client(self.config, connections=CLIENTS + 4) as client:
            await client.create(
                NAMESPACES,
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
            )
            await concurrently(self.nodes, lambda i: client.create(NODES, node(i)))
            if self.args.replicaset:
                rs = await client.create(REPLICASETS, REPLICASET, NAMESPACE)
                self.owner = {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "bench",
                    "uid": rs["metadata"]["uid"],
                    "controller": True,
                }
            if self.args.backlog:
                create_time = await self.create_pods(client)
                sched, task = await self.start_scheduler()
                cpu = self.cpu()
            else:
                sched, task = await self.start_scheduler()
                cpu = self.cpu()
                create_time = await self.create_pods(client)
            try:
                await asyncio.wait_for(self.done.wait(), timeout=max(60, self.pods / 50))
                self.cpu_used = [b - a for a, b in zip(cpu, self.cpu(), strict=True)]
            finally:
                stats = sched.stats
                self.dropped = sched.reporter.dropped if sched.reporter is not None else 0
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return self.report(create_time, stats)

    def cpu(self) -> tuple[float, float, float]:
        return cpu_seconds(self.api_pid), cpu_seconds(os.getpid()), time.perf_counter()

    def report(self, create_time: float, stats: Any) -> list[str]:
        api_cpu, own_cpu, wall = self.cpu_used
        times = sorted(self.bound.values())
        span = times[-1] - times[0] if len(times) > 1 else float("nan")
        latencies = [self.bound[k] - self.created[k] for k in self.bound if k in self.created]
        mode = "backlog" if self.args.backlog else "streaming"
        if self.args.replicaset:
            mode += ", owned by a ReplicaSet: default spreading on"
        return [
            f"{self.nodes} nodes, {self.pods} pods ({mode}):",
            f"  scheduled            {len(times) / span:8.0f} pods/s  (first to last bind, "
            f"{span:.1f} s)",
            f"  create→bound         p50 {percentile(latencies, 50) * 1000:7.1f} ms   "
            f"p99 {percentile(latencies, 99) * 1000:7.1f} ms",
            f"  pods created         {self.pods / create_time:8.0f} /s",
            f"  scheduler            {stats}, Scheduled events dropped: {self.dropped}",
            f"  cpu while scheduling API server {api_cpu / wall:.0%}, "
            f"this process {own_cpu / wall:.0%} (over {wall:.1f} s)",
        ]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bench(nodes: int, pods: int, args: argparse.Namespace, scratch: Path) -> list[str]:
    data = scratch / f"kube-{nodes}"
    api = ApiServerProcess(
        data, store=f"sqlite://{data / 'state.db'}", extra=["--no-scheduler", "--no-controllers"]
    )
    api.start()
    try:
        assert api.proc is not None
        return await Run(load_kubeconfig(api.kubeconfig), nodes, pods, args, api.proc.pid).go()
    finally:
        api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    parser.add_argument(
        "--mode",
        choices=["both", "streaming", "backlog"],
        default="both",
        help="streaming: schedule while pods are created; backlog: create all, then schedule",
    )
    parser.add_argument(
        "--replicaset", action="store_true", help="pods owned by a ReplicaSet (default spreading)"
    )
    parser.add_argument("--no-events", action="store_true", help="no Scheduled events")
    args = parser.parse_args()
    sizes = [(100, 300), (300, 1000)] if args.quick else [(100, 1000), (1000, 10000)]
    print(f"openeks scheduler benchmark ({os.cpu_count()} CPUs)", flush=True)
    with tempfile.TemporaryDirectory(prefix="openeks-bench-") as tmp:
        modes = ["streaming", "backlog"] if args.mode == "both" else [args.mode]
        for nodes, pods in sizes:
            for mode in modes:
                args.backlog = mode == "backlog"
                for line in uvloop.run(bench(nodes, pods, args, Path(tmp) / mode)):
                    print(line, flush=True)


if __name__ == "__main__":
    main()
