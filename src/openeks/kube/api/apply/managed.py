"""Ownership bookkeeping: managedFields entries, the updater, and the manager chain.

Ported from upstream in the same shape, one function per upstream piece:

- the wire format (`managedfields/internal/managedfields.go`): entries keyed by manager
  identity (manager, operation, apiVersion for updates, subresource), sorted by
  operation, time, manager, version and subresource;
- structured-merge-diff's `merge.Updater`: `smd_update` (other managers lose fields that
  changed or went away; changed fields they own are conflicts unless forced),
  `smd_apply` (merge, take the applied set, prune, then update) and `_prune` with its
  "add back owned" and "add back dangling" passes;
- the field manager chain: stripping server-set metadata (`stripmeta.go`), the
  "current-operation" trick that merges an updater's new fields into its old entry and
  bumps its time only when something changed (`managedfieldsupdater.go`), the cap of
  ten update entries (`capmanagers.go`), "before-first-apply" (`skipnonapplied.go`) and
  kubectl's take-over of client-side apply fields (`lastappliedmanager.go`).

Built-in objects upstream are Go structs, where non-pointer structs and required fields
are always present; `zero_overlay` adds them before comparing so updates record the
same "." entries upstream does. Conversion between API versions is not modelled:
entries recorded at another version are compared on the same object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from openeks.kube.api.apply.fieldpath import (
    FieldSet,
    field,
    from_fields_v1,
    go_json,
    to_fields_v1,
)
from openeks.kube.api.apply.merge import (
    ApplyError,
    Comparison,
    atomic_map,
    compare,
    ensure_named_fields_are_members,
    equal,
    merge,
    remove_items,
    resolve,
    to_field_set,
)
from openeks.kube.api.meta import deep_copy
from openeks.kube.api.schema import Node

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_UPDATE_MANAGERS = 10
_SELF = ("current-operation", "", "", "")
_STRIP = FieldSet.of(
    (field("apiVersion"),),
    (field("kind"),),
    (field("metadata"),),
    *((field("metadata"), field(name)) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
        "generation", "managedFields", "resourceVersion",
    )),
)  # fmt: skip

# Optional fields that are non-pointer structs in the Go types (rendered as `{}` in a zero
# value). `metadata`, `spec` and `status` are such structs everywhere.
_VALUE_STRUCTS = {
    "io.k8s.api.apps.v1.DeploymentSpec": ("strategy",),
    "io.k8s.api.apps.v1.DaemonSetSpec": ("updateStrategy",),
    "io.k8s.api.apps.v1.StatefulSetSpec": ("updateStrategy",),
    "io.k8s.api.core.v1.Container": ("resources",),
    "io.k8s.api.core.v1.EphemeralContainer": ("resources",),
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec": ("resources",),
    "io.k8s.api.core.v1.ServiceStatus": ("loadBalancer",),
    "io.k8s.api.networking.v1.IngressStatus": ("loadBalancer",),
    "io.k8s.api.core.v1.NodeStatus": ("daemonEndpoints", "nodeInfo"),
    "io.k8s.api.core.v1.NodeDaemonEndpoints": ("kubeletEndpoint",),
    "io.k8s.api.core.v1.ContainerStatus": ("state", "lastState"),
    "io.k8s.api.core.v1.Event": ("source",),
}

# (manager, operation, apiVersion (updates only), subresource): upstream's identity of an
# entry; an applier keeps one entry across versions, an updater has one per version.
Identifier = tuple[str, str, str, str]


@dataclass(frozen=True)
class Entry:
    """One manager's fields (upstream `VersionedSet`)."""

    set: FieldSet
    api_version: str
    applied: bool


@dataclass
class Managed:
    """All entries of an object, with the time of each manager's last change."""

    fields: dict[Identifier, Entry] = dataclass_field(default_factory=dict)
    times: dict[Identifier, str | None] = dataclass_field(default_factory=dict)

    def copy(self) -> Managed:
        return Managed(dict(self.fields), dict(self.times))

    def set_fields(self, ident: Identifier, fields: FieldSet) -> None:
        """Replace `ident`'s fields, dropping the entry when nothing is left."""
        if fields.empty():
            self.fields.pop(ident, None)
        else:
            self.fields[ident] = replace(self.fields[ident], set=fields)


class Conflicts(Exception):
    """Fields of other managers an apply would change, by manager identity."""

    def __init__(self, sets: dict[Identifier, FieldSet], managed: Managed) -> None:
        self.sets = sets
        self.versions = {ident: managed.fields[ident].api_version for ident in sets}


@dataclass(frozen=True)
class Context:
    """What one request operates on."""

    schema: Node
    api_version: str
    subresource: str
    now: str
    ignored: FieldSet
    builtin: bool


def context(
    schema: Node, api_version: str, subresource: str, now: str, reset: Iterable[Sequence[str]]
) -> Context:
    ignored = FieldSet.of(*(tuple(field(name) for name in path) for path in reset))
    return Context(schema, api_version, subresource, now, ignored, bool(schema.gvks))


def default_reset_fields(schema: Node, subresource: str) -> list[tuple[str, ...]]:
    """Fields a request cannot own: `status` through the main resource, `spec` through
    `status`. Upstream's strategies list more per resource; pass `reset_fields` then."""
    if not subresource:
        return [("status",)] if "status" in schema.properties else []
    return [("spec",)] if subresource == "status" else []


# -- the wire format ---------------------------------------------------------------------


def identifier_json(ident: Identifier) -> str:
    """The identifier as upstream marshals it; conflicts are grouped in this order."""
    parts = zip(("manager", "operation", "apiVersion", "subresource"), ident, strict=True)
    return "{" + ",".join(f'"{k}":{go_json(v)}' for k, v in parts if v) + "}"


def decode(entries: Any) -> Managed:
    """Parse `metadata.managedFields`; ValueError with upstream's message when invalid."""
    out = Managed()
    for i, e in enumerate(entries or ()):
        op = e.get("operation") if isinstance(e, dict) else None
        if op not in ("Apply", "Update"):
            raise ValueError("operation must be `Apply` or `Update`")
        if not e.get("apiVersion"):
            raise ValueError("apiVersion must not be empty")
        if not e.get("fieldsType"):
            raise ValueError(f"missing fieldsType in managed fields entry {i}")
        if e["fieldsType"] != "FieldsV1":
            raise ValueError(f"invalid fieldsType {e['fieldsType']!r} in managed fields entry {i}")
        version, applied = e["apiVersion"], op == "Apply"
        ident = (e.get("manager", ""), op, "" if applied else version, e.get("subresource", ""))
        out.fields[ident] = Entry(from_fields_v1(e.get("fieldsV1") or {}), version, applied)
        out.times[ident] = e.get("time")
    return out


def decode_or_empty(obj: dict[str, Any] | None) -> Managed:
    try:
        return decode((obj or {}).get("metadata", {}).get("managedFields"))
    except (ValueError, AttributeError, TypeError):
        return Managed()


def _seconds(time: str | None) -> int:
    try:
        return int(datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp()) if time else 0
    except ValueError:
        return 0


def encode(managed: Managed) -> list[dict[str, Any]]:
    """Entries in upstream's field order, sorted by operation, time, manager, version."""
    entries = []
    for ident, entry in managed.fields.items():
        e: dict[str, Any] = {"manager": ident[0]} if ident[0] else {}
        e["operation"] = "Apply" if entry.applied else ident[1]
        e["apiVersion"] = entry.api_version
        if managed.times.get(ident):
            e["time"] = managed.times[ident]
        e["fieldsType"] = "FieldsV1"
        e["fieldsV1"] = to_fields_v1(entry.set)
        if ident[3]:
            e["subresource"] = ident[3]
        entries.append(e)
    entries.sort(key=lambda e: (e["operation"], _seconds(e.get("time")), e.get("manager", ""),
                                e["apiVersion"], e.get("subresource", "")))  # fmt: skip
    return entries


def with_managed_fields(obj: dict[str, Any], managed: Managed) -> dict[str, Any]:
    entries = encode(managed)
    if entries:
        obj.setdefault("metadata", {})["managedFields"] = entries
    elif isinstance(obj.get("metadata"), dict):
        obj["metadata"].pop("managedFields", None)
    return obj


def without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    out = deep_copy(obj)
    if isinstance(out.get("metadata"), dict):
        out["metadata"].pop("managedFields", None)
    return out


def is_reset(entries: Any) -> bool:
    """`[]` or `[{}]`: the client asks to drop all managedFields."""
    if not isinstance(entries, list):
        return False
    return not entries or (len(entries) == 1 and not any(entries[0].values()))


# -- structured-merge-diff's Updater ---------------------------------------------------


def smd_update(
    old: Any, new: Any, managed: Managed, workflow: Identifier, force: bool, ctx: Context
) -> Comparison:
    cmp = compare(old, new, ctx.schema).exclude(ctx.ignored)
    changed = cmp.modified.union(cmp.added)
    conflicts = {}
    for ident, entry in managed.fields.items():
        found = entry.set.intersection(changed)
        if ident != workflow and not found.empty():
            conflicts[ident] = found
    if conflicts and not force:
        raise Conflicts(conflicts, managed)
    for ident, entry in list(managed.fields.items()):
        if ident == workflow:
            managed.set_fields(ident, entry.set)
        else:
            rest = entry.set.difference(conflicts.get(ident, FieldSet()))
            managed.set_fields(ident, rest.difference(cmp.removed))
    return cmp


def smd_apply(
    live: Any, config: Any, managed: Managed, ident: Identifier, force: bool, ctx: Context
) -> Any:
    """The merged object, or None when applying changes nothing."""
    merged = merge(live, config, ctx.schema)
    last = managed.fields.get(ident)
    applied = to_field_set(config, ctx.schema).recursive_difference(ctx.ignored)
    managed.fields[ident] = Entry(applied, ctx.api_version, True)
    merged = _prune(merged, managed, last, ctx.schema)
    smd_update(live, merged, managed, ident, force, ctx)
    return None if equal(live, merged) else merged


def _prune(merged: Any, managed: Managed, last: Entry | None, node: Node) -> Any:
    """Remove what the applier applied last time, no longer applies and nobody owns."""
    if last is None or last.set.empty():
        return merged

    def named(s: FieldSet) -> FieldSet:
        return ensure_named_fields_are_members(s, node)

    def owned_by(v: Any) -> FieldSet:
        return named(to_field_set(v, node))

    pruned = remove_items(merged, named(last.set), node)
    owned = FieldSet()
    for entry in managed.fields.values():
        owned = owned.union(entry.set)
    merged_set = owned_by(merged)
    pruned = remove_items(merged, merged_set.difference(owned_by(pruned).union(named(owned))), node)
    dangling = merged_set.difference(owned_by(pruned)).intersection(named(last.set))
    return remove_items(merged, dangling, node)


# -- the field manager chain -------------------------------------------------------------


def strip(managed: Managed, ident: Identifier) -> None:
    """Drop server-set metadata, apiVersion and kind from `ident`'s fields."""
    if ident in managed.fields:
        managed.set_fields(ident, managed.fields[ident].set.difference(_STRIP))


def update(
    old: Any, new: Any, managed: Managed, manager: str, ctx: Context, operation: str = "Update"
) -> None:
    """capManagers -> buildManagerInfo -> managedFieldsUpdater -> stripMeta -> Update."""
    version = "" if operation == "Apply" else ctx.api_version
    ident = (manager or "unknown", operation, version, ctx.subresource)
    if ctx.builtin:
        old, new = zero_overlay(old, ctx.schema), zero_overlay(new, ctx.schema)
    cmp = smd_update(old, new, managed, _SELF, True, ctx)
    mine = cmp.modified.union(cmp.added).difference(cmp.removed).recursive_difference(ctx.ignored)
    if not mine.empty():
        managed.fields[_SELF] = Entry(mine, ctx.api_version, operation == "Apply")
        strip(managed, _SELF)
    current = managed.fields.pop(_SELF, None)
    if current is not None:
        if ident in managed.fields:
            current = replace(current, set=current.set.union(managed.fields[ident].set))
        managed.fields[ident] = current
        managed.times[ident] = ctx.now
    _cap_update_managers(managed)


def _cap_update_managers(managed: Managed) -> None:
    """Merge the oldest update entries into per-version "ancient-changes" buckets."""
    updaters = [ident for ident, entry in managed.fields.items() if not entry.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return
    updaters.sort(key=lambda i: (_seconds(managed.times.get(i)), identifier_json(i)))
    first_of_version: dict[str, Identifier] = {}
    length = len(updaters)
    for ident in updaters:
        if length <= MAX_UPDATE_MANAGERS:
            break
        entry = managed.fields[ident]
        bucket = ("ancient-changes", "Update", entry.api_version, "")
        first = first_of_version.setdefault(entry.api_version, ident)
        if first is ident:
            continue
        if bucket not in managed.fields:
            managed.fields[bucket] = managed.fields.pop(first)
        merged = entry.set.union(managed.fields[bucket].set)
        managed.fields[bucket] = Entry(merged, entry.api_version, entry.applied)
        del managed.fields[ident]
        managed.times[bucket] = managed.times.get(ident)
        length -= 1


def apply_once(
    live: Any, exists: bool, config: Any, managed: Managed, ident: Identifier, force: bool,
    ctx: Context,
) -> Any:  # fmt: skip
    """skipNonApplied -> buildManagerInfo -> managedFieldsUpdater -> stripMeta -> Apply.

    Returns the new object; the live one (a copy) when nothing changed.
    """
    if not managed.fields and exists:
        empty = {k: live[k] for k in ("apiVersion", "kind") if k in live}
        update(empty, live, managed, "before-first-apply", ctx)
    merged = smd_apply(live, config, managed, ident, force, ctx)
    strip(managed, ident)
    if merged is None:
        return deep_copy(live)
    managed.times[ident] = ctx.now
    return merged


def allowed_by_last_applied(live: dict[str, Any], ctx: Context) -> FieldSet | None:
    """Fields kubectl's client-side apply owned, which kubectl may take over."""
    raw = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        last = json.loads(raw) if raw else None
        if not isinstance(last, dict) or last.get("apiVersion") != ctx.api_version:
            return None
        owned = to_field_set(last, ctx.schema)
        cmp = compare(last, live, ctx.schema)
    except (ValueError, ApplyError):
        return None
    return owned.difference(cmp.modified).difference(cmp.added).difference(cmp.removed)


def last_applied(config: dict[str, Any]) -> str:
    """The last-applied annotation kubectl would write for `config`."""
    obj = deep_copy(config)
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
    return go_json(obj) + "\n"


def zero_overlay(v: Any, node: Node | None) -> Any:
    """`v` with what Go renders for absent non-pointer structs and required fields."""
    kind, node = resolve(node, v)
    if node is None or kind == "scalar" or v is None:
        return v
    if kind == "list":
        return [zero_overlay(item, node.items) for item in v]
    if not node.is_struct:
        return {k: zero_overlay(x, node.values) for k, x in v.items()} if node.values else v
    out = {k: zero_overlay(x, node.properties.get(k)) for k, x in v.items()}
    required = set(node.required)
    for name, prop in node.properties.items():
        if name in out:
            continue
        struct = prop.is_struct and not atomic_map(prop)
        by_value = name in ("metadata", "spec", "status", *_VALUE_STRUCTS.get(node.ref or "", ()))
        if struct and by_value:
            out[name] = zero_overlay({}, prop)
        elif name in required:
            out[name] = zero_overlay({}, prop) if struct else None
    return out
