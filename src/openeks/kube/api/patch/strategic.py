"""Strategic merge patch (`application/strategic-merge-patch+json`), the apply half.

A port of apimachinery's `strategicpatch.StrategicMergeMapPatch` (v0.36, with
`MergeParallelList` and `IgnoreUnmatchedNulls`, as the API server calls it). The patch
metadata Go reads from struct tags comes from the OpenAPI schema instead: for the field
`key` of the map at `schema`, `schema.field(key)` gives `x-kubernetes-patch-strategy`
(`merge`, `replace`, `retainKeys` or `merge,retainKeys`) and `x-kubernetes-patch-merge-key`.

- Maps merge recursively; `null` deletes; a `replace` strategy takes the patch map whole.
- Lists replace, unless their strategy is `merge`: lists of maps then merge element by
  element on the merge key, lists of scalars become unions.
- Directives: `$patch: replace|delete` in a map, `$patch: replace|delete` as list elements,
  `$retainKeys`, `$setElementOrder/<field>`, `$deleteFromPrimitiveList/<field>`.
- Where the schema says nothing (`schema` None, free-form or preserve-unknown-fields
  positions) a field has no strategy: maps still merge and lists are replaced, which is
  JSON merge patch semantics, with the directives above still honoured.

As upstream, a value put where the original had none (or had another type) loses its
`null` members and its `$patch` maps, but keeps other directive keys; list elements added
by a merge are taken as they are. Inputs are copied first and never mutated.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api.patch._values import SLICE, deep_copy, go_format, go_type
from openeks.kube.api.patch.errors import (
    BAD_REQUEST,
    INTERNAL,
    PatchError,
    bad_arg_type,
    bad_patch_format_for_primitive_list,
    bad_patch_format_for_retain_keys,
    bad_patch_format_for_set_element_order,
    bad_patch_type,
    no_merge_key,
)
from openeks.kube.api.patch.strategic_lists import (
    DELETE,
    DIRECTIVE,
    MERGE,
    REPLACE,
    SET_ELEMENT_ORDER,
    apply_list_directives,
    deduplicate,
    delete_from_list,
    element_type,
    find_by_key,
    is_map_type,
    normalize_order,
    partition,
    validate_set_order,
)
from openeks.kube.api.schema import Node

RETAIN_KEYS = "retainKeys"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
_ABSENT = object()


def strategic_merge_patch(original: Any, patch: Any, schema: Node | None) -> dict[str, Any]:
    """Apply a strategic merge patch to the object `original` described by `schema`."""
    if patch is None:
        patch = {}
    if not isinstance(patch, dict):
        kind = "array" if isinstance(patch, list) else _json_kind(patch)
        raise PatchError(
            f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}",
            BAD_REQUEST,
        )
    if original is None:
        original = {}
    if not isinstance(original, dict):
        raise PatchError("invalid JSON document", BAD_REQUEST)
    return _merge_map(deep_copy(original), deep_copy(patch), schema)


# -- maps ------------------------------------------------------------------------------------
def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], schema: Node | None
) -> dict[str, Any]:
    """Merge `patch` into `original` in place (both are private copies) and return it."""
    if DIRECTIVE in patch:
        return _map_directive(patch[DIRECTIVE], patch)
    _apply_retain_keys(original, patch)
    _apply_set_element_order(original, patch, schema)
    for key, value in list(patch.items()):
        field, delete_list = key, False
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            field = _extract_key(key, DELETE_FROM_PRIMITIVE_LIST) or key
            delete_list = True
        if value is None:
            original.pop(field, None)
            continue
        current = original.get(field, _ABSENT)
        if current is _ABSENT or go_type(current) != go_type(value):
            if not delete_list:
                _put(original, field, value)
            continue
        node = _field(schema, field)
        strategy = _strategy(node)
        if isinstance(current, dict):
            original[field] = value if strategy == REPLACE else _merge_map(current, value, node)
        elif isinstance(current, list):
            merge_key = _merge_key(node)
            merged, _ = _merge_list_field(current, value, node, strategy, merge_key, delete_list)
            original[field] = merged
        else:
            original[field] = value
    return original


def _map_directive(directive: Any, patch: dict[str, Any]) -> dict[str, Any]:
    if directive == REPLACE:
        del patch[DIRECTIVE]
        return patch
    if directive == DELETE:
        return {}
    raise bad_patch_type(directive, patch)


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """`$retainKeys`: clear the original's keys not listed; the patch may set only those."""
    if RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retain = patch.pop(RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retain, list):
        raise bad_patch_format_for_retain_keys()
    keys = {k for k in retain if isinstance(k, str)}
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in keys:
            raise bad_patch_format_for_retain_keys()
    for key in [k for k in original if k not in keys]:
        del original[key]


def _put(original: dict[str, Any], field: str, value: Any) -> None:
    """Take a patch value where there is nothing to merge with: nulls and `$patch` go."""
    _discard_nulls(value)
    kept, keep = _remove_directives(value)
    if keep:
        original[field] = kept
    else:
        original.pop(field, None)


def _discard_nulls(value: Any) -> None:
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for item in value.values():
            _discard_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _discard_nulls(item)


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """Drop maps carrying `$patch`; return the value left and whether to keep it at all."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return None, False
        for key in list(value):
            kept, keep = _remove_directives(value[key])
            if keep:
                value[key] = kept
            else:
                del value[key]
        return value, True
    if isinstance(value, list):
        return [kept for kept, keep in map(_remove_directives, value) if keep], True
    return value, True


# -- $setElementOrder ------------------------------------------------------------------------
def _apply_set_element_order(
    original: dict[str, Any], patch: dict[str, Any], schema: Node | None
) -> None:
    """Merge each list named by a `$setElementOrder/<field>` and put it in that order."""
    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise bad_arg_type(SLICE, order)
        field = _extract_key(key, SET_ELEMENT_ORDER)
        in_original, in_patch = field in original, field in patch
        original_list, patch_list = original.get(field), patch.get(field)
        if in_original and not isinstance(original_list, list):
            raise bad_arg_type(SLICE, original_list)
        if in_patch and not isinstance(patch_list, list):
            raise bad_arg_type(SLICE, patch_list)
        node = _field(schema, field)
        strategy, merge_key = _strategy(node), _merge_key(node)
        validate_set_order(patch_list or [], order, merge_key)
        server_order = original_list or []
        if in_original and in_patch:
            merged, server_order = _merge_list_field(
                server_order, patch_list or [], node, strategy, merge_key, False
            )
        elif in_original:
            merged = server_order
        elif in_patch:
            merged = _remove_directives(patch_list)[0]
        else:
            continue
        named, server_only = partition(merged, order, merge_key)
        of_maps = is_map_type(element_type(original_list or [], patch_list or []))
        original[field] = normalize_order(
            named, server_only, order, server_order, merge_key, of_maps
        )
        patch.pop(field, None)


def _extract_key(key: str, prefix: str) -> str:
    parts = key.split("/", 1)
    if len(parts) < 2 or parts[0] != prefix:
        if prefix == DELETE_FROM_PRIMITIVE_LIST:
            raise bad_patch_format_for_primitive_list()
        raise bad_patch_format_for_set_element_order()
    return parts[1]


# -- lists -----------------------------------------------------------------------------------
def _merge_list_field(
    original: list[Any],
    patch: list[Any],
    node: Node | None,
    strategy: str,
    merge_key: str,
    delete_list: bool,
) -> tuple[list[Any], list[Any]]:
    """The merged list, and the server order upstream's caller then sees (see ListDirectives)."""
    if strategy != MERGE and not delete_list:
        return patch, original
    if not original and not patch:
        return original, original
    kind = element_type(original, patch)
    items = node.items if node is not None else None
    if not is_map_type(kind):
        if delete_list:
            return delete_from_list(original, patch), original
        merged = deduplicate(original + patch)
        named, server_only = partition(merged, patch, "")
        return normalize_order(named, server_only, patch, original, "", False), original
    if not merge_key:
        raise PatchError(f"cannot merge lists without merge key for {_kind_name(items)}", INTERNAL)
    lists = apply_list_directives(original, patch, merge_key)
    merged = _merge_elements(lists.remaining, lists.patch, merge_key, items)
    named, server_only = partition(merged, lists.patch, merge_key)
    result = normalize_order(named, server_only, lists.patch, lists.remaining, merge_key, True)
    return result, lists.server_view(merged)


def _merge_elements(
    original: list[Any], patch: list[Any], merge_key: str, items: Node | None
) -> list[Any]:
    """Merge each patch map into the original map with the same merge key, or append it."""
    merged = list(original)
    for item in patch:
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
        at = find_by_key(merged, merge_key, item[merge_key])
        if at >= 0:
            merged[at] = _merge_map(merged[at], item, items)
        else:
            merged.append(item)
    return merged


# -- schema ----------------------------------------------------------------------------------
def _field(schema: Node | None, key: str) -> Node | None:
    return schema.field(key) if schema is not None else None


def _merge_key(node: Node | None) -> str:
    return (node.patch_merge_key or "") if node is not None else ""


def _strategy(node: Node | None) -> str:
    """The strategy besides retainKeys ('merge', 'replace' or ''), as upstream extracts it."""
    strategies = node.patch_strategies if node is not None else ()
    others = [s for s in strategies if s != RETAIN_KEYS]
    if len(strategies) > 2 or (len(strategies) == 2 and len(others) != 1):
        raise PatchError(f"unexpected patch strategy: {go_format(list(strategies))}", INTERNAL)
    return others[0] if others else ""


def _kind_name(items: Node | None) -> str:
    """The Go kind upstream names in 'cannot merge lists without merge key for ...'."""
    if items is None:
        return "interface"
    if items.is_struct:
        return "struct"
    if items.is_map:
        return "map"
    names = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool"}
    return names.get(items.type or "", "interface")


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"
