"""Joining a node started by hand: `POST /openeks/eks/clusters/<name>/join`.

`openeks node join --cluster X --name N` signs this request with the caller's AWS
credentials (SigV4, service `eks`, body `{"nodeName": "N"}`) and gets back a kubeconfig
with a client certificate for `system:node:N` in `system:nodes`, signed by the cluster's
CA. It is the hand-run counterpart of what the instance controller does for instances
whose user data names a cluster (`region.instances.controller`), and answers the same
question the same way: the caller's ARN (an IAM user, or an STS assumed-role session)
must map, through the cluster's access entries (type EC2_LINUX) or its aws-auth
ConfigMap, to exactly that node (`TokenReviewer.kubernetes_user`, given here as
`authorize`). EKS does this with TLS bootstrap and a CSR approver; one signed request
that answers with the certificate is the same check without the round trips.

`{{EC2PrivateDNSName}}` in a mapping expands to the node name asked for, except for a
role session named after one of the region's instances (as an instance's own role
credentials are): then it is that instance's private DNS name, so an instance's identity
cannot claim another node.

Answers: 200 with the kubeconfig (YAML); 400 for a body that is not `{"nodeName": <a
valid Node name>}`; 403 `{"message", "code"}` for a missing or bad signature (EKS's
codes and messages, as the AWS edge answers them) or a caller the cluster does not map
to that node — each refusal logged with its reason, never with the signature; 404 for
an unknown cluster; 409 for one that is not ACTIVE.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from openeks.aws import sigv4
from openeks.aws.eks.identity import split_caller
from openeks.aws.errors import AuthProblem, auth_error
from openeks.aws.identity import Principal
from openeks.aws.server import CredentialLookup
from openeks.aws.wire import Request
from openeks.kube.api.formats import is_dns1123_subdomain
from openeks.kube.apiserver import pki
from openeks.kube.apiserver.kubeconfig import render
from openeks.region.state import RegionState

log = logging.getLogger(__name__)

Doc = dict[str, Any]
Authorize = Callable[[str, str, str], Awaitable[tuple[str, list[str]] | None]]
"""(cluster, caller ARN, node name) → (username, groups) the cluster maps it to, or None."""

JOIN_PATH = "/openeks/eks/clusters/{name}/join"
SERVICE = "eks"
NODES_GROUP = "system:nodes"
JOINABLE = ("ACTIVE", "UPDATING")
YAML = "application/yaml"


class JoinRefused(Exception):
    """A request the region answers with `status` and `message` (and an AWS-style code)."""

    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


@dataclass
class NodeJoin:
    state: RegionState
    credentials: CredentialLookup
    authorize: Authorize
    data_dir: Path
    region: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def route(self) -> web.RouteDef:
        return web.post(JOIN_PATH, self.handle)

    async def handle(self, http: web.Request) -> web.Response:
        cluster = http.match_info["name"]
        path, _, query = http.raw_path.partition("?")
        body = await http.read()
        request = Request(
            http.method, path, query, tuple(http.headers.items()), body, http.remote or ""
        )
        try:
            kubeconfig = await self.join(cluster, request)
        except JoinRefused as refused:
            answer: Doc = {"message": refused.message}
            if refused.code:
                answer["code"] = refused.code
            return web.json_response(answer, status=refused.status)
        return web.Response(text=kubeconfig, content_type=YAML)

    async def join(self, cluster: str, request: Request) -> str:
        """The node's kubeconfig, or `JoinRefused` saying why not."""
        principal = await self._authenticate(cluster, request)
        node_name = _node_name(request.body)
        doc = await self._cluster(cluster)
        username = await self._authorized(cluster, principal, node_name)
        try:
            text = await asyncio.to_thread(self._kubeconfig, doc, username)
        except OSError as e:
            log.error("cannot issue a node certificate for cluster %s: %s", cluster, e)
            raise JoinRefused(503, f"cluster {cluster} cannot sign certificates now") from None
        log.info("node %s joined cluster %s as %s", node_name, cluster, principal.arn)
        return text

    # -- steps ----------------------------------------------------------------------------
    async def _authenticate(self, cluster: str, request: Request) -> Principal:
        """The signer, checked as the AWS edge checks any EKS request."""
        try:
            auth = sigv4.parse_auth(request)
            if auth is None:
                raise sigv4.SigV4Error(
                    AuthProblem.MISSING, "Request is missing Authentication Token"
                )
            found = self.credentials(auth.access_key_id)
            credential = await found if inspect.isawaitable(found) else found
            verified = sigv4.check(
                request, auth, credential, now=self.clock(), regions=(self.region,), service=SERVICE
            )
        except sigv4.SigV4Error as e:
            error = auth_error(e.problem, e.message, "json")
            log.warning(
                "refused a node join for cluster %s: signature check failed (%s)",
                cluster,
                e.problem.value,
            )
            raise JoinRefused(403, error.message, error.code) from None
        return verified.principal

    async def _cluster(self, name: str) -> Doc:
        record = await self.state.get("clusters", name)
        if record is None:
            raise JoinRefused(
                404, f"No cluster found for name: {name}.", "ResourceNotFoundException"
            )
        status = record.value.get("status")
        if status not in JOINABLE:
            # (openeks wording)
            raise JoinRefused(
                409, f"Cluster {name} is {status}, not ACTIVE", "ResourceInUseException"
            )
        return record.value

    async def _authorized(self, cluster: str, principal: Principal, node_name: str) -> str:
        """The node's username when the cluster maps the caller to exactly this node."""
        arn = principal.arn
        dns_name = await self._private_dns_name(arn, node_name)
        found = await self.authorize(cluster, arn, dns_name)
        wanted = f"system:node:{node_name}"
        if found is None:
            reason = f"{arn} has no access entry of type EC2_LINUX and no aws-auth mapping"
        else:
            username, groups = found
            if username == wanted and NODES_GROUP in groups:
                return username
            reason = (
                f"{arn} maps to {username!r} in {sorted(groups)}, not to {wanted} in {NODES_GROUP}"
            )
        log.warning("node %s may not join cluster %s: %s", node_name, cluster, reason)
        raise JoinRefused(403, reason, "AccessDeniedException")

    async def _private_dns_name(self, arn: str, node_name: str) -> str:
        """What `{{EC2PrivateDNSName}}` stands for: the node asked for, unless the caller is
        an instance's role session (session name = instance id)."""
        session = split_caller(arn)[1]
        if session and session.startswith("i-"):
            instance = await self.state.get("instances", session)
            if instance is not None and instance.value.get("PrivateDnsName"):
                return str(instance.value["PrivateDnsName"])
        return node_name

    def _kubeconfig(self, doc: Doc, username: str) -> str:
        pki_dir = self.data_dir / "clusters" / doc["name"] / "pki"
        ca = pki.KeyPair((pki_dir / "ca.crt").read_bytes(), (pki_dir / "ca.key").read_bytes())
        client = pki.issue_client(ca, username, [NODES_GROUP])
        return render(str(doc["endpoint"]), ca.cert_pem, username, client, cluster=str(doc["arn"]))


def _node_name(body: bytes) -> str:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise JoinRefused(400, f"the body is not JSON: {e}") from None
    name = parsed.get("nodeName") if isinstance(parsed, dict) else None
    if not isinstance(name, str):
        raise JoinRefused(400, 'the body must be {"nodeName": "<node name>"}')
    problems = is_dns1123_subdomain(name)
    if problems:
        raise JoinRefused(400, f"nodeName {name!r} is not a valid Node name: {'; '.join(problems)}")
    return name
