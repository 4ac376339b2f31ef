"""The two generic printers: upstream's default table convertor and the CRD convertor.

`DEFAULT` (`rest.NewDefaultTableConvertor`) serves every resource without a printer of
its own (Roles, LimitRanges, CustomResourceDefinitions...): NAME plus a "Created At"
column of type `date` holding the RFC 3339 creation time in UTC. It builds rows by
appending to a nil slice, so an empty list has `rows: null`.

`crd_printer` (apiextensions' `tableconvertor.New`) builds a printer from a CRD version's
`additionalPrinterColumns`: NAME, then one column per entry, its cell the first value the
column's JSONPath selects, shaped by the column type:

- `string`: the value as client-go's JSONPath prints it (objects and arrays as compact
  JSON, `null` as "<no value>");
- `integer` / `number` / `boolean`: the JSON value when it has that type, else `null`;
- `date`: the time since an RFC 3339 string ("<invalid>" if it does not parse).

A version without columns gets upstream's implicit `Age` column
(`.metadata.creationTimestamp`, type date). A column whose JSONPath does not compile ends
the list there, as upstream falls back to the columns it had parsed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import (
    ColumnDefinition,
    column,
    format_rfc3339,
    go_float,
    go_json_float,
    integer,
    is_valid_time,
    mapping,
    meta,
    name_of,
    text,
    translate_timestamp_since,
)
from openeks.kube.api.printers.descriptions import doc
from openeks.kube.api.printers.jsonpath import JSONPath, JSONPathError, compile_path
from openeks.kube.api.printers.printer import Printer

NAME = column("Name", "string", doc("ObjectMeta.name"), format="name")

DEFAULT = Printer(
    (NAME, column("Created At", "date", doc("ObjectMeta.creationTimestamp"))),
    lambda obj, now: [name_of(obj), format_rfc3339(meta(obj).get("creationTimestamp"))],
    null_when_empty=True,
)

DEFAULT_CRD_COLUMNS: tuple[Mapping[str, Any], ...] = (
    {
        "name": "Age",
        "type": "date",
        "description": doc("ObjectMeta.creationTimestamp"),
        "jsonPath": ".metadata.creationTimestamp",
    },
)

_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
_HTML_ESCAPES.update({"\u2028": "\\u2028", "\u2029": "\\u2029"})


def go_json(value: Any) -> str:
    """`encoding/json.Marshal` of a decoded JSON value: sorted keys, HTML-safe escapes."""
    if isinstance(value, Mapping):
        items = (f"{go_json(str(k))}:{go_json(value[k])}" for k in sorted(value))
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, float) and not isinstance(value, bool):
        return go_json_float(value)
    encoded = json.dumps(value, ensure_ascii=False)
    return "".join(_HTML_ESCAPES.get(char, char) for char in encoded)


def jsonpath_text(value: Any) -> str:
    """How client-go's `JSONPath.PrintResults` renders one value."""
    if value is None:
        return "<no value>"
    if isinstance(value, Mapping | list):
        return go_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def cell_for(column_type: str, value: Any, now: datetime) -> Any:
    """`cellForJSONValue` for non-string columns: the value if it has the column's type."""
    if value is None or (isinstance(value, bool) and column_type in ("integer", "number")):
        return None
    if column_type == "integer" and isinstance(value, int | float):
        return int(value)
    if column_type == "number" and isinstance(value, int | float):
        return float(value)
    if (column_type, type(value)) in (("boolean", bool), ("string", str)):
        return value
    if column_type == "date" and isinstance(value, str):
        if value in ("", "null"):
            return "<unknown>"
        if not is_valid_time(value):
            return "<invalid>"
        return translate_timestamp_since(value, now)
    return None


class CustomResourcePrinter(Printer):
    """Cells from JSONPath columns, as apiextensions' table convertor fills them."""

    def __init__(self, columns: Sequence[ColumnDefinition], paths: Sequence[JSONPath]) -> None:
        super().__init__(columns, self._row_cells)
        self._paths = tuple(paths)
        self._types = tuple(c["type"] for c in columns[1:])

    def _row_cells(self, obj: Mapping[str, Any], now: datetime) -> list[Any]:
        cells: list[Any] = [name_of(obj)]
        for path, column_type in zip(self._paths, self._types, strict=True):
            try:
                results = path.find(obj)
            except JSONPathError:
                results = []
            if not results:
                cells.append(None)
            elif column_type == "string":
                cells.append(jsonpath_text(results[0]))
            else:
                cells.append(cell_for(column_type, results[0], now))
        return cells


def crd_printer(crd_columns: Sequence[Mapping[str, Any]]) -> Printer:
    """The printer for one served version of a CRD, from its `additionalPrinterColumns`."""
    columns = [NAME]
    paths = []
    for raw in crd_columns or DEFAULT_CRD_COLUMNS:
        spec = mapping(raw)
        json_path = text(spec.get("jsonPath"))
        try:
            paths.append(compile_path(json_path))
        except JSONPathError:
            break
        description = text(spec.get("description")) or (
            f"Custom resource definition column (in JSONPath format): {json_path}"
        )
        columns.append(
            column(
                text(spec.get("name")),
                text(spec.get("type")),
                description,
                format=text(spec.get("format")),
                priority=integer(spec.get("priority")),
            )
        )
    return CustomResourcePrinter(columns, paths)
