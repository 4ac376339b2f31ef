"""Write kubeconfig files: a cluster with its CA, a user with a client certificate."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from openeks.kube.apiserver.pki import KeyPair, write_private


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def render(server: str, ca_pem: bytes, user: str, client: KeyPair, cluster: str = "openeks") -> str:
    context = f"{user}@{cluster}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client.cert_pem),
                    "client-key-data": _b64(client.key_pem),
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
        "current-context": context,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write(
    path: Path, server: str, ca_pem: bytes, user: str, client: KeyPair, cluster: str = "openeks"
) -> None:
    write_private(path, render(server, ca_pem, user, client, cluster).encode())


def issue_for(data_dir: Path, user: str, groups: list[str], out: Path) -> Path:
    """A kubeconfig for `user` in `groups`, signed by the cluster CA in `data_dir` (the
    control plane's data directory), for the server its admin kubeconfig names."""
    from openeks.kube.apiserver import pki

    pki_dir = data_dir / "pki"
    ca = pki.KeyPair((pki_dir / "ca.crt").read_bytes(), (pki_dir / "ca.key").read_bytes())
    admin = yaml.safe_load((data_dir / "admin.kubeconfig").read_text())
    server = admin["clusters"][0]["cluster"]["server"]
    cluster = admin["clusters"][0]["name"]
    write(out, server, ca.cert_pem, user, pki.issue_client(ca, user, groups), cluster)
    return out
