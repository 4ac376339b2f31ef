"""Service networking for runc nodes: kube-proxy's iptables mode inside the node agent.

Each node agent runs a `ServiceProxy`; the agents of one cluster on one host elect one
of them (a file lock) to program the shared NAT rules, while each keeps its own bridge
ready (route_localnet, hairpin). Modules, bottom up: `names` (cluster identity, chain
names), `model` (Services and endpoints → proxied ports), `rules` (ports → rules),
`tables` / `restore` (reading iptables-save, writing iptables-restore input),
`iptables` (the two commands), `kernel` (bridge settings), `election` (the host lock),
`proxier` (the loops).

Limitations, by design of a single-host deployment: clusters sharing a host must use
service CIDRs that do not overlap (the proxy refuses to program a cluster IP that a live
proxy of another cluster already serves); externalTrafficPolicy and
internalTrafficPolicy `Local` are treated as `Cluster`, since all nodes on a host share
one network namespace; IPv4 only; stale UDP conntrack entries are not flushed.
"""

from openeks.kube.node.proxy.names import Chains, cluster_identity
from openeks.kube.node.proxy.proxier import (
    ProxyConfig,
    ServiceProxy,
    cleanup_rules,
    cluster_chains,
)

__all__ = [
    "Chains",
    "ProxyConfig",
    "ServiceProxy",
    "cleanup_rules",
    "cluster_chains",
    "cluster_identity",
]
