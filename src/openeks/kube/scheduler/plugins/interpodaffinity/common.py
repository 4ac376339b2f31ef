"""Topology-pair counting shared by the filter and the score of InterPodAffinity."""

from __future__ import annotations

from openeks.kube.api import labels as labelsel
from openeks.kube.scheduler.framework.interface import Listers
from openeks.kube.scheduler.framework.types import AffinityTerm, NodeInfo

Pair = tuple[str, str]


def update(counts: dict[Pair, int], node: NodeInfo, key: str, value: int) -> None:
    """Add `value` to the node's (key, node label) pair; drop pairs that reach zero."""
    tv = node.labels.get(key)
    if tv is None:
        return
    pair = (key, tv)
    left = counts.get(pair, 0) + value
    if left:
        counts[pair] = left
    else:
        counts.pop(pair, None)


def resolve(terms: list[AffinityTerm], listers: Listers) -> list[AffinityTerm]:
    """Merge each term's namespaceSelector into its namespaces (an empty one stays: all)."""
    out = []
    for t in terms:
        sel = t.namespace_selector
        if sel is None or sel.empty or sel.nothing:
            out.append(t)
            continue
        names = {n for n, labels in listers.namespaces() if sel.matches(labels)}
        out.append(
            AffinityTerm(
                t.namespaces | names,
                t.selector,
                t.topology_key,
                labelsel.Selector.match_nothing(),
                t.weight,
            )
        )
    return out
