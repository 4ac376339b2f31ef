"""The node's HTTPS identity: a self-signed serving certificate, and who may call it.

Like a kubelet without `--tls-cert-file`, the agent makes itself a self-signed
certificate (EC P-256, valid a year) for its address and name, kept in
`<data dir>/pki/kubelet.{crt,key}` with mode 0600 and reused while it still covers them.
The API server does not verify it (upstream's default without
`--kubelet-certificate-authority`).

Callers must present a client certificate issued by the cluster CA (the kubeconfig's
`certificate-authority-data`); a handshake with any other certificate fails, no
certificate gets 401. Authorization stands in for kubelet's SubjectAccessReview: the API
server's kubelet-client identity and the `system:masters` group may use every endpoint.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
ALLOWED_USERS = ("kube-apiserver-kubelet-client", "kube-apiserver")
ALLOWED_GROUPS = ("system:masters",)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _covers(cert: x509.Certificate, address: str, name: str) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    names = set(san.get_values_for_type(x509.DNSName))
    fresh = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(
        days=7
    )
    return fresh and address in ips and name in names


def make_serving_cert(address: str, name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}@openeks-node")])
    now = datetime.datetime.now(datetime.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName(name)]
    try:
        alt.append(x509.IPAddress(ipaddress.ip_address(address)))
    except ValueError:
        alt.append(x509.DNSName(address))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def ensure_serving_cert(directory: Path, address: str, name: str) -> tuple[Path, Path]:
    cert_path, key_path = directory / "kubelet.crt", directory / "kubelet.key"
    if cert_path.exists() and key_path.exists():
        try:
            if _covers(x509.load_pem_x509_certificate(cert_path.read_bytes()), address, name):
                return cert_path, key_path
        except ValueError:
            pass
    cert, key = make_serving_cert(address, name)
    _write_private(key_path, key)
    _write_private(cert_path, cert)
    return cert_path, key_path


def server_context(cert: Path, key: Path, client_ca: bytes | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.load_verify_locations(cadata=client_ca.decode())
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


@dataclass(frozen=True)
class Caller:
    user: str
    groups: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return self.user in ALLOWED_USERS or any(g in ALLOWED_GROUPS for g in self.groups)


def caller_of(peercert: Any) -> Caller | None:
    """The user (CN) and groups (O) of a verified client certificate, None without one."""
    if not peercert or not isinstance(peercert, dict):
        return None
    user, groups = "", []
    for rdn in peercert.get("subject") or ():
        for key, value in rdn:
            if key == "commonName":
                user = value
            elif key == "organizationName":
                groups.append(value)
    return Caller(user, tuple(groups))
