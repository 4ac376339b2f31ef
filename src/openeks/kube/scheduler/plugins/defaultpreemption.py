"""DefaultPreemption as a PostFilter that explains, in upstream's words, why preempting
would not help — this scheduler does not evict pods.

It follows upstream's evaluator up to the choice of victims: pods with
`preemptionPolicy: Never` are "not eligible"; nodes whose failure was
UnschedulableAndUnresolvable are "Preemption is not helpful for scheduling"; nodes with
no pod of lower priority have "No preemption victims found for incoming pod"; on the
others the filters are re-run as if every lower-priority pod were gone, and a node that
still fails reports that failure. A node where evicting would help is reported as
"Preemption is not supported by this scheduler" (upstream would evict there).
The result reads "preemption: 0/N nodes are available: ...", as upstream's.
"""

from __future__ import annotations

from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.diagnosis import Diagnosis, FitError, NodeToStatus
from openeks.kube.scheduler.framework.interface import PostFilterPlugin
from openeks.kube.scheduler.framework.status import Code, Status, unresolvable, unschedulable
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_SUPPORTED = "Preemption is not supported by this scheduler"
NEVER = "not eligible due to preemptionPolicy=Never."


class DefaultPreemption(PostFilterPlugin):
    NAME = names.DEFAULT_PREEMPTION

    def post_filter(self, state: CycleState, pod: PodInfo, statuses: NodeToStatus) -> Status:
        if pod.spec.get("preemptionPolicy") == "Never":
            return unschedulable("preemption: " + NEVER)
        nodes = self.handle.snapshot.nodes()
        result = NodeToStatus(absent=unresolvable(NOT_HELPFUL))
        for node in nodes:
            result.set(node.name, self._on_node(state, pod, node, statuses.get(node.name)))
        fit = FitError(pod.key, len(nodes), Diagnosis(node_to_status=result))
        return unschedulable("preemption: " + fit.message())

    def _on_node(self, state: CycleState, pod: PodInfo, node: NodeInfo, st: Status) -> Status:
        if st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            return unresolvable(NOT_HELPFUL)
        keep = [p for p in node.pods.values() if p.priority >= pod.priority]
        if len(keep) == len(node.pods):
            return unresolvable(NO_VICTIMS)
        framework = self.handle.framework
        if framework is None:
            return unresolvable(NO_VICTIMS)
        what_if = NodeInfo(node.node, keep)
        failed = framework.run_filters(state, pod, what_if)
        if failed is not None:
            return failed
        return unschedulable(NOT_SUPPORTED)
