"""Authentication: client certificates, static tokens, service account tokens."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl
from tests.support.rawclient import RawClient


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    data = tmp_path_factory.mktemp("authn")
    tokens = data / "tokens.csv"
    tokens.write_text('static-secret-token,alice,uid-1,"dev,qa"\n# a comment\n')
    with ApiServerProcess(data / "kube", extra=["--token-auth-file", str(tokens)]) as api:
        yield api


@pytest.fixture(scope="module")
def admin(server: ApiServerProcess) -> RawClient:
    client = RawClient(server.kubeconfig)
    client.post(
        "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
    )
    client.post(
        "/api/v1/namespaces/a/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}},
    )
    return client


def bearer(server: ApiServerProcess, token: str) -> RawClient:
    client = RawClient(server.kubeconfig, authenticated=False)
    original = client.request

    def request(
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ):  # type: ignore[no-untyped-def]
        return original(
            method, path, body, {"Authorization": f"Bearer {token}", **(headers or {})}, timeout
        )

    client.request = request  # type: ignore[method-assign]
    return client


def whoami(client: RawClient) -> dict[str, object]:
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    r = client.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", review)
    assert r.status == 201, r.body
    return r.json()["status"]["userInfo"]


def test_client_certificate_user_and_groups(admin: RawClient) -> None:
    info = whoami(admin)
    assert info["username"] == "kubernetes-admin"
    assert info["groups"] == ["system:masters", "system:authenticated"]


def test_kubectl_auth_whoami(server: ApiServerProcess, tmp_path: Path) -> None:
    out = Kubectl(server.kubeconfig, tmp_path)("auth", "whoami")
    assert "kubernetes-admin" in out and "system:masters" in out


def test_static_token_file(server: ApiServerProcess) -> None:
    info = whoami(bearer(server, "static-secret-token"))
    assert info == {
        "username": "alice",
        "uid": "uid-1",
        "groups": ["dev", "qa", "system:authenticated"],
    }
    bad = bearer(server, "static-secret-tokeN").get("/api/v1/namespaces")
    assert bad.status == 401 and b"static-secret" not in bad.body


def test_token_request_and_the_token_works(server: ApiServerProcess, admin: RawClient) -> None:
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}
    r = admin.post("/api/v1/namespaces/a/serviceaccounts/robot/token", request)
    assert r.status == 201
    token = r.json()["status"]["token"]
    assert r.json()["spec"]["expirationSeconds"] == 3600
    info = whoami(bearer(server, token))
    assert info["username"] == "system:serviceaccount:a:robot"
    assert info["groups"] == [
        "system:serviceaccounts",
        "system:serviceaccounts:a",
        "system:authenticated",
    ]
    short = admin.post(
        "/api/v1/namespaces/a/serviceaccounts/robot/token",
        {**request, "spec": {"expirationSeconds": 60}},
    )
    assert short.status == 422


def test_kubectl_create_token(server: ApiServerProcess, admin: RawClient, tmp_path: Path) -> None:
    token = Kubectl(server.kubeconfig, tmp_path)("create", "token", "robot", "-n", "a").strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "system:serviceaccount:a:robot"
    # Authenticated (RBAC then says no: the account holds no roles yet).
    assert bearer(server, token).get("/api/v1/namespaces/a/configmaps").status == 403


def test_tokens_are_verifiable_with_the_published_keys(
    server: ApiServerProcess, admin: RawClient
) -> None:
    anonymous = RawClient(server.kubeconfig, authenticated=False)
    discovery = anonymous.get("/.well-known/openid-configuration").json()
    assert discovery["issuer"] == "https://kubernetes.default.svc.cluster.local"
    keys = anonymous.get("/openid/v1/jwks").json()["keys"]
    token = admin.post(
        "/api/v1/namespaces/a/serviceaccounts/robot/token",
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": ["sts.amazonaws.com"]},
        },
    ).json()["status"]["token"]
    key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="sts.amazonaws.com")
    assert claims["kubernetes.io"]["serviceaccount"]["name"] == "robot"
    assert jwt.get_unverified_header(token)["kid"] == keys[0]["kid"]
    # A token for another audience is not accepted by the API server itself.
    assert bearer(server, token).get("/api/v1/namespaces").status == 401


def _forge(server: ApiServerProcess, claims: dict[str, object]) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(
        (server.data_dir / "pki" / "sa.key").read_bytes(), None
    )
    return jwt.encode(claims, key, algorithm="RS256")  # type: ignore[arg-type]


def test_bad_tokens_are_401_without_echoing_them(
    server: ApiServerProcess, admin: RawClient
) -> None:
    sa = admin.get("/api/v1/namespaces/a/serviceaccounts/robot").json()
    now = int(time.time())
    base_claims = {
        "iss": "https://kubernetes.default.svc.cluster.local",
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "sub": "system:serviceaccount:a:robot",
        "kubernetes.io": {
            "namespace": "a",
            "serviceaccount": {"name": "robot", "uid": sa["metadata"]["uid"]},
        },
    }
    good = _forge(server, {**base_claims, "iat": now, "exp": now + 600})
    assert bearer(server, good).get("/api/v1/namespaces").status == 403  # known, not allowed
    expired = _forge(server, {**base_claims, "iat": now - 7200, "exp": now - 3600})
    malformed = "not.a.jwt"
    wrong_uid = _forge(
        server,
        {
            **base_claims,
            "iat": now,
            "exp": now + 600,
            "kubernetes.io": {
                "namespace": "a",
                "serviceaccount": {"name": "robot", "uid": "other"},
            },
        },
    )
    for token in (expired, malformed, wrong_uid, "garbage"):
        r = bearer(server, token).get("/api/v1/namespaces")
        assert r.status == 401, token
        assert token.encode() not in r.body
    admin.delete("/api/v1/namespaces/a/serviceaccounts/robot")
    assert bearer(server, good).get("/api/v1/namespaces").status == 401
    admin.post(
        "/api/v1/namespaces/a/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}},
    )
    assert bearer(server, good).get("/api/v1/namespaces").status == 401, (
        "a recreated account is another account"
    )
    log = (server.data_dir / "apiserver.log").read_text()
    assert good not in log and expired not in log


def test_legacy_service_account_token_secret(server: ApiServerProcess, admin: RawClient) -> None:
    admin.post(
        "/api/v1/namespaces/a/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "legacy"}},
    )
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {
            "name": "legacy-token",
            "annotations": {"kubernetes.io/service-account.name": "legacy"},
        },
    }
    created = admin.post("/api/v1/namespaces/a/secrets", secret).json()
    token = base64.b64decode(created["data"]["token"]).decode()
    assert base64.b64decode(created["data"]["namespace"]) == b"a"
    assert whoami(bearer(server, token))["username"] == "system:serviceaccount:a:legacy"
    admin.delete("/api/v1/namespaces/a/secrets/legacy-token")
    assert bearer(server, token).get("/api/v1/namespaces").status == 401


def test_token_review(server: ApiServerProcess, admin: RawClient) -> None:
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": "static-secret-token"},
    }
    status = admin.post("/apis/authentication.k8s.io/v1/tokenreviews", review).json()["status"]
    assert status["authenticated"] is True and status["user"]["username"] == "alice"
    review["spec"]["token"] = "nope"  # type: ignore[index]
    assert (
        "authenticated"
        not in admin.post("/apis/authentication.k8s.io/v1/tokenreviews", review).json()["status"]
    )


def test_certificates_from_another_ca_are_refused(server: ApiServerProcess, tmp_path: Path) -> None:
    """Python's TLS stack verifies client certificates during the handshake, so a stranger
    is refused there (TLS alert "unknown ca") rather than with an HTTP 401."""
    import ssl

    from openeks.kube.apiserver import pki

    other_ca = pki.make_ca("other")
    stranger = pki.issue_client(other_ca, "mallory", ["system:masters"])
    (tmp_path / "c.crt").write_bytes(stranger.cert_pem)
    (tmp_path / "c.key").write_bytes(stranger.key_pem)
    client = RawClient(server.kubeconfig, authenticated=False)
    client.ctx.load_cert_chain(tmp_path / "c.crt", tmp_path / "c.key")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        client.get("/api/v1/namespaces")


def test_unknown_tokens_go_to_the_token_webhook(tmp_path: Path) -> None:
    """The EKS bridge: a TokenReview webhook decides about tokens nobody else knows."""
    import json as json_
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Reviewer(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            review = json_.loads(self.rfile.read(int(self.headers["Content-Length"])))
            token = review["spec"]["token"]
            seen.append(token)
            status = (
                {
                    "authenticated": True,
                    "user": {
                        "username": "arn:aws:iam::000000000000:user/ana",
                        "groups": ["eks-admins"],
                    },
                }
                if token == "k8s-aws-v1.good"
                else {"authenticated": False}
            )
            body = json_.dumps(
                {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Reviewer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/tokenreview"
    try:
        with ApiServerProcess(
            tmp_path / "kube",
            extra=["--token-webhook-url", url, "--token-webhook-prefix", "k8s-aws-v1."],
        ) as api:
            info = whoami(bearer(api, "k8s-aws-v1.good"))
            assert info["username"] == "arn:aws:iam::000000000000:user/ana"
            assert info["groups"] == ["eks-admins", "system:authenticated"]
            assert bearer(api, "k8s-aws-v1.bad").get("/api/v1/namespaces").status == 401
            assert bearer(api, "other-token").get("/api/v1/namespaces").status == 401
            assert "other-token" not in seen, "tokens without the prefix stay local"
            whoami(bearer(api, "k8s-aws-v1.good"))
            assert seen.count("k8s-aws-v1.good") == 1, "answers are cached"
    finally:
        httpd.shutdown()
