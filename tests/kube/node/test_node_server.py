"""The node's HTTPS API: client-certificate authentication, container logs from CRI files,
exec over WebSocket (v5.channel.k8s.io) — directly, and through the API server with kubectl."""

from __future__ import annotations

import asyncio
import datetime
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openeks.kube.client import Client
from openeks.kube.client.resources import PODS
from openeks.kube.node.runtime.base import (
    ContainerConfig,
    ExecResult,
    ExecStreams,
    ImageInfo,
    Sandbox,
    SandboxConfig,
)
from openeks.kube.node.runtime.simulated import SimulatedRuntime
from openeks.kube.node.server import ContainerRef, NodeServer
from openeks.kube.node.servingcert import ensure_serving_cert, server_context
from tests.kube.node.conftest import AgentFactory, eventually, pod
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl

T0 = "2024-05-06T07:08:09.123456789Z"
T1 = "2024-05-06T07:08:10.5Z"


class EchoRuntime(SimulatedRuntime):
    """Simulated, plus: containers log two lines; exec echoes stdin and exits as told."""

    async def create_container(
        self, sandbox: Sandbox, config: ContainerConfig, image: ImageInfo
    ) -> str:
        cid = await super().create_container(sandbox, config, image)
        if config.log_path:
            Path(config.log_path).write_text(
                f"{T0} stdout F hello from {config.name}\n{T1} stderr P part one, \n"
                f"{T1} stderr F part two\n"
            )
        return cid

    async def exec(
        self, container_id: str, command: list[str], streams: ExecStreams, tty: bool = False
    ) -> ExecResult:
        self._check_running(container_id)
        while (chunk := await streams.read_stdin()) is not None:
            await streams.write_stdout(chunk.upper())
        await streams.write_stderr(b"to stderr\n")
        code = int(command[1]) if command[0] == "exit" else 0
        return ExecResult(exit_code=code)


# -- certificates ----------------------------------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert(
    subject: list[x509.NameAttribute[str]],
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    signer: ec.EllipticCurvePrivateKey,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


@dataclass
class Pki:
    ca_pem: bytes
    tmp: Path

    def client(self, name: str, cn: str, org: str = "", other_ca: bool = False) -> ssl.SSLContext:
        ca_key = self._ca_key if not other_ca else _key()
        ca_name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, "other" if other_ca else "ca")]
        )
        subject = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            subject.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        key = _key()
        cert = _cert(subject, key, ca_name, ca_key, ca=False)
        cert_path, key_path = self.tmp / f"{name}.crt", self.tmp / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(_pem(key))
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(cert_path, key_path)
        return ctx

    _ca_key: ec.EllipticCurvePrivateKey = None  # type: ignore[assignment]


def _pki(tmp: Path) -> Pki:
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")])
    ca = _cert(list(name), key, name, key, ca=True)
    pki = Pki(ca.public_bytes(serialization.Encoding.PEM), tmp)
    pki._ca_key = key
    return pki


# -- a node server over a fake pod view -------------------------------------------------------


class Pods:
    def __init__(self, ref: ContainerRef) -> None:
        self.ref = ref

    def pod_exists(self, namespace: str, pod: str) -> bool:
        return (namespace, pod) == ("shop", "web")

    def locate(self, namespace: str, pod: str, container: str) -> ContainerRef | None:
        return self.ref if self.pod_exists(namespace, pod) and container == "main" else None


@dataclass
class Served:
    url: str
    pki: Pki
    runtime: EchoRuntime
    log: Path
    container_id: str


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    pki = _pki(tmp_path)
    runtime = EchoRuntime()
    sandbox = await runtime.run_sandbox(
        SandboxConfig(pod_uid="u", name="web", namespace="shop", hostname="web")
    )
    log = tmp_path / "logs" / "main" / "1.log"
    config = ContainerConfig(name="main", image="busybox", command=["app"], env={})
    config.log_path = str(log)
    cid = await runtime.create_container(
        sandbox, config, await runtime.pull_image("busybox", "Always")
    )
    await runtime.start_container(cid)
    previous = tmp_path / "logs" / "main" / "0.log"
    previous.write_text(f"{T0} stdout F from the previous run\n")
    cert, key = ensure_serving_cert(tmp_path / "pki", "127.0.0.1", "node-1")
    server = NodeServer(
        Pods(ContainerRef(cid, log, previous)),
        runtime,
        "127.0.0.1",
        0,
        server_context(cert, key, pki.ca_pem),
    )
    port = await server.start()
    try:
        yield Served(f"https://127.0.0.1:{port}", pki, runtime, log, cid)
    finally:
        await server.stop()


async def _get(ctx: ssl.SSLContext, url: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session,
        session.get(url) as resp,
    ):
        return resp.status, await resp.text()


def _anonymous() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def test_the_serving_certificate_is_private_and_reused(tmp_path: Path) -> None:
    cert, key = ensure_serving_cert(tmp_path, "127.0.0.1", "node-1")
    assert oct(cert.stat().st_mode & 0o777) == oct(key.stat().st_mode & 0o777) == "0o600"
    first = cert.read_bytes()
    ensure_serving_cert(tmp_path, "127.0.0.1", "node-1")
    assert cert.read_bytes() == first
    ensure_serving_cert(tmp_path, "127.0.0.2", "node-1")
    assert cert.read_bytes() != first


async def test_callers_need_a_client_certificate_from_the_cluster_ca(served: Served) -> None:
    assert await _get(_anonymous(), served.url + "/healthz") == (200, "ok")
    status, text = await _get(_anonymous(), served.url + "/containerLogs/shop/web/main")
    assert (status, text.strip()) == (401, "Unauthorized")
    alice = served.pki.client("alice", "alice")
    status, text = await _get(alice, served.url + "/containerLogs/shop/web/main")
    assert status == 403
    assert text.strip() == "Forbidden (user=alice, verb=get, resource=nodes, subresource=proxy)"
    stranger = served.pki.client("stranger", "kube-apiserver-kubelet-client", other_ca=True)
    with pytest.raises(aiohttp.ClientError):
        await _get(stranger, served.url + "/containerLogs/shop/web/main")


async def test_container_logs_strip_the_cri_prefix(served: Served) -> None:
    apiserver = served.pki.client("apiserver", "kube-apiserver-kubelet-client", "system:masters")
    base = served.url + "/containerLogs/shop/web/main"
    assert await _get(apiserver, base) == (200, "hello from main\npart one, part two\n")
    status, text = await _get(apiserver, base + "?timestamps=true")
    assert text == (
        "2024-05-06T07:08:09.123456000Z hello from main\n"
        "2024-05-06T07:08:10.500000000Z part one, part two\n"
    )
    assert (await _get(apiserver, base + "?tailLines=1"))[1] == "part one, part two\n"
    assert (await _get(apiserver, base + "?limitBytes=5"))[1] == "hello"
    since = "2024-05-06T07:08:10Z"
    assert (await _get(apiserver, base + f"?sinceTime={since}"))[1] == "part one, part two\n"
    assert (await _get(apiserver, base + "?previous=true"))[1] == "from the previous run\n"
    status, text = await _get(apiserver, served.url + "/containerLogs/shop/nope/main")
    assert (status, text.strip()) == (404, 'pod "nope" does not exist')
    status, text = await _get(apiserver, base + "?tailLines=x")
    assert status == 400


async def test_following_logs_streams_until_the_container_stops(served: Served) -> None:
    admin = served.pki.client("admin", "kubernetes-admin", "system:masters")
    url = served.url + "/containerLogs/shop/web/main?follow=true&tailLines=0"
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=admin)) as session,
        session.get(url) as resp,
    ):
        assert resp.status == 200
        with served.log.open("a") as f:
            f.write("2024-05-06T07:09:00.000000001Z stdout F later\n")
        line = await asyncio.wait_for(resp.content.readline(), 5)
        assert line == b"later\n"
        await served.runtime.stop_container(served.container_id, 0)
        rest = await asyncio.wait_for(resp.content.read(), 5)
        assert rest == b""


async def _exec(
    served: Served, query: str, stdin: bytes, protocol: str = "v5.channel.k8s.io"
) -> tuple[str | None, dict[int, bytes]]:
    admin = served.pki.client("admin", "kubernetes-admin", "system:masters")
    received: dict[int, bytes] = {}
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=admin)) as session,
        session.ws_connect(served.url + "/exec/shop/web/main?" + query, protocols=[protocol]) as ws,
    ):
        if stdin:
            await ws.send_bytes(b"\x00" + stdin)
            await ws.send_bytes(b"\xff\x00")
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY:
                received[msg.data[0]] = received.get(msg.data[0], b"") + msg.data[1:]
        return ws.protocol, received


async def test_exec_over_a_v5_websocket(served: Served) -> None:
    query = "command=cat&stdin=1&stdout=1&stderr=1"
    protocol, received = await _exec(served, query, b"hello node\n")
    assert protocol == "v5.channel.k8s.io"
    assert received[1] == b"HELLO NODE\n"
    assert received[2] == b"to stderr\n"
    assert json.loads(received[3]) == {"metadata": {}, "status": "Success"}


async def test_exec_reports_a_non_zero_exit_code(served: Served) -> None:
    _, received = await _exec(
        served, "command=exit&command=3&stdout=1&stderr=1", b"", "v4.channel.k8s.io"
    )
    status = json.loads(received[3])
    assert status["status"] == "Failure"
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]


async def test_exec_needs_a_command_and_a_running_container(served: Served) -> None:
    admin = served.pki.client("admin", "kubernetes-admin", "system:masters")
    status, text = await _get(admin, served.url + "/exec/shop/web/main?stdout=1")
    assert (status, text.strip()) == (400, "you must specify at least 1 command")
    await served.runtime.stop_container(served.container_id, 0)
    status, text = await _get(admin, served.url + "/exec/shop/web/main?command=ls")
    assert (status, text.strip()) == (400, 'container "main" is not running')


# -- through the API server, with kubectl -----------------------------------------------------


async def test_kubectl_logs_and_exec_reach_the_node_through_the_api_server(
    api: ApiServerProcess, client: Client, ns: str, start_agent: AgentFactory, tmp_path: Path
) -> None:
    agent = await start_agent(runtime=EchoRuntime("10.244.5.0/24"), pod_cidr="10.244.5.0/24")
    await client.create(PODS, pod("echo", agent.config.name), ns)

    async def running() -> bool:
        p = await client.get(PODS, "echo", ns)
        return bool(p["status"].get("phase") == "Running")

    await eventually(running)
    kubectl = Kubectl(api.kubeconfig, tmp_path / "home")
    logs = await asyncio.to_thread(kubectl, "logs", "-n", ns, "echo")
    assert logs == "hello from main\npart one, part two\n"
    out = await asyncio.to_thread(
        kubectl, "exec", "-i", "-n", ns, "echo", "--", "cat", input="abc\n"
    )
    assert out == "ABC\n"
    result = await asyncio.to_thread(
        kubectl.run, "exec", "-n", ns, "echo", "--", "exit", "5", check=False
    )
    assert result.returncode == 5
