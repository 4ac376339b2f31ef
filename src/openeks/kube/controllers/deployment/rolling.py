"""The RollingUpdate strategy (upstream's `rolling.go`).

Each sync takes one step and lets the ReplicaSet controller and the pods catch up:

1. grow the new ReplicaSet as far as `replicas + maxSurge` total pods allow;
2. otherwise shrink old ReplicaSets as far as `replicas - maxUnavailable` available pods
   allow — first the old replicas that are not available anyway (they cost no
   availability), then, oldest ReplicaSet first, available ones;
3. once the rollout is complete, delete history beyond `revisionHistoryLimit`.

So with 3 replicas and the 25% defaults (surge rounds up to 1, unavailable down to 0)
the new ReplicaSet goes to 1, an old pod goes once the new one is available, and so on:
never fewer than 3 available, never more than 4 pods.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.controllers.deployment import util
from openeks.kube.controllers.deployment.progress import ProgressMixin

Obj = dict[str, Any]


class RollingMixin(ProgressMixin):
    async def rollout_rolling(self, d: Obj, rs_list: list[Obj]) -> None:
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(d, rs_list, True)
        all_rss: list[Obj | None] = [*old_rss, new_rs]
        if new_rs is not None and await self.reconcile_new_replica_set(all_rss, new_rs, d):
            await self.sync_rollout_status(all_rss, new_rs, d)
            return
        if new_rs is not None and await self.reconcile_old_replica_sets(
            all_rss, util.active(list(old_rss)), new_rs, d
        ):
            await self.sync_rollout_status(all_rss, new_rs, d)
            return
        if util.deployment_complete(d, d.get("status") or {}):
            await self.cleanup_deployment(old_rss, d)
        await self.sync_rollout_status(all_rss, new_rs, d)

    async def reconcile_new_replica_set(
        self, all_rss: list[Obj | None], new_rs: Obj, d: Obj
    ) -> bool:
        want = util.replicas(d)
        if util.replicas(new_rs) == want:
            return False
        if util.replicas(new_rs) > want:
            scaled, _ = await self.scale_replica_set_and_record_event(new_rs, want, d)
            return scaled
        count = util.new_rs_new_replicas(d, [rs for rs in all_rss if rs is not None], new_rs)
        scaled, _ = await self.scale_replica_set_and_record_event(new_rs, count, d)
        return scaled

    async def reconcile_old_replica_sets(
        self, all_rss: list[Obj | None], old_rss: list[Obj], new_rs: Obj, d: Obj
    ) -> bool:
        if util.total_replicas(list(old_rss)) == 0:
            return False
        all_pods = util.total_replicas(all_rss)
        min_available = util.replicas(d) - util.max_unavailable(d)
        new_unavailable = util.replicas(new_rs) - util.status_int(new_rs, "availableReplicas")
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        old_rss, cleaned = await self.cleanup_unhealthy_replicas(old_rss, d, max_scaled_down)
        scaled = await self.scale_down_old_replica_sets([*old_rss, new_rs], old_rss, d)
        return cleaned + scaled > 0

    async def cleanup_unhealthy_replicas(
        self, old_rss: list[Obj], d: Obj, max_cleanup: int
    ) -> tuple[list[Obj], int]:
        """Scale old ReplicaSets down by their unavailable replicas, oldest first."""
        old_rss = util.by_creation(old_rss)
        total = 0
        for i, rs in enumerate(old_rss):
            if total >= max_cleanup:
                break
            unavailable = util.replicas(rs) - util.status_int(rs, "availableReplicas")
            if util.replicas(rs) == 0 or unavailable == 0:
                continue
            count = min(max_cleanup - total, unavailable)
            _, old_rss[i] = await self.scale_replica_set_and_record_event(
                rs, util.replicas(rs) - count, d
            )
            total += count
        return old_rss, total

    async def scale_down_old_replica_sets(
        self, all_rss: list[Obj | None], old_rss: list[Obj], d: Obj
    ) -> int:
        """Scale available old replicas down while availability stays above the floor."""
        min_available = util.replicas(d) - util.max_unavailable(d)
        available = util.available_replicas(all_rss)
        if available <= min_available:
            return 0
        to_scale_down = available - min_available
        total = 0
        for rs in util.by_creation(old_rss):
            if total >= to_scale_down:
                break
            if util.replicas(rs) == 0:
                continue
            count = min(util.replicas(rs), to_scale_down - total)
            await self.scale_replica_set_and_record_event(rs, util.replicas(rs) - count, d)
            total += count
        return total
