"""The files every container of a pod sees at /etc/hosts, /etc/resolv.conf and
/etc/hostname, written once per sandbox and bind-mounted into each container.

Their content follows kubelet: a "Kubernetes-managed hosts file" naming localhost and
the pod (host-network pods get a copy of the node's /etc/hosts instead), a resolv.conf
with the pod's DNS servers and search list (plus `options ndots:5` when the search list
is ClusterFirst's `<namespace>.svc.<domain>` one, as kubelet writes it; the node's own
resolv.conf when no servers are given), and the hostname. A mount the node agent asks
for at one of these paths replaces ours.
"""

from __future__ import annotations

import socket
from pathlib import Path

from openeks.kube.node.runtime.base import SandboxConfig

HOST_HOSTS = Path("/etc/hosts")
HOST_RESOLV = Path("/etc/resolv.conf")


def hosts_file(config: SandboxConfig, ip: str) -> str:
    if config.host_network:
        try:
            return "# Kubernetes-managed hosts file (host network).\n" + HOST_HOSTS.read_text()
        except OSError:
            return "# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n"
    lines = [
        "# Kubernetes-managed hosts file.",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "fe00::0\tip6-mcastprefix",
        "fe00::1\tip6-allnodes",
        "fe00::2\tip6-allrouters",
    ]
    if ip:
        lines.append(f"{ip}\t{config.hostname}")
    return "\n".join(lines) + "\n"


def resolv_conf(config: SandboxConfig) -> str:
    if not config.dns_servers:
        try:
            return HOST_RESOLV.read_text()
        except OSError:
            return ""
    lines = [f"nameserver {server}" for server in config.dns_servers[:3]]
    if config.dns_searches:
        lines.append("search " + " ".join(config.dns_searches[:32]))
    if any(search.startswith(f"{config.namespace}.svc.") for search in config.dns_searches):
        lines.append("options ndots:5")  # ClusterFirst, as kubelet writes it
    return "\n".join(lines) + "\n"


def hostname_of(config: SandboxConfig) -> str:
    """The pod's hostname; host-network pods share the node's."""
    return socket.gethostname() if config.host_network else config.hostname[:63]


def write_pod_files(directory: Path, config: SandboxConfig, ip: str) -> dict[str, Path]:
    """Write the three files into `directory`; returns container path → host file."""
    contents = {
        "/etc/hosts": hosts_file(config, ip),
        "/etc/resolv.conf": resolv_conf(config),
        "/etc/hostname": hostname_of(config) + "\n",
    }
    files = {}
    for target, text in contents.items():
        path = directory / Path(target).name
        path.write_text(text)
        files[target] = path
    return files
