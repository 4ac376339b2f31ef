"""Container validation, as `pkg/apis/core/validation` checks each container of a pod spec.

`validate_container_common` is upstream's `validateContainerCommon` (name, image,
termination message policy, ports, env, envFrom, volume mounts and devices, pull policy,
resources, security context); probes and lifecycle hooks are checked where upstream
checks them (regular and restartable init containers only). Resource quantities are
compared by value and printed canonically, as in
`spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to
cpu limit of 1`.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import (
    FieldError,
    Path,
    duplicate,
    invalid,
    not_found,
    not_supported,
    required,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.env import validate_env, validate_env_from
from openeks.kube.api.validation.resources import validate_resource_requirements

Obj = dict[str, Any]

PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
_TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"]


# -- ports -----------------------------------------------------------------------------------


def validate_container_ports(ports: list[Obj], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for idx, port in enumerate(ports):
        item = path.index(idx)
        name = a.s(port, "name")
        if name:
            msgs = formats.is_valid_port_name(name)
            if msgs:
                errs.extend(invalid(item.child("name"), name, msg) for msg in msgs)
            elif name in names:
                errs.append(duplicate(item.child("name"), name))
            else:
                names.add(name)
        container_port = a.i0(port, "containerPort")
        if container_port == 0:
            errs.append(required(item.child("containerPort")))
        else:
            errs.extend(
                invalid(item.child("containerPort"), container_port, msg)
                for msg in formats.is_valid_port_num(container_port)
            )
        host_port = a.i0(port, "hostPort")
        if host_port != 0:
            errs.extend(
                invalid(item.child("hostPort"), host_port, msg)
                for msg in formats.is_valid_port_num(host_port)
            )
        protocol = a.s(port, "protocol")
        if not protocol:
            errs.append(required(item.child("protocol")))
        elif protocol not in PORT_PROTOCOLS:
            errs.append(not_supported(item.child("protocol"), protocol, PORT_PROTOCOLS))
    return errs


def check_host_port_conflicts(containers: list[Obj], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for ci, container in enumerate(containers):
        for pi, port in enumerate(a.items(container, "ports")):
            host_port = a.i0(port, "hostPort")
            if host_port == 0:
                continue
            key = f"{a.s(port, 'protocol')}/{a.s(port, 'hostIP')}/{host_port}"
            if key in seen:
                errs.append(
                    duplicate(path.index(ci).child("ports").index(pi).child("hostPort"), key)
                )
            seen.add(key)
    return errs


# -- volume mounts -----------------------------------------------------------------------------


def validate_volume_mounts(
    mounts: list[Obj], devices: dict[str, str], volumes: dict[str, Obj], path: Path
) -> list[FieldError]:
    errs: list[FieldError] = []
    mount_points: set[str] = set()
    for idx, mount in enumerate(mounts):
        item = path.index(idx)
        name, mount_path = a.s(mount, "name"), a.s(mount, "mountPath")
        if not name:
            errs.append(required(item.child("name")))
        if name not in volumes:
            errs.append(not_found(item.child("name"), name))
        if not mount_path:
            errs.append(required(item.child("mountPath")))
        if mount_path in mount_points:
            errs.append(invalid(item.child("mountPath"), mount_path, "must be unique"))
        mount_points.add(mount_path)
        if name in devices:
            errs.append(
                invalid(item.child("name"), name, "must not already exist in volumeDevices")
            )
        if mount_path in devices.values():
            errs.append(
                invalid(
                    item.child("mountPath"),
                    mount_path,
                    "must not already exist as a path in volumeDevices",
                )
            )
        for key in ("subPath", "subPathExpr"):
            sub_path = a.s(mount, key)
            if sub_path:
                errs.extend(validate_local_descending_path(sub_path, path.child(key)))
        if a.s(mount, "subPath") and a.s(mount, "subPathExpr"):
            errs.append(
                invalid(
                    item.child("subPathExpr"),
                    a.s(mount, "subPathExpr"),
                    "subPathExpr and subPath are mutually exclusive",
                )
            )
    return errs


def validate_local_descending_path(target: str, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    if target.startswith("/"):
        errs.append(invalid(path, target, "must be a relative path"))
    if ".." in target.replace("\\", "/").split("/"):
        errs.append(invalid(path, target, "must not contain '..'"))
    return errs


def validate_local_non_reserved_path(target: str, path: Path) -> list[FieldError]:
    errs = validate_local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errs.append(invalid(path, target, "must not start with '..'"))
    return errs


# -- the container ---------------------------------------------------------------------------


def validate_security_context(context: Obj | None, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    if context is None:
        return errs
    for key in ("runAsUser", "runAsGroup"):
        value = a.i(context, key)
        if value is not None:
            errs.extend(
                invalid(path.child(key), value, msg) for msg in formats.is_valid_user_id(value)
            )
    if a.b(context, "allowPrivilegeEscalation") is False and a.b(context, "privileged"):
        errs.append(
            invalid(
                path,
                context,
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            )
        )
    return errs


def validate_container_common(
    container: Obj, volumes: dict[str, Obj], path: Path
) -> list[FieldError]:
    errs: list[FieldError] = []
    name = a.s(container, "name")
    if not name:
        errs.append(required(path.child("name")))
    else:
        errs.extend(
            invalid(path.child("name"), name, msg) for msg in formats.is_dns1123_label(name)
        )
    if not a.s(container, "image"):
        errs.append(required(path.child("image")))
    policy = a.s(container, "terminationMessagePolicy")
    if not policy:
        errs.append(required(path.child("terminationMessagePolicy")))
    elif policy not in _TERMINATION_MESSAGE_POLICIES:
        errs.append(
            not_supported(
                path.child("terminationMessagePolicy"), policy, _TERMINATION_MESSAGE_POLICIES
            )
        )
    mounts = {a.s(m, "name"): a.s(m, "mountPath") for m in a.items(container, "volumeMounts")}
    devices = {a.s(m, "name"): a.s(m, "devicePath") for m in a.items(container, "volumeDevices")}
    errs.extend(validate_container_ports(a.items(container, "ports"), path.child("ports")))
    errs.extend(validate_env(a.items(container, "env"), path.child("env")))
    errs.extend(validate_env_from(a.items(container, "envFrom"), path.child("envFrom")))
    errs.extend(
        validate_volume_mounts(
            a.items(container, "volumeMounts"), devices, volumes, path.child("volumeMounts")
        )
    )
    errs.extend(
        _validate_volume_devices(a.items(container, "volumeDevices"), mounts, volumes, path)
    )
    pull = a.s(container, "imagePullPolicy")
    if not pull:
        errs.append(required(path.child("imagePullPolicy")))
    elif pull not in _PULL_POLICIES:
        errs.append(not_supported(path.child("imagePullPolicy"), pull, _PULL_POLICIES))
    errs.extend(
        validate_resource_requirements(a.d(container, "resources"), path.child("resources"))
    )
    errs.extend(
        validate_security_context(a.d(container, "securityContext"), path.child("securityContext"))
    )
    return errs


def _validate_volume_devices(
    devices: list[Obj], mounts: dict[str, str], volumes: dict[str, Obj], container_path: Path
) -> list[FieldError]:
    errs: list[FieldError] = []
    path = container_path.child("volumeDevices")
    names: set[str] = set()
    paths: set[str] = set()
    for idx, device in enumerate(devices):
        item = path.index(idx)
        name, device_path = a.s(device, "name"), a.s(device, "devicePath")
        source = volumes.get(name)
        if not name:
            errs.append(required(item.child("name")))
        if name in names:
            errs.append(invalid(item.child("name"), name, "must be unique"))
        if source is not None and not (
            a.has(source, "persistentVolumeClaim") or a.has(source, "ephemeral")
        ):
            errs.append(
                invalid(
                    item.child("name"),
                    name,
                    "can only use volume source type of PersistentVolumeClaim or Ephemeral "
                    "for block mode",
                )
            )
        if source is None:
            errs.append(not_found(item.child("name"), name))
        if not device_path:
            errs.append(required(item.child("devicePath")))
        if device_path in paths:
            errs.append(invalid(item.child("devicePath"), device_path, "must be unique"))
        paths.add(device_path)
        if name in mounts:
            errs.append(invalid(item.child("name"), name, "must not already exist in volumeMounts"))
        if device_path in mounts.values():
            errs.append(
                invalid(
                    item.child("devicePath"),
                    device_path,
                    "must not already exist as a path in volumeMounts",
                )
            )
        if name:
            names.add(name)
    return errs
