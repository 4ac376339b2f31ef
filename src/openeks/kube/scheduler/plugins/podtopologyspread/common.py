"""Topology spread constraints as the plugin uses them, and the system defaults.

A constraint from the pod spec gets its selector from `labelSelector` plus one
`key in (value)` requirement per `matchLabelKeys` key the pod carries. A pod with no
constraints of its own gets the configured defaults — by default upstream's system
defaults (hostname maxSkew 3, zone maxSkew 5, both ScheduleAnyway) — with the selector
of its Services / ReplicaSet / StatefulSet / ReplicationController; when that selector
is empty, the pod is not spread at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openeks.kube.api import labels as labelsel
from openeks.kube.scheduler.framework.types import LABEL_HOSTNAME, LABEL_ZONE, NodeInfo, PodInfo
from openeks.kube.scheduler.plugins.helper.nodeaffinity import RequiredNodeAffinity
from openeks.kube.scheduler.plugins.helper.taints import find_untolerated

Obj = dict[str, Any]

DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"
HONOR = "Honor"
IGNORE = "Ignore"

SYSTEM_DEFAULT_CONSTRAINTS: list[Obj] = [
    {"topologyKey": LABEL_HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 3},
    {"topologyKey": LABEL_ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 5},
]


class Constraint:
    __slots__ = (
        "max_skew",
        "min_domains",
        "node_affinity_policy",
        "node_taints_policy",
        "selector",
        "topology_key",
    )

    def __init__(self, raw: Mapping[str, Any], selector: labelsel.Selector) -> None:
        self.max_skew = int(raw.get("maxSkew") or 1)
        self.topology_key: str = raw.get("topologyKey", "")
        self.selector = selector
        self.min_domains = int(raw.get("minDomains") or 1)
        self.node_affinity_policy = raw.get("nodeAffinityPolicy") or HONOR
        self.node_taints_policy = raw.get("nodeTaintsPolicy") or IGNORE

    def includes(self, pod: PodInfo, node: NodeInfo, required: RequiredNodeAffinity) -> bool:
        """matchNodeInclusionPolicies: is this node counted for this constraint?"""
        if self.node_affinity_policy == HONOR and not required.matches(node):
            return False
        return not (
            self.node_taints_policy == HONOR
            and node.hard_taints
            and find_untolerated(node.hard_taints, pod.tolerations) is not None
        )


def _selector_of(raw: Mapping[str, Any], pod: PodInfo) -> labelsel.Selector:
    selector = labelsel.from_label_selector(raw.get("labelSelector"))
    keys = [k for k in raw.get("matchLabelKeys") or () if k in pod.labels]
    if keys and not selector.nothing:
        reqs = [labelsel.Requirement(k, labelsel.IN, (pod.labels[k],)) for k in keys]
        selector = selector.add(*reqs)
    return selector


def pod_constraints(pod: PodInfo, when: str) -> list[Constraint]:
    out = []
    for raw in pod.spec.get("topologySpreadConstraints") or ():
        if raw.get("whenUnsatisfiable") == when:
            try:
                out.append(Constraint(raw, _selector_of(raw, pod)))
            except labelsel.SelectorError:
                continue
    return out


def default_constraints(
    defaults: list[Obj], when: str, selector: labelsel.Selector
) -> list[Constraint]:
    """The defaults for `when`, all with the pod's default selector (none if it is empty)."""
    chosen = [d for d in defaults if d.get("whenUnsatisfiable") == when]
    if not chosen or selector.empty or selector.nothing:
        return []
    return [Constraint(d, selector) for d in chosen]


def has_all_keys(labels: Mapping[str, str], constraints: list[Constraint]) -> bool:
    return all(c.topology_key in labels for c in constraints)
