"""InterPodAffinity scoring: weights summed per topology domain, then normalised.

For the incoming pod's preferred terms, every existing pod matching a term adds (or,
for anti-affinity, subtracts) the term's weight to its node's domain. For existing pods
with affinity, their required affinity terms matching the incoming pod add
`hardPodAffinityWeight`, and their preferred terms add or subtract their weights. A
node's score is the sum over topology keys of its domain's total; normalisation maps
[min, max] onto [0, 100]. With no preferred terms on the pod and no existing pod with
affinity the plugin is skipped.
"""

from __future__ import annotations

from openeks.kube.scheduler.framework.interface import MAX_NODE_SCORE, Listers, NodeLister
from openeks.kube.scheduler.framework.types import AffinityTerm, NodeInfo, PodInfo
from openeks.kube.scheduler.plugins.interpodaffinity.common import resolve

TopologyScore = dict[str, dict[str, int]]


def _add(scores: TopologyScore, node: NodeInfo, term: AffinityTerm, amount: int) -> None:
    value = node.labels.get(term.topology_key)
    if value is None:
        return
    per_value = scores.setdefault(term.topology_key, {})
    per_value[value] = per_value.get(value, 0) + amount


def compute(
    pod: PodInfo,
    snapshot: NodeLister,
    listers: Listers,
    hard_weight: int,
    ignore_existing_preferred: bool,
) -> TopologyScore | None:
    has_constraints = bool(pod.preferred_affinity or pod.preferred_anti_affinity)
    if ignore_existing_preferred and not has_constraints:
        return None
    scores: TopologyScore = {}
    if has_constraints:
        preferred = [(t, 1) for t in resolve(pod.preferred_affinity, listers)]
        preferred += [(t, -1) for t in resolve(pod.preferred_anti_affinity, listers)]
        for ns, labels, per_node in snapshot.all_groups():
            hits = [(t, sign) for t, sign in preferred if t.matches_labels(ns, labels)]
            if not hits:
                continue
            for name, count in per_node.items():
                node = snapshot.get(name)
                if node is None or not node.labels:
                    continue
                for t, sign in hits:
                    _add(scores, node, t, sign * t.weight * count)
    ns_labels = listers.namespace_labels(pod.namespace)
    for node in snapshot.have_pods_with_affinity():
        if not node.labels:
            continue
        for other in node.pods.values():
            if not other.has_affinity:
                continue
            if hard_weight > 0:
                for t in other.required_affinity:
                    if t.matches(pod, ns_labels):
                        _add(scores, node, t, hard_weight)
            for t in other.preferred_affinity:
                if t.matches(pod, ns_labels):
                    _add(scores, node, t, t.weight)
            for t in other.preferred_anti_affinity:
                if t.matches(pod, ns_labels):
                    _add(scores, node, t, -t.weight)
    return scores or None


def score_node(scores: TopologyScore, node: NodeInfo) -> int:
    total = 0
    for key, per_value in scores.items():
        value = node.labels.get(key)
        if value is not None:
            total += per_value.get(value, 0)
    return total


def normalize(scores: list[int]) -> None:
    if not scores:
        return
    low, high = min(scores), max(scores)
    diff = high - low
    for i, s in enumerate(scores):
        scores[i] = int(MAX_NODE_SCORE * ((s - low) / diff)) if diff > 0 else 0
