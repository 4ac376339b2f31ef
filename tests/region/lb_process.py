"""A load balancer in a process of its own, for latency measurements:
`python tests/region/lb_process.py HOST:PORT BACKEND_HOST:PORT... [--uvloop]`.
Prints "ready" once listening and runs until killed."""

from __future__ import annotations

import argparse
import asyncio

from openeks.region import HealthCheck, TcpLoadBalancer


def address(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


async def run(listen: tuple[str, int], backends: list[tuple[str, int]]) -> None:
    lb = TcpLoadBalancer(listen, backends, HealthCheck(kind="https", path="/readyz"))
    await lb.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("listen", type=address)
    parser.add_argument("backends", type=address, nargs="+")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.run(run(args.listen, args.backends))
    else:
        asyncio.run(run(args.listen, args.backends))


if __name__ == "__main__":
    main()
