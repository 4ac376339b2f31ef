"""Server-side apply and managed-fields tracking, as pure functions over JSON objects.

`apply(live, config, ...)` merges an applied configuration into the live object the way
structured-merge-diff does and records ownership in `metadata.managedFields`;
`update_managed_fields(old, new, ...)` records ownership for ordinary create, update
and patch requests. Both take the kind's `schema.Node` and do no I/O: the API server
calls them between decoding a request and storing the result, turns
`ApplyConflictError` into a 409 `Status` (reason Conflict, causes FieldManagerConflict),
`BadApplyRequest` into a 400 and any other `ApplyError` into a 500, as upstream does.

This module is upstream's `FieldManager` (which managedFields a request starts from, and
the errors it returns); `managed` holds the manager chain and updater, `merge` the
schema-aware walks over values, `fieldpath` paths, sets and the fieldsV1 format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openeks.kube.api.apply import managed as mf
from openeks.kube.api.apply.fieldpath import (
    FieldSet,
    PathElement,
    from_fields_v1,
    path_string,
    to_fields_v1,
)
from openeks.kube.api.apply.managed import LAST_APPLIED, default_reset_fields
from openeks.kube.api.apply.merge import ApplyError, check_applicable, to_field_set
from openeks.kube.api.schema import Node

__all__ = [
    "ApplyConflictError",
    "ApplyError",
    "BadApplyRequest",
    "Conflict",
    "FieldSet",
    "PathElement",
    "apply",
    "default_reset_fields",
    "from_fields_v1",
    "manager_from_user_agent",
    "path_string",
    "to_field_set",
    "to_fields_v1",
    "update_managed_fields",
]


class BadApplyRequest(ApplyError):
    """The apply request itself is wrong (a 400 upstream)."""


@dataclass(frozen=True)
class Conflict:
    """A field another manager owns with a different value."""

    manager: str
    field: str
    operation: str = "Update"
    api_version: str = ""
    subresource: str = ""

    def describe(self) -> str:
        """Upstream's printManager: `"kubectl"`, `"x" using apps/v1`, with subresource."""
        out = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            out += f" with subresource {json.dumps(self.subresource, ensure_ascii=False)}"
        if self.operation == "Update":
            out += f" using {self.api_version}"
        return out


class ApplyConflictError(Exception):
    """An apply that would change fields other managers own; a 409 Conflict upstream."""

    code = 409
    reason = "Conflict"

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        if len(conflicts) == 1:
            c = conflicts[0]
            message = f"Apply failed with 1 conflict: conflict with {c.describe()}: {c.field}"
        else:
            lines: list[str] = []
            for c in conflicts:
                header = f"conflicts with {c.describe()}:"
                lines += [] if header in lines else [header]
                lines.append(f"- {c.field}")
            message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
        super().__init__(message)

    @property
    def causes(self) -> list[dict[str, str]]:
        """Status causes (`type` is serialised as `reason` in a Status)."""
        return [
            {"type": "FieldManagerConflict", "message": f"conflict with {c.describe()}",
             "field": c.field}
            for c in self.conflicts
        ]  # fmt: skip


def _conflict_error(found: mf.Conflicts, allowed: FieldSet | None = None) -> ApplyConflictError:
    conflicts = []
    for ident in sorted(found.sets, key=mf.identifier_json):
        manager, operation, _, subresource = ident
        for path in found.sets[ident].paths():
            if allowed is None or not allowed.has(path):
                where = (operation, found.versions[ident], subresource)
                conflicts.append(Conflict(manager, path_string(path), *where))
    return ApplyConflictError(conflicts)


def _context(schema: Node, api_version: str, subresource: str, now: str, reset: Any) -> mf.Context:
    reset = default_reset_fields(schema, subresource) if reset is None else reset
    return mf.context(schema, api_version, subresource, now, reset)


def update_managed_fields(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    operation: str = "Update",
    schema: Node,
    now: str,
    api_version: str,
    subresource: str = "",
    reset_fields: Iterable[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """`new` with `metadata.managedFields` updated for a create (old None) or an update.

    managedFields sent in `new` are taken as the starting point (so clients may edit
    them), `[]` or `[{}]` resets them, absent ones keep the stored entries; through a
    subresource the stored entries are always used. `reset_fields` are paths the request
    cannot own (default: `default_reset_fields`).
    """
    ctx = _context(schema, api_version, subresource, now, reset_fields)
    result = mf.without_managed_fields(new)
    if subresource:
        managed = mf.decode_or_empty(old)
    elif mf.is_reset((new.get("metadata") or {}).get("managedFields")):
        managed = mf.Managed()
    else:
        managed = mf.decode_or_empty(new)
        if not managed.fields:
            managed = mf.decode_or_empty(old)
    creating = old is None or not (old.get("metadata") or {}).get("uid")
    if not managed.fields and not creating:
        return result  # upstream starts tracking an existing object at its first apply
    before = mf.without_managed_fields(old) if old is not None else {}
    try:
        mf.update(before, result, managed, manager, ctx, operation)
    except ApplyError:
        return result  # upstream's UpdateNoErrors drops managedFields it cannot compute
    return mf.with_managed_fields(result, managed)


def apply(
    live: dict[str, Any] | None,
    config: dict[str, Any],
    *,
    manager: str,
    force: bool,
    schema: Node,
    now: str,
    api_version: str,
    subresource: str = "",
    reset_fields: Iterable[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The object after server-side applying `config` as `manager`, with managedFields.

    `live` is None for a create. Raises ApplyConflictError unless `force`, and
    BadApplyRequest when `config` carries managedFields or another apiVersion.
    """
    if (config.get("metadata") or {}).get("managedFields") is not None:
        raise BadApplyRequest("metadata.managedFields must be nil")
    if config.get("apiVersion") != api_version:
        raise BadApplyRequest(
            "Incorrect version specified in apply patch. "
            f"Specified patch version: {config.get('apiVersion')}, expected: {api_version}"
        )
    try:
        check_applicable(config, schema)
    except ApplyError as e:
        group, _, version = api_version.rpartition("/")
        where = f"{group}/{version}, Kind={config.get('kind')}"
        raise ApplyError(f"failed to create typed patch object ({where}): {e}") from None
    ctx = _context(schema, api_version, subresource, now, reset_fields)
    try:
        initial = mf.decode((live or {}).get("metadata", {}).get("managedFields"))
    except (ValueError, AttributeError, TypeError) as e:
        raise ApplyError(f"failed to decode managed fields: {e}") from None
    current = mf.without_managed_fields(live) if live is not None else {}
    ident = (manager or "unknown", "Apply", "", subresource)
    managed = initial.copy()
    try:
        result = mf.apply_once(current, live is not None, config, managed, ident, force, ctx)
    except mf.Conflicts as found:
        allowed = mf.allowed_by_last_applied(current, ctx) if manager == "kubectl" else None
        error = _conflict_error(found, allowed)
        if allowed is None or error.conflicts:
            raise error from None
        managed = initial.copy()
        result = mf.apply_once(current, live is not None, config, managed, ident, True, ctx)
    annotations = (result.get("metadata") or {}).get("annotations") or {}
    if manager == "kubectl" and annotations.get(LAST_APPLIED):
        annotations[LAST_APPLIED] = mf.last_applied(config)
    return mf.with_managed_fields(result, managed)


def manager_from_user_agent(user_agent: str | None, field_manager: str | None = None) -> str:
    """The explicit fieldManager, else the User-Agent up to its first '/', printable
    characters only, at most 128 bytes ("kubectl/v1.37.1 (linux/amd64) ..." -> "kubectl")."""
    if field_manager:
        return field_manager
    out = ""
    for char in (user_agent or "").split("/")[0]:
        if not char.isprintable():
            continue
        if len((out + char).encode()) > 128:
            break
        out += char
    return out
