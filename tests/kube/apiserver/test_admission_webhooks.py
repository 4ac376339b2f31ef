"""Admission webhooks against a real API server and a real HTTPS webhook on 127.0.0.1.

The webhook server runs in the test with its own CA; configurations are scoped to each
test's namespace with a namespaceSelector so tests do not see each other's webhooks.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import builtin_resources
from openeks.kube.apiserver.admission.base import AdmissionRequest
from openeks.kube.apiserver.admission.webhookconfig import Hook
from openeks.kube.apiserver.admission.webhooks import ask, denial, rule_matches
from openeks.kube.apiserver.registry import Registry
from tests.support.apiserver import ApiServerProcess, free_port
from tests.support.kubectl import Kubectl
from tests.support.rawclient import RawClient

Obj = dict[str, Any]
SERVICE_NS = "webhooks"


# -- a webhook server ---------------------------------------------------------------------------
def _certificates(directory: Path) -> tuple[bytes, Path, Path]:
    """A CA (PEM) and a serving certificate for 127.0.0.1 and hook.webhooks.svc."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webhook-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName(f"hook.{SERVICE_NS}.svc"),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hook")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "hook.crt", directory / "hook.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca.public_bytes(serialization.Encoding.PEM), cert_path, key_path


def _respond(path: str, req: Obj) -> Obj:
    out: Obj = {"uid": req["uid"], "allowed": True}
    obj = req.get("object") or {}
    if path == "/mutate":
        has_labels = bool((obj.get("metadata") or {}).get("labels"))
        op = (
            {"op": "add", "path": "/metadata/labels/mutated", "value": "yes"}
            if has_labels
            else {"op": "add", "path": "/metadata/labels", "value": {"mutated": "yes"}}
        )
        out["patchType"] = "JSONPatch"
        out["patch"] = base64.b64encode(json.dumps([op]).encode()).decode()
    elif path == "/deny" and req.get("name") == "bad":
        out["allowed"] = False
        out["status"] = {"code": 403, "reason": "Forbidden", "message": "no pods named bad"}
    elif path == "/deny-plain":
        out["allowed"] = False
    elif path == "/warn":
        out["warnings"] = ["careful with that pod"]
    elif path == "/slow":
        time.sleep(2.5)
    elif path == "/wrong-uid":
        out["uid"] = "nope"
    return out


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer

    def do_POST(self) -> None:
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        path = urlparse(self.path).path
        self.server.seen.append((self.path, review))
        answer = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": _respond(path, review["request"]),
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory: Path, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.ca, cert, key = _certificates(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.seen: list[tuple[str, Obj]] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(5)


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    with ApiServerProcess(tmp_path_factory.mktemp("webhooks")) as server:
        yield server


@pytest.fixture(scope="module")
def kubectl(api: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(api.kubeconfig, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def raw(api: ApiServerProcess) -> RawClient:
    return RawClient(api.kubeconfig)


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookServer]:
    with WebhookServer(tmp_path_factory.mktemp("hook")) as server:
        yield server


@pytest.fixture
def ns(namespace: str, raw: RawClient) -> Iterator[str]:
    deadline = time.monotonic() + 10
    while raw.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default").status != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield namespace
    for kind in ("mutating", "validating"):
        raw.request(
            "DELETE",
            f"/apis/admissionregistration.k8s.io/v1/{kind}webhookconfigurations",
            headers={},
        )


def webhook(name: str, client: Obj, ns: str, **extra: Any) -> Obj:
    hook: Obj = {
        "name": name,
        "clientConfig": client,
        "rules": [
            {
                "operations": ["CREATE"],
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "resources": ["pods"],
            }
        ],
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    }
    hook.update(extra)
    return hook


def url(server: WebhookServer, path: str, port: int = 0) -> Obj:
    return {
        "url": f"https://127.0.0.1:{port or server.port}{path}",
        "caBundle": base64.b64encode(server.ca).decode(),
    }


def configure(raw: RawClient, kind: str, name: str, *webhooks: Obj) -> Obj:
    body = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": f"{kind.capitalize()}WebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": list(webhooks),
    }
    resp = raw.request(
        "POST", f"/apis/admissionregistration.k8s.io/v1/{kind}webhookconfigurations", body
    )
    assert resp.status == 201, resp.body
    time.sleep(0.15)  # configurations are read from the watch cache
    created: Obj = resp.json()
    return created


def pod(name: str, labels: Obj | None = None) -> Obj:
    meta: Obj = {"name": name}
    if labels:
        meta["labels"] = labels
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def create_pod(raw: RawClient, ns: str, body: Obj, query: str = "") -> Any:
    return raw.request("POST", f"/api/v1/namespaces/{ns}/pods{query}", body)


# -- tests --------------------------------------------------------------------------------------
def test_a_mutating_webhook_labels_every_pod(
    raw: RawClient, kubectl: Kubectl, hooks: WebhookServer, ns: str
) -> None:
    created = configure(
        raw, "mutating", f"label-{ns}", webhook("label.example.com", url(hooks, "/mutate"), ns)
    )
    defaulted = created["webhooks"][0]
    assert defaulted["failurePolicy"] == "Fail"
    assert defaulted["timeoutSeconds"] == 10
    assert defaulted["reinvocationPolicy"] == "Never"
    assert defaulted["rules"][0]["scope"] == "*"
    kubectl("run", "web", "-n", ns, "--image=busybox", "--labels=app=web")
    labels = json.loads(kubectl("get", "pod", "web", "-n", ns, "-o", "json"))["metadata"]["labels"]
    assert labels == {"app": "web", "mutated": "yes"}
    assert create_pod(raw, ns, pod("bare")).json()["metadata"]["labels"] == {"mutated": "yes"}
    path, review = hooks.seen[-1]
    assert path == "/mutate?timeout=10s"
    assert review["apiVersion"] == "admission.k8s.io/v1" and review["kind"] == "AdmissionReview"
    request = review["request"]
    assert request["kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert request["resource"] == {"group": "", "version": "v1", "resource": "pods"}
    assert request["requestKind"] == request["kind"]
    assert (request["name"], request["namespace"], request["operation"]) == ("bare", ns, "CREATE")
    assert request["userInfo"]["username"] == "kubernetes-admin"
    assert "system:masters" in request["userInfo"]["groups"]
    assert request["object"]["metadata"]["name"] == "bare"
    assert request["oldObject"] is None
    assert request["dryRun"] is False
    assert request["options"] == {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}


def test_failure_policy_decides_when_the_webhook_is_down(
    raw: RawClient, hooks: WebhookServer, ns: str
) -> None:
    port = free_port()
    configure(
        raw, "mutating", f"down-{ns}", webhook("down.example.com", url(hooks, "/mutate", port), ns)
    )
    refused = create_pod(raw, ns, pod("p"))
    assert refused.status == 500
    status = refused.json()
    assert status["reason"] == "InternalError"
    assert status["message"] == (
        'Internal error occurred: failed calling webhook "down.example.com": failed to call '
        f'webhook: Post "https://127.0.0.1:{port}/mutate?timeout=10s": dial tcp 127.0.0.1:{port}: '
        "connect: connection refused"
    )
    raw.request(
        "DELETE", f"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/down-{ns}"
    )
    configure(
        raw,
        "mutating",
        f"ignored-{ns}",
        webhook("ignored.example.com", url(hooks, "/mutate", port), ns, failurePolicy="Ignore"),
    )
    admitted = create_pod(raw, ns, pod("p"))
    assert admitted.status == 201, admitted.body


def test_timeouts_and_bad_answers_are_call_failures(
    raw: RawClient, hooks: WebhookServer, ns: str
) -> None:
    configure(
        raw,
        "validating",
        f"slow-{ns}",
        webhook("slow.example.com", url(hooks, "/slow"), ns, timeoutSeconds=1),
    )
    started = time.monotonic()
    slow = create_pod(raw, ns, pod("p"))
    assert time.monotonic() - started < 2.4
    assert slow.status == 500
    assert slow.json()["message"] == (
        'Internal error occurred: failed calling webhook "slow.example.com": failed to call '
        f'webhook: Post "https://127.0.0.1:{hooks.port}/slow?timeout=1s": context deadline exceeded'
    )
    raw.request(
        "DELETE", f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/slow-{ns}"
    )
    configure(
        raw, "validating", f"uid-{ns}", webhook("uid.example.com", url(hooks, "/wrong-uid"), ns)
    )
    wrong = create_pod(raw, ns, pod("p"))
    assert wrong.status == 500
    assert (
        'failed calling webhook "uid.example.com": received invalid webhook response: '
        in (wrong.json()["message"])
    )


def test_a_validating_webhook_denies_with_its_message(
    raw: RawClient, kubectl: Kubectl, hooks: WebhookServer, ns: str
) -> None:
    configure(raw, "validating", f"deny-{ns}", webhook("deny.example.com", url(hooks, "/deny"), ns))
    assert create_pod(raw, ns, pod("good")).status == 201
    denied = create_pod(raw, ns, pod("bad"))
    assert denied.status == 403
    status = denied.json()
    assert status["reason"] == "Forbidden"
    assert (
        status["message"]
        == 'admission webhook "deny.example.com" denied the request: no pods named bad'
    )
    failed = kubectl.fails("run", "bad", "-n", ns, "--image=busybox")
    assert failed.stderr.strip() == (
        'Error from server (Forbidden): admission webhook "deny.example.com" denied the request: '
        "no pods named bad"
    )
    configure(
        raw,
        "validating",
        f"plain-{ns}",
        webhook("plain.example.com", url(hooks, "/deny-plain"), ns),
    )
    plain = create_pod(raw, ns, pod("other"))
    assert plain.status == 400
    assert plain.json()["message"] == (
        'admission webhook "plain.example.com" denied the request without explanation'
    )


def test_selectors_choose_what_a_webhook_sees(
    raw: RawClient, hooks: WebhookServer, ns: str
) -> None:
    configure(
        raw,
        "mutating",
        f"select-{ns}",
        webhook(
            "select.example.com",
            url(hooks, "/mutate"),
            ns,
            objectSelector={"matchLabels": {"inject": "yes"}},
        ),
        webhook(
            "elsewhere.example.com",
            url(hooks, "/deny-plain"),
            ns,
            namespaceSelector={"matchLabels": {"hooks": "on"}},
        ),
    )
    plain = create_pod(raw, ns, pod("plain"))
    assert plain.status == 201
    assert "labels" not in plain.json()["metadata"]
    picked = create_pod(raw, ns, pod("picked", {"inject": "yes"}))
    assert picked.json()["metadata"]["labels"] == {"inject": "yes", "mutated": "yes"}
    namespace = raw.get(f"/api/v1/namespaces/{ns}").json()
    namespace["metadata"]["labels"]["hooks"] = "on"
    assert raw.request("PUT", f"/api/v1/namespaces/{ns}", namespace).status == 200
    time.sleep(0.15)
    assert create_pod(raw, ns, pod("now-denied")).status == 400


def test_dry_runs_reach_only_side_effect_free_webhooks_and_warnings_pass_through(
    raw: RawClient, hooks: WebhookServer, ns: str
) -> None:
    configure(
        raw,
        "validating",
        f"warn-{ns}",
        webhook("warn.example.com", url(hooks, "/warn"), ns, sideEffects="NoneOnDryRun"),
    )
    resp = create_pod(raw, ns, pod("dry"), "?dryRun=All")
    assert resp.status == 201
    assert resp.warnings == ['299 - "careful with that pod"']
    _, review = hooks.seen[-1]
    assert review["request"]["dryRun"] is True


def test_service_references_resolve_to_a_node_port(raw: RawClient, tmp_path: Path, ns: str) -> None:
    node_port = next(p for p in range(31000, 32000) if _free(p))
    with WebhookServer(tmp_path, port=node_port) as server:
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "hook"},
            "spec": {
                "type": "NodePort",
                "ports": [{"port": 443, "targetPort": 8443, "nodePort": node_port}],
            },
        }
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SERVICE_NS}}
        raw.request("POST", "/api/v1/namespaces", namespace)
        created = raw.request("POST", f"/api/v1/namespaces/{SERVICE_NS}/services", service)
        assert created.status == 201, created.body
        client = {
            "service": {"namespace": SERVICE_NS, "name": "hook", "path": "/mutate"},
            "caBundle": base64.b64encode(server.ca).decode(),
        }
        configure(raw, "mutating", f"svc-{ns}", webhook("svc.example.com", client, ns))
        try:
            resp = create_pod(raw, ns, pod("via-service"))
            assert resp.status == 201, resp.body
            assert resp.json()["metadata"]["labels"] == {"mutated": "yes"}
            assert server.seen[-1][0] == "/mutate?timeout=10s"
        finally:
            raw.request("DELETE", f"/api/v1/namespaces/{SERVICE_NS}/services/hook")


def test_invalid_configurations_are_refused(raw: RawClient, hooks: WebhookServer, ns: str) -> None:
    hook = webhook("bad", url(hooks, "/mutate"), ns)
    del hook["sideEffects"]
    body = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": f"invalid-{ns}"},
        "webhooks": [hook],
    }
    resp = raw.request(
        "POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", body
    )
    assert resp.status == 422
    assert resp.json()["message"] == (
        f'ValidatingWebhookConfiguration.admissionregistration.k8s.io "invalid-{ns}" is invalid: '
        '[webhooks[0].name: Invalid value: "bad": should be a domain with at least three segments '
        "separated by dots, webhooks[0].sideEffects: Required value: must specify one of None, "
        "NoneOnDryRun]"
    )


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# -- the pure parts -----------------------------------------------------------------------------
def _request(
    resource: str, subresource: str = "", namespace: str = "ns", **kw: Any
) -> AdmissionRequest:
    group, _, plural = resource.rpartition("/")
    info = next(r for r in builtin_resources() if (r.group, r.plural) == (group, plural))
    return AdmissionRequest(
        kw.pop("operation", "UPDATE"), info, subresource, namespace, "x", {}, {}, None, **kw
    )


def test_rules_match_resources_subresources_and_scopes() -> None:
    rule = {
        "operations": ["*"],
        "apiGroups": ["*"],
        "apiVersions": ["*"],
        "resources": ["pods/status"],
    }
    assert rule_matches(rule, _request("pods", "status"))
    assert not rule_matches(rule, _request("pods"))
    assert rule_matches({**rule, "resources": ["*"]}, _request("pods"))
    assert not rule_matches({**rule, "resources": ["*"]}, _request("pods", "status"))
    assert rule_matches({**rule, "resources": ["*/*"]}, _request("pods", "status"))
    assert rule_matches({**rule, "resources": ["pods/*"]}, _request("pods", "ephemeralcontainers"))
    assert not rule_matches(
        {**rule, "operations": ["CREATE"], "resources": ["*"]}, _request("pods")
    )
    apps = {**rule, "apiGroups": ["apps"], "resources": ["deployments"]}
    assert rule_matches(apps, _request("apps/deployments"))
    assert not rule_matches({**apps, "apiVersions": ["v1beta1"]}, _request("apps/deployments"))
    namespaced = {**rule, "resources": ["*"], "scope": "Namespaced"}
    assert rule_matches(namespaced, _request("pods"))
    assert not rule_matches(namespaced, _request("nodes", namespace=""))
    assert not rule_matches(namespaced, _request("namespaces", namespace=""))
    cluster = {**namespaced, "scope": "Cluster"}
    assert rule_matches(cluster, _request("namespaces", namespace=""))
    assert not rule_matches(cluster, _request("pods"))


async def test_webhooks_with_side_effects_refuse_dry_runs() -> None:
    hook = Hook(
        "cfg", {"name": "fx.example.com", "sideEffects": "Unknown", "failurePolicy": "Ignore"}
    )
    req = _request("pods", operation="CREATE", dry_run=True)
    with pytest.raises(ApiError) as refused:
        await ask(cast(Registry, None), hook, req, mutating=False)
    assert (refused.value.code, refused.value.reason) == (400, "BadRequest")
    assert refused.value.message == 'admission webhook "fx.example.com" does not support dry run'


def test_denials_keep_the_webhooks_status() -> None:
    err = denial(
        "d.example.com",
        {"code": 422, "reason": "Invalid", "details": {"name": "p", "kind": "pods"}},
    )
    assert (err.code, err.reason, err.message) == (
        422,
        "Invalid",
        'admission webhook "d.example.com" denied the request: Invalid',
    )
    assert denial("d.example.com", {"code": 200}).code == 400
