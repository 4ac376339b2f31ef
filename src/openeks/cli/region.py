"""`openeks up`, `openeks update-kubeconfig`, `openeks eks get-token`, `openeks fault`.

The client commands talk to a running region with botocore, as `aws` would: the
endpoint is `--endpoint-url` (default the local region, http://127.0.0.1:4566) and the
credentials the usual chain's; when the environment names none, the region's own
`<data-dir>/credentials` file is used, so everything works right after `openeks up`.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from openeks.cli.loop import run_loop

DEFAULT_DATA_DIR = os.environ.get("OPENEKS_DATA_DIR", ".openeks")
DEFAULT_ENDPOINT = os.environ.get("OPENEKS_ENDPOINT_URL", "http://127.0.0.1:4566")
TOKEN_PREFIX = "k8s-aws-v1."
TOKEN_LIFETIME = datetime.timedelta(minutes=14)
"""What kubectl may cache a token for: the region honours it for 15 minutes."""


def add_commands(commands: Any) -> None:
    up = commands.add_parser("up", help="run the region: the AWS endpoint and its clusters")
    up.add_argument("--data-dir", type=Path, default=Path(DEFAULT_DATA_DIR))
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=4566)
    up.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    up.add_argument("--store", default="", help="region state store URL (default sqlite)")
    up.add_argument("--zones", type=int, default=3, help="availability zones (1-6)")
    up.add_argument(
        "--account-id", default="000000000000", help="the account's id (on first start)"
    )
    up.set_defaults(run=_up)

    kubeconfig = commands.add_parser(
        "update-kubeconfig", help="add a cluster to a kubeconfig (as aws eks update-kubeconfig)"
    )
    _client_arguments(kubeconfig)
    kubeconfig.add_argument("--name", required=True, help="the cluster's name")
    kubeconfig.add_argument(
        "--kubeconfig",
        type=Path,
        default=Path(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0]),
    )
    kubeconfig.add_argument("--alias", default="", help="context name (default the cluster ARN)")
    kubeconfig.set_defaults(run=_update_kubeconfig)

    eks = commands.add_parser("eks", help="EKS helpers")
    eks_commands = eks.add_subparsers(dest="eks_command", required=True)
    token = eks_commands.add_parser("get-token", help="a k8s-aws-v1 token (ExecCredential)")
    _client_arguments(token)
    token.add_argument("--cluster-name", required=True)
    token.set_defaults(run=_get_token)

    fault = commands.add_parser("fault", help="inject faults into the running region")
    fault.add_argument("--endpoint-url", default=DEFAULT_ENDPOINT)
    fault_commands = fault.add_subparsers(dest="fault_command", required=True)
    for name in ("zone-down", "zone-up"):
        sub = fault_commands.add_parser(name, help=f"{name.replace('-', ' ')} a zone")
        sub.add_argument("zone", help="zone name (us-east-1a) or id (use1-az1)")
        sub.set_defaults(run=_fault, action=name)
    status = fault_commands.add_parser("status", help="zones and their processes")
    status.set_defaults(run=_fault_status)


def _client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint-url", default=DEFAULT_ENDPOINT)
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    parser.add_argument("--data-dir", type=Path, default=Path(DEFAULT_DATA_DIR))


def _up(args: argparse.Namespace) -> int:
    from openeks.aws.regionapp.app import RegionConfig, run

    config = RegionConfig(
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        region=args.region,
        store_url=args.store,
        zones=args.zones,
        account_id=args.account_id,
    )
    run_loop(run(config))
    return 0


def _session(args: argparse.Namespace) -> Any:
    import botocore.session

    session = botocore.session.get_session()
    own = args.data_dir / "credentials"
    env_names = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE")
    if not any(os.environ.get(name) for name in env_names) and own.exists():
        session.set_config_variable("credentials_file", str(own.resolve()))
    return session


def _update_kubeconfig(args: argparse.Namespace) -> int:
    import yaml

    eks = _session(args).create_client(
        "eks", region_name=args.region, endpoint_url=args.endpoint_url
    )
    cluster = eks.describe_cluster(name=args.name)["cluster"]
    if cluster.get("status") not in ("ACTIVE", "UPDATING"):
        raise ValueError(f"cluster {args.name} is {cluster.get('status')}, not ACTIVE")
    arn = cluster["arn"]
    name = args.alias or arn
    command = shutil.which("openeks") or sys.argv[0]
    user_args = ["eks", "get-token", "--cluster-name", args.name, "--region", args.region]
    user_args += ["--endpoint-url", args.endpoint_url, "--data-dir", str(args.data_dir.resolve())]
    path = args.kubeconfig.expanduser()
    config: dict[str, Any] = {}
    if path.exists():
        config = yaml.safe_load(path.read_text()) or {}
    config.setdefault("apiVersion", "v1")
    config.setdefault("kind", "Config")
    _upsert(
        config,
        "clusters",
        arn,
        "cluster",
        {
            "server": cluster["endpoint"],
            "certificate-authority-data": cluster["certificateAuthority"]["data"],
        },
    )
    _upsert(
        config,
        "users",
        arn,
        "user",
        {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": command,
                "args": user_args,
                "interactiveMode": "Never",
            }
        },
    )
    _upsert(config, "contexts", name, "context", {"cluster": arn, "user": arn})
    config["current-context"] = name
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f, default_flow_style=False, sort_keys=False)
    print(f"Added new context {name} to {path}")
    return 0


def _upsert(config: dict[str, Any], section: str, name: str, field: str, value: Any) -> None:
    entries = [e for e in config.get(section) or [] if e.get("name") != name]
    entries.append({"name": name, field: value})
    config[section] = entries


def presigned_token(session: Any, cluster: str, region: str) -> str:
    """`k8s-aws-v1.` + the base64url of a presigned STS GetCallerIdentity URL that
    signs `x-k8s-aws-id: <cluster>`, exactly as `aws eks get-token` makes it."""
    sts = session.create_client(
        "sts", region_name=region, endpoint_url=f"https://sts.{region}.amazonaws.com"
    )

    def add_cluster(request: Any, **_: Any) -> None:
        request.headers["x-k8s-aws-id"] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"
    )
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _get_token(args: argparse.Namespace) -> int:
    token = presigned_token(_session(args), args.cluster_name, args.region)
    expires = datetime.datetime.now(datetime.UTC) + TOKEN_LIFETIME
    print(
        json.dumps(
            {
                "kind": "ExecCredential",
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "spec": {},
                "status": {
                    "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "token": token,
                },
            }
        )
    )
    return 0


def _fault(args: argparse.Namespace) -> int:
    from openeks.region.faults import FaultRequestError, request_zone_fault

    try:
        result = run_loop(
            request_zone_fault(args.endpoint_url, args.zone, down=args.action == "zone-down")
        )
    except FaultRequestError as e:
        raise ValueError(str(e)) from None
    print(json.dumps(result, indent=2))
    return 0


def _fault_status(args: argparse.Namespace) -> int:
    from openeks.region.faults import FaultRequestError, fault_status

    try:
        result = run_loop(fault_status(args.endpoint_url))
    except FaultRequestError as e:
        raise ValueError(str(e)) from None
    print(json.dumps(result, indent=2))
    return 0
