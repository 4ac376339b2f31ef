"""Field paths, field sets and the `fieldsV1` wire format of `metadata.managedFields`.

A port of structured-merge-diff's `fieldpath` package. A path is a tuple of
`PathElement`s; each element is one of:

- a field name (`f:name`): a struct field or a map key,
- a key (`k:{"name":"nginx"}`): an item of a list-type map, by its key fields,
- a value (`v:"foo"`): an item of a set, by its value,
- an index (`i:3`): an item of an atomic list (only met in hand-written sets).

`PathElement` is a `(kind, value)` tuple whose natural order is upstream's order
(fields < keys < values < indexes; values: numbers < strings < booleans < lists < maps
< null), so sorted sets serialise byte-for-byte as upstream's `fieldsV1`. JSON values
inside keys and set items are stored "frozen" (hashable, with Go's equality: `1 == 1.0`
but `1 != true`).

`FieldSet` is upstream's trie: `members` are the paths that are in the set, `children`
the sub-tries of elements that have members below them (a child is never empty).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

FIELD, KEY, VALUE, INDEX = 0, 1, 2, 3
_NUM, _STR, _BOOL, _LIST, _MAP, _NULL = range(6)


class PathElement(NamedTuple):
    """One step of a path; `value` is a name, a key tuple, a frozen value or an int."""

    kind: int
    value: Any


Path = tuple[PathElement, ...]


def field(name: str) -> PathElement:
    return PathElement(FIELD, name)


def key(fields: Mapping[str, Any]) -> PathElement:
    return PathElement(KEY, tuple(sorted((k, freeze(v)) for k, v in fields.items())))


def value(item: Any) -> PathElement:
    return PathElement(VALUE, freeze(item))


def index(i: int) -> PathElement:
    return PathElement(INDEX, i)


# -- frozen JSON values --------------------------------------------------------------


def freeze(v: Any) -> tuple[Any, ...]:
    """A hashable, ordered stand-in for a JSON value, with Go's equality."""
    if v is None:
        return (_NULL,)
    if isinstance(v, bool):
        return (_BOOL, v)
    if isinstance(v, int | float):
        return (_NUM, v)
    if isinstance(v, str):
        return (_STR, v)
    if isinstance(v, list | tuple):
        return (_LIST, tuple(freeze(x) for x in v))
    if isinstance(v, dict):
        return (_MAP, tuple(sorted((str(k), freeze(x)) for k, x in v.items())))
    raise TypeError(f"not a JSON value: {v!r}")


def thaw(f: tuple[Any, ...]) -> Any:
    tag = f[0]
    if tag == _NULL:
        return None
    if tag == _LIST:
        return [thaw(x) for x in f[1]]
    if tag == _MAP:
        return {k: thaw(x) for k, x in f[1]}
    return f[1]


# -- Go-compatible JSON and strings --------------------------------------------------

_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
_HTML_ESCAPES.update({"\u2028": "\\u2028", "\u2029": "\\u2029"})


def _go_string(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    for char, escaped in _HTML_ESCAPES.items():
        out = out.replace(char, escaped)
    return out


def _go_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f"unsupported value: {f}")
    if f.is_integer() and abs(f) < 1e21:
        return str(int(f))
    if 1e-6 <= abs(f) < 1e21:
        return format(Decimal(repr(f)), "f")
    mantissa, _, exp = repr(f).partition("e")
    sign, digits = (exp[0], exp[1:]) if exp[0] in "+-" else ("+", exp)
    return f"{mantissa}e{sign}{digits.lstrip('0') or '0'}"


def go_json(v: Any) -> str:
    """Compact JSON as Go's encoding/json writes it (sorted keys, HTML escaping)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _go_float(v)
    if isinstance(v, str):
        return _go_string(v)
    if isinstance(v, list | tuple):
        return "[" + ",".join(go_json(x) for x in v) + "]"
    if isinstance(v, dict):
        items = sorted(v.items())
        return "{" + ",".join(f"{_go_string(k)}:{go_json(x)}" for k, x in items) + "}"
    raise TypeError(f"not a JSON value: {v!r}")


def _go_display(f: tuple[Any, ...]) -> str:
    """A frozen value as Go's `value.ToString` shows it (strings quoted)."""
    if f[0] == _STR:
        return json.dumps(f[1], ensure_ascii=False)
    if f[0] == _LIST:
        return "[" + ",".join(_go_display(x) for x in f[1]) + "]"
    if f[0] == _MAP:
        return "".join(f"{k}={_go_display(x)}" for k, x in f[1])
    return go_json(thaw(f))


def element_string(pe: PathElement) -> str:
    """Upstream's human form: `.name`, `[name="nginx"]`, `[="foo"]`, `[3]`."""
    if pe.kind == FIELD:
        return "." + pe.value
    if pe.kind == KEY:
        return "[" + ",".join(f"{k}={_go_display(v)}" for k, v in pe.value) + "]"
    if pe.kind == VALUE:
        return f"[={_go_display(pe.value)}]"
    return f"[{pe.value}]"


def path_string(path: Sequence[PathElement]) -> str:
    """Upstream's `Path.String()`: `.spec.template.spec.containers[name="web"].image`."""
    return "".join(element_string(pe) for pe in path)


# -- serialised path elements ("f:name", "k:{...}", "v:...", "i:3") ---------------------


def serialize_element(pe: PathElement) -> str:
    if pe.kind == FIELD:
        return "f:" + pe.value
    if pe.kind == KEY:
        return "k:{" + ",".join(f"{_go_string(k)}:{go_json(thaw(v))}" for k, v in pe.value) + "}"
    if pe.kind == VALUE:
        return "v:" + go_json(thaw(pe.value))
    return f"i:{pe.value}"


def parse_element(text: str) -> PathElement | None:
    """The element for a `fieldsV1` key; None for unknown prefixes (upstream skips them)."""
    if len(text) < 2 or text[1] != ":":
        raise ValueError(f"invalid path element {text!r}")
    kind, body = text[0], text[2:]
    if kind == "f":
        return field(body)
    if kind == "v":
        return value(json.loads(body))
    if kind == "k":
        fields = json.loads(body)
        if not isinstance(fields, dict):
            raise ValueError(f"invalid key path element {text!r}")
        return key(fields)
    if kind == "i":
        return index(int(body))
    return None


# -- sets ------------------------------------------------------------------------------


class FieldSet:
    """A set of paths stored as a trie (upstream `fieldpath.Set`)."""

    __slots__ = ("children", "members")

    def __init__(
        self,
        members: set[PathElement] | None = None,
        children: dict[PathElement, FieldSet] | None = None,
    ) -> None:
        self.members: set[PathElement] = members if members is not None else set()
        self.children: dict[PathElement, FieldSet] = children if children is not None else {}

    @classmethod
    def of(cls, *paths: Sequence[PathElement]) -> FieldSet:
        out = cls()
        for p in paths:
            out.insert(p)
        return out

    def insert(self, path: Sequence[PathElement]) -> None:
        """Add `path`; its parents are not added. The empty path is never a member."""
        if not path:
            return
        node = self
        for pe in path[:-1]:
            node = node.children.setdefault(pe, FieldSet())
        node.members.add(path[-1])

    def has(self, path: Sequence[PathElement]) -> bool:
        if not path:
            return False
        node: FieldSet | None = self
        for pe in path[:-1]:
            node = node.children.get(pe) if node is not None else None
        return node is not None and path[-1] in node.members

    def empty(self) -> bool:
        return not self.members and not self.children

    def union(self, other: FieldSet) -> FieldSet:
        children = dict(self.children)
        for pe, sub in other.children.items():
            mine = children.get(pe)
            children[pe] = sub if mine is None else mine.union(sub)
        return FieldSet(self.members | other.members, children)

    def intersection(self, other: FieldSet) -> FieldSet:
        children = {}
        for pe, sub in self.children.items():
            theirs = other.children.get(pe)
            if theirs is not None:
                both = sub.intersection(theirs)
                if not both.empty():
                    children[pe] = both
        return FieldSet(self.members & other.members, children)

    def difference(self, other: FieldSet) -> FieldSet:
        """Members minus members; a parent minus its child stays, a child minus its parent
        stays too (upstream's Difference only looks at the same position)."""
        children = {}
        for pe, sub in self.children.items():
            theirs = other.children.get(pe)
            rest = sub if theirs is None else sub.difference(theirs)
            if not rest.empty():
                children[pe] = rest
        return FieldSet(self.members - other.members, children)

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Like difference, but a member of `other` also removes everything below it."""
        children = {}
        for pe, sub in self.children.items():
            if pe in other.members:
                continue
            theirs = other.children.get(pe)
            rest = sub if theirs is None else sub.recursive_difference(theirs)
            if not rest.empty():
                children[pe] = rest
        return FieldSet(self.members - other.members, children)

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Members in upstream's order: this level's members, then each child's."""
        for pe in sorted(self.members):
            yield (*prefix, pe)
        for pe in sorted(self.children):
            yield from self.children[pe].paths((*prefix, pe))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return self.members == other.members and self.children == other.children

    def __repr__(self) -> str:
        return f"FieldSet({', '.join(path_string(p) for p in self.paths())})"


# -- fieldsV1 ----------------------------------------------------------------------------


def to_fields_v1(s: FieldSet) -> dict[str, Any]:
    """The `fieldsV1` object, keys in upstream's order and "." first where emitted."""
    return _emit(s, include_self=False)


def _emit(s: FieldSet, *, include_self: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if include_self and not s.empty():
        out["."] = {}
    for pe in sorted(s.members | s.children.keys()):
        child = s.children.get(pe)
        if child is None:
            out[serialize_element(pe)] = {}
        else:
            out[serialize_element(pe)] = _emit(child, include_self=pe in s.members)
    return out


def from_fields_v1(raw: Mapping[str, Any]) -> FieldSet:
    """Parse a `fieldsV1` object; raises ValueError when a key does not parse."""
    found, _ = _read(raw)
    return found if found is not None else FieldSet()


def _read(raw: Mapping[str, Any]) -> tuple[FieldSet | None, bool]:
    if not isinstance(raw, Mapping):
        raise ValueError("fieldsV1 entries must be objects")
    children: FieldSet | None = None
    is_member = False
    for text, sub in raw.items():
        if text == ".":
            is_member = True
            continue
        pe = parse_element(text)
        if pe is None:
            continue
        grandchildren, child_is_member = _read(sub)
        if children is None:
            children = FieldSet()
        if child_is_member:
            children.members.add(pe)
        if grandchildren is not None and not grandchildren.empty():
            children.children[pe] = grandchildren
    if children is None:
        is_member = True
    return children, is_member
