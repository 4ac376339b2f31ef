"""Hashes that name things: `pod-template-hash`, ControllerRevision names.

- `fnv32` / `fnv32a` are Go's `hash/fnv` New32 and New32a.
- `safe_encode_string` is apimachinery's `rand.SafeEncodeString`: each byte mapped onto
  an alphabet without vowels (no words) or look-alike characters.
- `go_json` is Go's `json.Marshal` of a decoded JSON value (`map[string]interface{}`):
  keys sorted, no spaces, `<`, `>`, `&`, U+2028 and U+2029 escaped. ControllerRevision
  data is produced that way upstream and its bytes are hashed, so they must match.
- `template_hash` is `controller.ComputeHash`: FNV-1a over the template, then the
  collision count as 8 little-endian bytes, rendered with `safe_encode_string`. Upstream
  feeds the hash a `go-spew` dump of the Go struct, which depends on Go's type layout;
  here the pre-image is the canonical JSON of the template with empty values dropped,
  so the hash is stable and has the same shape (up to 10 characters of the same
  alphabet), but is not the value a Go controller would compute for the same template.
- `equal_ignore_hash` is `EqualIgnoreHash`: templates compared as upstream's semantic
  equality does (empty and absent are the same) with `pod-template-hash` ignored; this,
  not the hash, is how a Deployment finds the ReplicaSet of its template.
"""

from __future__ import annotations

import json
import struct
from typing import Any

POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
"""apps/v1 DefaultDeploymentUniqueLabelKey."""

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF


def fnv32(data: bytes, h: int = _FNV_OFFSET) -> int:
    """FNV-1, 32 bits (Go's `fnv.New32`); pass `h` to continue a running hash."""
    for byte in data:
        h = ((h * _FNV_PRIME) & _MASK) ^ byte
    return h


def fnv32a(data: bytes, h: int = _FNV_OFFSET) -> int:
    """FNV-1a, 32 bits (Go's `fnv.New32a`); pass `h` to continue a running hash."""
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return h


def safe_encode_string(s: str) -> str:
    return "".join(_SAFE_ALPHABET[b % len(_SAFE_ALPHABET)] for b in s.encode())


def go_json(value: Any) -> bytes:
    """Go's `json.Marshal` of a generic JSON value."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text.encode()


def semantic(value: Any) -> Any:
    """`value` without nulls, empty strings, maps and lists: what Go would decode as zero
    values, which Semantic.DeepEqual does not tell from absent ones."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            cleaned = semantic(item)
            if cleaned is None or cleaned == "" or cleaned == {} or cleaned == []:
                continue
            out[key] = cleaned
        return out
    if isinstance(value, list):
        return [semantic(item) for item in value]
    return value


def without_hash_label(template: dict[str, Any]) -> dict[str, Any]:
    labels = (template.get("metadata") or {}).get("labels")
    if not labels or POD_TEMPLATE_HASH_LABEL not in labels:
        return template
    labels = {k: v for k, v in labels.items() if k != POD_TEMPLATE_HASH_LABEL}
    return {**template, "metadata": {**template["metadata"], "labels": labels}}


def equal_ignore_hash(t1: dict[str, Any], t2: dict[str, Any]) -> bool:
    return bool(semantic(without_hash_label(t1)) == semantic(without_hash_label(t2)))


def template_hash(template: dict[str, Any], collision_count: int | None = None) -> str:
    """`controller.ComputeHash` (see the module docstring for the pre-image)."""
    h = fnv32a(go_json(semantic(template)))
    if collision_count is not None:
        h = fnv32a(struct.pack("<I", collision_count & _MASK) + b"\0\0\0\0", h)
    return safe_encode_string(str(h))
