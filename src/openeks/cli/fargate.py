"""`openeks fargate usage --cluster X`: a cluster's Fargate usage and cost per namespace.

The usage comes from the region's documents `fargateusage/<cluster>/<pod uid>` (one per
pod the Fargate scheduler ran; see `openeks.region.fargate.metering`), read one of two
ways:

- `--endpoint-url URL`: from a running region, `GET <URL>/openeks/eks/clusters/<cluster>
  /fargate-usage`, which answers `{"usage": [<usage document>, ...]}`;
- `--data-dir DIR` (the default, `.openeks` or `$OPENEKS_DATA_DIR`): straight from the
  region's sqlite state in `DIR/region.db`, for a region that is not running (a running
  region holds the file's lock, and the command then says to use `--endpoint-url`).

The report is a table (or JSON with `--output json`): per namespace the pods run, those
still running, vCPU-seconds, GB-seconds and the cost at the us-east-1 Fargate rates; then
the total. Running pods count up to now.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openeks.cli.loop import run_loop
from openeks.region.fargate import metering

DEFAULT_DATA_DIR = os.environ.get("OPENEKS_DATA_DIR", ".openeks")
Doc = dict[str, Any]
COLUMNS = ("NAMESPACE", "PODS", "RUNNING", "VCPU-SECONDS", "GB-SECONDS", "COST (USD)")


def add_commands(commands: Any) -> None:
    fargate = commands.add_parser("fargate", help="Fargate usage and cost")
    sub = fargate.add_subparsers(dest="fargate_command", required=True)
    usage = sub.add_parser("usage", help="usage and cost per namespace of a cluster's pods")
    usage.add_argument("--cluster", required=True, help="the cluster's name")
    source = usage.add_mutually_exclusive_group()
    source.add_argument("--data-dir", type=Path, help="read a stopped region's state")
    source.add_argument("--endpoint-url", help="ask a running region (http://host:port)")
    usage.add_argument("--output", choices=("table", "json"), default="table")
    usage.set_defaults(run=_usage)


# -- reading usage documents ---------------------------------------------------------------


async def _from_state(data_dir: Path, cluster: str) -> list[Doc]:
    from openeks.region.state import RegionState
    from openeks.store import UnavailableError, open_store

    path = data_dir / "region.db"
    if not path.exists():
        raise ValueError(f"no region state in {data_dir} (no {path.name})")
    try:
        store = await open_store(f"sqlite://{path.resolve()}")
    except UnavailableError:
        raise ValueError(
            f"the region using {data_dir} is running; ask it with --endpoint-url"
        ) from None
    try:
        records = await RegionState(store).list(metering.USAGE_KIND, f"{cluster}/")
    finally:
        await store.close()
    return [record.value for record in records]


async def _from_region(base_url: str, cluster: str) -> list[Doc]:
    import aiohttp

    url = f"{base_url.rstrip('/')}/openeks/eks/clusters/{quote(cluster, safe='')}/fargate-usage"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
            session.get(url) as response,
        ):
            status = response.status
            document = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as e:
        raise ValueError(f"cannot read Fargate usage from {base_url}: {e}") from e
    if status != 200 or not isinstance(document, dict):
        message = document.get("message") if isinstance(document, dict) else None
        raise ValueError(message or f"{url}: HTTP {status}")
    return list(document.get("usage") or [])


# -- the report ------------------------------------------------------------------------------


def _cells(row: metering.NamespaceUsage) -> list[str]:
    return [
        row.namespace,
        str(row.pods),
        str(row.running),
        f"{row.vcpu_seconds:.1f}",
        f"{row.gb_seconds:.1f}",
        f"{row.cost:.6f}",
    ]


def table(rows: list[metering.NamespaceUsage]) -> str:
    """The rows and their total as an aligned text table, numbers right-aligned."""
    lines = [list(COLUMNS)] + [_cells(r) for r in [*rows, metering.overall(rows)]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]

    def render(line: list[str]) -> str:
        first = line[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        return "   ".join([first, *rest]).rstrip()

    return "\n".join(render(line) for line in lines)


def _as_json(cluster: str, rows: list[metering.NamespaceUsage]) -> str:
    def row(r: metering.NamespaceUsage) -> Doc:
        return {
            "namespace": r.namespace,
            "pods": r.pods,
            "running": r.running,
            "vcpuSeconds": r.vcpu_seconds,
            "gbSeconds": r.gb_seconds,
            "costUsd": r.cost,
        }

    rates = metering.US_EAST_1
    return json.dumps(
        {
            "cluster": cluster,
            "rates": {"vcpuHourUsd": rates.vcpu_hour, "gbHourUsd": rates.gb_hour},
            "namespaces": [row(r) for r in rows],
            "total": row(metering.overall(rows)),
        },
        indent=2,
    )


def _usage(args: argparse.Namespace) -> int:
    if args.endpoint_url:
        documents = run_loop(_from_region(args.endpoint_url, args.cluster))
    else:
        documents = run_loop(_from_state(args.data_dir or Path(DEFAULT_DATA_DIR), args.cluster))
    now = datetime.datetime.now(datetime.UTC)
    rows = metering.by_namespace((metering.from_document(d) for d in documents), now)
    print(_as_json(args.cluster, rows) if args.output == "json" else table(rows))
    return 0
