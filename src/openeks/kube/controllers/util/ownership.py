"""Controller references and claiming, as upstream's `ControllerRefManager`.

An object belongs to at most one controller: the owner reference with `controller: true`.
A controller *claims* the objects its selector picks: it keeps those it owns and that
still match, releases those it owns that no longer match (unless it is being deleted),
and adopts matching orphans (unless it or the orphan is being deleted). Adoption and
release are strategic merge patches on `metadata.ownerReferences` carrying the object's
UID, so a recreated namesake is never touched by mistake; before the first adoption the
controller re-reads itself from the API server to be sure it still exists and is not
being deleted (upstream's `RecheckDeletionTimestamp`), because adopting on behalf of a
controller that is gone would orphan the objects again at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.api.labels import Selector
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client import Client

log = logging.getLogger(__name__)

Obj = dict[str, Any]

NAMESPACE_INDEX = "workloads/namespace"
"""Informer index: objects by namespace (`Informer.by_index(NAMESPACE_INDEX, ns)`)."""
CONTROLLER_UID_INDEX = "workloads/controller-uid"
"""Informer index: objects by the UID in their controller reference."""


def namespace_index(obj: Obj) -> list[str]:
    return [meta.namespace_of(obj)]


def controller_uid_index(obj: Obj) -> list[str]:
    ref = controller_of(obj)
    return [str(ref.get("uid"))] if ref and ref.get("uid") else []


def controller_ref(owner: Obj, api_version: str, kind: str) -> Obj:
    """`metav1.NewControllerRef`: controller and blockOwnerDeletion both true."""
    m = owner.get("metadata") or {}
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": m.get("name", ""),
        "uid": m.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Obj) -> Obj | None:
    """The owner reference with `controller: true`, if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller") is True:
            return ref
    return None


def uid_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def is_controlled_by(obj: Obj, owner: Obj) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == uid_of(owner)


def has_owner_ref(obj: Obj, owner: Obj) -> bool:
    """Any owner reference (controller or not) to `owner`'s UID."""
    uid = uid_of(owner)
    return any(
        ref.get("uid") == uid for ref in (obj.get("metadata") or {}).get("ownerReferences") or ()
    )


def with_kind(obj: Obj, api_version: str, kind: str) -> Obj:
    """`obj` with apiVersion/kind set (list items come without them; events need them)."""
    if obj.get("kind") == kind and obj.get("apiVersion") == api_version:
        return obj
    return {**obj, "apiVersion": api_version, "kind": kind}


def adopt_patch(obj: Obj, ref: Obj) -> Obj:
    return {"metadata": {"ownerReferences": [ref], "uid": uid_of(obj)}}


def release_patch(obj: Obj, owner_uid: str) -> Obj:
    return {
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
            "uid": uid_of(obj),
        }
    }


class ControllerRefManager:
    """Claims objects of one resource for one controller object.

    `owner` is the controller as last seen; `resource` what is claimed (pods, ReplicaSets,
    ControllerRevisions); `owner_resource` how to re-read the owner before adopting.
    """

    def __init__(
        self,
        client: Client,
        resource: ResourceInfo,
        owner: Obj,
        owner_resource: ResourceInfo,
        owner_ref: Obj,
        selector: Selector,
    ) -> None:
        self.client = client
        self.resource = resource
        self.owner = owner
        self.owner_resource = owner_resource
        self.owner_ref = owner_ref
        self.selector = selector
        self._adoption_checked: ApiError | bool = False

    @property
    def owner_uid(self) -> str:
        return uid_of(self.owner)

    def _owner_deleting(self) -> bool:
        return bool((self.owner.get("metadata") or {}).get("deletionTimestamp"))

    async def claim(
        self, objs: Iterable[Obj], extra_match: Callable[[Obj], bool] | None = None
    ) -> list[Obj]:
        """The objects this controller owns after adopting and releasing as needed."""
        claimed: list[Obj] = []
        errors: list[ApiError] = []
        for obj in objs:
            try:
                kept = await self._claim_one(obj, extra_match)
            except ApiError as e:
                errors.append(e)
                continue
            if kept is not None:
                claimed.append(kept)
        if errors:
            raise errors[0]
        return claimed

    def _matches(self, obj: Obj, extra_match: Callable[[Obj], bool] | None) -> bool:
        if not self.selector.matches(meta.labels_of(obj)):
            return False
        return extra_match is None or extra_match(obj)

    async def _claim_one(self, obj: Obj, extra_match: Callable[[Obj], bool] | None) -> Obj | None:
        ref = controller_of(obj)
        if ref is not None:
            if ref.get("uid") != self.owner_uid:
                return None
            if self._matches(obj, extra_match):
                return obj
            if not self._owner_deleting():
                await self._release(obj)
            return None
        if self._owner_deleting() or not self._matches(obj, extra_match):
            return None
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            return None
        owner_ns = meta.namespace_of(self.owner)
        if owner_ns and owner_ns != meta.namespace_of(obj):
            return None
        return await self._adopt(obj)

    async def _can_adopt(self) -> None:
        if self._adoption_checked is True:
            return
        if isinstance(self._adoption_checked, ApiError):
            raise self._adoption_checked
        fresh = await self.client.get(
            self.owner_resource, meta.name_of(self.owner), meta.namespace_of(self.owner)
        )
        name = f"{meta.namespace_of(self.owner)}/{meta.name_of(self.owner)}"
        error: ApiError | None = None
        if uid_of(fresh) != self.owner_uid:
            error = ApiError(
                f"original {name} is gone: got uid {uid_of(fresh)}, wanted {self.owner_uid}",
                409,
                "Conflict",
            )
        elif (fresh.get("metadata") or {}).get("deletionTimestamp"):
            error = ApiError(
                f"{name} has just been deleted at {fresh['metadata']['deletionTimestamp']}",
                409,
                "Conflict",
            )
        self._adoption_checked = error or True
        if error is not None:
            raise error

    async def _adopt(self, obj: Obj) -> Obj | None:
        await self._can_adopt()
        try:
            return await self.client.patch(
                self.resource,
                meta.name_of(obj),
                adopt_patch(obj, self.owner_ref),
                meta.namespace_of(obj),
                patch_type="strategic",
            )
        except ApiError as e:
            if e.code == 404:
                return None
            raise

    async def _release(self, obj: Obj) -> None:
        try:
            await self.client.patch(
                self.resource,
                meta.name_of(obj),
                release_patch(obj, self.owner_uid),
                meta.namespace_of(obj),
                patch_type="strategic",
            )
        except ApiError as e:
            # Gone, or recreated under another UID (the uid precondition fails): fine.
            if e.code not in (404, 422):
                raise
