"""The Recreate strategy (upstream's `recreate.go`): all old pods go before new ones come.

Old ReplicaSets are scaled to zero first; while any of their pods is still around (in
any phase but Succeeded/Failed) nothing else happens — the controller is woken by the
last pod's deletion; then the new ReplicaSet is created if needed and scaled to
`replicas` in one step.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.controllers.deployment import util
from openeks.kube.controllers.deployment.progress import ProgressMixin
from openeks.kube.controllers.util import pods as podutil

Obj = dict[str, Any]


def old_pods_running(new_rs: Obj | None, old_rss: list[Obj], pod_map: dict[str, list[Obj]]) -> bool:
    if util.actual_replicas(list(old_rss)) > 0:
        return True
    new_uid = (new_rs or {}).get("metadata", {}).get("uid")
    for rs_uid, pods in pod_map.items():
        if new_rs is not None and rs_uid == new_uid:
            continue
        if any(not podutil.is_terminal(pod) for pod in pods):
            return True
    return False


class RecreateMixin(ProgressMixin):
    async def rollout_recreate(
        self, d: Obj, rs_list: list[Obj], pod_map: dict[str, list[Obj]]
    ) -> None:
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(d, rs_list, False)
        all_rss: list[Obj | None] = [*old_rss, new_rs]
        if await self._scale_down_old_for_recreate(util.active(list(old_rss)), d):
            await self.sync_rollout_status(all_rss, new_rs, d)
            return
        if old_pods_running(new_rs, old_rss, pod_map):
            await self.sync_rollout_status(all_rss, new_rs, d)
            return
        if new_rs is None:
            new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(d, rs_list, True)
            all_rss = [*old_rss, new_rs]
        if new_rs is not None:
            await self.scale_replica_set_and_record_event(new_rs, util.replicas(d), d)
        if util.deployment_complete(d, d.get("status") or {}):
            await self.cleanup_deployment(old_rss, d)
        await self.sync_rollout_status(all_rss, new_rs, d)

    async def _scale_down_old_for_recreate(self, old_rss: list[Obj], d: Obj) -> bool:
        scaled = False
        for rs in old_rss:
            if util.replicas(rs) == 0:
                continue
            changed, _ = await self.scale_replica_set_and_record_event(rs, 0, d)
            scaled = scaled or changed
        return scaled
