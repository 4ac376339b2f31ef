"""`openeks kube ...`: one Kubernetes cluster's parts, started by hand."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from openeks.cli.loop import run_loop
from openeks.kube import controlplane
from openeks.kube.apiserver.server import ServerConfig


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
    up.add_argument(
        "--pki-dir", type=Path, default=None, help="shared certificates (default DIR/pki)"
    )
    up.add_argument("--external-url", default="", help="the URL clients use (a load balancer)")
    up.add_argument(
        "--token-webhook-url", default="", help="TokenReview webhook for unknown tokens"
    )
    up.add_argument("--token-webhook-prefix", default="", help="only tokens with this prefix")
    up.add_argument("--token-auth-file", type=Path, help='CSV: token,user,uid,"group1,group2"')
    up.add_argument(
        "--service-account-issuer",
        default="https://kubernetes.default.svc.cluster.local",
        help="issuer (iss) of service account tokens",
    )
    up.add_argument(
        "--api-audiences", default="", help="comma-separated token audiences (default: issuer)"
    )
    up.add_argument(
        "--authorization-mode", default="RBAC", choices=["RBAC", "AlwaysAllow"], help="authorizer"
    )
    up.add_argument("--no-scheduler", action="store_true", help="do not run the scheduler")
    up.add_argument(
        "--no-controllers", action="store_true", help="do not run the controller manager"
    )
    up.set_defaults(run=_up)

    scheduler = sub.add_parser("scheduler", help="run a scheduler against a cluster")
    scheduler.add_argument("--kubeconfig", required=True, type=Path)
    scheduler.add_argument("--no-leader-elect", action="store_true")
    scheduler.set_defaults(run=_scheduler)

    manager = sub.add_parser("controller-manager", help="run the controllers against a cluster")
    manager.add_argument("--kubeconfig", required=True, type=Path)
    manager.add_argument("--controllers", default="", help="comma-separated names (default all)")
    manager.add_argument("--no-leader-elect", action="store_true")
    manager.set_defaults(run=_controller_manager)

    node = sub.add_parser("node", help="run a node agent that registers a Node and runs pods")
    try:
        from openeks.kube.node.config import add_arguments
    except ImportError:  # the node agent is being written; keep the rest of the CLI usable
        pass
    else:
        add_arguments(node)
    node.set_defaults(run=_node)

    creds = sub.add_parser("kubeconfig", help="issue a client-certificate kubeconfig for a user")
    creds.add_argument("--data-dir", required=True, type=Path, help="the control plane's data dir")
    creds.add_argument("--user", required=True, help="e.g. system:node:node-a")
    creds.add_argument("--group", action="append", default=[], help="e.g. system:nodes")
    creds.add_argument("--out", required=True, type=Path)
    creds.set_defaults(run=_kubeconfig)

    reset = sub.add_parser("node-reset", help="stop a stopped node's pods, remove its network")
    add_arguments(reset)
    reset.set_defaults(run=_node_reset)

    fleet = sub.add_parser("fleet", help="run the simulated nodes a JSON file lists, following it")
    fleet.add_argument("--kubeconfig", required=True, type=Path, help="one identity for all")
    fleet.add_argument("--nodes", required=True, type=Path, help="JSON list of node specs")
    fleet.add_argument("--data-dir", required=True, type=Path, help="state; running.json")
    fleet.set_defaults(run=_fleet)


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
        token_auth_file=args.token_auth_file,
        pki_dir=args.pki_dir,
        external_url=args.external_url,
        token_webhook_url=args.token_webhook_url,
        token_webhook_prefix=args.token_webhook_prefix,
        authorization_mode=args.authorization_mode,
        service_account_issuer=args.service_account_issuer,
        api_audiences=[a for a in args.api_audiences.split(",") if a],
    )
    config.resolved_version()
    plane = controlplane.ControlPlaneConfig(
        config, scheduler=not args.no_scheduler, controllers=not args.no_controllers
    )
    run_loop(controlplane.run(plane))
    return 0


def _scheduler(args: argparse.Namespace) -> int:
    from openeks.kube.client import load_kubeconfig
    from openeks.kube.scheduler.server import Scheduler, SchedulerConfig

    config = SchedulerConfig(
        client=load_kubeconfig(args.kubeconfig), leader_elect=not args.no_leader_elect
    )
    run_loop(Scheduler(config).run())
    return 0


def _controller_manager(args: argparse.Namespace) -> int:
    from openeks.kube.client import load_kubeconfig
    from openeks.kube.controllers.manager import CONTROLLERS, ControllerManager, ManagerConfig

    names = [n for n in args.controllers.split(",") if n] or list(CONTROLLERS)
    unknown = [n for n in names if n not in CONTROLLERS]
    if unknown:
        raise ValueError(f"unknown controllers: {', '.join(unknown)}")
    config = ManagerConfig(
        client=load_kubeconfig(args.kubeconfig),
        controllers=names,
        leader_elect=not args.no_leader_elect,
    )
    run_loop(ControllerManager(config).run())
    return 0


def _kubeconfig(args: argparse.Namespace) -> int:
    from openeks.kube.apiserver.kubeconfig import issue_for

    print(issue_for(args.data_dir, args.user, args.group, args.out))
    return 0


def _node_reset(args: argparse.Namespace) -> int:
    from openeks.kube.node.config import config_from_args
    from openeks.kube.node.main import reset_node

    asyncio.run(reset_node(config_from_args(args)))
    return 0


def _node(args: argparse.Namespace) -> int:
    from openeks.kube.node import run_node
    from openeks.kube.node.config import config_from_args

    # Not uvloop: pyroute2's netlink sockets need asyncio's own datagram transports.
    asyncio.run(run_node(config_from_args(args)))
    return 0


def _fleet(args: argparse.Namespace) -> int:
    from openeks.kube.client import load_kubeconfig
    from openeks.kube.node.fleet import run_fleet_file

    run_loop(run_fleet_file(load_kubeconfig(args.kubeconfig), args.nodes, args.data_dir))
    return 0
