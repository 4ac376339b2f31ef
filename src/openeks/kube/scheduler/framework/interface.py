"""The plugin interfaces: one mixin per extension point, plus what plugins may use.

Shaped like upstream's `framework/interface.go`: a plugin has a `NAME` and implements
any of PreEnqueue, PreFilter, Filter, PostFilter, PreScore, Score (+ normalize), Bind.
Results are `Status` values; a filter that passes returns `None`.

Python pays per call, so two extension points have a batch form that the framework
uses: `filter_nodes` (filter many nodes at once, recording failures) and `score_nodes`
(score many nodes at once). Their defaults loop over the per-node `filter` / `score`,
which remain the reference semantics and what the unit tests pin down; a plugin may
override the batch form with a tighter loop, and tests check the two agree.

`Handle` is what a plugin gets from the framework: the node snapshot (the cache, read
synchronously during a cycle), listers for Services/ReplicaSets/... and namespaces, and
the API client (for the binder).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from openeks.kube.api import labels as labelsel
from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.events import ClusterEventWithHint
from openeks.kube.scheduler.framework.status import Code, Status
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo

if TYPE_CHECKING:
    from openeks.kube.client import Client
    from openeks.kube.scheduler.framework.diagnosis import NodeToStatus

Obj = dict[str, Any]

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0


class NodeLister(Protocol):
    """The cluster as one cycle sees it (upstream's SnapshotSharedLister)."""

    def nodes(self) -> list[NodeInfo]: ...

    def get(self, name: str) -> NodeInfo | None: ...

    def have_pods_with_affinity(self) -> list[NodeInfo]: ...

    def any_hard_taints(self) -> bool: ...

    def any_soft_taints(self) -> bool: ...

    def any_unschedulable(self) -> bool: ...

    def have_pods_with_required_anti_affinity(self) -> list[NodeInfo]: ...

    def matching_counts(self, namespace: str, selector: labelsel.Selector) -> Mapping[str, int]:
        """Node name → number of non-terminating pods of `namespace` matching `selector`."""
        ...

    def matching_groups(self, namespace: str) -> list[tuple[dict[str, str], Mapping[str, int]]]:
        """(labels, node name → count) for every label set of non-terminating pods."""
        ...

    def topology_counts(
        self, namespace: str, selector: labelsel.Selector, key: str
    ) -> dict[str, int] | None:
        """Topology value → matching pods, if this lister aggregates `key` (else None)."""
        ...

    def all_nodes_have(self, key: str) -> bool: ...

    def distinct_values(self, key: str) -> int | None: ...

    def all_groups(self) -> list[tuple[str, dict[str, str], Mapping[str, int]]]:
        """(namespace, labels, node name → count) over all namespaces."""
        ...


class Listers(Protocol):
    """Read access to the objects some plugins consult (informer caches in production)."""

    def services(self, namespace: str) -> list[Obj]: ...

    def controller(self, namespace: str, kind: str, name: str) -> Obj | None:
        """A ReplicaSet / StatefulSet / ReplicationController by kind and name."""
        ...

    def namespace_labels(self, namespace: str) -> dict[str, str] | None: ...

    def namespaces(self) -> list[tuple[str, dict[str, str]]]: ...


class NoListers:
    """Listers for a cluster with no Services, controllers or namespace labels."""

    def services(self, namespace: str) -> list[Obj]:
        return []

    def controller(self, namespace: str, kind: str, name: str) -> Obj | None:
        return None

    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        return {}

    def namespaces(self) -> list[tuple[str, dict[str, str]]]:
        return []


class FilterRunner(Protocol):
    def run_filters(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None: ...


@dataclass
class Handle:
    snapshot: NodeLister
    listers: Listers = field(default_factory=NoListers)
    client: Client | None = None
    framework: FilterRunner | None = None
    """Set by the framework itself: lets PostFilter re-run the filters on a what-if node."""


@dataclass
class PreFilterResult:
    """Only these nodes can possibly fit (None: all nodes)."""

    node_names: set[str] | None = None

    def merge(self, other: PreFilterResult | None) -> PreFilterResult:
        if other is None or other.node_names is None:
            return self
        if self.node_names is None:
            return PreFilterResult(set(other.node_names))
        return PreFilterResult(self.node_names & other.node_names)


class Plugin:
    NAME: ClassVar[str] = ""

    def __init__(self, handle: Handle, args: Mapping[str, Any] | None = None) -> None:
        self.handle = handle

    @property
    def name(self) -> str:
        return self.NAME

    def events_to_register(self) -> list[ClusterEventWithHint]:
        """Cluster events that may make a pod this plugin rejected schedulable."""
        return []


class PreEnqueuePlugin(Plugin):
    def pre_enqueue(self, pod: PodInfo) -> Status | None:
        raise NotImplementedError


class PreFilterPlugin(Plugin):
    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        raise NotImplementedError


class FilterPlugin(Plugin):
    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        raise NotImplementedError

    def filter_nodes(
        self,
        state: CycleState,
        pod: PodInfo,
        nodes: list[NodeInfo],
        failed: dict[str, Status],
    ) -> list[NodeInfo]:
        """The nodes that pass; each failing node's status goes into `failed`."""
        passed = []
        name = self.NAME
        for node in nodes:
            st = self.filter(state, pod, node)
            if st is None or st.code == Code.SUCCESS:
                passed.append(node)
            else:
                failed[node.name] = st.with_plugin(name)
        return passed


class PostFilterPlugin(Plugin):
    def post_filter(self, state: CycleState, pod: PodInfo, statuses: NodeToStatus) -> Status:
        raise NotImplementedError


class PreScorePlugin(Plugin):
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        raise NotImplementedError


class ScorePlugin(Plugin):
    has_normalize: ClassVar[bool] = False

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        raise NotImplementedError

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        return [self.score(state, pod, n) for n in nodes]

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], scores: list[int]
    ) -> None:
        """Rewrite `scores` in place into [0, MAX_NODE_SCORE]; only if has_normalize."""


class BindPlugin(Plugin):
    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        raise NotImplementedError


def default_normalize(scores: list[int], reverse: bool, max_priority: int = MAX_NODE_SCORE) -> None:
    """upstream's helper.DefaultNormalizeScore, in place."""
    highest = max(scores, default=0)
    if highest <= 0:
        if reverse:
            scores[:] = [max_priority] * len(scores)
        return
    if reverse:
        scores[:] = [max_priority - (max_priority * s // highest) for s in scores]
    else:
        scores[:] = [max_priority * s // highest for s in scores]
