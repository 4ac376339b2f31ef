"""A pod's sandbox settings: hostname, DNS and the kubelet-managed /etc/hosts (pure).

DNS follows the pod's `dnsPolicy` as kubelet's dns configurer does: ClusterFirst pods
(and ClusterFirstWithHostNet ones) get the cluster nameservers and the
`<ns>.svc.<domain> svc.<domain> <domain>` search path before the host's searches;
Default pods (and ClusterFirst pods on the host network) get the host's resolv.conf;
None pods get only their `dnsConfig`. Without cluster DNS configured, ClusterFirst falls
back to the host's resolv.conf, as kubelet does without `--cluster-dns`.

`/etc/hosts` is written per pod and mounted into each container of pods that are not on
the host network, with kubelet's header, the pod's own name (FQDN when it has a
subdomain) and its hostAliases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openeks.kube.node.runtime.base import SandboxConfig

Obj = dict[str, Any]
MAX_SEARCHES = 32
_HOSTS_HEADER = "# Kubernetes-managed hosts file.\n"
_HOSTS_BASE = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n"
)


@dataclass
class HostDNS:
    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)


def read_resolv_conf(path: Path = Path("/etc/resolv.conf")) -> HostDNS:
    dns = HostDNS()
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return dns
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            dns.nameservers.append(fields[1])
        elif fields[0] == "search":
            dns.searches = fields[1:]
    return dns


def pod_hostname(pod: Obj) -> str:
    spec = pod.get("spec") or {}
    return str(spec.get("hostname") or pod["metadata"]["name"])[:63].rstrip("-.")


def dns_settings(
    pod: Obj, cluster_dns: list[str], cluster_domain: str, host: HostDNS
) -> tuple[list[str], list[str]]:
    """(nameservers, search domains) for the pod's sandbox."""
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    host_network = bool(spec.get("hostNetwork"))
    servers: list[str] = []
    searches: list[str] = []
    if policy == "ClusterFirst" and host_network:
        policy = "Default"
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet") and cluster_dns:
        ns = pod["metadata"].get("namespace", "default")
        servers = list(cluster_dns)
        searches = [f"{ns}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain]
        searches += [s for s in host.searches if s not in searches]
    elif policy != "None":
        servers, searches = list(host.nameservers), list(host.searches)
    config = spec.get("dnsConfig") or {}
    servers += [s for s in config.get("nameservers") or () if s not in servers]
    searches += [s for s in config.get("searches") or () if s not in searches]
    return servers[:3], searches[:MAX_SEARCHES]


def sandbox_config(
    pod: Obj, cluster_dns: list[str], cluster_domain: str, host: HostDNS
) -> SandboxConfig:
    m = pod["metadata"]
    servers, searches = dns_settings(pod, cluster_dns, cluster_domain, host)
    return SandboxConfig(
        pod_uid=m["uid"],
        name=m["name"],
        namespace=m.get("namespace", "default"),
        hostname=pod_hostname(pod),
        host_network=bool((pod.get("spec") or {}).get("hostNetwork")),
        dns_servers=servers,
        dns_searches=searches,
    )


def hosts_file(pod: Obj, pod_ips: list[str], cluster_domain: str) -> str:
    """The content of the pod's /etc/hosts."""
    spec = pod.get("spec") or {}
    hostname = pod_hostname(pod)
    text = _HOSTS_HEADER + _HOSTS_BASE
    names = hostname
    if spec.get("subdomain"):
        ns = pod["metadata"].get("namespace", "default")
        names = f"{hostname}.{spec['subdomain']}.{ns}.svc.{cluster_domain}\t{hostname}"
    for ip in pod_ips:
        text += f"{ip}\t{names}\n"
    aliases = spec.get("hostAliases") or []
    if aliases:
        text += "\n# Entries added by HostAliases.\n"
        for alias in aliases:
            text += f"{alias.get('ip', '')}\t" + "\t".join(alias.get("hostnames") or ()) + "\n"
    return text
