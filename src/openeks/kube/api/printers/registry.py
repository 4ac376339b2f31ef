"""Which printer serves which resource.

`PRINTERS` maps `(group, resource)` (core group "") to the printer upstream's API server
registers for that resource's storage. Resources without an entry (Roles, ClusterRoles,
LimitRanges, CustomResourceDefinitions and anything unknown) get the default
Name / Created At printer, as their upstream storage uses `rest.NewDefaultTableConvertor`.
Custom resources are printed from their CRD version's `additionalPrinterColumns`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openeks.kube.api.printers import apps, batch, core, events, misc, pods, rbac, volumes
from openeks.kube.api.printers.defaults import DEFAULT, crd_printer
from openeks.kube.api.printers.printer import Printer

PRINTERS: dict[tuple[str, str], Printer] = {
    **pods.PRINTERS,
    **core.PRINTERS,
    **events.PRINTERS,
    **volumes.PRINTERS,
    **apps.PRINTERS,
    **batch.PRINTERS,
    **rbac.PRINTERS,
    **misc.PRINTERS,
}


def printer_for(
    group: str, resource: str, crd_columns: Sequence[Mapping[str, Any]] | None = None
) -> Printer:
    """The printer for a resource; `crd_columns` (even empty) marks a custom resource."""
    if crd_columns is not None:
        return crd_printer(crd_columns)
    return PRINTERS.get((group, resource), DEFAULT)
