"""The iptables rules for a set of proxied service ports: upstream's layout, our names.

`build_rules(chains, ports)` returns a `RuleSet`: per table, each chain's rules in
order (without the `-A <chain>` prefix). The layout is upstream's iptables proxier:

nat
- `SERVICES`: for each service port with endpoints, `-d <clusterIP> --dport <port>` jumps
  to its `SVC` chain and each external IP to its `EXT` chain; the last rule sends traffic
  for any local address (`-m addrtype --dst-type LOCAL`, which covers 127.0.0.1 and every
  node address on the host) to `NODEPORTS`.
- `NODEPORTS`: `--dport <nodePort>` jumps to the `EXT` chain.
- `EXT-*`: marks external traffic for masquerading (so replies come back through us, and
  localhost traffic can leave through a bridge), then goes to the `SVC` chain.
- `SVC-*`: optional ClientIP affinity (`-m recent --rcheck`), then one rule per endpoint
  with `-m statistic --mode random --probability 1/(n-i)`, the last one without.
- `SEP-*`: masquerade hairpin traffic (`-s <endpoint ip>`: a pod reaching itself through
  its Service), optionally `-m recent --set`, then DNAT to `ip:port`.
- `POSTROUTING` / `MARK-MASQ`: the masquerade mark (upstream's 0x4000) and MASQUERADE.

filter
- `SERVICES`: REJECT for a cluster IP (or external IP) whose service has no endpoints,
  so the connection fails at once instead of being routed off the host.
- `EXTERNAL`: REJECT for a NodePort without endpoints.
- `FORWARD`: accept marked and established traffic (the host may drop forwarding).
- `FIREWALL`: drop traffic to 127.0.0.0/8 from elsewhere that was not DNATed there:
  route_localnet is on for the bridges, as upstream guards `route_localnet=1`.

With `masquerade_all` (no br_netfilter on the host), cluster IP traffic is masqueraded
too, because replies between pods on one bridge would otherwise bypass the NAT.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from openeks.kube.node.proxy.model import ProxiedPort, ServicePort
from openeks.kube.node.proxy.names import Chains

MASQ_MARK = "0x4000"
TABLES = ("filter", "nat")


@dataclass
class RuleSet:
    """table → chain → rules (each rule without `-A <chain>`), chains in declaration order."""

    tables: dict[str, dict[str, list[str]]] = field(default_factory=lambda: {t: {} for t in TABLES})

    def chain(self, table: str, name: str) -> list[str]:
        return self.tables[table].setdefault(name, [])

    def add(self, table: str, name: str, rule: str) -> None:
        self.chain(table, name).append(rule)

    def count(self) -> int:
        return sum(len(rules) for t in self.tables.values() for rules in t.values())


def probability(n: int) -> str:
    """Upstream's `%0.10f` of 1/n."""
    return f"{1.0 / n:0.10f}"


def _comment(text: str) -> str:
    return f'-m comment --comment "{text}"'


def _match(port: ServicePort) -> str:
    return f"-m {port.proto} -p {port.proto}"


def build_rules(
    chains: Chains, ports: Iterable[ProxiedPort], masquerade_all: bool = False
) -> RuleSet:
    rules = RuleSet()
    for table in TABLES:
        for name in chains.fixed(table):
            rules.chain(table, name)
    _fixed_rules(rules, chains)
    for proxied in ports:
        if proxied.endpoints:
            _service_rules(rules, chains, proxied, masquerade_all)
        else:
            _reject_rules(rules, chains, proxied.port)
    rules.add(
        "nat",
        chains.services,
        f"{_comment('openeks service nodeports; NOTE: this must be the last rule in this chain')}"
        f" -m addrtype --dst-type LOCAL -j {chains.nodeports}",
    )
    return rules


def _fixed_rules(rules: RuleSet, chains: Chains) -> None:
    rules.add("nat", chains.postrouting, f"-m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN")
    rules.add("nat", chains.postrouting, f"-j MARK --xor-mark {MASQ_MARK}")
    rules.add(
        "nat",
        chains.postrouting,
        f"{_comment('openeks service traffic requiring SNAT')} -j MASQUERADE",
    )
    rules.add("nat", chains.mark_masq, f"-j MARK --or-mark {MASQ_MARK}")
    rules.add(
        "filter",
        chains.forward,
        f"{_comment('openeks forwarding rules')} -m mark --mark {MASQ_MARK}/{MASQ_MARK} -j ACCEPT",
    )
    rules.add(
        "filter",
        chains.forward,
        f"{_comment('openeks forwarding conntrack rule')} "
        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    )
    rules.add(
        "filter",
        chains.firewall,
        f"{_comment('block incoming localnet connections')} -d 127.0.0.0/8 ! -s 127.0.0.0/8 "
        "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
    )


def _reject_rules(rules: RuleSet, chains: Chains, port: ServicePort) -> None:
    why = _comment(f"{port.name} has no endpoints")
    rules.add(
        "filter",
        chains.services,
        f"{why} {_match(port)} -d {port.cluster_ip}/32 --dport {port.port} -j REJECT",
    )
    for ip in port.external_ips:
        rules.add(
            "filter",
            chains.external,
            f"{why} {_match(port)} -d {ip}/32 --dport {port.port} -j REJECT",
        )
    if port.node_port:
        rules.add(
            "filter",
            chains.external,
            f"{why} -m addrtype --dst-type LOCAL {_match(port)} --dport {port.node_port} -j REJECT",
        )


def _service_rules(
    rules: RuleSet, chains: Chains, proxied: ProxiedPort, masquerade_all: bool
) -> None:
    port = proxied.port
    svc = chains.svc(port.name, port.proto)
    cluster = f"{_match(port)} -d {port.cluster_ip}/32 --dport {port.port}"
    rules.add("nat", chains.services, f"{_comment(f'{port.name} cluster IP')} {cluster} -j {svc}")
    if masquerade_all:
        rules.add(
            "nat", svc, f"{_comment(f'{port.name} cluster IP')} {cluster} -j {chains.mark_masq}"
        )
    if port.external:
        ext = chains.ext(port.name, port.proto)
        for ip in port.external_ips:
            rules.add(
                "nat",
                chains.services,
                f"{_comment(f'{port.name} external IP')} {_match(port)} -d {ip}/32 "
                f"--dport {port.port} -j {ext}",
            )
        if port.node_port:
            rules.add(
                "nat",
                chains.nodeports,
                f"{_comment(port.name)} {_match(port)} --dport {port.node_port} -j {ext}",
            )
        rules.add(
            "nat",
            ext,
            f"{_comment(f'masquerade traffic for {port.name} external destinations')} "
            f"-j {chains.mark_masq}",
        )
        rules.add("nat", ext, f"-j {svc}")
    _endpoint_rules(rules, chains, proxied, svc)


def _endpoint_rules(rules: RuleSet, chains: Chains, proxied: ProxiedPort, svc: str) -> None:
    port = proxied.port
    seps = [(ep, chains.sep(port.name, port.proto, ep.address)) for ep in proxied.endpoints]
    if port.affinity_seconds:
        for ep, sep in seps:
            rules.add(
                "nat",
                svc,
                f"{_comment(f'{port.name} -> {ep.address}')} -m recent --name {sep} --rcheck "
                f"--seconds {port.affinity_seconds} --reap -j {sep}",
            )
    n = len(seps)
    for i, (ep, sep) in enumerate(seps):
        chance = (
            f" -m statistic --mode random --probability {probability(n - i)}" if i < n - 1 else ""
        )
        rules.add("nat", svc, f"{_comment(f'{port.name} -> {ep.address}')}{chance} -j {sep}")
    for ep, sep in seps:
        rules.add("nat", sep, f"{_comment(port.name)} -s {ep.ip}/32 -j {chains.mark_masq}")
        sticky = f" -m recent --name {sep} --set" if port.affinity_seconds else ""
        rules.add(
            "nat",
            sep,
            f"{_comment(port.name)}{sticky} {_match(port)} -j DNAT --to-destination {ep.address}",
        )
