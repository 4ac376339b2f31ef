"""RFC 6902 JSON patch (`application/json-patch+json`) as the Kubernetes API server applies it.

The API server uses evanphx/json-patch v4 (`gopkg.in/evanphx/json-patch.v4`), whose
behaviour departs from the RFC in ways clients can observe, and which this module keeps:

- negative array indices count from the end (`/a/-1` is the last element);
- `replace` of a missing object member adds it; `replace` at the root path `""` swaps the
  whole document (and silently does nothing for a value that is neither object nor array);
- `add` and `remove` at the root path fail ("doc is missing path");
- `test` treats a missing member and an explicit `null` alike: testing for `null` passes;
- `copy` from a missing object member copies `null`;
- a path without a leading `/` still works: its first segment is ignored.

Errors carry upstream's wording ("add operation does not apply: doc is missing path: ...").
The document is copied first and never mutated, nor are the operations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from openeks.kube.api.patch._values import deep_copy, go_quote, json_equal
from openeks.kube.api.patch.errors import BAD_REQUEST, PatchError

Container = dict[str, Any] | list[Any]

_MISSING = "missing value"
_INVALID_INDEX = "invalid index referenced"
_TEST_FAILED = "test failed"
_INDEX = re.compile(r"[+-]?[0-9]+")
_ESCAPE = re.compile(r"~[01]")
_NO_VALUE = object()


class _OpError(Exception):
    """An operation failed; `str()` is the full upstream message."""


def json_patch(document: Any, operations: Any) -> Any:
    """Apply a list of RFC 6902 operations to `document` and return the new document."""
    ops = _decode(operations)
    if not isinstance(document, dict | list):
        raise PatchError(
            f"json: cannot unmarshal {_json_kind(document)} into Go value of type "
            "jsonpatch.partialDoc"
        )
    root: list[Any] = [deep_copy(document)]
    for op in ops:
        kind = op.get("op")
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            shown = kind if isinstance(kind, str) else "unknown"
            raise PatchError(f"Unexpected kind: {shown}")
        try:
            handler(root, op)
        except _OpError as e:
            raise PatchError(str(e)) from None
    return root[0]


def _decode(operations: Any) -> list[dict[str, Any]]:
    if operations is None:
        return []
    if not isinstance(operations, list):
        raise PatchError(
            f"json: cannot unmarshal {_json_kind(operations)} into Go value of type "
            "jsonpatch.Patch",
            BAD_REQUEST,
        )
    ops = []
    for op in operations:
        if op is not None and not isinstance(op, dict):
            raise PatchError(
                f"json: cannot unmarshal {_json_kind(op)} into Go value of type "
                "jsonpatch.Operation",
                BAD_REQUEST,
            )
        ops.append(op or {})
    return ops


# -- operations ------------------------------------------------------------------------------
def _add(root: list[Any], op: dict[str, Any]) -> None:
    path = _string(op, "path", "add operation failed to decode path: missing value")
    container, key = _find(
        root, path, f'add operation does not apply: doc is missing path: "{path}"'
    )
    _wrap(f"error in add for path: '{path}'", _insert, container, key, _value(op))


def _remove(root: list[Any], op: dict[str, Any]) -> None:
    path = _string(op, "path", "remove operation failed to decode path: missing value")
    where = f'remove operation does not apply: doc is missing path: "{path}"'
    container, key = _find(root, path, where)
    _wrap(f"error in remove for path: '{path}'", _delete, container, key)


def _replace(root: list[Any], op: dict[str, Any]) -> None:
    path = _string(op, "path", None, "replace operation failed to decode path")
    value = _value(op)
    if path == "":
        if isinstance(value, dict | list):
            root[0] = value
        return
    container, key = _find(
        root, path, f"replace operation does not apply: doc is missing path: {path}"
    )
    try:
        _get(container, key)
    except _OpError:
        raise _OpError(
            f"replace operation does not apply: doc is missing key: {path}: {_MISSING}"
        ) from None
    if isinstance(container, dict):
        container[key] = value
    else:
        container[_position(container, key)] = value


def _move(root: list[Any], op: dict[str, Any]) -> None:
    source = _string(op, "from", None, "move operation failed to decode from")
    container, key = _find(
        root, source, f"move operation does not apply: doc is missing from path: {source}"
    )
    value = _wrap(f"error in move for path: '{key}'", _get, container, key)
    _wrap(f"error in move for path: '{key}'", _delete, container, key)
    path = _string(op, "path", None, "move operation failed to decode path")
    where = f"move operation does not apply: doc is missing destination path: {path}"
    target, target_key = _find(root, path, where)
    _wrap(f"error in move for path: '{path}'", _insert, target, target_key, value)


def _copy(root: list[Any], op: dict[str, Any]) -> None:
    source = _string(op, "from", None, "copy operation failed to decode from")
    container, key = _find(
        root, source, f"copy operation does not apply: doc is missing from path: {source}"
    )
    value = _wrap(f"error in copy for from: '{source}'", _get, container, key)
    path = _string(op, "path", "copy operation failed to decode path: missing value")
    where = f"copy operation does not apply: doc is missing destination path: {path}"
    target, target_key = _find(root, path, where)
    _wrap("error while adding value during copy", _insert, target, target_key, deep_copy(value))


def _test(root: list[Any], op: dict[str, Any]) -> None:
    path = _string(op, "path", None, "test operation failed to decode path")
    failed = f"testing value {path} failed: {_TEST_FAILED}"
    expected = op.get("value", _NO_VALUE)
    if path == "":
        if expected is _NO_VALUE or not json_equal(root[0], expected):
            raise _OpError(failed)
        return
    container, key = _find(root, path, f"test operation does not apply: is missing path: {path}")
    actual = _wrap(f"error in test for path: '{path}'", _get, container, key)
    if expected is _NO_VALUE or not json_equal(actual, expected):
        raise _OpError(failed)


_HANDLERS: dict[str, Callable[[list[Any], dict[str, Any]], None]] = {
    "add": _add,
    "remove": _remove,
    "replace": _replace,
    "move": _move,
    "copy": _copy,
    "test": _test,
}


# -- paths and containers --------------------------------------------------------------------
def _string(op: dict[str, Any], field: str, fixed: str | None, prefix: str = "") -> str:
    """Read `path`/`from`; on failure raise `fixed`, or `prefix` wrapped around the cause."""
    value = op.get(field)
    if isinstance(value, str):
        return value
    if fixed is not None:
        raise _OpError(fixed)
    if value is None:
        missing = (
            "operation missing path field" if field == "path" else "operation, missing from field"
        )
        raise _OpError(f"{prefix}: {missing}: {_MISSING}")
    raise _OpError(
        f"{prefix}: json: cannot unmarshal {_json_kind(value)} into Go value of type string"
    )


def _value(op: dict[str, Any]) -> Any:
    return deep_copy(op.get("value"))


def _find(root: list[Any], path: str, missing: str) -> tuple[Container, str]:
    """The container holding the last segment of `path`, and that segment decoded."""
    parts = path.split("/")
    if len(parts) < 2:
        raise _OpError(f"{missing}: {_MISSING}")
    node: Any = root[0]
    for part in parts[1:-1]:
        try:
            node = _get(node, _unescape(part))
        except _OpError:
            node = None
        if not isinstance(node, dict | list):
            raise _OpError(f"{missing}: {_MISSING}")
    return node, _unescape(parts[-1])


def _unescape(segment: str) -> str:
    return _ESCAPE.sub(lambda m: "/" if m.group() == "~1" else "~", segment)


def _get(container: Container, key: str) -> Any:
    if isinstance(container, dict):
        return container.get(key)
    return container[_position(container, key)]


def _insert(container: Container, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
    elif key == "-":
        container.append(value)
    else:
        try:
            index = _atoi(key)
        except _OpError as e:
            raise _OpError(f"value was not a proper array index: '{key}': {e}") from None
        container.insert(_bounded(index, len(container) + 1), value)


def _delete(container: Container, key: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise _OpError(f"Unable to remove nonexistent key: {key}: {_MISSING}")
        del container[key]
    else:
        del container[_position(container, key)]


def _position(container: list[Any], key: str) -> int:
    return _bounded(_atoi(key), len(container))


def _bounded(index: int, size: int) -> int:
    """Upstream's index check: `index < size`, negatives counted from the end."""
    if index >= size or index < -size:
        raise _OpError(f"Unable to access invalid index: {index}: {_INVALID_INDEX}")
    return index + size if index < 0 else index


def _atoi(key: str) -> int:
    if not _INDEX.fullmatch(key):
        raise _OpError(f"strconv.Atoi: parsing {go_quote(key)}: invalid syntax")
    index = int(key)
    if not -(2**63) <= index < 2**63:
        raise _OpError(f"strconv.Atoi: parsing {go_quote(key)}: value out of range")
    return index


def _wrap(prefix: str, action: Callable[..., Any], *args: Any) -> Any:
    try:
        return action(*args)
    except _OpError as e:
        raise _OpError(f"{prefix}: {e}") from None


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"
