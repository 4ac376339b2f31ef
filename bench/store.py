"""Store throughput: creates/s with 16 concurrent writers and gets/s, per backend.

    .venv/bin/python bench/store.py [--seconds 2] [--concurrency 16] [--only sqlite,etcd]

Each backend gets a fresh store (sqlite in a temporary directory, etcd as a
single-member cluster this script starts and always stops; its data directory is on
/dev/shm when possible, pass --etcd-dir to put it on a real disk). Writers create
distinct 512-byte values for `--seconds`, then readers get random keys among those.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from openeks.store import Store, open_store
from tests.support.etcd import EtcdCluster

VALUE = b"x" * 512


@asynccontextmanager
async def backend(name: str, etcd_dir: str | None) -> AsyncIterator[Store]:
    if name == "memory":
        store = await open_store("memory://")
        try:
            yield store
        finally:
            await store.close()
    elif name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="openeks-bench-") as tmp:
            store = await open_store(f"sqlite://{tmp}/state.db")
            try:
                yield store
            finally:
                await store.close()
    elif name == "etcd":
        async with EtcdCluster(etcd_dir, members=1) as cluster:
            store = await open_store(cluster.url)
            try:
                yield store
            finally:
                await store.close()
    else:
        raise SystemExit(f"unknown backend {name!r}")


async def run_for(
    seconds: float, concurrency: int, op: Callable[[int, int], Awaitable[object]]
) -> float:
    """Run `op(worker, i)` from `concurrency` tasks for `seconds`; returns ops per second."""
    deadline = time.monotonic() + seconds
    counts = [0] * concurrency

    async def worker(w: int) -> None:
        while time.monotonic() < deadline:
            await op(w, counts[w])
            counts[w] += 1

    start = time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return sum(counts) / (time.monotonic() - start)


async def measure(store: Store, seconds: float, concurrency: int) -> tuple[float, float]:
    written: list[str] = []

    async def put(w: int, i: int) -> None:
        key = f"/bench/{w}/{i}"
        await store.create(key, VALUE)
        written.append(key)

    async def get(w: int, i: int) -> None:
        await store.get(random.choice(written))

    puts = await run_for(seconds, concurrency, put)
    gets = await run_for(seconds, concurrency, get)
    return puts, gets


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", default="memory,sqlite,etcd")
    parser.add_argument("--etcd-dir", default=None, help="parent of etcd's data directory")
    args = parser.parse_args()

    print(f"{'backend':<8} {'put/s':>10} {'get/s':>10}   ({args.concurrency} concurrent tasks)")
    for name in args.only.split(","):
        async with backend(name, args.etcd_dir) as store:
            puts, gets = await measure(store, args.seconds, args.concurrency)
        print(f"{name:<8} {puts:>10,.0f} {gets:>10,.0f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
