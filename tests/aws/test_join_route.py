"""The node join route in process, over a memory store: who gets a node kubeconfig,
and the status and reason of every refusal (signature, body, cluster state, mapping).

Requests are signed by botocore's SigV4Auth, as `openeks node join` signs them; the
caller's mapping is the region's own (`TokenReviewer.kubernetes_user` over access
entries). The end-to-end path, with a real region and node agents, is
`tests/e2e/test_node_join.py`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.x509.oid import NameOID

from openeks.aws.eks.access import new_entry
from openeks.aws.eks.documents import entry_doc_name
from openeks.aws.identity import Credential
from openeks.aws.regionapp.join import JoinRefused, NodeJoin
from openeks.aws.regionapp.tokens import TokenReviewer
from openeks.aws.wire import Request
from openeks.kube.apiserver import pki
from openeks.region.identity import Account, Identities
from openeks.region.state import RegionState
from openeks.store import open_store

ACCOUNT = "000000000000"
REGION = "us-east-1"
CLUSTER = "c1"
ENDPOINT = "https://127.0.0.9:443"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/nodes"
URL = f"http://127.0.0.1:4566/openeks/eks/clusters/{CLUSTER}/join"
KEYS = {
    "AKIAUSER000000000001": Credential(
        "AKIAUSER000000000001", "user-secret", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice"
    ),
    "ASIASESSION000000001": Credential(
        "ASIASESSION000000001",
        "session-secret",
        ACCOUNT,
        f"arn:aws:sts::{ACCOUNT}:assumed-role/nodes/builder",
        session_token="token-1",
    ),
    "ASIAINSTANCE00000001": Credential(
        "ASIAINSTANCE00000001",
        "instance-secret",
        ACCOUNT,
        f"arn:aws:sts::{ACCOUNT}:assumed-role/nodes/i-0123456789abcdef0",
        session_token="token-2",
    ),
}


@pytest.fixture
async def join(tmp_path: Path) -> AsyncIterator[NodeJoin]:
    store = await open_store("memory://")
    state = RegionState(store)
    cluster = {
        "name": CLUSTER,
        "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
        "status": "ACTIVE",
        "endpoint": ENDPOINT,
        "accessConfig": {"authenticationMode": "API"},
    }
    await state.create("clusters", CLUSTER, cluster)
    entry = new_entry(cluster, ROLE, entry_type="EC2_LINUX")
    await state.create("accessentries", entry_doc_name(CLUSTER, ROLE), entry)
    await state.create(
        "instances", "i-0123456789abcdef0", {"PrivateDnsName": "ip-10-0-0-5.ec2.internal"}
    )
    pki.load_or_create_ca(tmp_path / "clusters" / CLUSTER / "pki")
    reviewer = TokenReviewer(state, Identities(state, Account(ACCOUNT, REGION)), REGION)
    yield NodeJoin(state, KEYS.get, reviewer.kubernetes_user, tmp_path, REGION)
    await store.close()


def signed(
    body: Any,
    key_id: str = "ASIASESSION000000001",
    *,
    region: str = REGION,
    service: str = "eks",
    token: str | None = "",
    sent_body: bytes | None = None,
) -> Request:
    """A request signed as botocore signs it (`token=""`: the key's own session token)."""
    key = KEYS.get(key_id)
    secret = key.secret_access_key if key else "whatever"
    session_token = (key.session_token if key else None) if token == "" else token
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    aws = AWSRequest(method="POST", url=URL, data=data, headers={"Content-Type": "x/json"})
    auth = SigV4Auth(Credentials(key_id, secret, session_token), service, region)
    auth.add_auth(aws)
    headers = [(name, str(value)) for name, value in aws.headers.items()]
    return Request.from_url("POST", URL, headers, data if sent_body is None else sent_body)


async def refused(join: NodeJoin, request: Request, cluster: str = CLUSTER) -> JoinRefused:
    with pytest.raises(JoinRefused) as caught:
        await join.join(cluster, request)
    return caught.value


def subject(kubeconfig: str) -> tuple[str, list[str], str]:
    """(CN, O values, server) of a kubeconfig's client certificate."""
    import base64

    config = yaml.safe_load(kubeconfig)
    pem = base64.b64decode(config["users"][0]["user"]["client-certificate-data"])
    cert = x509.load_pem_x509_certificate(pem)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return str(cn), [str(o) for o in orgs], config["clusters"][0]["cluster"]["server"]


async def test_a_role_session_with_an_ec2_linux_entry_gets_its_node_kubeconfig(
    join: NodeJoin,
) -> None:
    kubeconfig = await join.join(CLUSTER, signed({"nodeName": "hand-1"}))
    assert subject(kubeconfig) == ("system:node:hand-1", ["system:nodes"], ENDPOINT)
    assert yaml.safe_load(kubeconfig)["clusters"][0]["name"].endswith(f":cluster/{CLUSTER}")


async def test_an_instance_session_may_only_be_its_own_node(join: NodeJoin) -> None:
    own = "ip-10-0-0-5.ec2.internal"
    kubeconfig = await join.join(CLUSTER, signed({"nodeName": own}, "ASIAINSTANCE00000001"))
    assert subject(kubeconfig)[0] == f"system:node:{own}"
    error = await refused(join, signed({"nodeName": "other"}, "ASIAINSTANCE00000001"))
    assert error.status == 403
    assert error.message == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/nodes/i-0123456789abcdef0 maps to "
        f"'system:node:{own}' in ['system:nodes'], not to system:node:other in system:nodes"
    )


async def test_an_unmapped_caller_is_refused_and_logged(
    join: NodeJoin, caplog: pytest.LogCaptureFixture
) -> None:
    request = signed({"nodeName": "n1"}, "AKIAUSER000000000001")
    error = await refused(join, request)
    reason = (
        f"arn:aws:iam::{ACCOUNT}:user/alice has no access entry of type EC2_LINUX "
        "and no aws-auth mapping"
    )
    assert (error.status, error.code, error.message) == (403, "AccessDeniedException", reason)
    assert f"node n1 may not join cluster {CLUSTER}: {reason}" in caplog.text
    signature = str(request.header("authorization")).rsplit("Signature=", 1)[1]
    assert signature not in caplog.text


@pytest.mark.parametrize(
    ("request_args", "code", "message"),
    [
        ({"token": None}, "UnrecognizedClientException", "The security token included in the"),
        ({"region": "eu-west-1"}, "InvalidSignatureException", "Credential should be scoped to"),
        ({"service": "sts"}, "InvalidSignatureException", "scoped to correct service: 'eks'"),
        ({"sent_body": b'{"nodeName": "n2"}'}, "InvalidSignatureException", "does not match"),
    ],
)
async def test_bad_signatures_are_refused_as_eks_refuses_them(
    join: NodeJoin, request_args: dict[str, Any], code: str, message: str
) -> None:
    error = await refused(join, signed({"nodeName": "n1"}, **request_args))
    assert (error.status, error.code) == (403, code)
    assert message in error.message


async def test_a_stale_signature_is_refused(join: NodeJoin) -> None:
    request = signed({"nodeName": "n1"})
    join.clock = lambda: datetime.now(UTC) + timedelta(minutes=20)
    error = await refused(join, request)
    assert (error.status, error.code) == (403, "InvalidSignatureException")
    assert error.message.startswith("Signature expired:")


async def test_unsigned_and_unknown_keys_are_refused(join: NodeJoin) -> None:
    unsigned = Request.from_url("POST", URL, {"Content-Type": "x/json"}, b"{}")
    error = await refused(join, unsigned)
    assert (error.status, error.code) == (403, "MissingAuthenticationTokenException")
    error = await refused(join, signed({"nodeName": "n1"}, "AKIANOBODY0000000000"))
    assert (error.status, error.code) == (403, "UnrecognizedClientException")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "the body is not JSON"),
        (b'"n1"', 'the body must be {"nodeName": "<node name>"}'),
        ({"name": "n1"}, 'the body must be {"nodeName": "<node name>"}'),
        ({"nodeName": ""}, "nodeName '' is not a valid Node name"),
        ({"nodeName": "a" * 254}, "must be no more than 253 characters"),
        ({"nodeName": "UPPER"}, "nodeName 'UPPER' is not a valid Node name"),
    ],
)
async def test_bad_bodies_are_400s(join: NodeJoin, body: Any, message: str) -> None:
    error = await refused(join, signed(body))
    assert error.status == 400 and message in error.message, error.message


async def test_missing_and_inactive_clusters(join: NodeJoin) -> None:
    error = await refused(join, signed({"nodeName": "n1"}), "other")
    assert (error.status, error.message) == (404, "No cluster found for name: other.")
    for status in ("CREATING", "DELETING", "FAILED"):

        def change(doc: dict[str, Any], status: str = status) -> dict[str, Any]:
            doc["status"] = status
            return doc

        await join.state.mutate("clusters", CLUSTER, change)
        error = await refused(join, signed({"nodeName": "n1"}))
        assert (error.status, error.message) == (409, f"Cluster {CLUSTER} is {status}, not ACTIVE")


async def test_a_cluster_without_its_ca_is_a_503_not_a_crash(
    join: NodeJoin, tmp_path: Path
) -> None:
    (tmp_path / "clusters" / CLUSTER / "pki" / "ca.key").unlink()
    error = await refused(join, signed({"nodeName": "n1"}))
    assert error.status == 503
