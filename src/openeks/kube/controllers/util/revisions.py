"""ControllerRevision history, as upstream's `pkg/controller/history`.

StatefulSets and DaemonSets record each pod template they have run as a
ControllerRevision whose `data` is a strategic merge patch that puts the template back:
`{"spec":{"template":{..., "$patch":"replace"}}}`. `kubectl rollout undo` sends that
patch as is, and `kubectl rollout history` reads `revision` and the annotations.

The patch is built as upstream builds it (the object's JSON decoded into a generic map
and encoded again, so keys are sorted) and hashed with FNV-1 plus the collision count
in decimal, so a revision's name and hash label follow from the template alone.
Revisions are compared by their data, never by name.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client
from openeks.kube.client.resources import CONTROLLERREVISIONS
from openeks.kube.controllers.util.hashing import fnv32, go_json, safe_encode_string
from openeks.kube.controllers.util.ownership import controller_ref

Obj = dict[str, Any]

REVISION_HASH_LABEL = "controller.kubernetes.io/hash"
"""Label a ControllerRevision carries with the hash of its data."""
POD_REVISION_LABEL = "controller-revision-hash"
"""apps/v1 ControllerRevisionHashLabelKey: the revision a pod was made from."""


def template_patch(obj: Obj) -> Obj:
    """`getPatch`: the patch that restores `obj`'s pod template."""
    template = meta.deep_copy(((obj.get("spec") or {}).get("template")) or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def hash_revision(data: Any, probe: int | None) -> str:
    """`HashControllerRevision`: FNV-1 over the data bytes, then the probe in decimal."""
    h = fnv32(go_json(data)) if data is not None else fnv32(b"")
    if probe is not None:
        h = fnv32(str(probe).encode(), h)
    return safe_encode_string(str(h))


def revision_name(prefix: str, hash_: str) -> str:
    return f"{prefix[:223]}-{hash_}"


def revision_number(revision: Obj) -> int:
    return int(revision.get("revision") or 0)


def sort_revisions(revisions: list[Obj]) -> list[Obj]:
    """By revision number (stable, as `SortControllerRevisions`)."""
    return sorted(revisions, key=revision_number)


def next_revision(revisions: list[Obj]) -> int:
    """One past the last of `revisions` (which must be sorted), 1 for none."""
    return revision_number(revisions[-1]) + 1 if revisions else 1


def equal_revision(a: Obj | None, b: Obj | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(a.get("data") == b.get("data"))


def find_equal_revisions(revisions: list[Obj], needle: Obj) -> list[Obj]:
    return [r for r in revisions if equal_revision(r, needle)]


def new_revision(
    parent: Obj,
    api_version: str,
    kind: str,
    template_labels: dict[str, str] | None,
    data: Obj,
    revision: int,
    collision_count: int | None,
) -> Obj:
    """`NewControllerRevision` (name and hash label from data + collision count)."""
    hash_ = hash_revision(data, collision_count)
    labels = dict(template_labels or {})
    labels[REVISION_HASH_LABEL] = hash_
    metadata: Obj = {
        "name": revision_name(meta.name_of(parent), hash_),
        "namespace": meta.namespace_of(parent),
        "labels": labels,
        "ownerReferences": [controller_ref(parent, api_version, kind)],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": metadata,
        "data": data,
        "revision": revision,
    }


async def create_revision(
    client: Client, parent: Obj, revision: Obj, collision_count: int
) -> tuple[Obj, int]:
    """`CreateControllerRevision`: create, moving to the next hash while the name is
    taken by different data. Returns the revision and the collision count used."""
    while True:
        hash_ = hash_revision(revision.get("data"), collision_count)
        body = meta.deep_copy(revision)
        body["metadata"]["name"] = revision_name(meta.name_of(parent), hash_)
        namespace = meta.namespace_of(parent)
        try:
            return await client.create(CONTROLLERREVISIONS, body, namespace), collision_count
        except ApiError as e:
            if e.code != 409 or e.reason != "AlreadyExists":
                raise
        existing = await client.get(CONTROLLERREVISIONS, body["metadata"]["name"], namespace)
        if existing.get("data") == body.get("data"):
            return existing, collision_count
        collision_count += 1


async def update_revision_number(client: Client, revision: Obj, number: int) -> Obj:
    """`UpdateControllerRevision`: set `revision`, re-reading on conflict."""
    current = revision
    for _ in range(5):
        if revision_number(current) == number:
            return current
        body = meta.deep_copy(current)
        body["revision"] = number
        try:
            return await client.update(CONTROLLERREVISIONS, body)
        except ApiError as e:
            if e.code != 409:
                raise
        current = await client.get(
            CONTROLLERREVISIONS, meta.name_of(revision), meta.namespace_of(revision)
        )
    raise ApiError(f"could not update revision of {meta.name_of(revision)}", 409, "Conflict")
