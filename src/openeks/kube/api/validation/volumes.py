"""Pod volume validation, as `ValidateVolumes` and `validateVolumeSource` upstream.

Each volume needs a DNS-label name, unique in the pod, and exactly one source
(`may not specify more than 1 volume type`); the common sources (hostPath, secret,
configMap, persistentVolumeClaim, downwardAPI, projected, nfs, gitRepo, csi, image) get
their own checks. Only volumes without errors can be mounted, as upstream.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import (
    FieldError,
    Path,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.containers import (
    validate_local_descending_path,
    validate_local_non_reserved_path,
)
from openeks.kube.api.validation.env import validate_object_field_selector

Obj = dict[str, Any]

FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
_HOST_PATH_TYPES = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
]
_VOLUME_DOWNWARD_PATHS = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
]
_VOLUME_SOURCES = (
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
)

# -- volumes ---------------------------------------------------------------------------------


def validate_volumes(volumes: list[Obj], path: Path) -> tuple[dict[str, Obj], list[FieldError]]:
    errs: list[FieldError] = []
    by_name: dict[str, Obj] = {}
    for idx, volume in enumerate(volumes):
        item = path.index(idx)
        name = a.s(volume, "name")
        volume_errs = _validate_volume_source(volume, item)
        if not name:
            volume_errs.append(required(item.child("name")))
        else:
            volume_errs.extend(
                invalid(item.child("name"), name, msg) for msg in formats.is_dns1123_label(name)
            )
        if name in by_name:
            volume_errs.append(duplicate(item.child("name"), name))
        if volume_errs:
            errs.extend(volume_errs)
        else:
            by_name[name] = volume
    return by_name, errs


def _validate_volume_source(volume: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for source in _VOLUME_SOURCES:
        body = a.d(volume, source)
        if body is None:
            continue
        if count > 0:
            shown = "downwarAPI" if source == "downwardAPI" else source  # sic, upstream
            errs.append(forbidden(path.child(shown), "may not specify more than 1 volume type"))
            continue
        count += 1
        errs.extend(_validate_one_source(source, body, path.child(source)))
    if count == 0:
        errs.append(required(path, "must specify a volume type"))
    return errs


def _validate_one_source(source: str, body: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    if source == "hostPath":
        host_path = a.s(body, "path")
        if not host_path:
            return [required(path.child("path"))]
        if ".." in host_path.split("/"):
            errs.append(invalid(path.child("path"), host_path, "must not contain '..'"))
        kind = body.get("type")
        if isinstance(kind, str) and kind not in _HOST_PATH_TYPES:
            errs.append(not_supported(path.child("type"), kind, _HOST_PATH_TYPES))
    elif source in ("secret", "configMap"):
        name_key = "secretName" if source == "secret" else "name"
        if not a.s(body, name_key):
            errs.append(required(path.child(name_key)))
        errs.extend(_validate_mode(body, "defaultMode", path))
        for idx, item in enumerate(a.items(body, "items")):
            errs.extend(_validate_key_to_path(item, path.child("items").index(idx)))
    elif source == "persistentVolumeClaim":
        if not a.s(body, "claimName"):
            errs.append(required(path.child("claimName")))
    elif source == "downwardAPI":
        errs.extend(_validate_mode(body, "defaultMode", path))
        for item in a.items(body, "items"):
            errs.extend(_validate_downward_file(item, path))
    elif source == "projected":
        errs.extend(_validate_mode(body, "defaultMode", path))
        errs.extend(_validate_projection_sources(body, path))
    elif source == "nfs":
        nfs_path = a.s(body, "path")
        if not a.s(body, "server"):
            errs.append(required(path.child("server")))
        if not nfs_path:
            errs.append(required(path.child("path")))
        if not nfs_path.startswith("/"):
            errs.append(invalid(path.child("path"), nfs_path, "must be an absolute path"))
    elif source == "gitRepo":
        if not a.s(body, "repository"):
            errs.append(required(path.child("repository")))
        errs.extend(validate_local_descending_path(a.s(body, "directory"), path.child("directory")))
    elif source == "csi":
        if not a.s(body, "driver"):
            errs.append(required(path.child("driver")))
    elif source == "image" and not a.s(body, "reference"):
        errs.append(required(path.child("reference")))
    return errs


def _validate_mode(body: Obj, key: str, path: Path) -> list[FieldError]:
    mode = a.i(body, key)
    if mode is not None and not 0 <= mode <= 0o777:
        return [invalid(path.child(key), mode, FILE_MODE_ERROR)]
    return []


def _validate_key_to_path(item: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    if not a.s(item, "key"):
        errs.append(required(path.child("key")))
    if not a.s(item, "path"):
        errs.append(required(path.child("path")))
    errs.extend(validate_local_non_reserved_path(a.s(item, "path"), path.child("path")))
    errs.extend(_validate_mode(item, "mode", path))
    return errs


def _validate_downward_file(item: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    if not a.s(item, "path"):
        errs.append(required(path.child("path")))
    errs.extend(validate_local_non_reserved_path(a.s(item, "path"), path.child("path")))
    field_ref, resource_ref = a.d(item, "fieldRef"), a.d(item, "resourceFieldRef")
    if field_ref is not None:
        errs.extend(
            validate_object_field_selector(
                field_ref, path.child("fieldRef"), _VOLUME_DOWNWARD_PATHS
            )
        )
        if resource_ref is not None:
            errs.append(
                invalid(
                    path,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                )
            )
    elif resource_ref is not None:
        if not a.s(resource_ref, "containerName"):
            errs.append(required(path.child("resourceFieldRef", "containerName")))
    else:
        errs.append(required(path, "one of fieldRef and resourceFieldRef is required"))
    errs.extend(_validate_mode(item, "mode", path))
    return errs


def _validate_projection_sources(body: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    all_paths: set[str] = set()
    for idx, source in enumerate(a.items(body, "sources")):
        source_path = path.child("sources").index(idx)
        count = 0
        for kind in ("secret", "configMap"):
            ref = a.d(source, kind)
            if ref is None:
                continue
            count += 1
            if not a.s(ref, "name"):
                errs.append(required(source_path.child(kind, "name")))
            for item_idx, item in enumerate(a.items(ref, "items")):
                errs.extend(
                    _validate_key_to_path(item, source_path.child(kind, "items").index(item_idx))
                )
                item_path = a.s(item, "path")
                if item_path:
                    if item_path in all_paths:
                        errs.append(invalid(path, a.s(ref, "name"), "conflicting duplicate paths"))
                    all_paths.add(item_path)
        downward = a.d(source, "downwardAPI")
        if downward is not None:
            count += 1
            for item in a.items(downward, "items"):
                errs.extend(_validate_downward_file(item, source_path.child("downwardAPI")))
                item_path = a.s(item, "path")
                if item_path:
                    if item_path in all_paths:
                        errs.append(invalid(path, item_path, "conflicting duplicate paths"))
                    all_paths.add(item_path)
        token = a.d(source, "serviceAccountToken")
        if token is not None:
            count += 1
            seconds = a.i0(token, "expirationSeconds")
            token_path = source_path.child("serviceAccountToken")
            if seconds < 600:
                errs.append(
                    invalid(
                        token_path.child("expirationSeconds"),
                        seconds,
                        "may not specify a duration less than 10 minutes",
                    )
                )
            if seconds > 1 << 32:
                errs.append(
                    invalid(
                        token_path.child("expirationSeconds"),
                        seconds,
                        "may not specify a duration larger than 2^32 seconds",
                    )
                )
            if not a.s(token, "path"):
                errs.append(required(path.child("path")))
            else:
                errs.extend(
                    validate_local_non_reserved_path(a.s(token, "path"), path.child("path"))
                )
        if a.has(source, "clusterTrustBundle"):
            count += 1
        if count > 1:
            errs.append(
                forbidden(source_path, "may not specify more than 1 volume type per source")
            )
    return errs
