"""Whether a pod may go to a node: node selectors, required node affinity, taints.

Ports of `component-helpers/scheduling/corev1` (`nodeaffinity.GetRequiredNodeAffinity`,
`FindMatchingUntoleratedTaint`, `Toleration.ToleratesTaint`). The DaemonSet controller
decides with these which nodes should run a daemon pod, exactly as the scheduler's
NodeAffinity and TaintToleration filters would; they are pure and shared.

Node selector terms are ORed; a term ANDs its `matchExpressions` (on labels) and
`matchFields` (only `metadata.name`); an empty term matches nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Obj = dict[str, Any]

NODE_NAME_FIELD = "metadata.name"


def _int64(value: str) -> int | None:
    try:
        return int(value, 10)
    except ValueError:
        return None


def requirement_matches(req: Obj, values_by_key: dict[str, str]) -> bool:
    key = req.get("key", "")
    op = req.get("operator", "")
    values = req.get("values") or []
    present = key in values_by_key
    value = values_by_key.get(key, "")
    if op == "In":
        return present and value in values
    if op == "NotIn":
        return not present or value not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        have, want = _int64(value), _int64(str(values[0]))
        if have is None or want is None:
            return False
        return have > want if op == "Gt" else have < want
    return False


def term_matches(term: Obj, node: Obj) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    labels = (node.get("metadata") or {}).get("labels") or {}
    if not all(requirement_matches(r, labels) for r in expressions):
        return False
    node_fields = {NODE_NAME_FIELD: (node.get("metadata") or {}).get("name", "")}
    for req in fields:
        if req.get("key") != NODE_NAME_FIELD or req.get("operator") not in ("In", "NotIn"):
            return False
        if not requirement_matches(req, node_fields):
            return False
    return True


def node_selector_matches(selector: Obj | None, node: Obj) -> bool:
    """A `NodeSelector` (ORed terms) against a node."""
    if selector is None:
        return True
    return any(term_matches(t, node) for t in selector.get("nodeSelectorTerms") or [])


def required_affinity_matches(pod_spec: Obj, node: Obj) -> bool:
    """`spec.nodeSelector` and required node affinity both hold for `node`."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    return node_selector_matches(required, node)


def tolerates(toleration: Obj, taint: Obj) -> bool:
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    if toleration.get("key") and toleration.get("key") != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return op == "Exists"


def untolerated_taint(
    taints: Iterable[Obj], tolerations: list[Obj], only: Callable[[Obj], bool] | None = None
) -> Obj | None:
    """The first taint (passing `only`) that no toleration tolerates."""
    for taint in taints:
        if only is not None and not only(taint):
            continue
        if not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def same_toleration(a: Obj, b: Obj) -> bool:
    """`Toleration.MatchToleration`: same key, operator, value and effect."""
    return all((a.get(k) or "") == (b.get(k) or "") for k in ("key", "operator", "value", "effect"))


def add_or_update_toleration(spec: Obj, toleration: Obj) -> bool:
    """Put `toleration` in `spec.tolerations`, replacing a matching one; True if changed."""
    current = spec.get("tolerations") or []
    updated = False
    result: list[Obj] = []
    for existing in current:
        if same_toleration(existing, toleration):
            if existing == toleration:
                return False
            result.append(dict(toleration))
            updated = True
            continue
        result.append(existing)
    if not updated:
        result.append(dict(toleration))
    spec["tolerations"] = result
    return True
