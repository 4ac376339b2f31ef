"""Per-kind behaviour of the generic registry, as upstream's `RESTCreateStrategy` & co.

A `Strategy` answers the questions the generic registry asks about one kind: how to
default it, what to reset on create, what counts as a spec change (generation), what a
status update may touch, how to validate, which fields a field selector may use, how
long a graceful delete takes, and what to allocate or release around writes. Most kinds
use `Strategy` as is; a few (pods, services, namespaces, events) subclass it in
`strategies/`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openeks.kube.api import defaults as defaulting
from openeks.kube.api import validation
from openeks.kube.api.errors import Cause
from openeks.kube.api.resources import ResourceInfo

if TYPE_CHECKING:
    from openeks.kube.apiserver.auth import User
    from openeks.kube.apiserver.registry import Registry

Obj = dict[str, Any]

_GENERATION_KINDS = {
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("policy", "PodDisruptionBudget"),
    ("", "Pod"),
}

_CREATE_ON_UPDATE = {("", "Endpoints"), ("coordination.k8s.io", "Lease"), ("", "Event")}

BASE_FIELDS = ("metadata.name", "metadata.namespace")


def causes_of(errors: list[validation.FieldError]) -> list[Cause]:
    return [Cause(e.type, e.body, e.field) for e in errors]


class Strategy:
    """The default behaviour, right for most kinds."""

    extra_fields: tuple[str, ...] = ()

    def __init__(self, info: ResourceInfo) -> None:
        self.info = info
        self.tracks_generation = info.crd or (info.group, info.kind) in _GENERATION_KINDS
        self.allow_create_on_update = (info.group, info.kind) in _CREATE_ON_UPDATE
        self.registry: Registry | None = None

    # -- shaping -------------------------------------------------------------------
    def default(self, obj: Obj) -> None:
        defaulting.apply_defaults(self.info.group, self.info.version, self.info.kind, obj)

    def prepare_for_create(self, obj: Obj) -> None:
        if self.info.has_status:
            obj.pop("status", None)
        if self.tracks_generation:
            obj["metadata"]["generation"] = 1

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        if self.info.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        if self.tracks_generation:
            generation = old["metadata"].get("generation", 1)
            if _spec_changed(new, old):
                generation += 1
            new["metadata"]["generation"] = generation

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        """A write to /status changes status only (plus annotations, as upstream)."""
        for key in list(new):
            if key not in ("metadata", "status", "apiVersion", "kind"):
                del new[key]
        for key, value in old.items():
            if key not in ("metadata", "status", "apiVersion", "kind"):
                new[key] = value
        meta, old_meta = new["metadata"], old["metadata"]
        for key in ("labels", "finalizers", "ownerReferences", "generation"):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)

    def prepare_for_finalize(self, new: Obj, old: Obj) -> None:
        """Only namespaces have a finalize subresource."""
        raise NotImplementedError

    # -- checking ------------------------------------------------------------------
    def validate(self, obj: Obj) -> list[Cause]:
        info = self.info
        return causes_of(validation.validate(info.group, info.version, info.kind, obj))

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        info = self.info
        return causes_of(validation.validate(info.group, info.version, info.kind, new, old=old))

    # -- selection -----------------------------------------------------------------
    @property
    def field_names(self) -> tuple[str, ...]:
        return BASE_FIELDS + self.extra_fields

    def fields(self, obj: Obj) -> dict[str, str]:
        meta = obj.get("metadata") or {}
        out = {"metadata.name": meta.get("name", "")}
        if self.info.namespaced:
            out["metadata.namespace"] = meta.get("namespace", "")
        return out

    # -- lifecycle -----------------------------------------------------------------
    def grace_period(self, obj: Obj, requested: int | None) -> int:
        """Seconds a delete waits before the object goes (0 = at once)."""
        return 0

    def blocks_deletion(self, obj: Obj) -> bool:
        """Something besides metadata.finalizers keeps a deleted object (namespaces)."""
        return False

    def mark_terminating(self, obj: Obj) -> None:
        """Adjust an object whose deletion has started (namespaces: phase Terminating)."""

    async def admit(self, new: Obj, old: Obj | None, user: User | None) -> None:
        """Refuse a write this user may not make (raise ApiError); None = the server."""

    async def before_create(self, obj: Obj, dry_run: bool) -> None:
        """Allocate what the object needs (IPs, ports); raise ApiError to refuse."""

    async def after_create_failed(self, obj: Obj) -> None:
        """Release what `before_create` allocated when the write did not happen."""

    async def before_update(self, new: Obj, old: Obj, dry_run: bool) -> None:
        """Allocate for an update; `after_update` releases what the old one held."""

    async def after_update(self, new: Obj, old: Obj, ok: bool) -> None:
        """Called once an update was written (ok) or failed (not ok)."""

    async def after_delete(self, obj: Obj) -> None:
        """Release what the deleted object held."""


def _spec_changed(new: Obj, old: Obj) -> bool:
    for key in new.keys() | old.keys():
        if key in ("metadata", "status", "apiVersion", "kind"):
            continue
        if new.get(key) != old.get(key):
            return True
    return False
