"""PodTopologySpread hard constraints (DoNotSchedule): PreFilter counts, Filter decides.

PreFilter counts, per constraint and topology value, the pods matching the constraint's
selector on every node that has all the constraint keys and passes the inclusion
policies (nodeAffinityPolicy Honor by default, nodeTaintsPolicy Ignore), keeping every
eligible domain even when it holds no pod: the global minimum is over domains. Filter
then rejects a node if placing the pod there would make
`count(domain) + self - min(domains)` exceed maxSkew; when fewer domains exist than
`minDomains`, the minimum is taken as 0. Counts come from the cache's label-set index.
"""

from __future__ import annotations

from dataclasses import dataclass

from openeks.kube.scheduler.framework.interface import NodeLister
from openeks.kube.scheduler.framework.status import Status, unresolvable, unschedulable
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins.helper.nodeaffinity import RequiredNodeAffinity
from openeks.kube.scheduler.plugins.podtopologyspread.common import Constraint, has_all_keys

ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"


@dataclass
class PreFilterState:
    constraints: list[Constraint]
    counts: list[dict[str, int]]
    """Per constraint: topology value → matching pods."""
    minimums: list[int]

    def min_match(self, i: int) -> int:
        c = self.constraints[i]
        if len(self.counts[i]) < c.min_domains:
            return 0
        return self.minimums[i]


def compute(
    pod: PodInfo, constraints: list[Constraint], snapshot: NodeLister, nodes: list[NodeInfo]
) -> PreFilterState:
    required = RequiredNodeAffinity(pod.spec)
    counts: list[dict[str, int]] = [{} for _ in constraints]
    per_node = [snapshot.matching_counts(pod.namespace, c.selector) for c in constraints]
    for node in nodes:
        labels = node.labels
        if not has_all_keys(labels, constraints):
            continue
        for i, c in enumerate(constraints):
            if not c.includes(pod, node, required):
                continue
            value = labels[c.topology_key]
            found = per_node[i].get(node.name, 0)
            counts[i][value] = counts[i].get(value, 0) + found
    minimums = [min(c.values()) if c else 0 for c in counts]
    return PreFilterState(constraints, counts, minimums)


def filter_node(state: PreFilterState, pod: PodInfo, node: NodeInfo) -> Status | None:
    labels = node.labels
    for i, c in enumerate(state.constraints):
        value = labels.get(c.topology_key)
        if value is None:
            return unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH)
        self_match = 1 if c.selector.matches(pod.labels) else 0
        skew = state.counts[i].get(value, 0) + self_match - state.min_match(i)
        if skew > c.max_skew:
            return unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH)
    return None
