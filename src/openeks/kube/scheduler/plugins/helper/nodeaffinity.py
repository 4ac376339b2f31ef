"""Node selectors: `nodeSelector`, required and preferred node affinity, compiled once.

A port of `component-helpers/scheduling/corev1/nodeaffinity`: terms are ORed, the
requirements inside a term ANDed; `matchExpressions` go through the label-selector
machinery (In, NotIn, Exists, DoesNotExist, Gt, Lt), `matchFields` support
`metadata.name` with In/NotIn. A term that does not parse matches nothing, and an empty
term matches nothing, as upstream (parse errors are otherwise ignored by the scheduler).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openeks.kube.api import labels as labelsel
from openeks.kube.scheduler.framework.types import NodeInfo

Obj = dict[str, Any]

_OPERATORS = {
    "In": labelsel.IN,
    "NotIn": labelsel.NOT_IN,
    "Exists": labelsel.EXISTS,
    "DoesNotExist": labelsel.DOES_NOT_EXIST,
    "Gt": labelsel.GREATER_THAN,
    "Lt": labelsel.LESS_THAN,
}


class Term:
    """One NodeSelectorTerm: label requirements and metadata.name requirements."""

    __slots__ = ("fields", "labels", "valid")

    def __init__(self, term: Mapping[str, Any]) -> None:
        self.labels: labelsel.Selector | None = None
        self.fields: list[tuple[str, frozenset[str]]] = []
        self.valid = True
        exprs = term.get("matchExpressions") or []
        fields = term.get("matchFields") or []
        if not exprs and not fields:
            self.valid = False
            return
        try:
            reqs = [
                labelsel.new_requirement(
                    e.get("key", ""), _OPERATORS[e.get("operator", "")], e.get("values") or []
                )
                for e in exprs
            ]
        except (KeyError, labelsel.SelectorError):
            self.valid = False
            return
        self.labels = labelsel.Selector().add(*reqs) if reqs else None
        for f in fields:
            values = f.get("values") or []
            if f.get("key") != "metadata.name" or f.get("operator") not in ("In", "NotIn"):
                self.valid = False
                return
            if len(values) != 1:
                self.valid = False
                return
            self.fields.append((f["operator"], frozenset(values)))

    def matches(self, node: NodeInfo) -> bool:
        if not self.valid:
            return False
        if self.labels is not None and not self.labels.matches(node.labels):
            return False
        return all((node.name in values) == (op == "In") for op, values in self.fields)


class NodeSelector:
    """ORed terms (a v1.NodeSelector)."""

    __slots__ = ("terms",)

    def __init__(self, selector: Mapping[str, Any]) -> None:
        self.terms = [Term(t) for t in selector.get("nodeSelectorTerms") or ()]

    def matches(self, node: NodeInfo) -> bool:
        return any(t.matches(node) for t in self.terms)


class RequiredNodeAffinity:
    """`spec.nodeSelector` AND required node affinity (GetRequiredNodeAffinity)."""

    __slots__ = ("affinity", "selector")

    def __init__(self, pod_spec: Mapping[str, Any]) -> None:
        node_selector = pod_spec.get("nodeSelector") or {}
        self.selector = labelsel.from_set(node_selector) if node_selector else None
        required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        self.affinity = NodeSelector(required) if required is not None else None

    @property
    def empty(self) -> bool:
        return self.selector is None and self.affinity is None

    def matches(self, node: NodeInfo) -> bool:
        if self.selector is not None and not self.selector.matches(node.labels):
            return False
        return self.affinity is None or self.affinity.matches(node)


class PreferredTerms:
    """Weighted preferred scheduling terms; a node's score is the sum of matching weights."""

    __slots__ = ("terms",)

    def __init__(self, raw: list[Obj]) -> None:
        self.terms: list[tuple[int, Term]] = []
        for t in raw:
            weight = int(t.get("weight") or 0)
            term = Term(t.get("preference") or {})
            if weight and term.valid:
                self.terms.append((weight, term))

    def score(self, node: NodeInfo) -> int:
        return sum(w for w, t in self.terms if t.matches(node))


def preferred_of(pod_spec: Mapping[str, Any]) -> list[Obj]:
    node_affinity = (pod_spec.get("affinity") or {}).get("nodeAffinity") or {}
    return list(node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or [])
