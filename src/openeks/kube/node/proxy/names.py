"""Who the proxy is and what its iptables chains are called.

A cluster is identified on a host by its API server URL and CA (`cluster_identity`), hashed
into a short `tag` that every chain of that cluster carries, so two clusters whose node
agents share a machine never write to each other's chains:

- fixed chains, one set per cluster: `OPENEKS-SERVICES-<tag>` (nat and filter),
  `OPENEKS-NODEPORTS-<tag>`, `OPENEKS-POSTROUTING-<tag>`, `OPENEKS-MARK-MASQ-<tag>` (nat),
  `OPENEKS-EXTERNAL-<tag>`, `OPENEKS-FORWARD-<tag>`, `OPENEKS-FIREWALL-<tag>` (filter);
- per service port and endpoint, upstream's names and hash scheme
  (`KUBE-SVC-` + base32(sha256(servicePortName + protocol))[:16], `KUBE-SEP-` adds the
  endpoint, `KUBE-EXT-` for external traffic) with the prefix `OPENEKS-` instead of
  `KUBE-` and the tag prepended to the hashed text. With an empty salt the hashes are
  exactly upstream's, which the tests check against upstream's own fixtures.

iptables chain names are at most 28 characters; `OPENEKS-SVC-` plus 16 is exactly that.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

MAX_CHAIN_NAME = 28
TAG_LENGTH = 6


def cluster_identity(server: str, ca_data: bytes | None) -> str:
    """A stable hash of the API server URL and its CA: one cluster as seen from a host."""
    ca_hash = hashlib.sha256(ca_data or b"").hexdigest()
    text = f"{server.rstrip('/')}\n{ca_hash}"
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def cluster_tag(identity: str) -> str:
    """The part of the identity that goes into chain names."""
    return identity[:TAG_LENGTH]


def port_proto_hash(service_port_name: str, protocol: str, salt: str = "") -> str:
    """Upstream's portProtoHash (sha256, base32, 16 characters), optionally salted."""
    digest = hashlib.sha256(f"{salt}{service_port_name}{protocol}".encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def endpoint_hash(service_port_name: str, protocol: str, endpoint: str, salt: str = "") -> str:
    """Upstream's hash for an endpoint chain: the service port, protocol and `ip:port`."""
    text = f"{salt}{service_port_name}{protocol}{endpoint}"
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


@dataclass(frozen=True)
class Chains:
    """The chain names of one cluster (see the module docstring)."""

    tag: str
    prefix: str = "OPENEKS"

    # -- fixed chains ----------------------------------------------------------------------
    @property
    def services(self) -> str:
        """nat: ClusterIP and external IP dispatch; filter: rejects for no endpoints."""
        return f"{self.prefix}-SERVICES-{self.tag}"

    @property
    def nodeports(self) -> str:
        return f"{self.prefix}-NODEPORTS-{self.tag}"

    @property
    def postrouting(self) -> str:
        return f"{self.prefix}-POSTROUTING-{self.tag}"

    @property
    def mark_masq(self) -> str:
        return f"{self.prefix}-MARK-MASQ-{self.tag}"

    @property
    def external(self) -> str:
        """filter: rejects NodePort / external IP traffic of services without endpoints."""
        return f"{self.prefix}-EXTERNAL-{self.tag}"

    @property
    def forward(self) -> str:
        return f"{self.prefix}-FORWARD-{self.tag}"

    @property
    def firewall(self) -> str:
        return f"{self.prefix}-FIREWALL-{self.tag}"

    def fixed(self, table: str) -> list[str]:
        """The fixed chains of a table, in the order they are declared."""
        if table == "nat":
            return [self.services, self.nodeports, self.postrouting, self.mark_masq]
        return [self.services, self.external, self.forward, self.firewall]

    # -- per service -----------------------------------------------------------------------
    def svc(self, service_port_name: str, protocol: str) -> str:
        return f"{self.prefix}-SVC-{port_proto_hash(service_port_name, protocol, self.tag)}"

    def ext(self, service_port_name: str, protocol: str) -> str:
        return f"{self.prefix}-EXT-{port_proto_hash(service_port_name, protocol, self.tag)}"

    def sep(self, service_port_name: str, protocol: str, endpoint: str) -> str:
        digest = endpoint_hash(service_port_name, protocol, endpoint, self.tag)
        return f"{self.prefix}-SEP-{digest}"

    def is_fixed_of_other_cluster(self, chain: str) -> str | None:
        """The tag of another cluster's `OPENEKS-SERVICES-<tag>` chain, else None."""
        head = f"{self.prefix}-SERVICES-"
        if chain.startswith(head) and chain != self.services:
            return chain[len(head) :]
        return None


@dataclass(frozen=True)
class Hook:
    """A jump from a built-in chain into one of ours (inserted at the top)."""

    table: str
    builtin: str
    target: str
    spec: str
    """The matches and comment before `-j target`."""

    def rule(self) -> str:
        return f"{self.spec} -j {self.target}".strip()


def hooks(chains: Chains) -> list[Hook]:
    """Upstream's jumps (KUBE-SERVICES from PREROUTING and OUTPUT, ...), for our chains."""
    new = "-m conntrack --ctstate NEW"
    portals = '-m comment --comment "openeks service portals"'
    external = '-m comment --comment "openeks externally-visible service portals"'
    return [
        Hook("nat", "PREROUTING", chains.services, portals),
        Hook("nat", "OUTPUT", chains.services, portals),
        Hook(
            "nat", "POSTROUTING", chains.postrouting, '-m comment --comment "openeks postrouting"'
        ),
        Hook("filter", "INPUT", chains.external, f"{new} {external}"),
        Hook("filter", "INPUT", chains.firewall, ""),
        Hook("filter", "FORWARD", chains.forward, '-m comment --comment "openeks forwarding"'),
        Hook("filter", "FORWARD", chains.services, f"{new} {portals}"),
        Hook("filter", "FORWARD", chains.external, f"{new} {external}"),
        Hook("filter", "OUTPUT", chains.services, f"{new} {portals}"),
        Hook("filter", "OUTPUT", chains.firewall, ""),
    ]
