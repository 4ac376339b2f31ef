"""The kernel settings service traffic relies on, for one node's bridge.

Every node agent with a proxy keeps its own bridge ready, leader or not, because the
leader programs rules for pods on all bridges of the host:

- `net.ipv4.conf.<bridge>.route_localnet=1`: a pod reaching the `kubernetes` Service
  is DNATed to the API server on 127.0.0.1, which the kernel treats as a martian
  destination on a non-loopback interface unless route_localnet is on for the interface
  the packet came in on (and replies may then leave it with a 127.0.0.1 source before
  conntrack rewrites them back to the cluster IP); a NodePort reached on 127.0.0.1 goes
  out through the endpoint's bridge with a loopback source until it is masqueraded.
  Upstream sets `conf.all.route_localnet`; one bridge is a smaller hole, and the
  FIREWALL chain drops non-DNATed traffic to 127.0.0.0/8 as upstream does.
- hairpin mode on each port of the bridge: with br_netfilter, a pod reaching itself
  through its Service is DNATed back to the port it came from, which a bridge refuses
  to forward unless that port is in hairpin mode (the CNI bridge plugin's hairpinMode).
  The pod network creates veths without it, so we set it on every port we find.
- `net.bridge.bridge-nf-call-iptables=1` when br_netfilter is present, as upstream:
  replies between two pods on one bridge are switched, not routed, and only reach the
  NAT that way. `bridge_netfilter()` says whether it is on; when it is not available the
  leader masquerades all service traffic instead.

Plain /proc and /sys writes: cheap enough to repeat every second, which is how new
veths get hairpin mode without hooking into the pod network.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

PROC_NET = Path("/proc/sys/net")
SYS_NET = Path("/sys/class/net")


def _write(path: Path, value: str) -> bool:
    """Write `value` unless the file already holds it; True if it was changed."""
    try:
        if path.read_text().strip() == value:
            return False
        path.write_text(f"{value}\n")
        return True
    except OSError as exc:
        log.debug("cannot set %s: %s", path, exc)
        return False


def tune_bridge(bridge: str, proc: Path = PROC_NET, sys: Path = SYS_NET) -> list[str]:
    """route_localnet on the bridge and hairpin on its ports; returns what changed."""
    changed: list[str] = []
    if not bridge or not (sys / bridge).exists():
        return changed
    if _write(proc / "ipv4" / "conf" / bridge / "route_localnet", "1"):
        changed.append(f"{bridge}:route_localnet")
    ports = sys / bridge / "brif"
    for port in sorted(ports.iterdir()) if ports.is_dir() else ():
        if _write(port / "hairpin_mode", "1"):
            changed.append(f"{port.name}:hairpin")
    return changed


def bridge_netfilter(proc: Path = PROC_NET) -> bool:
    """Turn bridge-nf-call-iptables on if br_netfilter is there; whether it is on."""
    path = proc / "bridge" / "bridge-nf-call-iptables"
    if not path.exists():
        return False
    _write(path, "1")
    try:
        return path.read_text().strip() == "1"
    except OSError:
        return False
