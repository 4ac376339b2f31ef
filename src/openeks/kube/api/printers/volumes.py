"""Printers for PersistentVolumes, PersistentVolumeClaims and StorageClasses.

Capacities print as canonical quantities (`1024Mi` shows as `1Gi`), access modes as the
`RWO,ROX,RWX,RWOP` abbreviations in that fixed order, and the storage class of a volume
or claim prefers the old `volume.beta.kubernetes.io/storage-class` annotation.

StorageClass rows mark at most one class "(default)": upstream's StorageClass table
convertor picks, among the classes annotated as default, the most recently created one
(ties broken by name). A list decides among its own items; a single object is marked when
it carries the annotation (upstream would list every class to decide).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import (
    TableRow,
    column,
    mapping,
    meta,
    name_of,
    parse_time,
    present,
    seq,
    text,
)
from openeks.kube.api.printers.core import AGE, NAME, age
from openeks.kube.api.printers.descriptions import doc
from openeks.kube.api.printers.printer import Printer
from openeks.kube.api.printers.quantity import canonical_quantity

_BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def access_modes(modes: Any) -> str:
    """`helper.GetAccessModesAsString`."""
    present_modes = {text(m) for m in seq(modes)}
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present_modes)


def _class_annotation(obj: Mapping[str, Any]) -> str | None:
    annotations = mapping(meta(obj).get("annotations"))
    value = annotations.get(_BETA_CLASS_ANNOTATION)
    return text(value) if _BETA_CLASS_ANNOTATION in annotations else None


def _phase(obj: Mapping[str, Any]) -> str:
    if present(meta(obj).get("deletionTimestamp")):
        return "Terminating"
    return text(mapping(obj.get("status")).get("phase")) or "Pending"  # SetDefaults_*


def persistent_volume_cells(pv: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = mapping(pv.get("spec"))
    claim = spec.get("claimRef")
    claim_ref = ""
    if present(claim):
        claim_ref = f"{text(mapping(claim).get('namespace'))}/{text(mapping(claim).get('name'))}"
    storage_class = _class_annotation(pv)
    if storage_class is None:
        storage_class = text(spec.get("storageClassName"))
    attributes_class = spec.get("volumeAttributesClassName")
    return [
        name_of(pv),
        canonical_quantity(mapping(spec.get("capacity")).get("storage")),
        access_modes(spec.get("accessModes")),
        text(spec.get("persistentVolumeReclaimPolicy")) or "Retain",  # SetDefaults_PV
        _phase(pv),
        claim_ref,
        storage_class,
        text(attributes_class) if present(attributes_class) else "<unset>",
        text(mapping(pv.get("status")).get("reason")),
        age(pv, now),
        text(spec.get("volumeMode")) or "Filesystem",  # SetDefaults_PersistentVolume
    ]


PERSISTENT_VOLUME = Printer(
    (
        NAME,
        column("Capacity", "string", doc("PersistentVolumeSpec.capacity")),
        column("Access Modes", "string", doc("PersistentVolumeSpec.accessModes")),
        column(
            "Reclaim Policy", "string", doc("PersistentVolumeSpec.persistentVolumeReclaimPolicy")
        ),
        column("Status", "string", doc("PersistentVolumeStatus.phase")),
        column("Claim", "string", doc("PersistentVolumeSpec.claimRef")),
        column("StorageClass", "string", "StorageClass of the pv"),
        column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
        column("Reason", "string", doc("PersistentVolumeStatus.reason")),
        AGE,
        column("VolumeMode", "string", doc("PersistentVolumeSpec.volumeMode"), priority=1),
    ),
    persistent_volume_cells,
)


def persistent_volume_claim_cells(pvc: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = mapping(pvc.get("spec")), mapping(pvc.get("status"))
    capacity = modes = ""
    if text(spec.get("volumeName")):
        modes = access_modes(status.get("accessModes"))
        capacity = canonical_quantity(mapping(status.get("capacity")).get("storage"))
    storage_class = _class_annotation(pvc)
    if storage_class is None:
        storage_class = text(spec.get("storageClassName"))
    attributes_class = spec.get("volumeAttributesClassName")
    return [
        name_of(pvc),
        _phase(pvc),
        text(spec.get("volumeName")),
        capacity,
        modes,
        storage_class,
        text(attributes_class) if present(attributes_class) else "<unset>",
        age(pvc, now),
        text(spec.get("volumeMode")) or "Filesystem",  # SetDefaults_PersistentVolumeClaimSpec
    ]


PERSISTENT_VOLUME_CLAIM = Printer(
    (
        NAME,
        column("Status", "string", doc("PersistentVolumeClaimStatus.phase")),
        column("Volume", "string", doc("PersistentVolumeClaimSpec.volumeName")),
        column("Capacity", "string", doc("PersistentVolumeClaimStatus.capacity")),
        column("Access Modes", "string", doc("PersistentVolumeClaimStatus.accessModes")),
        column("StorageClass", "string", "StorageClass of the pvc"),
        column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
        AGE,
        column("VolumeMode", "string", doc("PersistentVolumeClaimSpec.volumeMode"), priority=1),
    ),
    persistent_volume_claim_cells,
)


def is_default_class(obj: Mapping[str, Any]) -> bool:
    """`storageutil.IsDefaultAnnotation`."""
    annotations = mapping(meta(obj).get("annotations"))
    return any(annotations.get(key) == "true" for key in _DEFAULT_CLASS_ANNOTATIONS)


def effective_default_class(classes: Sequence[Mapping[str, Any]]) -> str:
    """The annotated default class created last (ties: first by name); "" when none."""
    defaults = [c for c in classes if is_default_class(c)]
    if not defaults:
        return ""

    def order(c: Mapping[str, Any]) -> tuple[float, str]:
        created = parse_time(meta(c).get("creationTimestamp"))
        return (-(created.timestamp() if created else float("-inf")), name_of(c))

    return name_of(min(defaults, key=order))


def storage_class_cells(sc: Mapping[str, Any], now: datetime) -> list[Any]:
    expansion = sc.get("allowVolumeExpansion")
    return [
        name_of(sc),
        text(sc.get("provisioner")),
        text(sc.get("reclaimPolicy")) or "Delete",
        text(sc.get("volumeBindingMode")) or "Immediate",
        expansion if isinstance(expansion, bool) else False,
        age(sc, now),
    ]


class StorageClassPrinter(Printer):
    """Marks the effective default class of the printed list with " (default)"."""

    def rows(self, objects: Sequence[Mapping[str, Any]], now: datetime) -> list[TableRow]:
        default = effective_default_class(objects)
        rows = []
        for obj in objects:
            row = self.row(obj, now)
            if default and name_of(obj) == default:
                row["cells"][0] = f"{default} (default)"
            rows.append(row)
        return rows


STORAGE_CLASS = StorageClassPrinter(
    (
        NAME,
        column("Provisioner", "string", doc("StorageClass.provisioner")),
        column("ReclaimPolicy", "string", doc("StorageClass.reclaimPolicy")),
        column("VolumeBindingMode", "string", doc("StorageClass.volumeBindingMode")),
        column("AllowVolumeExpansion", "string", doc("StorageClass.allowVolumeExpansion")),
        AGE,
    ),
    storage_class_cells,
)

PRINTERS = {
    ("", "persistentvolumes"): PERSISTENT_VOLUME,
    ("", "persistentvolumeclaims"): PERSISTENT_VOLUME_CLAIM,
    ("storage.k8s.io", "storageclasses"): STORAGE_CLASS,
}
