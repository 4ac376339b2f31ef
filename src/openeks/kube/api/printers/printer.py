"""`Printer`: one resource's column definitions and the function that fills a row.

This is upstream's `TableHandler(columnDefinitions, printFunc)` pair. The API server always
prints with `Wide: true` (`pkg/printers/storage.TableConvertor`), so a printer's cell
function returns every column, priority-1 ones included; kubectl hides those unless it
runs with `-o wide`.

`Printer.rows` prints a whole list. Printers whose rows depend on their neighbours (the
StorageClass "(default)" marker) override it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import ColumnDefinition, TableRow

Object = Mapping[str, Any]
CellsFn = Callable[[Object, datetime], list[Any]]
ConditionsFn = Callable[[Object], list[dict[str, str]] | None]


class Printer:
    """Columns plus a row function; `rows` turns objects into `TableRow`s without objects."""

    def __init__(
        self,
        columns: Sequence[ColumnDefinition],
        cells: CellsFn,
        conditions: ConditionsFn | None = None,
        *,
        null_when_empty: bool = False,
    ) -> None:
        self._columns = tuple(columns)
        self._cells = cells
        self._conditions = conditions
        # upstream's default convertor appends to a nil slice, so an empty list is `null`
        self._null_when_empty = null_when_empty

    @property
    def columns(self) -> list[ColumnDefinition]:
        """A fresh copy of the column definitions."""
        return [ColumnDefinition(**c) for c in self._columns]

    def row(self, obj: Object, now: datetime) -> TableRow:
        """The row for one object."""
        row: TableRow = {"cells": self._cells(obj, now)}
        conditions = self._conditions(obj) if self._conditions else None
        if conditions:
            row["conditions"] = conditions
        return row

    def rows(self, objects: Sequence[Object], now: datetime) -> list[TableRow] | None:
        """The rows for a list of objects, in order."""
        if not objects and self._null_when_empty:
            return None
        return [self.row(obj, now) for obj in objects]
