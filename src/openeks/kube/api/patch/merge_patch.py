"""RFC 7386 JSON merge patch (`application/merge-patch+json`) as the API server applies it.

Upstream is evanphx/json-patch v4's `MergePatch`, which follows the RFC (objects merge
recursively, `null` deletes a member, anything else replaces) with these observable details:

- a `null` patch is rejected ("Invalid JSON Patch"), and so is a scalar patch; an array
  patch replaces the whole document;
- a document that is not an object is replaced by the patch;
- where a patch value is put in place (new member, or replacing a non-object), `null`
  members inside its objects are pruned, including objects nested in arrays; `null` array
  elements are kept. A non-object patch value replacing an object is taken as it is.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api.patch._values import deep_copy
from openeks.kube.api.patch.errors import BAD_REQUEST, INTERNAL, PatchError


def merge_patch(document: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch to `document` and return the new document."""
    if document is None:
        raise PatchError("Invalid JSON Document", INTERNAL)
    if patch is None or not isinstance(patch, dict | list):
        raise PatchError("Invalid JSON Patch", BAD_REQUEST)
    patch = deep_copy(patch)
    if not isinstance(patch, dict) or not isinstance(document, dict):
        return _prune(patch)
    result = deep_copy(document)
    _merge_objects(result, patch)
    return result


def _merge_objects(document: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            document.pop(key, None)
            continue
        current = document.get(key)
        if not isinstance(current, dict):
            document[key] = _prune(value)
        elif isinstance(value, dict):
            _merge_objects(current, value)
        else:
            document[key] = value


def _prune(value: Any) -> Any:
    """Drop `null` members from objects, recursively (through arrays too); keep the rest."""
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for v in value.values():
            _prune(v)
    elif isinstance(value, list):
        for v in value:
            _prune(v)
    return value
