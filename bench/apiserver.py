"""API server benchmark: throughput, latency, lists, watch fan-out and memory.

For each store (sqlite, etcd) it starts a real `openeks kube up` process and measures,
with 16 concurrent HTTPS clients in this process:

- create / get / update throughput and p50/p99 latency (ConfigMaps),
- create latency at a steady 200 creates/s,
- listing 1,000 objects,
- fan-out of one change to 100 watchers (time until the last watcher has it),
- the server's RSS when idle and after the run,
- and, as the baseline in the same run, the raw store's put rate (same backend, same
  concurrency, no HTTP, no API machinery).

Usage: python bench/apiserver.py [--quick] [--stores sqlite,etcd]
Targets (issue 2): >= 1,000 creates/s with 16 clients on sqlite; create p99 <= 50 ms at
200 creates/s; idle RSS <= 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import orjson
import uvloop
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openeks.store import open_store
from tests.support.apiserver import ApiServerProcess
from tests.support.etcd import EtcdCluster

CLIENTS = 16


def tls_from_kubeconfig(path: Path, scratch: Path) -> ssl.SSLContext:
    cfg = yaml.safe_load(path.read_text())
    user = cfg["users"][0]["user"]
    cert, key = scratch / "bench.crt", scratch / "bench.key"
    cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
    key.write_bytes(base64.b64decode(user["client-key-data"]))
    ca = base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    ctx = ssl.create_default_context(cadata=ca)
    ctx.load_cert_chain(cert, key)
    return ctx


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, latencies: list[float], elapsed: float) -> str:
    rate = len(latencies) / elapsed
    p50 = percentile(latencies, 50) * 1000
    p99 = percentile(latencies, 99) * 1000
    return f"  {name:<28} {rate:8.0f}/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"


async def run_concurrent(
    count: int, op: Callable[[int], Awaitable[None]]
) -> tuple[list[float], float]:
    latencies: list[float] = []
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            i = next_index
            next_index += 1
            start = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CLIENTS)))
    return latencies, time.perf_counter() - start


def configmap(name: str, value: str = "x") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"key": value},
    }


class Bench:
    def __init__(self, url: str, tls: ssl.SSLContext, quick: bool) -> None:
        self.url = url
        self.tls = tls
        self.n = 600 if quick else 5000
        self.quick = quick

    def session(self, limit: int = CLIENTS) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self.tls, limit=limit),
            json_serialize=lambda v: orjson.dumps(v).decode(),
        )

    async def namespace(self, s: aiohttp.ClientSession, name: str) -> str:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        async with s.post(f"{self.url}/api/v1/namespaces", json=body) as r:
            assert r.status in (201, 409), await r.text()
        return f"{self.url}/api/v1/namespaces/{name}/configmaps"

    async def crud(self) -> list[str]:
        out = []
        async with self.session() as s:
            base = await self.namespace(s, "crud")

            async def create(i: int) -> None:
                async with s.post(base, json=configmap(f"cm-{i}")) as r:
                    assert r.status == 201, await r.text()
                    await r.read()

            lat, elapsed = await run_concurrent(self.n, create)
            out.append(summary("create (16 clients)", lat, elapsed))

            async def get(i: int) -> None:
                async with s.get(f"{base}/cm-{i % self.n}") as r:
                    assert r.status == 200
                    await r.read()

            lat, elapsed = await run_concurrent(self.n, get)
            out.append(summary("get (16 clients)", lat, elapsed))

            async def update(i: int) -> None:
                patch = {"data": {"key": f"v{i}"}}
                headers = {"Content-Type": "application/merge-patch+json"}
                async with s.patch(
                    f"{base}/cm-{i % self.n}", data=orjson.dumps(patch), headers=headers
                ) as r:
                    assert r.status == 200, await r.text()
                    await r.read()

            lat, elapsed = await run_concurrent(self.n, update)
            out.append(summary("update/patch (16 clients)", lat, elapsed))
        return out

    async def steady(self, rate: int = 200, seconds: float = 10.0) -> str:
        seconds = 3.0 if self.quick else seconds
        latencies: list[float] = []
        async with self.session(limit=64) as s:
            base = await self.namespace(s, "steady")

            async def create(i: int) -> None:
                start = time.perf_counter()
                async with s.post(base, json=configmap(f"s-{i}")) as r:
                    assert r.status == 201, await r.text()
                    await r.read()
                latencies.append(time.perf_counter() - start)

            tasks = []
            start = time.perf_counter()
            for i in range(int(rate * seconds)):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(create(i)))
            await asyncio.gather(*tasks)
        p50 = percentile(latencies, 50) * 1000
        p99 = percentile(latencies, 99) * 1000
        return (
            f"  create at steady {rate}/s      p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
            f"   ({len(latencies)} creates)"
        )

    async def list_thousand(self) -> str:
        async with self.session() as s:
            base = await self.namespace(s, "list")

            async def create(i: int) -> None:
                async with s.post(base, json=configmap(f"l-{i}", "y" * 100)) as r:
                    assert r.status == 201
                    await r.read()

            await run_concurrent(1000, create)
            times = []
            for _ in range(10):
                start = time.perf_counter()
                async with s.get(base) as r:
                    body = await r.read()
                times.append(time.perf_counter() - start)
                items = orjson.loads(body)["items"]
                # the namespace also holds kube-root-ca.crt, published by the server
                assert sum(i["metadata"]["name"].startswith("l-") for i in items) == 1000
            paged = []
            for _ in range(5):
                start = time.perf_counter()
                token = ""
                while True:
                    async with s.get(
                        base, params={"limit": "500", **({"continue": token} if token else {})}
                    ) as r:
                        data = orjson.loads(await r.read())
                    token = data["metadata"].get("continue", "")
                    if not token:
                        break
                paged.append(time.perf_counter() - start)
        return (
            f"  list 1,000 objects           median {statistics.median(times) * 1000:6.1f} ms"
            f"   (in pages of 500: {statistics.median(paged) * 1000:.1f} ms)"
        )

    async def fan_out(self, watchers: int = 100) -> str:
        rounds = 3 if self.quick else 10
        async with self.session(limit=watchers + 4) as s:
            base = await self.namespace(s, "fanout")
            async with s.post(base, json=configmap("watched")) as r:
                rv = (await r.json())["metadata"]["resourceVersion"]
            queues: list[asyncio.Queue[float]] = [asyncio.Queue() for _ in range(watchers)]

            async def watch(q: asyncio.Queue[float]) -> None:
                params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "120"}
                async with s.get(
                    base, params=params, timeout=aiohttp.ClientTimeout(total=None)
                ) as r:
                    async for _line in r.content:
                        q.put_nowait(time.perf_counter())

            tasks = [asyncio.create_task(watch(q)) for q in queues]
            await asyncio.sleep(1.0)
            spreads = []
            for i in range(rounds):
                start = time.perf_counter()
                patch = orjson.dumps({"data": {"key": f"r{i}"}})
                headers = {"Content-Type": "application/merge-patch+json"}
                async with s.patch(f"{base}/watched", data=patch, headers=headers) as r:
                    assert r.status == 200
                arrivals = [await asyncio.wait_for(q.get(), 10) for q in queues]
                spreads.append(max(arrivals) - start)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return (
            f"  one change to {watchers} watchers   "
            f"median {statistics.median(spreads) * 1000:6.1f} ms "
            f"until the last watcher has it (max {max(spreads) * 1000:.1f} ms)"
        )


async def raw_store_rate(url: str, quick: bool) -> str:
    store = await open_store(url)
    n = 3000 if quick else 20000
    value = orjson.dumps(configmap("raw"))
    lat, elapsed = await run_concurrent(n, lambda i: store.create(f"/bench/raw/{i}", value))  # type: ignore[arg-type,return-value]
    await store.close()
    return summary("raw store put (baseline)", lat, elapsed)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def server_pid(api: ApiServerProcess) -> int:
    assert api.proc is not None
    return api.proc.pid


async def bench_store(kind: str, quick: bool, scratch: Path) -> list[str]:
    lines = [f"\n{kind}:"]
    if kind == "etcd":
        cluster = EtcdCluster(members=1).start()
        store_url = cluster.url
    else:
        cluster = None
        store_url = ""
    try:
        with ApiServerProcess(scratch / f"kube-{kind}", store=store_url) as api:
            time.sleep(2)
            idle = rss_mb(server_pid(api))
            bench = Bench(api.url, tls_from_kubeconfig(api.kubeconfig, scratch), quick)
            lines += await bench.crud()
            lines.append(await bench.steady())
            lines.append(await bench.list_thousand())
            lines.append(await bench.fan_out())
            lines.append(
                f"  server RSS                   idle {idle:.0f} MB, "
                f"after the run {rss_mb(server_pid(api)):.0f} MB"
            )
        raw_url = store_url or f"sqlite://{scratch / 'raw' / 'raw.db'}"
        lines.append(await raw_store_rate(raw_url, quick))
    finally:
        if cluster is not None:
            cluster.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (CI smoke run)")
    parser.add_argument("--stores", default="sqlite,etcd")
    args = parser.parse_args()
    print(f"openeks API server benchmark ({os.cpu_count()} CPUs, {CLIENTS} concurrent clients)")
    with tempfile.TemporaryDirectory(prefix="openeks-bench-") as tmp:
        for kind in args.stores.split(","):
            for line in uvloop.run(bench_store(kind, args.quick, Path(tmp))):
                print(line, flush=True)


if __name__ == "__main__":
    main()
