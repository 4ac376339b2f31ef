"""PodTopologySpread soft constraints (ScheduleAnyway): fewer matching pods, higher score.

PreScore (upstream's initPreScoreState + counting): filtered nodes missing a topology
key are ignored (only for the pod's own constraints — system defaults tolerate nodes
without a zone label); each non-hostname domain seen among the filtered nodes counts
the matching pods of all eligible nodes in it. A constraint's weight is
log(number of domains + 2). Score per node: sum over constraints of
count * weight + (maxSkew - 1), rounded; the hostname count is the node's own.
Normalize maps the range reversed onto 0..100 (`100 * (max + min - s) / max`), ignored
nodes get 0.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field

from openeks.kube.scheduler.framework.interface import MAX_NODE_SCORE, NodeLister
from openeks.kube.scheduler.framework.types import LABEL_HOSTNAME, NodeInfo, PodInfo
from openeks.kube.scheduler.plugins.helper.nodeaffinity import RequiredNodeAffinity
from openeks.kube.scheduler.plugins.podtopologyspread.common import HONOR, Constraint


@dataclass
class PreScoreState:
    constraints: list[Constraint]
    ignored: set[str] = field(default_factory=set)
    pair_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    weights: list[float] = field(default_factory=list)
    per_node: list[Mapping[str, int]] = field(default_factory=list)
    """Per constraint: node name → matching pods on that node."""
    uniform: bool = False
    """Every node has every constraint key (no label checks needed while scoring)."""


def compute(
    pod: PodInfo,
    constraints: list[Constraint],
    require_all: bool,
    snapshot: NodeLister,
    filtered: list[NodeInfo],
) -> PreScoreState:
    state = PreScoreState(constraints)
    sizes = [0] * len(constraints)
    pair_counts = state.pair_counts
    keys = [c.topology_key for c in constraints]
    eligible = filtered
    if require_all and not all(snapshot.all_nodes_have(k) for k in keys):
        state.ignored = {n.name for n in filtered if not all(k in n.labels for k in keys)}
        eligible = [n for n in filtered if n.name not in state.ignored]
    for i, key in enumerate(keys):
        if key == LABEL_HOSTNAME:
            continue
        for value in _values_of(key, eligible, snapshot):
            if (key, value) not in pair_counts:
                pair_counts[(key, value)] = 0
                sizes[i] += 1
    state.uniform = not state.ignored and all(snapshot.all_nodes_have(k) for k in keys)
    for i, c in enumerate(constraints):
        size = sizes[i]
        if c.topology_key == LABEL_HOSTNAME:
            size = len(filtered) - len(state.ignored)
        state.weights.append(math.log(size + 2))
    state.per_node = [snapshot.matching_counts(pod.namespace, c.selector) for c in constraints]
    _count_domains(state, pod, require_all, snapshot)
    return state


def _values_of(key: str, nodes: list[NodeInfo], snapshot: NodeLister) -> set[str]:
    """The key's values among `nodes`; stops early once every value in the cluster is seen
    (nodes come zone-interleaved, so that is usually within the first few)."""
    everywhere = snapshot.all_nodes_have(key)
    total = snapshot.distinct_values(key) if everywhere else None
    if total is None:
        return {n.labels.get(key, "") for n in nodes}
    found: set[str] = set()
    for n in nodes:
        found.add(n.labels[key])
        if len(found) == total:
            break
    return found


def _count_domains(
    state: PreScoreState, pod: PodInfo, require_all: bool, snapshot: NodeLister
) -> None:
    """Add every eligible node's matching pods to its domain (upstream's processAllNode)."""
    required = RequiredNodeAffinity(pod.spec)
    constraints = state.constraints
    keys = [c.topology_key for c in constraints]
    trivial = (
        required.empty
        and all(c.node_taints_policy != HONOR for c in constraints)
        and (not require_all or all(snapshot.all_nodes_have(k) for k in keys))
    )
    for i, c in enumerate(constraints):
        key = c.topology_key
        if key == LABEL_HOSTNAME:
            continue
        aggregated = snapshot.topology_counts(pod.namespace, c.selector, key) if trivial else None
        if aggregated is not None:
            for value, found in aggregated.items():
                pair = (key, value)
                if pair in state.pair_counts:
                    state.pair_counts[pair] += found
            continue
        for name, found in state.per_node[i].items():
            node = snapshot.get(name)
            if node is None or not found:
                continue
            if require_all and not all(k in node.labels for k in keys):
                continue
            if not c.includes(pod, node, required):
                continue
            pair = (key, node.labels.get(key, ""))
            if pair in state.pair_counts:
                state.pair_counts[pair] += found


def score_node(state: PreScoreState, node: NodeInfo) -> int:
    return score_nodes(state, [node])[0]


def score_nodes(state: PreScoreState, nodes: list[NodeInfo]) -> list[int]:
    """Per node: sum over constraints of count * weight + (maxSkew - 1), rounded."""
    if state.uniform and len(state.constraints) == 2:
        fast = _score_two_uniform(state, nodes)
        if fast is not None:
            return fast
    totals = [0.0] * len(nodes)
    for i, c in enumerate(state.constraints):
        key, weight, base = c.topology_key, state.weights[i], float(c.max_skew - 1)
        if key == LABEL_HOSTNAME:
            per_node = state.per_node[i]
            part = [
                per_node.get(n.name, 0) * weight + base if key in n.labels else 0.0 for n in nodes
            ]
        else:
            table = {v: n * weight + base for (k, v), n in state.pair_counts.items() if k == key}
            part = [
                table.get(v, base) if (v := n.labels.get(key)) is not None else 0.0 for n in nodes
            ]
        totals = list(map(operator.add, totals, part))
    scores = [int(t + 0.5) for t in totals]
    if state.ignored:
        ignored = state.ignored
        scores = [0 if n.name in ignored else s for n, s in zip(nodes, scores, strict=True)]
    return scores


def _score_two_uniform(state: PreScoreState, nodes: list[NodeInfo]) -> list[int] | None:
    """The system defaults' shape (hostname + one other key, present on every node) in a
    single pass; same arithmetic as the general path."""
    first, second = state.constraints
    if first.topology_key == LABEL_HOSTNAME and second.topology_key != LABEL_HOSTNAME:
        h, o = 0, 1
    elif second.topology_key == LABEL_HOSTNAME and first.topology_key != LABEL_HOSTNAME:
        h, o = 1, 0
    else:
        return None
    host_count = state.per_node[h].get
    w_host = state.weights[h]
    key, w_other = state.constraints[o].topology_key, state.weights[o]
    base_host = float(state.constraints[h].max_skew - 1)
    base_other = float(state.constraints[o].max_skew - 1)
    table = {v: n * w_other + base_other for (k, v), n in state.pair_counts.items() if k == key}
    other = table.get
    if h == 0:
        raw = [
            host_count(n.name, 0) * w_host + base_host + other(n.labels[key], base_other)
            for n in nodes
        ]
    else:
        raw = [
            other(n.labels[key], base_other) + (host_count(n.name, 0) * w_host + base_host)
            for n in nodes
        ]
    return [int(r + 0.5) for r in raw]


def normalize(state: PreScoreState, nodes: list[NodeInfo], scores: list[int]) -> None:
    ignored = state.ignored
    valid = (
        [s for n, s in zip(nodes, scores, strict=True) if n.name not in ignored]
        if ignored
        else scores
    )
    if not valid:
        scores[:] = [0] * len(scores)
        return
    low, high = min(valid), max(valid)
    if high == 0:
        out = [MAX_NODE_SCORE] * len(scores)
    else:
        total = high + low
        out = [MAX_NODE_SCORE * (total - s) // high for s in scores]
    if ignored:
        out = [0 if n.name in ignored else s for n, s in zip(nodes, out, strict=True)]
    scores[:] = out
