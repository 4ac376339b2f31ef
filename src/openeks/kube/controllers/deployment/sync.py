"""Finding, creating and scaling a Deployment's ReplicaSets (upstream's `sync.go`).

- `get_all_replica_sets_and_sync_revision` splits the claimed ReplicaSets into the new
  one (template equal to the Deployment's, `pod-template-hash` aside) and the old ones,
  creating the new one on demand: named `<deployment>-<hash>`, the hash label added to
  its selector, template and labels, its revision one past the highest old revision.
  A ReplicaSet found again after a rollback gets the new revision number and its former
  numbers in `deployment.kubernetes.io/revision-history`.
- `scale` resizes on a scaling event: the single active ReplicaSet takes the new size,
  or, mid-rollout, every active ReplicaSet takes its proportional share.
- `cleanup_deployment` deletes old, empty ReplicaSets beyond `revisionHistoryLimit`.
- `sync_deployment_status` writes the counts and the Available condition.
"""

from __future__ import annotations

import logging
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, EventRecorder, Informer
from openeks.kube.client.resources import DEPLOYMENTS, REPLICASETS
from openeks.kube.controllers.deployment import util
from openeks.kube.controllers.util.hashing import (
    POD_TEMPLATE_HASH_LABEL,
    equal_ignore_hash,
    template_hash,
)
from openeks.kube.controllers.util.ownership import controller_of, controller_ref, with_kind
from openeks.kube.controllers.util.podcontrol import namespace_terminating
from openeks.runtime import WorkQueue

log = logging.getLogger(__name__)

Obj = dict[str, Any]
API_VERSION, KIND = "apps/v1", "Deployment"


def as_event_object(d: Obj) -> Obj:
    return with_kind(d, API_VERSION, KIND)


def new_replica_set(d: Obj, hash_: str, new_revision: int, old_rss: list[Obj]) -> Obj:
    """The ReplicaSet a Deployment creates for its current template."""
    template = meta.deep_copy(util.spec(d).get("template") or {})
    template_meta = template.setdefault("metadata", {})
    template_meta["labels"] = {
        **(template_meta.get("labels") or {}),
        POD_TEMPLATE_HASH_LABEL: hash_,
    }
    selector = meta.deep_copy(util.spec(d).get("selector") or {})
    selector["matchLabels"] = {
        **(selector.get("matchLabels") or {}),
        POD_TEMPLATE_HASH_LABEL: hash_,
    }
    rs: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{meta.name_of(d)}-{hash_}",
            "namespace": meta.namespace_of(d),
            "ownerReferences": [controller_ref(d, API_VERSION, KIND)],
            "labels": dict(template_meta["labels"]),
        },
        "spec": {
            "replicas": 0,
            "minReadySeconds": int(util.spec(d).get("minReadySeconds") or 0),
            "selector": selector,
            "template": template,
        },
    }
    rs["spec"]["replicas"] = util.new_rs_new_replicas(d, [*old_rss, rs], rs)
    util.set_new_replica_set_annotations(d, rs, new_revision, exists=False)
    return rs


class SyncMixin:
    """ReplicaSet bookkeeping shared by every rollout strategy."""

    client: Client
    recorder: EventRecorder
    queue: WorkQueue
    rs_informer: Informer

    # -- writes ------------------------------------------------------------------------------
    async def update_deployment_status(self, d: Obj) -> None:
        """PUT d's status (and annotations); d keeps the new resourceVersion."""
        updated = await self.client.update_status(DEPLOYMENTS, d)
        d["metadata"]["resourceVersion"] = updated["metadata"]["resourceVersion"]

    async def update_replica_set(self, rs: Obj) -> Obj:
        return await self.client.update(REPLICASETS, rs)

    # -- finding the new and old ReplicaSets -------------------------------------------------
    async def get_all_replica_sets_and_sync_revision(
        self, d: Obj, rs_list: list[Obj], create: bool
    ) -> tuple[Obj | None, list[Obj]]:
        _, all_old = util.find_old_replica_sets(d, rs_list)
        new_rs = await self.get_new_replica_set(d, rs_list, all_old, create)
        return new_rs, all_old

    async def get_new_replica_set(
        self, d: Obj, rs_list: list[Obj], old_rss: list[Obj], create: bool
    ) -> Obj | None:
        existing = util.find_new_replica_set(d, rs_list)
        new_revision = util.max_revision(old_rss) + 1
        if existing is not None:
            return await self._sync_existing_new_rs(d, existing, new_revision)
        if not create:
            return None
        return await self._create_new_rs(d, old_rss, new_revision)

    async def _sync_existing_new_rs(self, d: Obj, existing: Obj, new_revision: int) -> Obj:
        rs = meta.deep_copy(existing)
        annotations_updated = util.set_new_replica_set_annotations(d, rs, new_revision, True)
        min_ready = int(util.spec(d).get("minReadySeconds") or 0)
        if annotations_updated or int(util.spec(rs).get("minReadySeconds") or 0) != min_ready:
            rs["spec"]["minReadySeconds"] = min_ready
            return await self.update_replica_set(rs)
        needs_update = util.set_deployment_revision(
            d, util.annotations_of(rs).get(util.REVISION, "")
        )
        status = d.setdefault("status", {})
        if util.has_progress_deadline(d) and util.get_condition(status, "Progressing") is None:
            util.set_condition(
                status,
                util.new_condition(
                    "Progressing",
                    "True",
                    util.FOUND_NEW_RS_REASON,
                    f'Found new replica set "{meta.name_of(rs)}"',
                ),
            )
            needs_update = True
        if needs_update:
            await self.update_deployment_status(d)
        return rs

    async def _create_new_rs(self, d: Obj, old_rss: list[Obj], new_revision: int) -> Obj | None:
        status = d.setdefault("status", {})
        collision_count = status.get("collisionCount")
        hash_ = template_hash(util.spec(d).get("template") or {}, collision_count)
        body = new_replica_set(d, hash_, new_revision, old_rss)
        wanted = util.replicas(body)
        already_exists = False
        try:
            created = await self.client.create(REPLICASETS, body, meta.namespace_of(d))
        except ApiError as e:
            if e.code == 409 and e.reason == "AlreadyExists":
                found = self._existing_if_ours(d, meta.name_of(body))
                if found is None:
                    await self._bump_collision_count(d)
                    raise
                created, already_exists = found, True
            elif namespace_terminating(e):
                raise
            else:
                await self._report_create_failure(d, meta.name_of(body), e)
                raise
        if not already_exists and wanted > 0:
            await self.recorder.event(
                as_event_object(d),
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {meta.name_of(created)} from 0 to {wanted}",
            )
        needs_update = util.set_deployment_revision(d, str(new_revision))
        if not already_exists and util.has_progress_deadline(d):
            message = f'Created new replica set "{meta.name_of(created)}"'
            condition = util.new_condition("Progressing", "True", util.NEW_RS_REASON, message)
            util.set_condition(status, condition)
            needs_update = True
        if needs_update:
            await self.update_deployment_status(d)
        return created

    def _existing_if_ours(self, d: Obj, name: str) -> Obj | None:
        rs = self.rs_informer.get(f"{meta.namespace_of(d)}/{name}")
        if rs is None:
            return None
        ref = controller_of(rs)
        template = util.spec(d).get("template") or {}
        if (
            ref is not None
            and ref.get("uid") == d["metadata"].get("uid")
            and equal_ignore_hash(template, util.spec(rs).get("template") or {})
        ):
            return rs
        return None

    async def _bump_collision_count(self, d: Obj) -> None:
        status = d.setdefault("status", {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        try:
            await self.update_deployment_status(d)
        except ApiError as e:
            log.info("could not bump collisionCount of %s: %s", meta.name_of(d), e)

    async def _report_create_failure(self, d: Obj, name: str, error: ApiError) -> None:
        message = f'Failed to create new replica set "{name}": {error}'
        if util.has_progress_deadline(d):
            condition = util.new_condition(
                "Progressing", "False", util.FAILED_RS_CREATE_REASON, message
            )
            util.set_condition(d.setdefault("status", {}), condition)
            try:
                await self.update_deployment_status(d)
            except ApiError as e:
                log.info("could not record failure on %s: %s", meta.name_of(d), e)
        await self.recorder.event(
            as_event_object(d), "Warning", util.FAILED_RS_CREATE_REASON, message
        )

    # -- scaling -----------------------------------------------------------------------------
    async def scale_replica_set_and_record_event(
        self, rs: Obj, new_scale: int, d: Obj
    ) -> tuple[bool, Obj]:
        if util.replicas(rs) == new_scale:
            return False, rs
        operation = "up" if util.replicas(rs) < new_scale else "down"
        return await self.scale_replica_set(rs, new_scale, d, operation)

    async def scale_replica_set(
        self, rs: Obj, new_scale: int, d: Obj, operation: str
    ) -> tuple[bool, Obj]:
        size_changes = util.replicas(rs) != new_scale
        max_replicas = util.replicas(d) + util.max_surge(d)
        if not size_changes and not util.replicas_annotations_need_update(
            rs, util.replicas(d), max_replicas
        ):
            return False, rs
        old_scale = util.replicas(rs)
        body = meta.deep_copy(rs)
        body["spec"]["replicas"] = new_scale
        util.set_replicas_annotations(body, util.replicas(d), max_replicas)
        updated = await self.update_replica_set(body)
        if size_changes:
            await self.recorder.event(
                as_event_object(d),
                "Normal",
                "ScalingReplicaSet",
                f"Scaled {operation} replica set {meta.name_of(rs)}"
                f" from {old_scale} to {new_scale}",
            )
        return size_changes, updated

    async def scale(self, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> None:
        """Resize on a scaling event (upstream's `scale`)."""
        target = util.find_active_or_latest(new_rs, old_rss)
        if target is not None:
            if util.replicas(target) != util.replicas(d):
                await self.scale_replica_set_and_record_event(target, util.replicas(d), d)
            return
        if util.is_saturated(d, new_rs):
            for old in util.active(old_rss):
                await self.scale_replica_set_and_record_event(old, 0, d)
            return
        if util.is_rolling_update(d):
            await self._scale_proportionally(d, util.active([*old_rss, new_rs]))

    async def _scale_proportionally(self, d: Obj, all_rss: list[Obj]) -> None:
        allowed = util.replicas(d) + util.max_surge(d) if util.replicas(d) > 0 else 0
        to_add = allowed - util.total_replicas(list(all_rss))
        operation = ""
        if to_add > 0:
            all_rss, operation = util.by_size_newer(all_rss), "up"
        elif to_add < 0:
            all_rss, operation = util.by_size_older(all_rss), "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in all_rss:
            share = util.proportion(rs, d, to_add, added) if to_add else 0
            sizes[meta.name_of(rs)] = util.replicas(rs) + share
            added += share
        for i, rs in enumerate(all_rss):
            name = meta.name_of(rs)
            if i == 0 and to_add:
                sizes[name] = max(sizes[name] + to_add - added, 0)
            await self.scale_replica_set(rs, sizes[name], d, operation)

    async def is_scaling_event(self, d: Obj, rs_list: list[Obj]) -> bool:
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(d, rs_list, False)
        for rs in util.active([*old_rss, new_rs]):
            try:
                desired = int(util.annotations_of(rs).get(util.DESIRED_REPLICAS, ""), 10)
            except ValueError:
                continue
            if desired != util.replicas(d):
                return True
        return False

    # -- paused, history, status -------------------------------------------------------------
    async def sync(self, d: Obj, rs_list: list[Obj]) -> None:
        """Scaling events and paused Deployments: resize, never roll."""
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(d, rs_list, False)
        await self.scale(d, new_rs, old_rss)
        if util.spec(d).get("paused"):
            await self.cleanup_deployment(old_rss, d)
        await self.sync_deployment_status([*old_rss, new_rs], new_rs, d)

    async def check_paused_conditions(self, d: Obj) -> None:
        if not util.has_progress_deadline(d):
            return
        status = d.setdefault("status", {})
        condition = util.get_condition(status, "Progressing")
        if condition is not None and condition.get("reason") == util.TIMED_OUT_REASON:
            return
        paused_exists = condition is not None and condition.get("reason") == util.PAUSED_REASON
        paused = bool(util.spec(d).get("paused"))
        if paused and not paused_exists:
            reason, message = util.PAUSED_REASON, "Deployment is paused"
        elif not paused and paused_exists:
            reason, message = util.RESUMED_REASON, "Deployment is resumed"
        else:
            return
        util.set_condition(status, util.new_condition("Progressing", "Unknown", reason, message))
        await self.update_deployment_status(d)

    async def cleanup_deployment(self, old_rss: list[Obj], d: Obj) -> None:
        limit = util.spec(d).get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in old_rss if not rs["metadata"].get("deletionTimestamp")]
        surplus = len(alive) - int(limit)
        if surplus <= 0:
            return
        for rs in util.by_revision(alive)[:surplus]:
            status = rs.get("status") or {}
            if (
                int(status.get("replicas") or 0) != 0
                or util.replicas(rs) != 0
                or int(rs["metadata"].get("generation") or 0)
                > int(status.get("observedGeneration") or 0)
            ):
                continue
            try:
                await self.client.delete(REPLICASETS, meta.name_of(rs), meta.namespace_of(rs))
            except ApiError as e:
                if e.code != 404:
                    raise

    async def sync_deployment_status(
        self, all_rss: list[Obj | None], new_rs: Obj | None, d: Obj
    ) -> None:
        status = calculate_status(all_rss, new_rs, d)
        if status == (d.get("status") or {}):
            return
        d["status"] = status
        await self.update_deployment_status(d)


def calculate_status(all_rss: list[Obj | None], new_rs: Obj | None, d: Obj) -> Obj:
    """Counts from the ReplicaSets, existing conditions, and the Available condition."""
    available = util.available_replicas(all_rss)
    unavailable = max(util.total_replicas(all_rss) - available, 0)
    old = d.get("status") or {}
    status: Obj = {
        "observedGeneration": int(d["metadata"].get("generation") or 0),
        "replicas": util.actual_replicas(all_rss),
        "updatedReplicas": util.actual_replicas([new_rs]),
        "readyReplicas": util.ready_replicas(all_rss),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if available >= util.replicas(d) - util.max_unavailable(d):
        condition = util.new_condition(
            "Available", "True", util.MIN_AVAILABLE_REASON, "Deployment has minimum availability."
        )
    else:
        condition = util.new_condition(
            "Available",
            "False",
            util.MIN_UNAVAILABLE_REASON,
            "Deployment does not have minimum availability.",
        )
    util.set_condition(status, condition)
    return omit_zero(status)


def omit_zero(status: Obj) -> Obj:
    """Drop the counts Go leaves out when zero (all DeploymentStatus ints are omitempty)."""
    return {k: v for k, v in status.items() if v not in (0, None) or k == "collisionCount"}
