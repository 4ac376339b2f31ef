"""Turning a desired `RuleSet` into `iptables-restore --noflush` input.

Declaring a chain (`:NAME - [0:0]`) in restore input creates it or flushes it, so a
chain is rewritten whole by declaring it and appending its rules; everything not
declared is left alone (`--noflush`). A chain is deleted by declaring it (emptying it)
and `-X`. The built-in chains are only touched to insert our hooks (`-I`) and, on
cleanup, to delete them (`-D` with the rule exactly as `iptables-save` printed it).

`sync_input(desired, chains, written=..., existing=...)` writes a chain when

- its rules differ from what `written` (the last sync's record) says it holds, or there
  is no record (a new leader writes everything once): the partial syncs, after changes;
- given `existing` (a fresh `iptables-save`: the periodic full sync), when the chain is
  missing or holds a different number of rules: repairs flushed or deleted chains
  without rewriting ten thousand rules every 30 s. (`iptables-save` prints rules
  normalised, e.g. probabilities rounded, so contents are not compared.)

It deletes (`-X`) the chains no longer wanted: those `written` lists and, given
`existing`, every owned chain (see `tables.owned`); and, given `existing`, inserts the
hooks that are missing. Upstream's partial and full syncs work the same way, except that
its full sync rewrites every chain. It returns the text, whether it changes anything,
and the new record.

`cleanup_input(existing, chains)` removes every chain and hook of the cluster.
"""

from __future__ import annotations

from openeks.kube.node.proxy.names import Chains, hooks
from openeks.kube.node.proxy.rules import TABLES, RuleSet
from openeks.kube.node.proxy.tables import Table, hook_rules, missing_hooks, owned

Written = dict[tuple[str, str], str]


def sync_input(
    desired: RuleSet,
    chains: Chains,
    *,
    written: Written | None = None,
    existing: dict[str, Table] | None = None,
) -> tuple[str, bool, Written]:
    """Restore input bringing the tables to `desired`; see the module docstring."""
    current = owned(existing, chains) if existing is not None else {}
    previous = written or {}
    new_written: Written = {}
    out: list[str] = []
    changes = False
    for table in TABLES:
        present = existing[table].chains if existing is not None and table in existing else {}
        declare: list[str] = []
        body: list[str] = []
        for name, rules in desired.tables[table].items():
            text = "\n".join(rules)
            new_written[(table, name)] = text
            drifted = existing is not None and (
                name not in present or len(present[name]) != len(rules)
            )
            if written is None or previous.get((table, name)) != text or drifted:
                declare.append(f":{name} - [0:0]")
                body.extend(f"-A {name} {rule}" for rule in rules)
        stale = {n for (t, n) in previous if t == table} | current.get(table, set())
        stale -= set(desired.tables[table])
        if existing is not None:
            stale &= set(present)
        declare.extend(f":{name} - [0:0]" for name in sorted(stale))
        if existing is not None:
            body.extend(
                f"-I {hook.builtin} {hook.rule()}"
                for hook in missing_hooks(existing, hooks(chains))
                if hook.table == table
            )
        body.extend(f"-X {name}" for name in sorted(stale))
        changes = changes or bool(declare or body)
        out += [f"*{table}", *declare, *body, "COMMIT"]
    return "\n".join(out) + "\n", changes, new_written


def cleanup_input(existing: dict[str, Table], chains: Chains) -> str:
    """Restore input removing every hook and chain of the cluster ("" if none exist)."""
    mine = owned(existing, chains)
    jumps = hook_rules(existing, chains)
    if not any(mine.values()) and not jumps:
        return ""
    out: list[str] = []
    for table in TABLES:
        names = sorted(mine.get(table, set()))
        out.append(f"*{table}")
        out += [f"-D {builtin} {rule}" for t, builtin, rule in jumps if t == table]
        out += [f":{name} - [0:0]" for name in names]
        out += [f"-X {name}" for name in names]
        out.append("COMMIT")
    return "\n".join(out) + "\n"
