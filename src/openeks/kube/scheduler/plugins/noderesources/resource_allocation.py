"""Resource-allocation scoring shared by NodeResourcesFit and BalancedAllocation.

upstream's `resourceAllocationScorer`: for each configured resource, the node's
allocatable and what would be requested with this pod (the node's non-zero requests
plus the pod's non-zero requests for LeastAllocated/MostAllocated; plain requests for
BalancedAllocation), then a strategy turns those vectors into 0..100.

A score depends only on the node's state and the pod's request vector, so results are
memoised per request vector and node generation: pods of one ReplicaSet share a vector,
and a cycle changes one node, so most of a cycle's scores are dictionary hits.
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Callable, Sequence

from openeks.kube.scheduler.framework import resources as res
from openeks.kube.scheduler.framework.interface import MAX_NODE_SCORE
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo

Scorer = Callable[[list[int], list[int], Sequence[int]], int]
_MEMO_LIMIT = 200_000
_GENERATION = operator.attrgetter("generation")


def least_requested(requested: list[int], allocatable: list[int], weights: Sequence[int]) -> int:
    node_score = weight_sum = 0
    for req, alloc, w in zip(requested, allocatable, weights, strict=True):
        if alloc == 0:
            continue
        score = 0 if req > alloc else (alloc - req) * MAX_NODE_SCORE // alloc
        node_score += score * w
        weight_sum += w
    return node_score // weight_sum if weight_sum else 0


def most_requested(requested: list[int], allocatable: list[int], weights: Sequence[int]) -> int:
    node_score = weight_sum = 0
    for req, alloc, w in zip(requested, allocatable, weights, strict=True):
        if alloc == 0:
            continue
        score = MAX_NODE_SCORE if req > alloc else req * MAX_NODE_SCORE // alloc
        node_score += score * w
        weight_sum += w
    return node_score // weight_sum if weight_sum else 0


def balanced(requested: list[int], allocatable: list[int], weights: Sequence[int]) -> int:
    fractions = [min(r / a, 1.0) for r, a in zip(requested, allocatable, strict=True) if a != 0]
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    return int((1 - std) * MAX_NODE_SCORE)


def pod_request_vector(pod: PodInfo, names: Sequence[str], use_requested: bool) -> tuple[int, ...]:
    """The pod's request per resource; non-zero defaults for cpu/memory unless use_requested."""
    out = []
    for name in names:
        if name == res.CPU:
            out.append(pod.cpu if use_requested else pod.nz_cpu)
        elif name == res.MEMORY:
            out.append(pod.memory if use_requested else pod.nz_memory)
        else:
            out.append(pod.requests.get(name, 0))
    return tuple(out)


def node_vectors(
    node: NodeInfo, names: Sequence[str], pod_req: Sequence[int], use_requested: bool
) -> tuple[list[int], list[int]]:
    requested, allocatable = [], []
    for name, want in zip(names, pod_req, strict=True):
        if name == res.CPU:
            alloc, used = node.alloc_cpu, node.req_cpu if use_requested else node.nz_cpu
        elif name == res.MEMORY:
            alloc, used = node.alloc_memory, node.req_memory if use_requested else node.nz_memory
        elif name == res.EPHEMERAL_STORAGE:
            alloc, used = node.alloc_ephemeral, node.req_ephemeral
        elif want == 0 and res.is_scalar(name):
            alloc, used = 0, 0
        else:
            alloc, used = node.alloc_scalars.get(name, 0), node.req_scalars.get(name, 0)
        if alloc == 0:
            requested.append(0)
            allocatable.append(0)
        else:
            requested.append(used + want)
            allocatable.append(alloc)
    return requested, allocatable


class AllocationScorer:
    """Scores nodes for one strategy over (resource, weight) pairs, memoised."""

    def __init__(
        self, resources: Sequence[tuple[str, int]], scorer: Scorer, use_requested: bool
    ) -> None:
        self.names = [name for name, _ in resources]
        self.weights = [w for _, w in resources]
        self.scorer = scorer
        self.use_requested = use_requested
        self._memo: dict[tuple[int, ...], dict[int, int]] = {}
        self._memo_size = 0

    def request_vector(self, pod: PodInfo) -> tuple[int, ...]:
        return pod_request_vector(pod, self.names, self.use_requested)

    def score(self, node: NodeInfo, pod_req: tuple[int, ...]) -> int:
        requested, allocatable = node_vectors(node, self.names, pod_req, self.use_requested)
        return self.scorer(requested, allocatable, self.weights)

    def score_nodes(self, nodes: list[NodeInfo], pod_req: tuple[int, ...]) -> list[int]:
        memo = self._memo.get(pod_req)
        if memo is None or self._memo_size > _MEMO_LIMIT:
            if self._memo_size > _MEMO_LIMIT:
                self._memo.clear()
                self._memo_size = 0
            memo = self._memo[pod_req] = {}
        scores = list(map(memo.get, map(_GENERATION, nodes)))
        if None in scores:  # usually only the node the last cycle changed
            for i in _indexes_of_none(scores):
                node = nodes[i]
                scores[i] = memo[node.generation] = self.score(node, pod_req)
                self._memo_size += 1
        return scores  # type: ignore[return-value]


def _indexes_of_none(values: list[int | None]) -> list[int]:
    found = []
    i = values.index(None)
    with contextlib.suppress(ValueError):
        while True:
            found.append(i)
            i = values.index(None, i + 1)
    return found
