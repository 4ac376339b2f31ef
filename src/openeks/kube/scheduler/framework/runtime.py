"""The framework runtime: a profile's plugins, run at each extension point.

`Framework.find_feasible` is upstream's `findNodesThatFitPod` + `findNodesThatPassFilters`:
PreFilter (a `SKIP` removes that plugin's Filter for this pod; a PreFilterResult narrows
the candidate nodes), then Filter over nodes taken round-robin from `next_start`, until
`num_feasible_nodes_to_find` nodes pass or every node was tried. Filtering works in
chunks: each plugin filters the whole chunk (`filter_nodes`) before the next plugin sees
the survivors, which yields exactly upstream's result (a node's status is the first
failing plugin's, in profile order) at a fraction of the per-call cost.

`score` is upstream's `prioritizeNodes`: PreScore, Score, NormalizeScore, weights, sum;
`select_host` picks the highest total, ties broken uniformly at random.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Mapping
from typing import Any

from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.diagnosis import Diagnosis, NodeToStatus
from openeks.kube.scheduler.framework.interface import (
    MAX_NODE_SCORE,
    BindPlugin,
    FilterPlugin,
    Handle,
    Plugin,
    PostFilterPlugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
)
from openeks.kube.scheduler.framework.profile import Profile
from openeks.kube.scheduler.framework.registry import Registry
from openeks.kube.scheduler.framework.status import Code, Status, error, unresolvable
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
DEFAULT_PERCENTAGE_BASE = 50


class FrameworkError(Exception):
    """A plugin returned ERROR: the cycle fails and the pod is retried with back-off."""


def num_feasible_nodes_to_find(percentage: int | None, num_all_nodes: int) -> int:
    """upstream's numFeasibleNodesToFind: all nodes below 100, else an adaptive share."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    pct = percentage or 0
    if pct == 0:
        pct = DEFAULT_PERCENTAGE_BASE - num_all_nodes // 125
        pct = max(pct, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    if pct >= 100:
        return num_all_nodes
    return max(num_all_nodes * pct // 100, MIN_FEASIBLE_NODES_TO_FIND)


class Framework:
    def __init__(self, profile: Profile, registry: Registry, handle: Handle) -> None:
        self.profile = profile
        self.handle = handle
        self.plugins: list[Plugin] = [
            registry.new(name, handle, profile.plugin_args.get(name)) for name in profile.plugins
        ]
        ps = self.plugins
        self.pre_enqueue_plugins = [p for p in ps if isinstance(p, PreEnqueuePlugin)]
        self.pre_filter_plugins = [p for p in ps if isinstance(p, PreFilterPlugin)]
        self.filter_plugins = [p for p in ps if isinstance(p, FilterPlugin)]
        self.post_filter_plugins = [p for p in ps if isinstance(p, PostFilterPlugin)]
        self.pre_score_plugins = [p for p in ps if isinstance(p, PreScorePlugin)]
        self.score_plugins = [
            (p, profile.weights.get(p.NAME, 1)) for p in ps if isinstance(p, ScorePlugin)
        ]
        self.bind_plugins = [p for p in ps if isinstance(p, BindPlugin)]
        self.next_start = 0
        handle.framework = self

    @property
    def scheduler_name(self) -> str:
        return self.profile.scheduler_name

    def plugin(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins if name == p.NAME), None)

    # -- PreEnqueue ------------------------------------------------------------------------
    def run_pre_enqueue(self, pod: PodInfo) -> Status | None:
        for pl in self.pre_enqueue_plugins:
            st = pl.pre_enqueue(pod)
            if st is not None and not st.is_success():
                return st.with_plugin(pl.NAME)
        return None

    # -- PreFilter / Filter ----------------------------------------------------------------
    def run_pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None, list[str]]:
        result: PreFilterResult | None = None
        returned: Status | None = None
        with_nodes: list[str] = []
        for pl in self.pre_filter_plugins:
            r, st = pl.pre_filter(state, pod, nodes)
            if st is not None and st.code == Code.SKIP:
                state.skip_filter_plugins.add(pl.NAME)
                continue
            if st is not None and st.code != Code.SUCCESS:
                st = st.with_plugin(pl.NAME)
                if st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                    return None, st, with_nodes
                if st.code == Code.UNSCHEDULABLE:
                    returned = st
                    continue
                raise FrameworkError(f"running PreFilter plugin {pl.NAME!r}: {st.message}")
            if r is not None and r.node_names is not None:
                with_nodes.append(pl.NAME)
                result = r if result is None else result.merge(r)
                if result.node_names is not None and not result.node_names:
                    if len(with_nodes) == 1:
                        msg = f"node(s) didn't satisfy plugin {with_nodes[0]}"
                    else:
                        listed = " ".join(with_nodes)
                        msg = f"node(s) didn't satisfy plugin(s) [{listed}] simultaneously"
                    return result, unresolvable(msg), with_nodes
        return result, returned, with_nodes

    def find_feasible(
        self, state: CycleState, pod: PodInfo, all_nodes: list[NodeInfo]
    ) -> tuple[list[NodeInfo], Diagnosis]:
        diagnosis = Diagnosis()
        result, st, with_nodes = self.run_pre_filter(state, pod, all_nodes)
        if st is not None:
            diagnosis.node_to_status.absent = st
            diagnosis.pre_filter_msg = st.message
            diagnosis.add_plugin_status(st)
            return [], diagnosis
        nodes = all_nodes
        if result is not None and result.node_names is not None:
            nodes = [n for n in all_nodes if n.name in result.node_names]
            diagnosis.node_to_status.absent = unresolvable(
                f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(with_nodes))}]"
            )
        feasible = self._filter(state, pod, nodes, diagnosis)
        return feasible, diagnosis

    def _filter(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], diagnosis: Diagnosis
    ) -> list[NodeInfo]:
        total = len(nodes)
        if total == 0:
            return []
        want = num_feasible_nodes_to_find(self.profile.percentage_of_nodes_to_score, total)
        plugins = [p for p in self.filter_plugins if p.NAME not in state.skip_filter_plugins]
        start = self.next_start % total
        ordered = nodes[start:] + nodes[:start] if start else nodes
        failed: dict[str, Status] = {}
        feasible: list[NodeInfo] = []
        index = 0
        while index < total and len(feasible) < want:
            size = want - len(feasible)
            chunk = ordered[index : index + size]
            index += len(chunk)
            for pl in plugins:
                chunk = pl.filter_nodes(state, pod, chunk, failed)
                if not chunk:
                    break
            feasible += chunk
        for st in failed.values():
            if st.code == Code.ERROR:
                raise FrameworkError(f"running Filter plugin {st.plugin!r}: {st.message}")
            diagnosis.add_plugin_status(st)
        diagnosis.node_to_status.statuses = failed
        self.next_start = (start + len(feasible) + len(failed)) % total
        return feasible

    def run_filters(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        """All (non-skipped) filters on one node; the first failure, or None."""
        for pl in self.filter_plugins:
            if pl.NAME in state.skip_filter_plugins:
                continue
            st = pl.filter(state, pod, node)
            if st is not None and st.code != Code.SUCCESS:
                return st.with_plugin(pl.NAME)
        return None

    # -- PostFilter ------------------------------------------------------------------------
    def run_post_filter(self, state: CycleState, pod: PodInfo, statuses: NodeToStatus) -> Status:
        reasons: list[str] = []
        rejector = ""
        for pl in self.post_filter_plugins:
            st = pl.post_filter(state, pod, statuses)
            if st.is_success():
                return st
            if st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                return st.with_plugin(pl.NAME)
            if not st.is_rejected():
                return error(st.message).with_plugin(pl.NAME)
            reasons += st.reasons
            rejector = rejector or pl.NAME
        return Status(Code.UNSCHEDULABLE, *reasons, plugin=rejector)

    # -- PreScore / Score ------------------------------------------------------------------
    def score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        if not self.score_plugins:
            return [1] * len(nodes)
        for pre in self.pre_score_plugins:
            st = pre.pre_score(state, pod, nodes)
            if st is None or st.code == Code.SUCCESS:
                continue
            if st.code == Code.SKIP:
                state.skip_score_plugins.add(pre.NAME)
                continue
            raise FrameworkError(f"running PreScore plugin {pre.NAME!r}: {st.message}")
        totals = [0] * len(nodes)
        for pl, weight in self.score_plugins:
            if pl.NAME in state.skip_score_plugins:
                continue
            scores = pl.score_nodes(state, pod, nodes)
            if pl.has_normalize:
                pl.normalize(state, pod, nodes, scores)
            if scores and (max(scores) > MAX_NODE_SCORE or min(scores) < 0):
                raise FrameworkError(
                    f"plugin {pl.NAME!r} returns an invalid score {max(scores)}, "
                    f"it should in the range of [0, {MAX_NODE_SCORE}] after normalizing"
                )
            if weight != 1:
                scores = [weight * s for s in scores]
            totals = list(map(operator.add, totals, scores))
        return totals

    def plugin_scores(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> Mapping[str, list[int]]:
        """Each score plugin's normalised (unweighted) scores; for tests and debugging."""
        out: dict[str, list[int]] = {}
        for pre in self.pre_score_plugins:
            st = pre.pre_score(state, pod, nodes)
            if st is not None and st.code == Code.SKIP:
                state.skip_score_plugins.add(pre.NAME)
        for pl, _ in self.score_plugins:
            if pl.NAME not in state.skip_score_plugins:
                scores = pl.score_nodes(state, pod, nodes)
                if pl.has_normalize:
                    pl.normalize(state, pod, nodes, scores)
                out[pl.NAME] = scores
        return out

    # -- Bind ------------------------------------------------------------------------------
    async def run_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for pl in self.bind_plugins:
            st = await pl.bind(state, pod, node_name)
            if st is not None and st.code == Code.SKIP:
                continue
            return st
        return error("no bind plugin bound the pod")


def select_host(nodes: list[NodeInfo], totals: list[int], rng: Any = random) -> NodeInfo:
    """The node with the highest total score; ties broken uniformly at random."""
    best = max(totals)
    if totals.count(best) == 1:
        return nodes[totals.index(best)]
    winners = [i for i, t in enumerate(totals) if t == best]
    return nodes[winners[rng.randrange(len(winners))]]
