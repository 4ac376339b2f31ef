"""What one EKS cluster runs, and where: the plan the cluster controller hands to the
supervisor.

A three-zone cluster (the default, like EKS) is: one etcd member per zone; one control
plane process per zone on that zone's address — an API server with a scheduler and a
controller manager in it, both leader-elected through Leases so one replica of each acts
— all sharing one PKI and the three-member etcd; and a load balancer on a region-wide
address in front of the API servers — the cluster's `endpoint`. (Scheduler and
controller manager share their zone's process, as kubeadm puts them on their zone's
control plane machine, to keep an idle cluster small: every Python process costs some
30 MB before it does anything.) A single-zone cluster (the tag
`openeks.io/control-plane: single-zone`, for small dev clusters) is one such process
with sqlite instead of etcd, behind the same kind of endpoint.

Everything is derived from the cluster's name and the persistent address allocator, so
the same plan comes out after a restart: same addresses, same files, same processes.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openeks.kube.apiserver import kubeconfig, pki
from openeks.kube.apiserver.serviceaccounts import SigningKey
from openeks.region.etcdcluster import EtcdCluster, plan_etcd_cluster
from openeks.region.probes import HttpProbe
from openeks.region.process import ProcessSpec
from openeks.region.zones import AddressAllocator, Endpoint

API_PORT = 6443
ENDPOINT_PORT = 443


@dataclass
class ClusterSettings:
    """What the EKS record decides about the processes."""

    name: str
    version: str
    service_cidr: str
    issuer: str
    token_webhook_url: str
    mode: str = "three-zone"


@dataclass
class ClusterPlan:
    settings: ClusterSettings
    directory: Path
    zones: list[str]
    endpoint: Endpoint
    apiservers: dict[str, Endpoint]
    etcd: EtcdCluster | None

    @property
    def pki_dir(self) -> Path:
        return self.directory / "pki"

    @property
    def endpoint_url(self) -> str:
        port = "" if self.endpoint.port == ENDPOINT_PORT else f":{self.endpoint.port}"
        return f"https://{self.endpoint.host}{port}"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.directory / "admin.kubeconfig"

    @property
    def ca_pem(self) -> bytes:
        return (self.pki_dir / "ca.crt").read_bytes()


def owner(cluster: str, part: str) -> str:
    """The name of one of the cluster's processes or addresses: clusters/<name>/<part>."""
    return f"clusters/{cluster}/{part}"


def process_name(cluster: str, component: str, zone: str) -> str:
    """clusters/<name>/<component>/<zone>, as the etcd members are named too."""
    return owner(cluster, f"{component}/{zone}")


def plan(
    settings: ClusterSettings, data_dir: Path, allocator: AddressAllocator, zones: list[str]
) -> ClusterPlan:
    directory = data_dir / "clusters" / settings.name
    directory.mkdir(parents=True, exist_ok=True)
    used = zones if settings.mode == "three-zone" else zones[:1]
    endpoint = allocator.endpoint(owner(settings.name, "endpoint"), None, "https", ENDPOINT_PORT)
    apiservers = {
        zone: allocator.endpoint(
            process_name(settings.name, "apiserver", zone), zone, "https", API_PORT
        )
        for zone in used
    }
    etcd = None
    if settings.mode == "three-zone":
        etcd = plan_etcd_cluster(f"clusters/{settings.name}", directory / "etcd", allocator, used)
    return ClusterPlan(settings, directory, used, endpoint, apiservers, etcd)


def prepare_pki(cluster: ClusterPlan) -> None:
    """The cluster's CA and certificates, made once and shared by every API server."""
    pki_dir = cluster.pki_dir
    ca = pki.load_or_create_ca(pki_dir)
    first_service_ip = _first_ip(cluster.settings.service_cidr)
    hosts = sorted(
        {
            "127.0.0.1",
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            first_service_ip,
            cluster.endpoint.host,
            *(e.host for e in cluster.apiservers.values()),
        }
    )
    pki.load_or_issue(pki_dir, "apiserver", lambda: pki.issue_serving(ca, hosts))
    pki.load_or_issue(
        pki_dir,
        "apiserver-kubelet-client",
        lambda: pki.issue_client(ca, "kube-apiserver-kubelet-client", ["system:masters"]),
    )
    SigningKey.load_or_create(pki_dir)
    # Issued here once, not by the three API servers racing at their first start.
    for user in ("system:kube-scheduler", "system:kube-controller-manager"):
        pki.load_or_issue(pki_dir, user.replace(":", "-"), _client_cert(ca, user, []))
    admin = pki.load_or_issue(
        pki_dir, "admin", _client_cert(ca, "kubernetes-admin", ["system:masters"])
    )
    if not cluster.admin_kubeconfig.exists():
        kubeconfig.write(
            cluster.admin_kubeconfig,
            cluster.endpoint_url,
            ca.cert_pem,
            "kubernetes-admin",
            admin,
            cluster.settings.name,
        )


def _client_cert(ca: pki.KeyPair, user: str, groups: list[str]) -> Callable[[], pki.KeyPair]:
    return lambda: pki.issue_client(ca, user, groups)


def _first_ip(cidr: str) -> str:
    import ipaddress

    return str(ipaddress.ip_network(cidr).network_address + 1)


def _openeks(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "openeks.cli.main", *args)


def apiserver_spec(cluster: ClusterPlan, zone: str, version: str | None = None) -> ProcessSpec:
    s = cluster.settings
    address = cluster.apiservers[zone]
    data_dir = cluster.directory / f"apiserver-{zone}"
    args = [
        "kube", "up",
        "--data-dir", str(data_dir),
        "--pki-dir", str(cluster.pki_dir),
        "--bind-address", address.host,
        "--port", str(address.port),
        "--version", version or s.version,
        "--service-cidr", s.service_cidr,
        "--external-url", cluster.endpoint_url,
        "--service-account-issuer", s.issuer,
        "--api-audiences", f"{s.issuer},sts.amazonaws.com",
        "--token-webhook-url", s.token_webhook_url,
        "--token-webhook-prefix", "k8s-aws-v1.",
    ]  # fmt: skip
    if cluster.etcd is not None:
        args += ["--store", cluster.etcd.store_url]
    return ProcessSpec(
        name=process_name(s.name, "apiserver", zone),
        zone=zone,
        argv=_openeks(*args),
        log_file=cluster.directory / f"apiserver-{zone}.log",
        cwd=cluster.directory,
        probe=HttpProbe(
            f"https://{address.host}:{address.port}/readyz",
            ca_file=str(cluster.pki_dir / "ca.crt"),
        ),
        start_timeout=120.0,
        stop_grace=5.0,
        order=10,
    )


def specs(cluster: ClusterPlan, version: str | None = None) -> list[ProcessSpec]:
    out: list[ProcessSpec] = []
    if cluster.etcd is not None:
        out += cluster.etcd.specs()
    for zone in cluster.zones:
        out.append(apiserver_spec(cluster, zone, version))
    return out


def remove_files(cluster: ClusterPlan) -> None:
    shutil.rmtree(cluster.directory, ignore_errors=True)
