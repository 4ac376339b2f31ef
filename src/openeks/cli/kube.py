"""`openeks kube ...`: one Kubernetes cluster's parts, started by hand."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from openeks.cli.loop import run_loop
from openeks.kube.apiserver.server import ServerConfig, run


def add_commands(commands: Any) -> None:
    kube = commands.add_parser("kube", help="run parts of a Kubernetes control plane")
    sub = kube.add_subparsers(dest="kube_command", required=True)
    up = sub.add_parser("up", help="start a Kubernetes API server")
    up.add_argument("--data-dir", required=True, type=Path, help="certificates, kubeconfig, state")
    up.add_argument("--port", type=int, default=6443)
    up.add_argument("--bind-address", default="127.0.0.1")
    up.add_argument("--store", default="", help="memory://, sqlite://PATH or etcd://host:port,...")
    up.add_argument("--version", default="", help="Kubernetes minor version, e.g. 1.37")
    up.add_argument("--service-cidr", default="10.100.0.0/16")
    up.add_argument("--tls-san", action="append", default=[], help="extra serving cert name/IP")
    up.add_argument(
        "--compaction-interval",
        type=float,
        default=300.0,
        help="seconds between store compactions (history older than one interval goes)",
    )
    up.set_defaults(run=_up)


def _up(args: argparse.Namespace) -> int:
    config = ServerConfig(
        data_dir=args.data_dir,
        port=args.port,
        bind_address=args.bind_address,
        store_url=args.store,
        version=args.version,
        service_cidr=args.service_cidr,
        extra_sans=args.tls_san,
        compaction_interval=args.compaction_interval,
    )
    config.resolved_version()
    run_loop(run(config))
    return 0
