"""InterPodAffinity filtering: upstream's preFilterState and the three satisfy checks.

PreFilter counts topology pairs three ways: pairs of nodes hosting existing pods whose
required anti-affinity matches the incoming pod; pairs of nodes hosting pods matching
*all* the incoming pod's required affinity terms; pairs of nodes hosting pods matching
each required anti-affinity term. Existing pods are read through the cache's label-set
index, so the cost follows distinct label sets, not pods.

Filter: affinity fails (UnschedulableAndUnresolvable) when the node lacks a term's
topology key or no matching pod is in its domain — unless no pod matches anywhere and
the pod matches its own terms (the first pod of a group); anti-affinity (the pod's own
or existing pods') fails with Unschedulable, which preemption could resolve.
"""

from __future__ import annotations

from dataclasses import dataclass

from openeks.kube.scheduler.framework.interface import Listers, NodeLister
from openeks.kube.scheduler.framework.status import Status, unresolvable, unschedulable
from openeks.kube.scheduler.framework.types import AffinityTerm, NodeInfo, PodInfo
from openeks.kube.scheduler.plugins.interpodaffinity.common import Pair, resolve, update

ERR_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"


@dataclass
class PreFilterState:
    pod: PodInfo
    affinity_terms: list[AffinityTerm]
    anti_affinity_terms: list[AffinityTerm]
    existing_anti_affinity: dict[Pair, int]
    affinity: dict[Pair, int]
    anti_affinity: dict[Pair, int]


def compute(pod: PodInfo, snapshot: NodeLister, listers: Listers) -> PreFilterState:
    ns_labels = listers.namespace_labels(pod.namespace)
    existing: dict[Pair, int] = {}
    for node in snapshot.have_pods_with_required_anti_affinity():
        for other in node.pods.values():
            for term in other.required_anti_affinity:
                if term.matches(pod, ns_labels):
                    update(existing, node, term.topology_key, 1)
    affinity_terms = resolve(pod.required_affinity, listers)
    anti_terms = resolve(pod.required_anti_affinity, listers)
    affinity: dict[Pair, int] = {}
    anti: dict[Pair, int] = {}
    if affinity_terms or anti_terms:
        for ns, labels, per_node in snapshot.all_groups():
            all_match = bool(affinity_terms) and all(
                t.matches_labels(ns, labels) for t in affinity_terms
            )
            anti_match = [t for t in anti_terms if t.matches_labels(ns, labels)]
            if not all_match and not anti_match:
                continue
            for name, count in per_node.items():
                found = snapshot.get(name)
                if found is None:
                    continue
                if all_match:
                    for t in affinity_terms:
                        update(affinity, found, t.topology_key, count)
                for t in anti_match:
                    update(anti, found, t.topology_key, count)
    return PreFilterState(pod, affinity_terms, anti_terms, existing, affinity, anti)


def _satisfies_existing_anti_affinity(state: PreFilterState, node: NodeInfo) -> bool:
    labels = node.labels
    return not any(
        n > 0 and labels.get(key) == value
        for (key, value), n in state.existing_anti_affinity.items()
    )


def _satisfies_anti_affinity(state: PreFilterState, node: NodeInfo) -> bool:
    if not state.anti_affinity:
        return True
    for term in state.anti_affinity_terms:
        value = node.labels.get(term.topology_key)
        if value is not None and state.anti_affinity.get((term.topology_key, value), 0) > 0:
            return False
    return True


def _satisfies_affinity(state: PreFilterState, node: NodeInfo) -> bool:
    pods_exist = True
    for term in state.affinity_terms:
        value = node.labels.get(term.topology_key)
        if value is None:
            return False
        if state.affinity.get((term.topology_key, value), 0) <= 0:
            pods_exist = False
    if pods_exist:
        return True
    pod = state.pod
    return not state.affinity and all(
        t.matches_labels(pod.namespace, pod.labels) for t in state.affinity_terms
    )


def filter_node(state: PreFilterState, node: NodeInfo) -> Status | None:
    if not _satisfies_affinity(state, node):
        return unresolvable(ERR_AFFINITY)
    if not _satisfies_anti_affinity(state, node):
        return unschedulable(ERR_ANTI_AFFINITY)
    if not _satisfies_existing_anti_affinity(state, node):
        return unschedulable(ERR_EXISTING_ANTI_AFFINITY)
    return None
