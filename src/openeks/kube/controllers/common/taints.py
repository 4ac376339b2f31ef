"""Taints and tolerations: matching, toleration time, and the taints conditions imply.

Ports `v1helper.GetMatchingTolerations`, `Toleration.ToleratesTaint` and the taint
eviction controller's `getMinTolerationTime`, plus the node lifecycle controller's
condition → taint tables. Pure functions, so the timing rules are unit-tested alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NO_EXECUTE = "NoExecute"
NO_SCHEDULE = "NoSchedule"

# nodelifecycle's nodeConditionToTaintKeyStatusMap: (condition, status) → NoSchedule taint.
CONDITION_TAINTS: dict[tuple[str, str], str] = {
    ("Ready", "False"): NOT_READY,
    ("Ready", "Unknown"): UNREACHABLE,
    ("MemoryPressure", "True"): "node.kubernetes.io/memory-pressure",
    ("DiskPressure", "True"): "node.kubernetes.io/disk-pressure",
    ("NetworkUnavailable", "True"): "node.kubernetes.io/network-unavailable",
    ("PIDPressure", "True"): "node.kubernetes.io/pid-pressure",
}
NO_SCHEDULE_KEYS = {*CONDITION_TAINTS.values(), UNSCHEDULABLE}


def tolerates(toleration: Obj, taint: Obj) -> bool:
    """Toleration.ToleratesTaint."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def matching_tolerations(taints: Iterable[Obj], tolerations: list[Obj]) -> tuple[bool, list[Obj]]:
    """(every taint tolerated, the tolerations that matched some taint)."""
    used: list[Obj] = []
    for taint in taints:
        matched = [t for t in tolerations if tolerates(t, taint)]
        if not matched:
            return False, []
        used += matched
    return True, used


def min_toleration_seconds(tolerations: list[Obj]) -> float | None:
    """Seconds a pod may stay; 0 = evict now, None = forever (getMinTolerationTime)."""
    if not tolerations:
        return 0.0
    shortest: float | None = None
    for t in tolerations:
        seconds = t.get("tolerationSeconds")
        if seconds is None:
            continue
        if int(seconds) <= 0:
            return 0.0
        shortest = float(seconds) if shortest is None else min(shortest, float(seconds))
    return shortest


def no_execute_taints(node: Obj) -> list[Obj]:
    return [
        t for t in (node.get("spec") or {}).get("taints") or () if t.get("effect") == NO_EXECUTE
    ]


def condition_status(node: Obj, type_: str) -> str | None:
    for c in (node.get("status") or {}).get("conditions") or ():
        if c.get("type") == type_:
            return str(c.get("status") or "")
    return None


def wanted_no_schedule_keys(node: Obj) -> set[str]:
    """The NoSchedule taint keys the node's conditions (and spec.unschedulable) call for."""
    keys = {
        key
        for (cond, value), key in CONDITION_TAINTS.items()
        if condition_status(node, cond) == value
    }
    if (node.get("spec") or {}).get("unschedulable"):
        keys.add(UNSCHEDULABLE)
    return keys


def wanted_no_execute_key(node: Obj) -> str | None:
    """not-ready for Ready=False, unreachable for Ready=Unknown, none when Ready."""
    ready = condition_status(node, "Ready")
    if ready == "False":
        return NOT_READY
    if ready == "Unknown":
        return UNREACHABLE
    return None


def reconcile_taints(node: Obj, now: str) -> list[Obj] | None:
    """The node's taints with the controller-owned ones brought up to date, or None if
    nothing changes. Taints others own are kept as they are, in order."""
    current = list((node.get("spec") or {}).get("taints") or ())
    want = {(k, NO_SCHEDULE) for k in wanted_no_schedule_keys(node)}
    no_execute = wanted_no_execute_key(node)
    if no_execute:
        want.add((no_execute, NO_EXECUTE))
    owned = {(k, NO_SCHEDULE) for k in NO_SCHEDULE_KEYS} | {
        (NOT_READY, NO_EXECUTE),
        (UNREACHABLE, NO_EXECUTE),
    }
    kept = [t for t in current if (t.get("key"), t.get("effect")) not in owned - want]
    have = {(t.get("key"), t.get("effect")) for t in kept}
    added = [
        {"key": k, "effect": e, "timeAdded": now} if e == NO_EXECUTE else {"key": k, "effect": e}
        for k, e in sorted(want - have)
    ]
    result = kept + added
    return None if result == current else result
