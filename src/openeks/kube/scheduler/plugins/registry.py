"""The in-tree plugin registry: every plugin this scheduler ships, by upstream name."""

from __future__ import annotations

from openeks.kube.scheduler.framework.registry import Registry
from openeks.kube.scheduler.plugins import names
from openeks.kube.scheduler.plugins.defaultbinder import DefaultBinder
from openeks.kube.scheduler.plugins.defaultpreemption import DefaultPreemption
from openeks.kube.scheduler.plugins.interpodaffinity.plugin import InterPodAffinity
from openeks.kube.scheduler.plugins.nodeaffinity import NodeAffinity
from openeks.kube.scheduler.plugins.nodename import NodeName
from openeks.kube.scheduler.plugins.nodeports import NodePorts
from openeks.kube.scheduler.plugins.noderesources.balanced_allocation import BalancedAllocation
from openeks.kube.scheduler.plugins.noderesources.fit import Fit
from openeks.kube.scheduler.plugins.nodeunschedulable import NodeUnschedulable
from openeks.kube.scheduler.plugins.podtopologyspread.plugin import PodTopologySpread
from openeks.kube.scheduler.plugins.queuesort import PrioritySort
from openeks.kube.scheduler.plugins.schedulinggates import SchedulingGates
from openeks.kube.scheduler.plugins.tainttoleration import TaintToleration


def in_tree_registry() -> Registry:
    return Registry(
        {
            names.SCHEDULING_GATES: SchedulingGates,
            names.PRIORITY_SORT: PrioritySort,
            names.NODE_UNSCHEDULABLE: NodeUnschedulable,
            names.NODE_NAME: NodeName,
            names.TAINT_TOLERATION: TaintToleration,
            names.NODE_AFFINITY: NodeAffinity,
            names.NODE_PORTS: NodePorts,
            names.NODE_RESOURCES_FIT: Fit,
            names.POD_TOPOLOGY_SPREAD: PodTopologySpread,
            names.INTER_POD_AFFINITY: InterPodAffinity,
            names.DEFAULT_PREEMPTION: DefaultPreemption,
            names.NODE_RESOURCES_BALANCED_ALLOCATION: BalancedAllocation,
            names.DEFAULT_BINDER: DefaultBinder,
        }
    )
