"""PodDisruptionBudget arithmetic, as the disruption controller computes it.

`desired_healthy()` turns minAvailable / maxUnavailable (an int or a percentage, rounded
up as `intstr.GetScaledValueFromIntOrPercent(..., true)` does) into the number of pods
that must stay healthy; `build_status()` produces the status the controller writes,
including the `DisruptionAllowed` condition (`SufficientPods` / `InsufficientPods`,
`SyncFailed` on errors), or None when nothing changed.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api import meta

Obj = dict[str, Any]

DELETION_TIMEOUT = 120.0
"""Seconds an evicted pod may linger in status.disruptedPods (upstream's DeletionTimeout)."""


class PdbError(ValueError):
    """The budget cannot be computed (bad percentage, pod without a controller)."""


def scaled_value(value: int | str, total: int, round_up: bool = True) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"(-?\d+)%", value)
    if not match:
        raise PdbError("invalid value for IntOrString: invalid type: string is not a percentage")
    percent = int(match.group(1))
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def uses_scale(spec: Obj) -> bool:
    """Whether the expected count comes from the pods' controllers (maxUnavailable, or a
    percentage minAvailable) rather than from the number of pods."""
    return spec.get("maxUnavailable") is not None or isinstance(spec.get("minAvailable"), str)


def desired_healthy(spec: Obj, expected: int) -> int:
    if spec.get("maxUnavailable") is not None:
        return max(expected - scaled_value(spec["maxUnavailable"], expected), 0)
    if spec.get("minAvailable") is not None:
        return scaled_value(spec["minAvailable"], expected)
    return 0


@dataclass
class Counts:
    current_healthy: int
    desired_healthy: int
    expected: int
    disrupted: dict[str, str] = field(default_factory=dict)


def disruptions_allowed(c: Counts) -> int:
    allowed = c.current_healthy - c.desired_healthy
    return 0 if c.expected <= 0 or allowed <= 0 else allowed


def allowed_condition(allowed: int, generation: int, reason: str = "", message: str = "") -> Obj:
    if reason:
        status = "False"
    elif allowed > 0:
        status, reason = "True", "SufficientPods"
    else:
        status, reason = "False", "InsufficientPods"
    return {
        "type": "DisruptionAllowed",
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
    }


def set_condition(conditions: list[Obj], new: Obj, now: datetime.datetime) -> list[Obj]:
    """meta.SetStatusCondition: lastTransitionTime changes only with the status."""
    out = []
    found = False
    for c in conditions:
        if c.get("type") != new["type"]:
            out.append(c)
            continue
        found = True
        keep = c.get("status") == new["status"] and c.get("lastTransitionTime")
        out.append(
            {**new, "lastTransitionTime": c["lastTransitionTime"] if keep else meta.rfc3339(now)}
        )
    if not found:
        out.append({**new, "lastTransitionTime": meta.rfc3339(now)})
    return out


def build_status(pdb: Obj, c: Counts, now: datetime.datetime) -> Obj | None:
    """The PDB's new status, or None if it is already current."""
    old = pdb.get("status") or {}
    generation = int(pdb["metadata"].get("generation") or 0)
    allowed = disruptions_allowed(c)
    status: Obj = {
        "currentHealthy": c.current_healthy,
        "desiredHealthy": c.desired_healthy,
        "expectedPods": c.expected,
        "disruptionsAllowed": allowed,
        "observedGeneration": generation,
    }
    if c.disrupted:
        status["disruptedPods"] = dict(c.disrupted)
    cond = allowed_condition(allowed, generation)
    status["conditions"] = set_condition(list(old.get("conditions") or ()), cond, now)
    same = all(old.get(k, 0) == v for k, v in status.items() if k != "conditions")
    if (
        same
        and (old.get("disruptedPods") or {}) == c.disrupted
        and _conditions_equal(old.get("conditions") or [], status["conditions"])
    ):
        return None
    return status


def failed_status(pdb: Obj, error: str, now: datetime.datetime) -> Obj:
    """failSafe: no disruptions allowed, condition False/SyncFailed with the error."""
    old = dict(pdb.get("status") or {})
    generation = int(old.get("observedGeneration") or 0)
    cond = allowed_condition(0, generation, "SyncFailed", error)
    old["disruptionsAllowed"] = 0
    old["conditions"] = set_condition(list(old.get("conditions") or ()), cond, now)
    return old


def _conditions_equal(a: list[Obj], b: list[Obj]) -> bool:
    strip = [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in a]
    return strip == [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in b]


def build_disrupted(
    pods: list[Obj], recorded: dict[str, str], now: datetime.datetime
) -> tuple[dict[str, str], float | None]:
    """Disrupted pods still expected to go, and seconds until the next one expires."""
    result: dict[str, str] = {}
    recheck: float | None = None
    for pod in pods:
        m = pod["metadata"]
        when = recorded.get(m["name"])
        if m.get("deletionTimestamp") or not when:
            continue
        left = (meta.parse_time(when) - now).total_seconds() + DELETION_TIMEOUT
        if left > 0:
            result[m["name"]] = when
            recheck = left if recheck is None else min(recheck, left)
    return result, recheck
