"""Pure Deployment arithmetic and bookkeeping (`pkg/controller/deployment/util`).

Everything here works on plain objects and returns values, so the rollout maths can be
tested on its own: surge/unavailability fenceposts (`maxSurge` rounds percentages up,
`maxUnavailable` rounds down, both zero means one unavailable), how far the new
ReplicaSet may grow, proportional scaling shares, revision and replica annotations,
conditions, and which ReplicaSet is "new" (the one whose template equals the
Deployment's, ignoring `pod-template-hash`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from openeks.kube.api import meta
from openeks.kube.controllers.util import pods as podutil
from openeks.kube.controllers.util.hashing import equal_ignore_hash
from openeks.kube.controllers.util.intstr import scaled_value

Obj = dict[str, Any]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ANNOTATIONS_TO_SKIP = {
    LAST_APPLIED,
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    ROLLBACK_TO,
}
MAX_REVISION_HISTORY_CHARS = 2000
MAX_INT32 = 2**31 - 1

# Condition reasons, as upstream's deployment util.
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
MIN_AVAILABLE_REASON = "MinimumReplicasAvailable"
MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable"


# -- reading -----------------------------------------------------------------------------------
def spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def replicas(obj: Obj) -> int:
    value = spec(obj).get("replicas")
    return 1 if value is None else int(value)


def status_int(obj: Obj, field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def annotations_of(obj: Obj) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def is_rolling_update(d: Obj) -> bool:
    return (spec(d).get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"


def is_recreate(d: Obj) -> bool:
    return (spec(d).get("strategy") or {}).get("type") == "Recreate"


def has_progress_deadline(d: Obj) -> bool:
    deadline = spec(d).get("progressDeadlineSeconds")
    return deadline is not None and deadline != MAX_INT32


def revision_of(obj: Obj) -> int | None:
    try:
        return int(annotations_of(obj).get(REVISION, ""), 10)
    except ValueError:
        return None


def max_revision(rss: list[Obj]) -> int:
    return max((r for r in (revision_of(rs) for rs in rss) if r is not None), default=0)


# -- surge and unavailability ------------------------------------------------------------------
def resolve_fenceposts(max_surge: Any, max_unavailable: Any, desired: int) -> tuple[int, int]:
    """(surge, unavailable): surge rounds up, unavailable down; never both zero."""
    surge = scaled_value(0 if max_surge is None else max_surge, desired, True)
    unavailable = scaled_value(0 if max_unavailable is None else max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling(d: Obj) -> Obj:
    return (spec(d).get("strategy") or {}).get("rollingUpdate") or {}


def max_surge(d: Obj) -> int:
    if not is_rolling_update(d):
        return 0
    rolling = _rolling(d)
    return resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), replicas(d))[
        0
    ]


def max_unavailable(d: Obj) -> int:
    if not is_rolling_update(d) or replicas(d) == 0:
        return 0
    rolling = _rolling(d)
    _, unavailable = resolve_fenceposts(
        rolling.get("maxSurge"), rolling.get("maxUnavailable"), replicas(d)
    )
    return min(unavailable, replicas(d))


def new_rs_new_replicas(d: Obj, all_rss: list[Obj], new_rs: Obj) -> int:
    """How big the new ReplicaSet may be now (upstream's `NewRSNewReplicas`)."""
    if is_recreate(d):
        return replicas(d)
    surge = scaled_value(_rolling(d).get("maxSurge", 0), replicas(d), True)
    current = total_replicas(all_rss)
    max_total = replicas(d) + surge
    if current >= max_total:
        return replicas(new_rs)
    scale_up = min(max_total - current, replicas(d) - replicas(new_rs))
    return replicas(new_rs) + scale_up


# -- counting ----------------------------------------------------------------------------------
def total_replicas(rss: Sequence[Obj | None]) -> int:
    """Sum of spec.replicas (`GetReplicaCountForReplicaSets`)."""
    return sum(replicas(rs) for rs in rss if rs is not None)


def actual_replicas(rss: Sequence[Obj | None]) -> int:
    return sum(status_int(rs, "replicas") for rs in rss if rs is not None)


def ready_replicas(rss: Sequence[Obj | None]) -> int:
    return sum(status_int(rs, "readyReplicas") for rs in rss if rs is not None)


def available_replicas(rss: Sequence[Obj | None]) -> int:
    return sum(status_int(rs, "availableReplicas") for rs in rss if rs is not None)


def active(rss: Sequence[Obj | None]) -> list[Obj]:
    """ReplicaSets that have (or ought to have) pods."""
    return [rs for rs in rss if rs is not None and replicas(rs) > 0]


# -- ordering ----------------------------------------------------------------------------------
def _created(rs: Obj) -> tuple[datetime.datetime, str]:
    when = podutil.created_at(rs) or datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return when, meta.name_of(rs)


def by_creation(rss: list[Obj]) -> list[Obj]:
    """Oldest first, name as tie breaker (`ReplicaSetsByCreationTimestamp`)."""
    return sorted(rss, key=_created)


def by_size_older(rss: list[Obj]) -> list[Obj]:
    """Largest first; among equals, oldest first."""
    return sorted(by_creation(rss), key=lambda rs: -replicas(rs))


def by_size_newer(rss: list[Obj]) -> list[Obj]:
    """Largest first; among equals, newest first."""
    return sorted(list(reversed(by_creation(rss))), key=lambda rs: -replicas(rs))


def by_revision(rss: list[Obj]) -> list[Obj]:
    """Lowest revision first, creation as tie breaker (`ReplicaSetsByRevision`)."""
    return sorted(by_creation(rss), key=lambda rs: revision_of(rs) or 0)


# -- finding -----------------------------------------------------------------------------------
def find_new_replica_set(d: Obj, rss: list[Obj]) -> Obj | None:
    """The oldest ReplicaSet whose template equals the Deployment's, hash aside."""
    template = spec(d).get("template") or {}
    for rs in by_creation(rss):
        if equal_ignore_hash(spec(rs).get("template") or {}, template):
            return rs
    return None


def find_old_replica_sets(d: Obj, rss: list[Obj]) -> tuple[list[Obj], list[Obj]]:
    """(old ReplicaSets with replicas, all old ReplicaSets)."""
    new_rs = find_new_replica_set(d, rss)
    new_uid = (new_rs or {}).get("metadata", {}).get("uid")
    all_old = [rs for rs in rss if new_rs is None or rs["metadata"].get("uid") != new_uid]
    return [rs for rs in all_old if replicas(rs) != 0], all_old


def find_active_or_latest(new_rs: Obj | None, old_rss: list[Obj]) -> Obj | None:
    """The only active ReplicaSet, or the newest when none is active; None if several."""
    if new_rs is None and not old_rss:
        return None
    newest_first = list(reversed(by_creation(old_rss)))
    candidates = active([*newest_first, new_rs])
    if not candidates:
        return new_rs if new_rs is not None else newest_first[0]
    return candidates[0] if len(candidates) == 1 else None


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    if rs is None:
        return False
    try:
        desired = int(annotations_of(rs).get(DESIRED_REPLICAS, ""), 10)
    except ValueError:
        return False
    want = replicas(d)
    return replicas(rs) == want and desired == want and status_int(rs, "availableReplicas") == want


# -- proportional scaling ----------------------------------------------------------------------
def _round_to_int32(value: float) -> int:
    return int(value - 0.5) if value < 0 else int(value + 0.5)


def replica_set_fraction(rs: Obj, d: Obj) -> int:
    """How much `rs` should grow or shrink when the Deployment is resized mid-rollout."""
    if replicas(d) == 0:
        return -replicas(rs)
    deployment_replicas = replicas(d) + max_surge(d)
    try:
        annotated = int(annotations_of(rs).get(MAX_REPLICAS, ""), 10)
    except ValueError:
        annotated = status_int(d, "replicas")
    if annotated == 0:
        return 0
    new_size = float(replicas(rs) * deployment_replicas) / float(annotated)
    return _round_to_int32(new_size) - replicas(rs)


def proportion(rs: Obj | None, d: Obj, to_add: int, added: int) -> int:
    """`GetProportion`: this ReplicaSet's share of `to_add`, given `added` so far."""
    if rs is None or replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


# -- annotations -------------------------------------------------------------------------------
def copy_deployment_annotations(d: Obj, rs: Obj) -> bool:
    """Copy the Deployment's own annotations onto the ReplicaSet; True if any changed."""
    rs_annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in annotations_of(d).items():
        if key in ANNOTATIONS_TO_SKIP or rs_annotations.get(key) == value:
            continue
        rs_annotations[key] = value
        changed = True
    return changed


def set_replicas_annotations(rs: Obj, desired: int, max_replicas: int) -> bool:
    rs_annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if rs_annotations.get(key) != value:
            rs_annotations[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Obj, desired: int, max_replicas: int) -> bool:
    rs_annotations = annotations_of(rs)
    return rs_annotations.get(DESIRED_REPLICAS) != str(desired) or rs_annotations.get(
        MAX_REPLICAS
    ) != str(max_replicas)


def _push_revision_history(rs_annotations: dict[str, str], old_revision: str) -> None:
    history = rs_annotations.get(REVISION_HISTORY, "")
    if not history:
        rs_annotations[REVISION_HISTORY] = old_revision
        return
    old = history.split(",")
    total = len(history) + len(old_revision) + 1
    start = 0
    while total > MAX_REVISION_HISTORY_CHARS and start < len(old):
        total -= len(old[start]) + 1
        start += 1
    if total <= MAX_REVISION_HISTORY_CHARS:
        rs_annotations[REVISION_HISTORY] = ",".join([*old[start:], old_revision])


def set_new_replica_set_annotations(d: Obj, rs: Obj, new_revision: int, exists: bool) -> bool:
    """`SetNewReplicaSetAnnotations`: revision (+ history when reused), replicas."""
    changed = copy_deployment_annotations(d, rs)
    rs_annotations = rs["metadata"]["annotations"]
    old_revision = rs_annotations.get(REVISION)
    try:
        old_number = int(old_revision, 10) if old_revision else 0
    except ValueError:
        return False
    if old_number < new_revision:
        rs_annotations[REVISION] = str(new_revision)
        changed = True
        if old_revision is not None:
            _push_revision_history(rs_annotations, old_revision)
    if not exists and set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
        changed = True
    return changed


def set_deployment_revision(d: Obj, revision: str) -> bool:
    d_annotations = d["metadata"].setdefault("annotations", {})
    if d_annotations.get(REVISION) == revision:
        return False
    d_annotations[REVISION] = revision
    return True


# -- conditions --------------------------------------------------------------------------------
def new_condition(type_: str, status: str, reason: str, message: str) -> Obj:
    now = meta.rfc3339(meta.now())
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def get_condition(status: Obj, type_: str) -> Obj | None:
    for condition in status.get("conditions") or ():
        if condition.get("type") == type_:
            return condition
    return None


def set_condition(status: Obj, condition: Obj) -> None:
    """Add or replace; same status and reason is a no-op, same status keeps the time."""
    current = get_condition(status, condition["type"])
    if current is not None:
        if current.get("status") == condition["status"] and current.get("reason") == condition.get(
            "reason"
        ):
            return
        if current.get("status") == condition["status"]:
            condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, condition["type"])
    status["conditions"] = [*(status.get("conditions") or []), condition]


def remove_condition(status: Obj, type_: str) -> None:
    kept = [c for c in status.get("conditions") or () if c.get("type") != type_]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


# -- completion --------------------------------------------------------------------------------
def deployment_complete(d: Obj, status: Obj) -> bool:
    want = replicas(d)
    return (
        int(status.get("updatedReplicas") or 0) == want
        and int(status.get("replicas") or 0) == want
        and int(status.get("availableReplicas") or 0) == want
        and int(status.get("observedGeneration") or 0) >= int(d["metadata"].get("generation") or 0)
    )


def deployment_progressing(d: Obj, status: Obj) -> bool:
    old = d.get("status") or {}

    def num(s: Obj, key: str) -> int:
        return int(s.get(key) or 0)

    old_old = num(old, "replicas") - num(old, "updatedReplicas")
    new_old = num(status, "replicas") - num(status, "updatedReplicas")
    return (
        num(status, "updatedReplicas") > num(old, "updatedReplicas")
        or new_old < old_old
        or num(status, "readyReplicas") > num(old, "readyReplicas")
        or num(status, "availableReplicas") > num(old, "availableReplicas")
    )


def deployment_timed_out(d: Obj, status: Obj, now: datetime.datetime) -> bool:
    if not has_progress_deadline(d):
        return False
    condition = get_condition(status, "Progressing")
    if condition is None or condition.get("reason") == NEW_RS_AVAILABLE_REASON:
        return False
    if condition.get("reason") == TIMED_OUT_REASON:
        return True
    since = podutil.parse_time(condition.get("lastUpdateTime"))
    if since is None:
        return False
    deadline = datetime.timedelta(seconds=int(spec(d)["progressDeadlineSeconds"]))
    return since + deadline < now
