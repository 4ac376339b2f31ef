"""Rollout progress: the Progressing condition and the progress deadline (`progress.go`).

After each rollout step the status is recomputed and, when the Deployment has a
progress deadline, its Progressing condition moves between:

- `NewReplicaSetCreated` / `FoundNewReplicaSet` (set when the new ReplicaSet appears),
- `ReplicaSetUpdated` "ReplicaSet "web-x" is progressing." whenever the rollout made
  progress (more updated, ready or available replicas, fewer old ones) — refreshing
  `lastUpdateTime`, the clock the deadline runs on,
- `NewReplicaSetAvailable` "ReplicaSet "web-x" has successfully progressed." once every
  replica is updated and available,
- `ProgressDeadlineExceeded` (status False) when no progress was seen for
  `progressDeadlineSeconds`; `kubectl rollout status` then fails.

A Deployment still rolling is looked at again just after its deadline would pass, so
the timeout is reported without any other event. ReplicaSets' `ReplicaFailure`
conditions are surfaced on the Deployment.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import meta
from openeks.kube.client import key_of
from openeks.kube.controllers.deployment import util
from openeks.kube.controllers.deployment.sync import SyncMixin, calculate_status
from openeks.kube.controllers.util import pods as podutil

Obj = dict[str, Any]


def _rs_message(d: Obj, new_rs: Obj | None, what: str) -> str:
    if new_rs is not None:
        return f'ReplicaSet "{meta.name_of(new_rs)}" {what}'
    return f'Deployment "{meta.name_of(d)}" {what}'


def replica_failures(all_rss: list[Obj | None], new_rs: Obj | None) -> list[Obj]:
    """ReplicaFailure conditions of the ReplicaSets, the new one's first."""
    ordered = [new_rs, *[rs for rs in all_rss if rs is not new_rs]]
    for rs in ordered:
        if rs is None:
            continue
        for condition in (rs.get("status") or {}).get("conditions") or ():
            if condition.get("type") == "ReplicaFailure":
                return [
                    {
                        "type": "ReplicaFailure",
                        "status": condition.get("status"),
                        "lastUpdateTime": condition.get("lastTransitionTime"),
                        "lastTransitionTime": condition.get("lastTransitionTime"),
                        "reason": condition.get("reason"),
                        "message": condition.get("message"),
                    }
                ]
    return []


def rollout_status(d: Obj, all_rss: list[Obj | None], new_rs: Obj | None) -> Obj:
    """The status after a rollout step, Progressing condition included."""
    status = calculate_status(all_rss, new_rs, d)
    if not util.has_progress_deadline(d):
        util.remove_condition(status, "Progressing")
    current = util.get_condition(d.get("status") or {}, "Progressing")
    complete = (
        int(status.get("replicas") or 0) == int(status.get("updatedReplicas") or 0)
        and current is not None
        and current.get("reason") == util.NEW_RS_AVAILABLE_REASON
    )
    if util.has_progress_deadline(d) and not complete:
        _update_progressing(d, status, new_rs, current)
    failures = replica_failures(all_rss, new_rs)
    if failures:
        util.set_condition(status, failures[0])
    else:
        util.remove_condition(status, "ReplicaFailure")
    return status


def _update_progressing(d: Obj, status: Obj, new_rs: Obj | None, current: Obj | None) -> None:
    if util.deployment_complete(d, status):
        message = _rs_message(d, new_rs, "has successfully progressed.")
        util.set_condition(
            status,
            util.new_condition("Progressing", "True", util.NEW_RS_AVAILABLE_REASON, message),
        )
    elif util.deployment_progressing(d, status):
        message = _rs_message(d, new_rs, "is progressing.")
        condition = util.new_condition("Progressing", "True", util.RS_UPDATED_REASON, message)
        if current is not None:
            if current.get("status") == "True":
                condition["lastTransitionTime"] = current.get("lastTransitionTime")
            util.remove_condition(status, "Progressing")
        util.set_condition(status, condition)
    elif util.deployment_timed_out(d, status, meta.now()):
        message = _rs_message(d, new_rs, "has timed out progressing.")
        util.set_condition(
            status, util.new_condition("Progressing", "False", util.TIMED_OUT_REASON, message)
        )


class ProgressMixin(SyncMixin):
    async def sync_rollout_status(
        self, all_rss: list[Obj | None], new_rs: Obj | None, d: Obj
    ) -> None:
        status = rollout_status(d, all_rss, new_rs)
        if status == (d.get("status") or {}):
            self.requeue_stuck_deployment(d, status)
            return
        d["status"] = status
        await self.update_deployment_status(d)

    def requeue_stuck_deployment(self, d: Obj, status: Obj) -> float:
        """Look again when the deadline would pass; -1 when there is nothing to watch."""
        current = util.get_condition(d.get("status") or {}, "Progressing")
        if not util.has_progress_deadline(d) or current is None:
            return -1
        if util.deployment_complete(d, status) or current.get("reason") == util.TIMED_OUT_REASON:
            return -1
        since = podutil.parse_time(current.get("lastUpdateTime"))
        if since is None:
            return -1
        deadline = float(util.spec(d)["progressDeadlineSeconds"])
        after = since.timestamp() + deadline - meta.now().timestamp()
        if after < 1.0:
            self.queue.add_rate_limited(key_of(d))
            return 0
        self.queue.add_after(key_of(d), after + 1.0)
        return after + 1.0
