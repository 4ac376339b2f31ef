"""A DaemonSet's ControllerRevision history (upstream's `update.go`: `constructHistory`,
`snapshot`, `dedupCurHistories`, `cleanupHistory`).

The current revision is the one whose data (the template patch) equals the DaemonSet's
template; it is created when missing, named `<ds>-<hash>` where the hash is the template
hash with the DaemonSet's collision count, and that hash becomes the pods'
`controller-revision-hash`. A name taken by other data bumps `status.collisionCount` and
the sync is retried. Revisions with the same data are deduplicated (pods relabelled to
the survivor) and old ones are deleted beyond `revisionHistoryLimit`, except those whose
hash a pod still carries.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import labels, meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, Informer, key_of, split_key
from openeks.kube.client.resources import CONTROLLERREVISIONS, DAEMONSETS, PODS
from openeks.kube.controllers.util import revisions as history
from openeks.kube.controllers.util.hashing import template_hash
from openeks.kube.controllers.util.ownership import (
    NAMESPACE_INDEX,
    ControllerRefManager,
    controller_of,
    controller_ref,
    uid_of,
)

Obj = dict[str, Any]
API_VERSION, KIND = "apps/v1", "DaemonSet"


class DaemonHistory:
    def __init__(self, client: Client, revisions: Informer, pods: Informer) -> None:
        self.client = client
        self.revisions = revisions
        self.pods = pods

    async def construct(self, ds: Obj) -> tuple[Obj, list[Obj]]:
        """(current revision, old revisions), creating the current one if needed."""
        selector = labels.from_label_selector((ds.get("spec") or {}).get("selector"))
        manager = ControllerRefManager(
            self.client,
            CONTROLLERREVISIONS,
            ds,
            DAEMONSETS,
            controller_ref(ds, API_VERSION, KIND),
            selector,
        )
        owned = await manager.claim(self.revisions.by_index(NAMESPACE_INDEX, meta.namespace_of(ds)))
        patch = history.template_patch(ds)
        current: list[Obj] = []
        old: list[Obj] = []
        for revision in owned:
            if history.POD_REVISION_LABEL not in meta.labels_of(revision):
                body = meta.deep_copy(revision)
                body["metadata"].setdefault("labels", {})[history.POD_REVISION_LABEL] = (
                    meta.name_of(body)
                )
                revision = await self.client.update(CONTROLLERREVISIONS, body)
            (current if revision.get("data") == patch else old).append(revision)
        number = max((history.revision_number(r) for r in old), default=0) + 1
        if not current:
            return await self.snapshot(ds, number), old
        keep = await self._dedup(ds, current)
        if history.revision_number(keep) < number:
            keep = await history.update_revision_number(self.client, keep, number)
        return keep, old

    async def snapshot(self, ds: Obj, number: int) -> Obj:
        status = ds.get("status") or {}
        hash_ = template_hash(
            (ds.get("spec") or {}).get("template") or {}, status.get("collisionCount")
        )
        template_labels = (
            ((ds.get("spec") or {}).get("template") or {}).get("metadata") or {}
        ).get("labels") or {}
        body: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": f"{meta.name_of(ds)}-{hash_}",
                "namespace": meta.namespace_of(ds),
                "labels": {**template_labels, history.POD_REVISION_LABEL: hash_},
                "annotations": dict((ds.get("metadata") or {}).get("annotations") or {}),
                "ownerReferences": [controller_ref(ds, API_VERSION, KIND)],
            },
            "data": history.template_patch(ds),
            "revision": number,
        }
        if not body["metadata"]["annotations"]:
            del body["metadata"]["annotations"]
        try:
            return await self.client.create(CONTROLLERREVISIONS, body, meta.namespace_of(ds))
        except ApiError as e:
            if e.reason != "AlreadyExists":
                raise
            existing = await self.client.get(
                CONTROLLERREVISIONS, body["metadata"]["name"], meta.namespace_of(ds)
            )
            if existing.get("data") == body["data"]:
                return existing
            await self._bump_collision_count(ds)
            raise

    async def _bump_collision_count(self, ds: Obj) -> None:
        namespace, name = split_key(key_of(ds))
        fresh = await self.client.get(DAEMONSETS, name, namespace)
        fresh_count = (fresh.get("status") or {}).get("collisionCount")
        if fresh_count != (ds.get("status") or {}).get("collisionCount"):
            raise ApiError(f"found a stale collision count of DaemonSet {name!r}", 409, "Conflict")
        fresh.setdefault("status", {})["collisionCount"] = int(fresh_count or 0) + 1
        await self.client.update_status(DAEMONSETS, fresh)

    async def _dedup(self, ds: Obj, current: list[Obj]) -> Obj:
        """Several revisions with the current template: keep the highest, relabel pods."""
        ordered = history.sort_revisions(current)
        keep = ordered[-1]
        keep_hash = meta.labels_of(keep).get(history.POD_REVISION_LABEL, "")
        for duplicate in ordered[:-1]:
            dup_hash = meta.labels_of(duplicate).get(history.POD_REVISION_LABEL, "")
            for pod in self.pods.by_index(NAMESPACE_INDEX, meta.namespace_of(ds)):
                if (controller_of(pod) or {}).get("uid") == uid_of(ds) and meta.labels_of(pod).get(
                    history.POD_REVISION_LABEL
                ) == dup_hash:
                    patch = {"metadata": {"labels": {history.POD_REVISION_LABEL: keep_hash}}}
                    await self.client.patch(PODS, meta.name_of(pod), patch, meta.namespace_of(pod))
            await self.client.delete(
                CONTROLLERREVISIONS, meta.name_of(duplicate), meta.namespace_of(duplicate)
            )
        return keep

    async def cleanup(self, ds: Obj, old: list[Obj], live_hashes: set[str]) -> None:
        """Delete the oldest revisions beyond revisionHistoryLimit no pod still uses."""
        limit = (ds.get("spec") or {}).get("revisionHistoryLimit")
        to_kill = len(old) - (10 if limit is None else int(limit))
        for revision in history.sort_revisions(old):
            if to_kill <= 0:
                break
            if meta.labels_of(revision).get(history.POD_REVISION_LABEL) in live_hashes:
                continue
            await self.client.delete(
                CONTROLLERREVISIONS, meta.name_of(revision), meta.namespace_of(revision)
            )
            to_kill -= 1
