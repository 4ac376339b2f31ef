"""List helpers of strategic merge patch: element typing, list directives, and ordering.

Ordering follows upstream's design (preserve-order-in-strategic-merge-patch): after a merge,
the items named by the patch (or by its `$setElementOrder/<field>` list) keep the patch's
order, the items only the server has keep the server's order, and the two sequences are
interleaved by walking both and taking the server item first only when the server list
puts it before the next patch item. Items new to the server therefore land before the
remaining server-only items unless a `$setElementOrder` list places them.

These functions take and return lists without touching the maps inside; the recursive
merge of list elements lives in `strategic`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openeks.kube.api.patch._values import MAP, SLICE, go_format, go_type, json_equal, scalar_key
from openeks.kube.api.patch.errors import (
    INTERNAL,
    PatchError,
    bad_arg_type,
    bad_patch_type,
    no_list_of_lists,
    no_merge_key,
)

DIRECTIVE = "$patch"
DELETE = "delete"
REPLACE = "replace"
MERGE = "merge"
SET_ELEMENT_ORDER = "$setElementOrder"


# -- element types ---------------------------------------------------------------------------
def element_type(*lists: list[Any]) -> str:
    """The one Go type of all elements of `lists`; errors for mixed types or lists of lists."""
    found: str | None = None
    for items in lists:
        for item in items:
            kind = go_type(item)
            if found is None:
                if item is None:
                    raise PatchError("list elements must not start with null", INTERNAL)
                if kind == SLICE:
                    raise no_list_of_lists()
                found = kind
            elif kind != found:
                shown = go_format(list(lists))
                raise PatchError(f"list element types are not identical: {shown}", INTERNAL)
    if found is None:
        raise PatchError("no elements in any of the given slices", INTERNAL)
    return found


def is_map_type(kind: str) -> bool:
    return kind == MAP


# -- directives inside lists -----------------------------------------------------------------
@dataclass
class ListDirectives:
    """A merging list of maps after its `$patch` elements were applied.

    `shared` is what upstream's caller still sees of the original list: Go deletes entries
    by shifting the backing array in place, and appends of new entries then reuse the freed
    slots. `$setElementOrder` takes its server order from that view, so the ordering of
    kubectl's add-and-delete patches depends on it (see `server_view`).
    """

    remaining: list[Any]
    patch: list[Any]
    shared: list[Any]
    replaced: bool

    def server_view(self, merged: list[Any]) -> list[Any]:
        """The shared view once the entries of `merged` past `remaining` were appended."""
        view = list(self.shared)
        if not self.replaced:
            start = len(self.remaining)
            appended = merged[start:]
            view[start:] = (appended + view[start + len(appended) :])[: len(view) - start]
        return view


def apply_list_directives(original: list[Any], patch: list[Any], merge_key: str) -> ListDirectives:
    """Handle `$patch` elements: deletions leave the original, `replace` drops it altogether."""
    plain: list[Any] = []
    shared = list(original)
    length = len(shared)
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == DELETE:
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            while (at := find_by_key(shared[:length], merge_key, item[merge_key])) >= 0:
                shared[at : length - 1] = shared[at + 1 : length]
                length -= 1
        elif directive == REPLACE:
            replace = True
        elif directive == MERGE:
            raise PatchError("merging lists cannot yet be specified in the patch", INTERNAL)
        else:
            raise bad_patch_type(directive, item)
    if replace:
        return ListDirectives(plain, [], shared, replaced=True)
    return ListDirectives(shared[:length], plain, shared, replaced=False)


def find_by_key(items: list[Any], merge_key: str, value: Any) -> int:
    """Index of the first map whose merge key equals `value`, or -1."""
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise PatchError(f"value for key {position} is not a map", INTERNAL)
        if _has_key_value(item, merge_key, value):
            return position
    return -1


def delete_from_list(current: list[Any], to_delete: list[Any]) -> list[Any]:
    """`$deleteFromPrimitiveList`: every occurrence of every listed value goes."""
    gone = {scalar_key(v) for v in to_delete}
    return [v for v in current if scalar_key(v) not in gone]


def deduplicate(items: list[Any]) -> list[Any]:
    seen: set[tuple[str, Any]] = set()
    unique = []
    for item in items:
        key = scalar_key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def extract_deletions(items: list[Any]) -> tuple[list[Any], list[Any]]:
    """Split maps into those without and those with `$patch: delete`."""
    keep: list[Any] = []
    delete: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise bad_arg_type(MAP, item)
        directive = item.get(DIRECTIVE)
        (delete if directive == DELETE else keep).append(item)
    return keep, delete


# -- $setElementOrder ------------------------------------------------------------------------
def validate_set_order(patch: list[Any], order: list[Any], merge_key: str) -> None:
    """The patch items must appear in `order`, in the same relative order."""
    if not order or not patch:
        return
    items = extract_deletions(patch)[0] if merge_key else patch
    at_patch = at_order = 0
    while at_patch < len(items) and at_order < len(order):
        item = items[at_patch]
        if isinstance(item, dict) and DIRECTIVE in item:
            at_patch += 1
            continue
        if _merge_key_equal(item, order[at_order], merge_key):
            at_patch += 1
        at_order += 1
    if at_patch < len(items) and at_order >= len(order):
        raise PatchError(
            f"the order in patch list:\n{go_format(patch)}\n doesn't match "
            f"{SET_ELEMENT_ORDER} list:\n{go_format(order)}",
            INTERNAL,
        )


# -- ordering --------------------------------------------------------------------------------
def partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Split `merged` into the items present in `by` and the server-only rest."""
    named: list[Any] = []
    server_only: list[Any] = []
    if not merge_key:
        wanted = {scalar_key(v) for v in by}
        for item in merged:
            (named if scalar_key(item) in wanted else server_only).append(item)
        return named, server_only
    for item in merged:
        if not isinstance(item, dict):
            raise bad_arg_type(MAP, item)
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
        found = find_by_key(by, merge_key, item[merge_key]) >= 0
        (named if found else server_only).append(item)
    return named, server_only


def normalize_order(
    named: list[Any],
    server_only: list[Any],
    named_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    of_maps: bool,
) -> list[Any]:
    """Sort both partitions by their reference order, then interleave them."""
    named = _sort_by(named, named_order, merge_key, of_maps)
    server_only = _sort_by(server_only, server_order, merge_key, of_maps)
    merged: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(named):
        take_server = j >= len(named) or (
            i < len(server_only)
            and _before(server_only[i], named[j], server_order, merge_key, of_maps)
        )
        if take_server:
            merged.append(server_only[i])
            i += 1
        else:
            merged.append(named[j])
            j += 1
    return merged


def _sort_by(items: list[Any], order: list[Any], merge_key: str, of_maps: bool) -> list[Any]:
    deletions: list[Any] = []
    if of_maps:
        for group in (items, order):
            for item in group:
                if not isinstance(item, dict):
                    raise bad_arg_type(MAP, item)
                if merge_key not in item:
                    raise no_merge_key(item, merge_key)
        items, deletions = extract_deletions(items)
    ranked = sorted(items, key=lambda item: _index(order, item, merge_key, of_maps))
    return ranked + deletions


def _before(server: Any, named: Any, order: list[Any], merge_key: str, of_maps: bool) -> bool:
    left = _index(order, server, merge_key, of_maps)
    right = _index(order, named, merge_key, of_maps)
    return left >= 0 and right >= 0 and left < right


def _index(items: list[Any], wanted: Any, merge_key: str, of_maps: bool) -> int:
    probe = _key_of(wanted, merge_key) if of_maps else wanted
    for position, item in enumerate(items):
        if json_equal(probe, _key_of(item, merge_key) if of_maps else item):
            return position
    return -1


def _key_of(item: Any, merge_key: str) -> Any:
    return item.get(merge_key) if isinstance(item, dict) else None


def _has_key_value(item: Any, merge_key: str, value: Any) -> bool:
    return isinstance(item, dict) and merge_key in item and json_equal(item[merge_key], value)


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return json_equal(left, right)
    for side in (left, right):
        if not isinstance(side, dict):
            raise bad_arg_type(MAP, side)
        if merge_key not in side:
            raise no_merge_key(side, merge_key)
    return json_equal(left[merge_key], right[merge_key])
