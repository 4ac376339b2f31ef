"""The PodTopologySpread plugin: argument handling, extension points, queueing hints.

Arguments as upstream's PodTopologySpreadArgs: `defaultingType` "System" (the system
default constraints) or "List" (`defaultConstraints`, which may not carry selectors).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.events import (
    ASSIGNED_POD,
    NODE,
    Action,
    ClusterEvent,
    ClusterEventWithHint,
)
from openeks.kube.scheduler.framework.interface import (
    FilterPlugin,
    Handle,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
)
from openeks.kube.scheduler.framework.registry import ArgsError
from openeks.kube.scheduler.framework.status import SKIP, Status
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins import names
from openeks.kube.scheduler.plugins.helper.spread import default_selector
from openeks.kube.scheduler.plugins.podtopologyspread import filtering, scoring
from openeks.kube.scheduler.plugins.podtopologyspread.common import (
    DO_NOT_SCHEDULE,
    SCHEDULE_ANYWAY,
    SYSTEM_DEFAULT_CONSTRAINTS,
    Constraint,
    default_constraints,
    pod_constraints,
)

Obj = dict[str, Any]
_PREFILTER_KEY = "PreFilter" + names.POD_TOPOLOGY_SPREAD
_PRESCORE_KEY = "PreScore" + names.POD_TOPOLOGY_SPREAD
_SELECTOR_KEY = "DefaultSelector" + names.POD_TOPOLOGY_SPREAD


def _validate(args: Mapping[str, Any]) -> tuple[list[Obj], bool]:
    kind = args.get("defaultingType", "System")
    defaults = list(args.get("defaultConstraints") or [])
    if kind not in ("System", "List"):
        raise ArgsError(
            f'defaultingType: Unsupported value: "{kind}": supported values: "List", "System"'
        )
    if kind == "System":
        if defaults:
            raise ArgsError(
                'defaultingType: Invalid value: "System": when .defaultingType is "System", '
                ".defaultConstraints must be empty"
            )
        return SYSTEM_DEFAULT_CONSTRAINTS, True
    for i, c in enumerate(defaults):
        if c.get("labelSelector") is not None:
            raise ArgsError(
                f"defaultConstraints[{i}].labelSelector: Forbidden: "
                "constraint must not define a selector, as they deduced for each pod"
            )
        if int(c.get("maxSkew") or 0) <= 0:
            raise ArgsError(
                f"defaultConstraints[{i}].maxSkew: Invalid value: {c.get('maxSkew')}: "
                "not in valid range (0, inf)"
            )
    return defaults, False


class PodTopologySpread(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    NAME = names.POD_TOPOLOGY_SPREAD
    has_normalize = True

    def __init__(self, handle: Handle, args: Mapping[str, Any] | None = None) -> None:
        super().__init__(handle, args)
        self.defaults, self.system_defaulted = _validate(args or {})

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(
                ClusterEvent(ASSIGNED_POD, Action.ADD | Action.DELETE | Action.UPDATE_POD_LABEL),
                self._pod_change_matters,
            ),
            ClusterEventWithHint(
                ClusterEvent(
                    NODE,
                    Action.ADD
                    | Action.DELETE
                    | Action.UPDATE_NODE_LABEL
                    | Action.UPDATE_NODE_TAINT,
                )
            ),
        ]

    def _pod_change_matters(self, pod: PodInfo, old: Obj | None, new: Obj | None) -> bool:
        changed = [o for o in (old, new) if o is not None]
        constraints = self.constraints(pod, DO_NOT_SCHEDULE) + self.constraints(
            pod, SCHEDULE_ANYWAY
        )
        for obj in changed:
            m = obj.get("metadata") or {}
            if m.get("namespace") != pod.namespace:
                continue
            if any(c.selector.matches(m.get("labels") or {}) for c in constraints):
                return True
        return False

    def constraints(
        self, pod: PodInfo, when: str, state: CycleState | None = None
    ) -> list[Constraint]:
        if pod.spec.get("topologySpreadConstraints"):
            return pod_constraints(pod, when)
        selector = state.get(_SELECTOR_KEY) if state is not None else None
        if selector is None:
            selector = default_selector(pod, self.handle.listers)
            if state is not None:
                state.write(_SELECTOR_KEY, selector)
        return default_constraints(self.defaults, when, selector)

    # -- filter ----------------------------------------------------------------------------
    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        constraints = self.constraints(pod, DO_NOT_SCHEDULE, state)
        if not constraints:
            return None, SKIP
        state.write(
            _PREFILTER_KEY, filtering.compute(pod, constraints, self.handle.snapshot, nodes)
        )
        return None, None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        pre = state.get(_PREFILTER_KEY)
        if pre is None:
            constraints = self.constraints(pod, DO_NOT_SCHEDULE)
            if not constraints:
                return None
            pre = filtering.compute(
                pod, constraints, self.handle.snapshot, self.handle.snapshot.nodes()
            )
            state.write(_PREFILTER_KEY, pre)
        return filtering.filter_node(pre, pod, node)

    # -- score -----------------------------------------------------------------------------
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        if not nodes:
            return SKIP
        constraints = self.constraints(pod, SCHEDULE_ANYWAY, state)
        if not constraints:
            return SKIP
        own = bool(pod.spec.get("topologySpreadConstraints"))
        require_all = own or not self.system_defaulted
        pre = scoring.compute(pod, constraints, require_all, self.handle.snapshot, nodes)
        state.write(_PRESCORE_KEY, pre)
        return None

    def _pre_score_state(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> scoring.PreScoreState | None:
        pre = state.get(_PRESCORE_KEY)
        if pre is None and self.pre_score(state, pod, nodes) is None:
            pre = state.get(_PRESCORE_KEY)
        return pre

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        pre = self._pre_score_state(state, pod, [node])
        return 0 if pre is None else scoring.score_node(pre, node)

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        pre = self._pre_score_state(state, pod, nodes)
        if pre is None:
            return [0] * len(nodes)
        return scoring.score_nodes(pre, nodes)

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], scores: list[int]
    ) -> None:
        pre = state.get(_PRESCORE_KEY)
        if pre is not None:
            scoring.normalize(pre, nodes, scores)
