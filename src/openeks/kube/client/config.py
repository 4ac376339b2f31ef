"""Where a client connects and who it is: read from a kubeconfig, as kubectl reads it.

Supports what our kubeconfigs and EKS-style ones carry: `certificate-authority-data`
or `certificate-authority`, client certificate and key (data or file), bearer `token`
or `tokenFile`, and `insecure-skip-tls-verify`. The TLS context is built once per
config; certificate data is loaded through a private temporary directory because
Python's ssl module only reads keys from files.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class ClientConfig:
    server: str
    ca_data: bytes | None = None
    cert_data: bytes | None = None
    key_data: bytes | None = None
    token: str | None = None
    insecure: bool = False
    user_agent: str = "openeks/0.1"

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.server.startswith("https://"):
            return None
        ctx = ssl.create_default_context()
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_data:
            ctx = ssl.create_default_context(cadata=self.ca_data.decode())
        if self.cert_data and self.key_data:
            with tempfile.TemporaryDirectory(prefix="openeks-client-") as tmp:
                cert, key = Path(tmp) / "client.crt", Path(tmp) / "client.key"
                for path, data in ((cert, self.cert_data), (key, self.key_data)):
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
                    with os.fdopen(fd, "wb") as f:
                        f.write(data)
                ctx.load_cert_chain(cert, key)
        return ctx


def _data(section: dict[str, Any], key: str, base: Path) -> bytes | None:
    if section.get(f"{key}-data"):
        return base64.b64decode(section[f"{key}-data"])
    if section.get(key):
        path = Path(section[key])
        return (path if path.is_absolute() else base / path).read_bytes()
    return None


def load_kubeconfig(
    path: str | Path, context: str | None = None, user_agent: str = "openeks/0.1"
) -> ClientConfig:
    path = Path(path)
    cfg = yaml.safe_load(path.read_text()) or {}
    return from_kubeconfig_dict(cfg, path.parent, context, user_agent)


def from_kubeconfig_dict(
    cfg: dict[str, Any], base: Path, context: str | None = None, user_agent: str = "openeks/0.1"
) -> ClientConfig:
    name = context or cfg.get("current-context")
    contexts = {c["name"]: c["context"] for c in cfg.get("contexts") or ()}
    if name not in contexts:
        raise ValueError(f"kubeconfig has no context {name!r}")
    ctx = contexts[name]
    clusters = {c["name"]: c["cluster"] for c in cfg.get("clusters") or ()}
    users = {u["name"]: u.get("user") or {} for u in cfg.get("users") or ()}
    cluster = clusters[ctx["cluster"]]
    user = users.get(ctx.get("user", ""), {})
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = Path(user["tokenFile"]).read_text().strip()
    return ClientConfig(
        server=cluster["server"].rstrip("/"),
        ca_data=_data(cluster, "certificate-authority", base),
        cert_data=_data(user, "client-certificate", base),
        key_data=_data(user, "client-key", base),
        token=token,
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        user_agent=user_agent,
    )
