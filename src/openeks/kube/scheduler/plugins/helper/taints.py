"""Taints and tolerations: upstream's `Toleration.ToleratesTaint` and friends."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]


def tolerates(toleration: Obj, taint: Obj) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return op == "Exists"


def tolerated(taint: Obj, tolerations: Iterable[Obj]) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def find_untolerated(taints: Iterable[Obj], tolerations: list[Obj]) -> Obj | None:
    """The first taint no toleration covers (FindMatchingUntoleratedTaint)."""
    for taint in taints:
        if not tolerated(taint, tolerations):
            return taint
    return None
