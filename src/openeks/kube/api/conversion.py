"""Conversions between served versions that share one storage representation.

Only Events need one today: `events.k8s.io/v1` Events are stored as core `v1` Events,
exactly as upstream stores both at /registry/events, with the field renames of
upstream's pkg/apis/events/v1 conversion.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

# events.k8s.io/v1 name -> core/v1 name
_EVENT_RENAMES = {
    "regarding": "involvedObject",
    "note": "message",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
    "reportingController": "reportingComponent",
}
_EVENT_RENAMES_BACK = {v: k for k, v in _EVENT_RENAMES.items()}


def _rename(obj: Obj, renames: dict[str, str], api_version: str) -> Obj:
    out: Obj = {}
    for key, value in obj.items():
        out[renames.get(key, key)] = value
    out["apiVersion"] = api_version
    return out


_NONE_CONVERTED: dict[tuple[str, str], str] = {}
"""(group, kind) of custom resources -> their storage version ("None" conversion)."""


def register_custom(group: str, kind: str, storage_version: str) -> None:
    _NONE_CONVERTED[(group, kind)] = storage_version


def unregister_custom(group: str, kind: str) -> None:
    _NONE_CONVERTED.pop((group, kind), None)


def _with_version(obj: Obj, api_version: str) -> Obj:
    if obj.get("apiVersion") == api_version:
        return obj
    out = dict(obj)
    out["apiVersion"] = api_version
    return out


def to_storage(group: str, version: str, kind: str, obj: Obj) -> Obj:
    """The storage form of `obj` as served at group/version."""
    if group == "events.k8s.io" and kind == "Event":
        return _rename(obj, _EVENT_RENAMES, "v1")
    storage = _NONE_CONVERTED.get((group, kind))
    if storage is not None:
        return _with_version(obj, f"{group}/{storage}")
    return obj


def from_storage(group: str, version: str, kind: str, obj: Obj) -> Obj:
    """`obj` (storage form) as served at group/version; a new dict when it differs."""
    if group == "events.k8s.io" and kind == "Event":
        out = _rename(obj, _EVENT_RENAMES_BACK, "events.k8s.io/v1")
        out.setdefault("reportingController", "")
        out.setdefault("reportingInstance", "")
        return out
    if (group, kind) in _NONE_CONVERTED:
        return _with_version(obj, f"{group}/{version}")
    return obj


def needs_conversion(group: str, kind: str) -> bool:
    return group == "events.k8s.io" and kind == "Event"
