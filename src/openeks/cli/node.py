"""`openeks node join --cluster X --name N`: a node agent started by hand joins a cluster.

The self-managed node's way in, next to instances whose user data names a cluster. The
command proves who runs it with the standard AWS credential chain (botocore's session:
`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, `AWS_PROFILE` or
`--profile`, `AWS_SHARED_CREDENTIALS_FILE`, ...): it signs `POST <endpoint>/openeks/eks
/clusters/X/join` (SigV4, service `eks`) asking for the node `N`. The region answers
with a kubeconfig for `system:node:N` when the cluster maps the caller to that node (an
access entry of type EC2_LINUX or an aws-auth mapping; see `aws.regionapp.join`), and
the command writes it, readable by its owner only, as `<data dir>/kubeconfig`, then runs
the node agent in this process exactly as `openeks kube node` does. A refusal prints the
region's reason and exits 1, with no agent started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openeks.cli.region import DEFAULT_ENDPOINT

JOIN_TIMEOUT = 60.0
REFUSED = 1


class JoinError(Exception):
    """The region would not (or could not) give the node its kubeconfig."""


def add_commands(commands: Any) -> None:
    node = commands.add_parser("node", help="self-managed worker nodes")
    sub = node.add_subparsers(dest="node_command", required=True)
    join = sub.add_parser(
        "join", help="join a cluster with this machine's AWS identity and run a node agent"
    )
    join.add_argument("--cluster", required=True, help="the cluster's name")
    join.add_argument("--name", required=True, help="the Node's name")
    join.add_argument("--endpoint-url", default=DEFAULT_ENDPOINT, help="the region's endpoint")
    join.add_argument("--region", default="", help="signing region (default: the AWS config's)")
    join.add_argument("--profile", default=None, help="AWS profile (default: the usual chain)")
    _add_agent_arguments(join)
    join.set_defaults(run=_join)


def _add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    """The node agent's flags (`openeks kube node`'s), less `--kubeconfig` and `--name`."""
    from openeks.kube.node.config import RUNTIMES

    parser.add_argument("--zone", default="", help="availability zone, e.g. us-east-1a")
    parser.add_argument("--instance-type", default="m5.large", help="EC2 instance type")
    parser.add_argument("--runtime", choices=RUNTIMES, default="runc")
    parser.add_argument("--labels", default="", help="k=v,k2=v2 (as kubelet --node-labels)")
    parser.add_argument(
        "--taints", default="", help="k=v:NoSchedule,k2:NoExecute (as --register-with-taints)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="state directory (default .openeks/node/NAME)"
    )
    parser.add_argument("--pod-cidr", default="", help="the node's pod CIDR")
    parser.add_argument("--address", default="127.0.0.1", help="InternalIP and HTTPS address")
    parser.add_argument("--port", type=int, default=0, help="HTTPS port (0: any free port)")
    parser.add_argument("--max-pods", type=int, default=None, help="default: the ENI limit")


# -- asking the region -----------------------------------------------------------------------


def _session(profile: str | None) -> Any:
    import botocore.session

    return botocore.session.Session(profile=profile)


def signing_region(session: Any, given: str) -> str:
    return given or session.get_config_variable("region") or "us-east-1"


def signed_join_request(
    session: Any, endpoint_url: str, cluster: str, node_name: str, region: str
) -> urllib.request.Request:
    """The join request, signed with the session's credentials as `aws` signs EKS calls."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = session.get_credentials()
    if credentials is None:
        raise ValueError(
            "no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE or AWS_SHARED_CREDENTIALS_FILE)"
        )
    url = f"{endpoint_url.rstrip('/')}/openeks/eks/clusters/{quote(cluster, safe='')}/join"
    body = json.dumps({"nodeName": node_name}).encode()
    aws = AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(credentials.get_frozen_credentials(), "eks", region).add_auth(aws)
    headers = {name: str(value) for name, value in aws.headers.items()}
    return urllib.request.Request(url, data=body, headers=headers, method="POST")


def fetch_kubeconfig(request: urllib.request.Request) -> str:
    """The region's kubeconfig for the node; `JoinError` with the region's reason."""
    try:
        with urllib.request.urlopen(request, timeout=JOIN_TIMEOUT) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as e:
        raise JoinError(_reason(e.read(), e.code)) from None
    except (urllib.error.URLError, OSError) as e:
        raise JoinError(f"cannot reach the region at {request.full_url}: {e}") from None


def _reason(body: bytes, status: int) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("message"):
        code = f"{answer['code']}: " if answer.get("code") else ""
        return f"{code}{answer['message']} (HTTP {status})"
    return f"HTTP {status}: {body[:200].decode(errors='replace')}"


def write_kubeconfig(path: Path, text: str) -> None:
    from openeks.kube.apiserver.pki import write_private

    write_private(path, text.encode())


# -- the command -----------------------------------------------------------------------------


def _request(args: argparse.Namespace) -> tuple[urllib.request.Request, str]:
    """The signed join request and the region it is signed for."""
    from botocore.exceptions import BotoCoreError

    try:
        session = _session(args.profile)
        region = signing_region(session, args.region)
        signed = signed_join_request(session, args.endpoint_url, args.cluster, args.name, region)
        return signed, region
    except BotoCoreError as e:
        raise ValueError(str(e)) from None


def _join(args: argparse.Namespace) -> int:
    from openeks.kube.node import run_node
    from openeks.kube.node.config import config_from_args, parse_labels, parse_taints

    parse_labels(args.labels)  # bad flags fail before the region is asked (ValueError)
    parse_taints(args.taints)
    data_dir = args.data_dir or Path(".openeks") / "node" / args.name
    request, region = _request(args)
    try:
        kubeconfig = fetch_kubeconfig(request)
    except JoinError as e:
        print(
            f"openeks: node {args.name} may not join cluster {args.cluster}: {e}", file=sys.stderr
        )
        return REFUSED
    path = data_dir / "kubeconfig"
    write_kubeconfig(path, kubeconfig)
    print(f"node {args.name} joined cluster {args.cluster} (kubeconfig: {path})", flush=True)
    agent = argparse.Namespace(**vars(args))
    agent.kubeconfig, agent.data_dir = path, data_dir
    agent.region = args.region or ("" if args.zone else region)
    # Not uvloop: pyroute2's netlink sockets need asyncio's own datagram transports.
    asyncio.run(run_node(config_from_args(agent)))
    return 0
