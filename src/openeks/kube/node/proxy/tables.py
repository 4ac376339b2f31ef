"""Reading `iptables-save` output: which chains exist, which are ours, who else is there.

The proxy owns exactly the chains reachable from its cluster's fixed chains (see
`names`): every per-service chain is created in the same restore that links it from a
fixed chain and deleted in the same restore that unlinks it, so reachability is a
complete record of ownership, even after a crash, without any state on disk. That is
also what keeps two clusters on one host apart: each only ever deletes what its own
chains lead to.

Parsing is line based (`:CHAIN POLICY [p:b]`, `-A CHAIN rule`); only `-j`/`-g` targets
are extracted from rules, with a regular expression rather than a shell-style split,
because a full save of a thousand services has tens of thousands of lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from openeks.kube.node.proxy.names import Chains, Hook

_JUMP = re.compile(r"(?:^| )-[jg] (\S+)")
_DEST = re.compile(r"(?:^| )-d (\d+\.\d+\.\d+\.\d+)(?:/32)?(?: |$)")
BUILTIN = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}


@dataclass
class Table:
    """One table of an `iptables-save`: chain → rules (the text after `-A CHAIN `)."""

    chains: dict[str, list[str]] = field(default_factory=dict)

    def jumps(self, chain: str) -> set[str]:
        targets: set[str] = set()
        for rule in self.chains.get(chain, ()):
            targets.update(_JUMP.findall(rule))
        return targets


def parse_save(text: str) -> dict[str, Table]:
    """`iptables-save` output → table name → Table."""
    tables: dict[str, Table] = {}
    current: Table | None = None
    for line in text.splitlines():
        if line.startswith("*"):
            current = tables.setdefault(line[1:].strip(), Table())
        elif current is None or not line or line.startswith("#") or line == "COMMIT":
            continue
        elif line.startswith(":"):
            current.chains.setdefault(line[1:].split(" ", 1)[0], [])
        elif line.startswith("-A "):
            chain, _, rule = line[3:].partition(" ")
            current.chains.setdefault(chain, []).append(rule)
    return tables


def reachable(table: Table, roots: Iterable[str]) -> set[str]:
    """The existing user chains reachable from `roots` (the roots included if present)."""
    seen: set[str] = set()
    stack = [r for r in roots if r in table.chains]
    while stack:
        chain = stack.pop()
        if chain in seen:
            continue
        seen.add(chain)
        stack.extend(t for t in table.jumps(chain) if t in table.chains and t not in seen)
    return seen - {name for names in BUILTIN.values() for name in names}


def owned(tables: dict[str, Table], chains: Chains) -> dict[str, set[str]]:
    """Per table, the chains of this cluster that exist."""
    return {name: reachable(tables.get(name) or Table(), chains.fixed(name)) for name in BUILTIN}


def hook_rules(tables: dict[str, Table], chains: Chains) -> list[tuple[str, str, str]]:
    """(table, built-in chain, rule) of every jump from a built-in chain into our chains."""
    ours = {(t, c) for t in BUILTIN for c in chains.fixed(t)}
    found = []
    for table_name, builtins in BUILTIN.items():
        table = tables.get(table_name) or Table()
        for builtin in builtins:
            for rule in table.chains.get(builtin, ()):
                if any((table_name, target) in ours for target in _JUMP.findall(rule)):
                    found.append((table_name, builtin, rule))
    return found


def missing_hooks(tables: dict[str, Table], wanted: Iterable[Hook]) -> list[Hook]:
    """The hooks whose built-in chain has no jump to their target yet."""
    out = []
    for hook in wanted:
        table = tables.get(hook.table) or Table()
        if hook.target not in table.jumps(hook.builtin):
            out.append(hook)
    return out


def other_clusters(tables: dict[str, Table], chains: Chains) -> dict[str, set[str]]:
    """Tag → destination IPs in the `OPENEKS-SERVICES-<tag>` chains (nat: services with
    endpoints, filter: services without) of other clusters."""
    out: dict[str, set[str]] = {}
    for table in (tables.get("nat") or Table(), tables.get("filter") or Table()):
        for name, rules in table.chains.items():
            tag = chains.is_fixed_of_other_cluster(name)
            if tag is None:
                continue
            ips = out.setdefault(tag, set())
            for rule in rules:
                ips.update(_DEST.findall(rule))
    return out
