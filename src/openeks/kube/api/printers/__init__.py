"""Server-side Table printing: what the API server returns for `as=Table;g=meta.k8s.io;v=v1`.

`kubectl get` asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the
columns the server chooses. This package ports upstream's printers
(`pkg/printers/internalversion/printers.go`), the default convertor
(`apiserver/pkg/registry/rest/table.go`) and the CRD convertor
(`apiextensions-apiserver/.../customresource/tableconvertor`) as pure functions over
objects in wire form (decoded JSON dicts). It imports nothing but the standard library.

How upstream builds the response, and how `table_for` follows it:

- Printers always run wide (`GenerateOptions{Wide: true}`): every column and every cell,
  priority-1 columns included; kubectl drops those unless `-o wide`.
- `columnDefinitions` is `null` when headers are suppressed. Clients cannot ask for that
  (`TableOptions.NoHeaders` is not a query parameter); upstream sets it on watches: the
  first event of a watch carries the column definitions, every later event's table has
  `columnDefinitions: null` (`watchEmbeddedEncoder.doEncode`). Pass `no_headers=True`
  for all watch events after the first.
- `metadata` holds the list's `resourceVersion`, `continue` and `remainingItemCount`
  (pass the list's metadata as `list_meta`); for a single object (`list_meta=None`) it
  holds that object's `resourceVersion`.
- Each row's `object` follows `includeObject`: `Metadata` (the default, also for "")
  gives a `meta.k8s.io/v1` `PartialObjectMetadata` with the object's metadata, `Object`
  the object itself (which should carry its `apiVersion` and `kind`), `None` a JSON
  `null`. Other values raise `InvalidTableOptions`,
  which the API edge answers with 400 "Unable to convert to Table as requested: <msg>".
- A printer that cannot print an object raises `TableConversionError` (upstream fails
  the request with that error).
- Rows of finished pods carry upstream's `Completed` row condition.

Cells are JSON-ready values: strings, ints, floats, bools or `None`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from openeks.kube.api.printers.common import (
    ColumnDefinition,
    TableConversionError,
    mapping,
    meta,
    text,
)
from openeks.kube.api.printers.registry import PRINTERS, printer_for

__all__ = [
    "PRINTERS",
    "InvalidTableOptions",
    "TableConversionError",
    "column_definitions",
    "table_for",
]

TABLE_API_VERSION = "meta.k8s.io/v1"
INCLUDE_OBJECT_VALUES = ("", "Metadata", "None", "Object")


class InvalidTableOptions(ValueError):
    """Table options upstream's `ValidateTableOptions` rejects (a 400 at the API edge)."""


def column_definitions(
    group: str, resource: str, crd_columns: Sequence[Mapping[str, Any]] | None = None
) -> list[ColumnDefinition]:
    """The column definitions of a resource's table (`crd_columns` for custom resources)."""
    return printer_for(group, resource, crd_columns).columns


def table_for(
    group: str,
    resource: str,
    objects: list[dict[str, Any]],
    *,
    now: datetime,
    include_object: str = "Metadata",
    crd_columns: list[dict[str, Any]] | None = None,
    list_meta: dict[str, Any] | None = None,
    no_headers: bool = False,
) -> dict[str, Any]:
    """A complete `meta.k8s.io/v1` Table of `objects`, as upstream's API server sends it.

    `crd_columns` is the served CRD version's `additionalPrinterColumns` (an empty list
    for a CRD without any; `None` for built-in resources). A naive `now` is taken as UTC.
    """
    if include_object not in INCLUDE_OBJECT_VALUES:
        supported = ", ".join(f'"{v}"' for v in INCLUDE_OBJECT_VALUES)
        raise InvalidTableOptions(
            f'includeObject: Unsupported value: "{include_object}": supported values: {supported}'
        )
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    printer = printer_for(group, resource, crd_columns)
    rows = printer.rows(objects, now)
    for row, obj in zip(rows or (), objects, strict=True):
        row["object"] = _row_object(obj, include_object)
    return {
        "kind": "Table",
        "apiVersion": TABLE_API_VERSION,
        "metadata": _table_metadata(objects, list_meta),
        "columnDefinitions": None if no_headers else printer.columns,
        "rows": rows,
    }


def _row_object(obj: Mapping[str, Any], include_object: str) -> Any:
    if include_object == "Object":
        return obj
    if include_object == "None":
        return None
    metadata = dict(meta(obj))
    metadata.setdefault("creationTimestamp", None)  # Go always encodes it, `null` when unset
    return {"kind": "PartialObjectMetadata", "apiVersion": TABLE_API_VERSION, "metadata": metadata}


def _table_metadata(
    objects: Sequence[Mapping[str, Any]], list_meta: Mapping[str, Any] | None
) -> dict[str, Any]:
    if list_meta is None:
        source = meta(objects[0]) if len(objects) == 1 else {}
        version = text(source.get("resourceVersion"))
        return {"resourceVersion": version} if version else {}
    list_meta = mapping(list_meta)
    metadata: dict[str, Any] = {}
    for key in ("resourceVersion", "continue"):
        if text(list_meta.get(key)):
            metadata[key] = list_meta[key]
    if list_meta.get("remainingItemCount") is not None:
        metadata["remainingItemCount"] = list_meta["remainingItemCount"]
    return metadata
