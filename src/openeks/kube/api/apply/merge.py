"""Schema-aware operations on plain JSON values: field sets, compare, merge, remove.

A port of structured-merge-diff's `typed` package over `schema.Node`. Every walk first
decides what a position holds, as upstream's `deduceAtom` does:

- a scalar (leaf): strings, numbers, booleans, int-or-string, quantities, timestamps;
- a list: `atomic` (one leaf), `set` (items by value) or `map` (items by key fields);
  without `x-kubernetes-list-type`, a `merge` patch strategy makes a set or a map keyed
  by the patch merge key, as kube-openapi's schema converter does;
- a map: a struct (declared fields) or a map (additionalProperties), `atomic` or
  `granular`. Free-form and preserve-unknown-fields positions are granular maps whose
  children are deduced from the values (maps granular, lists atomic), as upstream's
  deduced schema.

`MISSING` stands for Go's nil value (the field is absent), distinct from JSON null.
Upstream distinguishes struct fields from map keys: a map key is always owned as a
path of its own, a struct field only when it is a leaf, null or an empty object.
Live objects may hold list items sharing a key (the first one counts, the others are
kept by merges); `check_applicable` refuses them in a configuration, as upstream does.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from openeks.kube.api.apply.fieldpath import (
    FIELD,
    KEY,
    FieldSet,
    Path,
    PathElement,
    element_string,
    field,
    freeze,
    index,
    key,
    path_string,
    value,
)
from openeks.kube.api.meta import deep_copy
from openeks.kube.api.schema import Node


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

# Defaults of list-map key fields; upstream reads them from the OpenAPI `default`s, which
# the bundled definitions do not carry.
_KEY_DEFAULTS = {"protocol": "TCP"}


class ApplyError(ValueError):
    """The object cannot be handled as its schema says (missing keys, bad items)."""


class Comparison(NamedTuple):
    added: FieldSet
    modified: FieldSet
    removed: FieldSet

    def exclude(self, ignored: FieldSet) -> Comparison:
        return Comparison(
            *(s.recursive_difference(ignored) for s in (self.added, self.modified, self.removed))
        )


# -- what a position holds -------------------------------------------------------------


def _declared(node: Node | None) -> str | None:
    if node is None:
        return None
    if node.int_or_string or node.quantity:
        return "scalar"
    t = node.type
    if t == "array":
        return "list"
    if t == "object" or (t is None and node.values is not None):
        return "map"
    if t is not None or "oneOf" in node.s or "anyOf" in node.s:
        return "scalar"
    return None


def resolve(node: Node | None, v: Any) -> tuple[str, Node | None]:
    """(kind, node) for value `v` at `node`; node is None where children are deduced.

    A null takes the declared kind (a deduced position holds maps first, as upstream).
    """
    declared = _declared(node)
    if v is None or v is MISSING:
        return declared or "map", node
    actual = "map" if isinstance(v, dict) else "list" if isinstance(v, list) else "scalar"
    free = actual == "map" and node is not None and not node.is_struct and node.values is None
    if free and atomic_map(node):
        return actual, node
    return (actual, node) if declared == actual and not free else (actual, None)


def atomic_map(node: Node | None) -> bool:
    return node is not None and node.map_type == "atomic"


def _child(node: Node | None, name: str) -> tuple[Node | None, bool]:
    """The schema of map entry `name` and whether it is a declared (struct) field."""
    if node is None:
        return None, False
    prop = node.properties.get(name)
    if prop is not None:
        return prop, True
    return node.values, False


def list_info(node: Node | None) -> tuple[str, list[str]]:
    """('atomic' | 'set' | 'map', keys) the way kube-openapi converts a list schema."""
    if node is None:
        return "atomic", []
    kind = node.s.get("x-kubernetes-list-type")
    if kind == "map":
        return "map", node.list_map_keys
    if kind == "set":
        return "set", []
    if kind is None and node.s.get("x-kubernetes-patch-strategy") in ("merge", "merge,retainKeys"):
        merge_key = node.patch_merge_key
        return ("map", [merge_key]) if merge_key else ("set", [])
    return "atomic", []


def item_element(node: Node | None, i: int, item: Any) -> PathElement:
    relation, keys = list_info(node)
    if relation == "map":
        if not isinstance(item, dict):
            raise ApplyError("associative list with keys may not have non-map elements")
        fields = {}
        for name in keys:
            if name in item:
                fields[name] = item[name]
            elif name in _KEY_DEFAULTS:
                fields[name] = _KEY_DEFAULTS[name]
            else:
                raise ApplyError(
                    f"associative list with keys has an element that omits key field "
                    f'"{name}" (and doesn\'t have default value)'
                )
        return key(fields)
    if relation == "set":
        if item is None or isinstance(item, dict | list):
            raise ApplyError("associative list without keys has an element that's not a scalar")
        return value(item)
    return index(i)


def _index_items(node: Node | None, items: Any) -> dict[PathElement, Any]:
    """Items by path element, in order; later duplicates are ignored."""
    out: dict[PathElement, Any] = {}
    for i, item in enumerate(items or ()):
        out.setdefault(item_element(node, i, item), item)
    return out


def _items(node: Node | None) -> Node | None:
    return node.items if node is not None else None


def _empty(v: Any) -> bool:
    return v is MISSING or v is None or (isinstance(v, dict | list) and not v)


def equal(a: Any, b: Any) -> bool:
    return freeze(a) == freeze(b)


# -- field sets ------------------------------------------------------------------------


def to_field_set(v: Any, node: Node | None) -> FieldSet:
    """The fields `v` sets (upstream `TypedValue.ToFieldSet`)."""
    return _owned(v, node)[1]


def _owned(v: Any, node: Node | None) -> tuple[bool, FieldSet]:
    kind, node = resolve(node, v)
    out = FieldSet()
    if kind == "scalar":
        return True, out
    if kind == "list":
        if list_info(node)[0] == "atomic":
            return True, out
        for i, item in enumerate(v or ()):
            pe = item_element(node, i, item)
            out.members.add(pe)
            sub = _owned(item, _items(node))[1]
            if not sub.empty():
                out.children[pe] = sub
        return False, out
    if atomic_map(node):
        return True, out
    for name, child_value in (v or {}).items():
        child, named = _child(node, name)
        member, sub = _owned(child_value, child)
        pe = field(name)
        if member or not named or child_value is None or child_value == {}:
            out.members.add(pe)
        if not sub.empty():
            out.children[pe] = sub
    return False, out


def ensure_named_fields_are_members(s: FieldSet, node: Node | None) -> FieldSet:
    """`s` plus every declared struct field that has members below it."""
    members = set(s.members)
    children = {}
    for pe, sub in s.children.items():
        child: Node | None = None
        if pe.kind == FIELD and _declared(node) == "map":
            child, named = _child(node, pe.value)
            if named:
                members.add(pe)
        elif pe.kind == KEY and _declared(node) == "list":
            child = _items(node)
        children[pe] = ensure_named_fields_are_members(sub, child)
    return FieldSet(members, children)


# -- compare ---------------------------------------------------------------------------


def compare(lhs: Any, rhs: Any, node: Node | None) -> Comparison:
    """Fields added, modified and removed going from `lhs` to `rhs`."""
    out = Comparison(FieldSet(), FieldSet(), FieldSet())
    _compare(lhs, rhs, node, (), out)
    return out


def _compare(lhs: Any, rhs: Any, node: Node | None, path: Path, out: Comparison) -> None:
    lkind, lnode = resolve(node, lhs)
    rkind, rnode = resolve(node, rhs)
    kind, node = (lkind, lnode) if rhs is MISSING else (rkind, rnode)
    leaf = kind == "scalar" or (lhs is not MISSING and rhs is not MISSING and lkind != rkind)
    if kind == "list":
        leaf = leaf or list_info(node)[0] == "atomic" or (_empty(lhs) and _empty(rhs))
    elif kind == "map":
        leaf = leaf or atomic_map(node) or (_empty(lhs) and _empty(rhs))
    if leaf:
        if lhs is MISSING:
            out.added.insert(path)
        elif rhs is MISSING:
            out.removed.insert(path)
        elif not equal(lhs, rhs):
            out.modified.insert(path)
        return
    if kind == "list":
        litems = _index_items(node, lhs if lhs is not MISSING else None)
        ritems = _index_items(node, rhs if rhs is not MISSING else None)
        for pe, item in ritems.items():
            _compare(litems.get(pe, MISSING), item, _items(node), (*path, pe), out)
        for pe, item in litems.items():
            if pe not in ritems:
                _compare(item, MISSING, _items(node), (*path, pe), out)
    else:
        lmap = lhs if isinstance(lhs, dict) else {}
        rmap = rhs if isinstance(rhs, dict) else {}
        for name in {**lmap, **rmap}:
            child, _ = _child(node, name)
            pe = field(name)
            _compare(lmap.get(name, MISSING), rmap.get(name, MISSING), child, (*path, pe), out)
    if lhs is MISSING:
        out.added.insert(path)
    elif rhs is MISSING:
        out.removed.insert(path)


# -- merge -----------------------------------------------------------------------------


def merge(lhs: Any, rhs: Any, node: Node | None) -> Any:
    """`rhs` merged onto `lhs` (upstream `TypedValue.Merge`, rule "keep rhs")."""
    if rhs is MISSING:
        return deep_copy(lhs)
    if lhs is MISSING:
        return deep_copy(rhs)
    lkind, _ = resolve(node, lhs)
    kind, node = resolve(node, rhs)
    if kind != lkind or kind == "scalar":
        return deep_copy(rhs)
    if kind == "list":
        if list_info(node)[0] == "atomic" or (_empty(lhs) and _empty(rhs)):
            return deep_copy(rhs)
        return _merge_list(node, lhs or [], rhs or [])
    if atomic_map(node) or (_empty(lhs) and _empty(rhs)):
        return deep_copy(rhs)
    lmap, rmap = lhs or {}, rhs or {}
    out = {}
    for name in {**lmap, **rmap}:
        child, _ = _child(node, name)
        out[name] = merge(lmap.get(name, MISSING), rmap.get(name, MISSING), child)
    return out


def _merge_list(node: Node | None, lhs: list[Any], rhs: list[Any]) -> list[Any]:
    """Upstream's ordering: rhs order wins for shared items, lhs-only items stay in place.

    Duplicated live items stay unless the configuration has their key (then it replaces
    them all), as upstream does since it tolerates duplicates in live objects.
    """
    items = _items(node)
    lmap, rmap = _index_items(node, lhs), _index_items(node, rhs)
    lorder = [(item_element(node, i, item), item) for i, item in enumerate(lhs)]
    rorder = list(rmap)
    shared = iter([pe for pe in rorder if pe in lmap])
    next_shared = next(shared, None)
    out: list[Any] = []
    li = ri = 0
    while li < len(lorder) or ri < len(rorder):
        if li < len(lorder) and ri < len(rorder):
            pe = lorder[li][0]
            if pe == rorder[ri]:
                out.append(merge(lmap[pe], rmap[pe], items))
                li, ri, next_shared = li + 1, ri + 1, next(shared, None)
                continue
            if pe in rmap and next_shared is not None and next_shared != pe:
                li += 1
                continue
        if li < len(lorder) and lorder[li][0] not in rmap:
            out.append(deep_copy(lorder[li][1]))
            li += 1
            continue
        if ri < len(rorder):
            pe = rorder[ri]
            out.append(merge(lmap.get(pe, MISSING), rmap[pe], items))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = next(shared, None)
        else:
            li += 1
    return out


def check_applicable(v: Any, node: Node | None, path: Path = ()) -> None:
    """Raise ApplyError, with upstream's message, for list items without their keys or
    sharing a key: upstream tolerates these in live objects, never in a configuration."""
    kind, node = resolve(node, v)
    if kind == "list" and v and list_info(node)[0] != "atomic":
        seen = set()
        for i, item in enumerate(v):
            try:
                pe = item_element(node, i, item)
            except ApplyError as e:
                raise ApplyError(f"{path_string(path)}: element {i}: {e}") from None
            if pe in seen:
                duplicate = element_string(pe)
                raise ApplyError(f"{path_string(path)}: duplicate entries for key {duplicate}")
            seen.add(pe)
            check_applicable(item, _items(node), (*path, pe))
    elif kind == "map" and v and not atomic_map(node):
        for name, child_value in v.items():
            check_applicable(child_value, _child(node, name)[0], (*path, field(name)))


# -- remove ----------------------------------------------------------------------------


def remove_items(v: Any, to_remove: FieldSet, node: Node | None) -> Any:
    """`v` without the paths in `to_remove` (each with everything below it).

    Where upstream leaves a null behind (a map or list emptied by the removal), the entry
    is dropped: a built-in type's round trip through its Go struct does the same.
    """
    out = _remove(v, to_remove, node)
    return {} if out is MISSING else out


def _remove(v: Any, to_remove: FieldSet, node: Node | None) -> Any:
    kind, node = resolve(node, v)
    if kind == "scalar" or not v:
        return v
    if kind == "list":
        if list_info(node)[0] == "atomic":
            return v
        kept = []
        for i, item in enumerate(v):
            pe = item_element(node, i, item)
            if pe in to_remove.members:
                continue
            sub = to_remove.children.get(pe)
            item = _remove(item, sub, _items(node)) if sub is not None else item
            if item is not MISSING:
                kept.append(item)
        return kept or MISSING
    if atomic_map(node):
        return v
    out = {}
    for name, child_value in v.items():
        pe = field(name)
        if pe in to_remove.members:
            continue
        sub = to_remove.children.get(pe)
        if sub is not None:
            child_value = _remove(child_value, sub, _child(node, name)[0])
        if child_value is not MISSING:
            out[name] = child_value
    return out or MISSING
