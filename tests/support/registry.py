"""A real OCI registry for tests, and a busybox image to put in it.

- `LocalRegistry()` runs Debian's `docker-registry` (distribution 2.8) on a free
  127.0.0.1 port with storage in a temporary directory (or `workdir`, kept); with
  `token_auth=True` it demands bearer tokens, which a small token server of ours (a
  stdlib HTTP server in a thread, so it answers while a test blocks on skopeo) issues as
  RS256 JWTs signed by a self-signed certificate the registry trusts. `users` are the
  accounts the token server accepts; anonymous requests get a token granting nothing,
  as Docker Hub does for private repositories. Use it as a context manager; the process
  and thread are always stopped.
- `build_busybox_image(dir)` writes an OCI image layout holding one layer made of the
  static `/bin/busybox` and symlinks for the common applets; `Cmd` is `["sh"]`. The build
  is deterministic (fixed times, gzip without a timestamp), so its digests are stable.
- `push(layout, registry, "busybox:latest")` copies the layout into the registry with
  skopeo and returns the manifest digest.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from openeks.kube.node.images.registry import host_platform

REGISTRY_BINARY = "/usr/bin/docker-registry"
BUSYBOX = "/bin/busybox"
APPLETS = (
    "sh", "ash", "echo", "sleep", "cat", "httpd", "wget", "nc", "ls", "env", "id",
    "hostname", "true", "false", "ps", "kill", "mkdir", "rm", "cp", "mv", "touch", "head",
    "tail", "grep", "sed", "awk", "printf", "test", "[", "date", "dd", "ip", "ifconfig",
    "ping", "nslookup", "uname", "whoami", "chmod", "chown", "ln", "pwd", "wc", "tr",
    "seq", "yes", "tee", "stat", "mount", "df", "du", "find", "xargs", "basename", "dirname",
    "readlink", "usleep", "timeout", "trap", "vi", "more", "less", "tty", "stty", "expr",
)  # fmt: skip
SERVICE = "openeks-test-registry"
ISSUER = "openeks-test-issuer"
FIXED_TIME = 1704067200  # 2024-01-01T00:00:00Z
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tools_available() -> bool:
    """Whether docker-registry, skopeo and a static busybox are installed."""
    return all(Path(p).exists() for p in (REGISTRY_BINARY, BUSYBOX)) and bool(
        shutil.which("skopeo")
    )


# -- the token server --------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class _Signer:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls) -> _Signer:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openeks test token signer")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, cert=cert)

    def token(self, subject: str, access: list[dict[str, object]]) -> str:
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        now = int(time.time())
        claims = {
            "iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 600,
            "nbf": now - 60, "iat": now, "jti": str(time.time_ns()), "access": access,
        }  # fmt: skip
        encoded = [_b64url(json.dumps(part).encode()) for part in (header, claims)]
        signing_input = ".".join(encoded)
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


class _TokenHandler(BaseHTTPRequestHandler):
    server: _TokenServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        user = self._user()
        if user is None:
            self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
            return
        self.server.requests.append({"user": user, "scope": query.get("scope", [])})
        access: list[dict[str, object]] = []
        for scope in query.get("scope", []) if user else []:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        token = self.server.signer.token(user or "anonymous", access)
        self._answer(200, {"token": token, "access_token": token, "expires_in": 600})

    def _user(self) -> str | None:
        """'' for anonymous, the user name for good credentials, None for bad ones."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return ""
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if self.server.users.get(user) == password else None

    def _answer(self, status: int, document: dict[str, object]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _TokenServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, signer: _Signer, users: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _TokenHandler)
        self.signer = signer
        self.users = users
        self.requests: list[dict[str, object]] = []


# -- the registry ------------------------------------------------------------------------


@dataclass(eq=False)
class LocalRegistry:
    """A docker-registry process on 127.0.0.1; see the module docstring."""

    workdir: Path | None = None
    """Where storage, config and log go; None: a temporary directory, removed on stop."""
    token_auth: bool = False
    users: dict[str, str] = field(default_factory=lambda: {"alice": "wonderland"})
    port: int = 0
    pushed: dict[str, str] = field(default_factory=dict, init=False)
    """Name → manifest digest of everything `push` put here."""
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    token_server: _TokenServer | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the registry part of image references."""
        return f"127.0.0.1:{self.port}"

    @property
    def token_requests(self) -> list[dict[str, object]]:
        return self.token_server.requests if self.token_server else []

    _own_dir: bool = field(default=False, init=False)

    @property
    def dir(self) -> Path:
        assert self.workdir is not None, "the registry is not started"
        return self.workdir

    def start(self) -> LocalRegistry:
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="openeks-registry-"))
            self._own_dir = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config: dict[str, object] = {
            "version": "0.1",
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.dir / "storage")},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.host, "secret": "openeks-test"},
        }
        if self.token_auth:
            config["auth"] = {"token": self._start_token_server()}
        config_path = self.dir / "config.yml"
        config_path.write_text(json.dumps(config))
        log = (self.dir / "registry.log").open("wb")
        command = [REGISTRY_BINARY, "serve", str(config_path)]
        if shutil.which("setpriv"):
            command = ["setpriv", "--pdeathsig", "KILL", *command]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_token_server(self) -> dict[str, str]:
        signer = _Signer.create()
        bundle = self.dir / "token-signer.pem"
        bundle.write_bytes(signer.cert.public_bytes(serialization.Encoding.PEM))
        self.token_server = _TokenServer(signer, self.users)
        self._thread = threading.Thread(target=self.token_server.serve_forever, daemon=True)
        self._thread.start()
        realm = f"http://127.0.0.1:{self.token_server.server_address[1]}/token"
        return {"realm": realm, "service": SERVICE, "issuer": ISSUER, "rootcertbundle": str(bundle)}

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1).close()
                return
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    return
            except OSError:
                time.sleep(0.05)
        log = (self.dir / "registry.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"docker-registry did not start: {log}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        if self.token_server is not None:
            self.token_server.shutdown()
            self.token_server.server_close()
            self.token_server = None
        if self._own_dir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir, self._own_dir = None, False

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# -- images ------------------------------------------------------------------------------


def _tar_entry(
    tar: tarfile.TarFile, name: str, data: bytes | None = None, mode: int = 0o644, **kw: object
) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = FIXED_TIME
    info.mode = mode
    for key, value in kw.items():
        setattr(info, key, value)
    if data is not None:
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data is not None else None)


def busybox_layer() -> bytes:
    """An uncompressed tar: /bin/busybox, applet links, /etc/passwd, /etc/group, /tmp."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory, mode in (("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("root", 0o700)):
            _tar_entry(tar, directory, mode=mode, type=tarfile.DIRTYPE)
        _tar_entry(tar, "bin/busybox", Path(BUSYBOX).read_bytes(), mode=0o755)
        for applet in APPLETS:
            _tar_entry(tar, f"bin/{applet}", type=tarfile.SYMTYPE, linkname="busybox", mode=0o777)
        passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
        _tar_entry(tar, "etc/passwd", passwd)
        _tar_entry(tar, "etc/group", b"root:x:0:\nnobody:x:65534:\n")
    return buffer.getvalue()


def _write_blob(layout: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def build_busybox_image(
    directory: Path,
    tag: str = "latest",
    extra_layers: Sequence[bytes] = (),
    config: dict[str, object] | None = None,
    platforms: Sequence[str] = (),
) -> Path:
    """Write an OCI image layout at `directory` (created) and return it.

    `extra_layers` are uncompressed tars applied on top of busybox's; `config` adds to
    the image config's `config` section (`Env`, `Entrypoint`, `User`, ...). With
    `platforms` (architectures such as `("arm64", "amd64")`) the tag names an image index
    with one manifest per architecture, each config's Env holding `IMAGE_ARCH=<arch>`.
    """
    layout = Path(directory)
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layers, diff_ids = [], []
    for raw in (busybox_layer(), *extra_layers):
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        blob = _write_blob(layout, gzip.compress(raw, compresslevel=6, mtime=0))
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **blob})
    manifests = []
    for arch in platforms or (host_platform()[0],):
        env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        if platforms:
            env.append(f"IMAGE_ARCH={arch}")
        document = {
            "created": "2024-01-01T00:00:00Z",
            "architecture": arch,
            "os": "linux",
            "config": {"Env": env, "Cmd": ["sh"], **(config or {})},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "openeks tests"}],
        }
        config_blob = _write_blob(layout, json.dumps(document, sort_keys=True).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_blob},
            "layers": layers,
        }
        blob = _write_blob(layout, json.dumps(manifest, sort_keys=True).encode())
        platform = {"os": "linux", "architecture": arch}
        manifests.append({"mediaType": OCI_MANIFEST, **blob, "platform": platform})
    top = manifests[0]
    if platforms:
        image_index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
        top = {"mediaType": OCI_INDEX, **_write_blob(layout, json.dumps(image_index).encode())}
    else:
        top = {key: value for key, value in top.items() if key != "platform"}
    top["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    return layout


def push(
    layout: Path,
    registry: LocalRegistry,
    name: str,
    tag: str = "latest",
    creds: tuple[str, str] | None = None,
) -> str:
    """Copy the layout's `tag` image to `registry` as `name` (`busybox:latest`); returns
    the pushed manifest's digest."""
    with tempfile.TemporaryDirectory() as tmp:
        digest_file = Path(tmp) / "digest"
        command = [
            "skopeo", "--insecure-policy", "copy", "--all", "--quiet", "--dest-tls-verify=false",
            "--digestfile", str(digest_file),
            f"oci:{layout}:{tag}", f"docker://{registry.host}/{name}",
        ]  # fmt: skip
        if creds:
            command[3:3] = ["--dest-creds", f"{creds[0]}:{creds[1]}"]
        result = subprocess.run(command, capture_output=True, timeout=60, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"skopeo copy failed: {result.stderr.decode(errors='replace')}")
        digest = digest_file.read_text().strip()
    registry.pushed[name] = digest
    return digest


def oci_archive(layout: Path, path: Path) -> Path:
    """Tar up an OCI image layout (what `skopeo copy ... oci-archive:` writes)."""
    with tarfile.open(path, "w") as tar:
        for entry in sorted(layout.rglob("*")):
            tar.add(entry, arcname=str(entry.relative_to(layout)), recursive=False)
    return path
