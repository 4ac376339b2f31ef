"""Typed reads from JSON-like objects, with Go's zero values for what is absent.

Upstream validates typed structs in which a missing string is "" and a missing list is
empty; these readers give the validators the same view of a dict without crashing on
wrongly typed input (schema validation reports type errors separately).
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def s(obj: Obj | None, key: str) -> str:
    """obj[key] as a string, "" when absent or not a string."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def i(obj: Obj | None, key: str) -> int | None:
    """obj[key] as an int, None when absent (a Go pointer) or not an integer."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def i0(obj: Obj | None, key: str) -> int:
    """obj[key] as an int, 0 when absent (a Go non-pointer int)."""
    value = i(obj, key)
    return 0 if value is None else value


def b(obj: Obj | None, key: str) -> bool | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, bool) else None


def d(obj: Obj | None, key: str) -> Obj | None:
    """obj[key] as a dict, None when absent or not an object (a nil Go pointer)."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else None


def d0(obj: Obj | None, key: str) -> Obj:
    """obj[key] as a dict, {} when absent (a Go struct value)."""
    return d(obj, key) or {}


def items(obj: Obj | None, key: str) -> list[Obj]:
    """obj[key] as a list of objects (non-objects read as empty objects)."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, dict) else {} for item in value]


def strings(obj: Obj | None, key: str) -> list[str]:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, str) else "" for item in value]


def string_map(obj: Obj | None, key: str) -> dict[str, str]:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, dict):
        return {}
    return {str(k): (v if isinstance(v, str) else "") for k, v in value.items()}


def has(obj: Obj | None, key: str) -> bool:
    """True when obj[key] is present and not null (a non-nil Go pointer)."""
    return isinstance(obj, dict) and obj.get(key) is not None
