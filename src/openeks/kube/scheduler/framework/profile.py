"""Scheduling profiles: which plugins run, in which order, with which weights and args.

`default_profile()` mirrors upstream's default `KubeSchedulerConfiguration` for
`default-scheduler` (v1 `getDefaultPlugins`): one ordered list of enabled plugins (each
runs at every extension point it implements, upstream's multiPoint), score weights
TaintToleration 3, NodeAffinity 2, PodTopologySpread 2, InterPodAffinity 2,
NodeResourcesFit 1, NodeResourcesBalancedAllocation 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_SCHEDULER = "default-scheduler"

DEFAULT_PLUGINS = [
    "SchedulingGates",
    "PrioritySort",
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "NodeResourcesFit",
    "PodTopologySpread",
    "InterPodAffinity",
    "DefaultPreemption",
    "NodeResourcesBalancedAllocation",
    "DefaultBinder",
]

DEFAULT_WEIGHTS = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "PodTopologySpread": 2,
    "InterPodAffinity": 2,
    "NodeResourcesFit": 1,
    "NodeResourcesBalancedAllocation": 1,
}


@dataclass
class Profile:
    """One scheduler profile (KubeSchedulerProfile)."""

    scheduler_name: str = DEFAULT_SCHEDULER
    plugins: list[str] = field(default_factory=lambda: list(DEFAULT_PLUGINS))
    """Enabled plugins in order; each runs at every extension point it implements."""
    weights: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    """Score weights; a score plugin without a weight gets 1."""
    plugin_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    percentage_of_nodes_to_score: int | None = None
    """None or 0: adaptive (50% minus 1% per 125 nodes, at least 5%), as upstream."""

    def without(self, *names: str) -> Profile:
        return Profile(
            self.scheduler_name,
            [p for p in self.plugins if p not in names],
            dict(self.weights),
            dict(self.plugin_args),
            self.percentage_of_nodes_to_score,
        )


def default_profile(scheduler_name: str = DEFAULT_SCHEDULER) -> Profile:
    return Profile(scheduler_name=scheduler_name)
