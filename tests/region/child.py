"""A stand-in for a supervised process: `python tests/region/child.py NAME [options]`.

It appends what happens to it to a record file ("start NAME PID TIME", "term NAME TIME")
so tests can see starts, restarts and the order of stops, and optionally listens on a
TCP address (for readiness probes) after a delay.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--listen", help="host:port to listen on")
    parser.add_argument("--listen-after", type=float, default=0.0)
    parser.add_argument("--exit-after", type=float, help="exit with --exit-code after N s")
    parser.add_argument("--exit-code", type=int, default=3)
    parser.add_argument("--term-delay", type=float, default=0.0, help="linger after SIGTERM")
    parser.add_argument("--ignore-term", action="store_true")
    args = parser.parse_args()

    def record(line: str) -> None:
        with open(args.record, "a") as f:
            f.write(f"{line} {time.time():.6f}\n")

    def on_term(signum: int, frame: FrameType | None) -> None:
        record(f"term {args.name}")
        if args.ignore_term:
            return
        time.sleep(args.term_delay)
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    record(f"start {args.name} {os.getpid()}")
    print(f"{args.name} started", flush=True)
    started = time.monotonic()
    server = None
    while True:
        now = time.monotonic() - started
        if args.exit_after is not None and now >= args.exit_after:
            sys.exit(args.exit_code)
        if args.listen and server is None and now >= args.listen_after:
            host, port = args.listen.rsplit(":", 1)
            server = socket.create_server((host, int(port)))
            server.settimeout(0.05)
        if server is not None:
            try:
                conn, _ = server.accept()
                conn.close()
            except TimeoutError:
                pass
        else:
            time.sleep(0.02)


if __name__ == "__main__":
    main()
