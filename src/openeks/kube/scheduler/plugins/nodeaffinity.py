"""NodeAffinity: `nodeSelector` and required node affinity filter; preferred terms score.

PreFilter compiles the pod's required selector once per cycle (and skips the plugin when
the pod has neither a nodeSelector nor required affinity). When every required term pins
`metadata.name` with In, the PreFilterResult narrows the candidates to those nodes, so
the other nodes are reported as "node(s) didn't satisfy plugin(s) [NodeAffinity]", as
upstream. Score sums the weights of matching preferred terms, normalised so the best
node gets 100. `addedAffinity` (plugin args) is ANDed to every pod's requirements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.events import NODE, Action, ClusterEvent, ClusterEventWithHint
from openeks.kube.scheduler.framework.interface import (
    FilterPlugin,
    Handle,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
    default_normalize,
)
from openeks.kube.scheduler.framework.registry import ArgsError
from openeks.kube.scheduler.framework.status import SKIP, Status, unresolvable
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names
from openeks.kube.scheduler.plugins.helper.nodeaffinity import (
    NodeSelector,
    PreferredTerms,
    RequiredNodeAffinity,
    preferred_of,
)

ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
ERR_REASON_CONFLICT = "pod affinity terms conflict"
_PREFILTER_KEY = "PreFilter" + names.NODE_AFFINITY
_PRESCORE_KEY = "PreScore" + names.NODE_AFFINITY


def _node_now_matches(pod: PodInfo, old: Any, new: Any) -> bool:
    if new is None:
        return False
    return RequiredNodeAffinity(pod.spec).matches(NodeInfo(new))


class NodeAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    NAME = names.NODE_AFFINITY
    has_normalize = True

    def __init__(self, handle: Handle, args: Mapping[str, Any] | None = None) -> None:
        super().__init__(handle, args)
        added = (args or {}).get("addedAffinity")
        self.added_required: NodeSelector | None = None
        self.added_preferred = PreferredTerms([])
        if added:
            if not isinstance(added, Mapping):
                raise ArgsError("addedAffinity: Invalid value: must be a NodeAffinity")
            req = added.get("requiredDuringSchedulingIgnoredDuringExecution")
            if req is not None:
                self.added_required = NodeSelector(req)
                if not all(t.valid for t in self.added_required.terms):
                    raise ArgsError("addedAffinity: Invalid value: invalid node selector term")
            self.added_preferred = PreferredTerms(
                list(added.get("preferredDuringSchedulingIgnoredDuringExecution") or [])
            )

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(NODE, Action.ADD | Action.UPDATE_NODE_LABEL), _node_now_matches
            )
        ]

    # -- filter ----------------------------------------------------------------------------
    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        spec = pod.spec
        required = RequiredNodeAffinity(spec)
        if required.empty and self.added_required is None:
            return None, SKIP
        state.write(_PREFILTER_KEY, required)
        names_ = _pinned_node_names(spec)
        if names_ is not None and not names_:
            return None, unresolvable(ERR_REASON_CONFLICT)
        return (PreFilterResult(names_) if names_ is not None else None), None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if self.added_required is not None and not self.added_required.matches(node):
            return unresolvable(ERR_REASON_ENFORCED)
        required = state.get(_PREFILTER_KEY) or RequiredNodeAffinity(pod.spec)
        if not required.matches(node):
            return unresolvable(ERR_REASON_POD)
        return None

    # -- score -----------------------------------------------------------------------------
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        preferred = PreferredTerms(preferred_of(pod.spec))
        if not preferred.terms and not self.added_preferred.terms:
            return SKIP
        state.write(_PRESCORE_KEY, preferred)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        preferred = state.get(_PRESCORE_KEY) or PreferredTerms(preferred_of(pod.spec))
        return preferred.score(node) + self.added_preferred.score(node)

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], scores: list[int]
    ) -> None:
        default_normalize(scores, reverse=False)


def _pinned_node_names(spec: Mapping[str, Any]) -> set[str] | None:
    """Node names required terms pin with `metadata.name In`, or None if any term does not."""
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if not required:
        return None
    union: set[str] = set()
    for term in required.get("nodeSelectorTerms") or ():
        names_: set[str] | None = None
        for f in term.get("matchFields") or ():
            if f.get("key") == "metadata.name" and f.get("operator") == "In":
                values = set(f.get("values") or [])
                names_ = values if names_ is None else names_ & values
        if names_ is None:
            return None
        union |= names_
    return union
