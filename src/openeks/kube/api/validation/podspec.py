"""Pod spec validation, as upstream's `ValidatePodSpec`, shared by pods and templates.

Checks the fields upstream checks most often: volumes, regular, init and ephemeral
containers (names unique across all three), host ports, restart and DNS policy, node
selector, pod security context IDs, DNS config, service account, node, host and
priority class names, activeDeadlineSeconds and tolerations, in upstream's order.
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
    not_found,
    not_supported,
    required,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.containers import (
    check_host_port_conflicts,
    validate_container_common,
)
from openeks.kube.api.validation.meta import validate_labels
from openeks.kube.api.validation.probes import validate_probes_and_lifecycle
from openeks.kube.api.validation.volumes import validate_volumes

Obj = dict[str, Any]

_RESTART_POLICIES = ["Always", "OnFailure", "Never"]
_DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
_TOLERATION_OPERATORS = ["Equal", "Exists"]
_TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
_PREEMPTION_POLICIES = ["PreemptLowerPriority", "Never"]
MAX_INT32 = 2**31 - 1


# -- parts --------------------------------------------------------------------------------


def validate_tolerations(tolerations: list[Obj], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for idx, toleration in enumerate(tolerations):
        item = path.index(idx)
        key, operator = a.s(toleration, "key"), a.s(toleration, "operator")
        value, effect = a.s(toleration, "value"), a.s(toleration, "effect")
        if key:
            errs.extend(invalid(item.child("key"), key, m) for m in formats.is_qualified_name(key))
        if not key and operator != "Exists":
            errs.append(
                invalid(
                    item.child("operator"),
                    operator,
                    'operator must be Exists when `key` is empty, which means "match all values '
                    'and all keys"',
                )
            )
        if a.has(toleration, "tolerationSeconds") and effect != "NoExecute":
            errs.append(
                invalid(
                    item.child("effect"),
                    effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
        if operator in ("Equal", ""):
            msgs = formats.is_label_value(value)
            if msgs:
                errs.append(invalid(item.child("operator"), value, ";".join(msgs)))
        elif operator == "Exists":
            if value:
                errs.append(
                    invalid(
                        item.child("operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    )
                )
        else:
            errs.append(not_supported(item.child("operator"), operator, _TOLERATION_OPERATORS))
        if effect and effect not in _TAINT_EFFECTS:
            errs.append(not_supported(item.child("effect"), effect, _TAINT_EFFECTS))
    return errs


def _validate_dns_config(spec: Obj, path: Path) -> list[FieldError]:
    config = a.d(spec, "dnsConfig")
    if a.s(spec, "dnsPolicy") == "None":
        if config is None:
            return [required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not a.strings(config, "nameservers"):
            return [
                required(
                    path.child("nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                )
            ]
    if config is None:
        return []
    errs: list[FieldError] = []
    nameservers = a.strings(config, "nameservers")
    if len(nameservers) > 3:
        errs.append(
            invalid(path.child("nameservers"), nameservers, "must not have more than 3 nameservers")
        )
    for idx, server in enumerate(nameservers):
        errs.extend(
            invalid(path.child("nameservers").index(idx), server, m)
            for m in formats.is_valid_ip(server)
        )
    searches = a.strings(config, "searches")
    if len(searches) > 32:
        errs.append(
            invalid(path.child("searches"), searches, "must not have more than 32 search paths")
        )
    if len(" ".join(searches)) > 2048:
        errs.append(
            invalid(
                path.child("searches"),
                searches,
                "must not have more than 2048 characters (including spaces) in the search list",
            )
        )
    for idx, search in enumerate(searches):
        if search != ".":
            trimmed = search.removesuffix(".")
            errs.extend(
                invalid(path.child("searches").index(idx), trimmed, m)
                for m in formats.is_dns1123_subdomain_with_underscore(trimmed)
            )
    for idx, option in enumerate(a.items(config, "options")):
        if not a.s(option, "name"):
            errs.append(required(path.child("options").index(idx), "must not be empty"))
    return errs


def _validate_containers(
    containers: list[Obj], volumes: dict[str, Obj], grace: int | None, path: Path
) -> list[FieldError]:
    if not containers:
        return [required(path)]
    errs: list[FieldError] = []
    names: set[str] = set()
    for idx, container in enumerate(containers):
        item = path.index(idx)
        errs.extend(validate_container_common(container, volumes, item))
        name = a.s(container, "name")
        if name in names:
            errs.append(duplicate(item.child("name"), name))
        names.add(name)
        errs.extend(validate_probes_and_lifecycle(container, item, grace))
        if a.has(container, "restartPolicy"):
            errs.append(
                forbidden(item.child("restartPolicy"), "may not be set for non-init containers")
            )
    errs.extend(check_host_port_conflicts(containers, path))
    return errs


def _validate_init_containers(
    spec: Obj, volumes: dict[str, Obj], grace: int | None, path: Path
) -> list[FieldError]:
    errs: list[FieldError] = []
    names = {a.s(c, "name") for c in a.items(spec, "containers")}
    for idx, container in enumerate(a.items(spec, "initContainers")):
        item = path.index(idx)
        errs.extend(validate_container_common(container, volumes, item))
        policy = container.get("restartPolicy")
        restart_always = policy == "Always"
        if policy is not None and not restart_always:
            errs.append(not_supported(item.child("restartPolicy"), policy, ["Always"]))
        name = a.s(container, "name")
        if name in names:
            errs.append(duplicate(item.child("name"), name))
        elif name:
            names.add(name)
        errs.extend(check_host_port_conflicts([container], path))
        if restart_always:
            errs.extend(validate_probes_and_lifecycle(container, item, grace))
        else:
            for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if a.has(container, key):
                    errs.append(
                        forbidden(
                            item.child(key),
                            "may not be set for init containers without restartPolicy=Always",
                        )
                    )
    return errs


def validate_pod_spec(spec: Obj, path: Path, is_pod: bool = False) -> list[FieldError]:
    errs: list[FieldError] = []
    grace = a.i(spec, "terminationGracePeriodSeconds")
    if grace is None:
        errs.append(required(path.child("terminationGracePeriodSeconds")))
    volumes, volume_errs = validate_volumes(a.items(spec, "volumes"), path.child("volumes"))
    errs.extend(volume_errs)
    errs.extend(
        _validate_containers(a.items(spec, "containers"), volumes, grace, path.child("containers"))
    )
    errs.extend(_validate_init_containers(spec, volumes, grace, path.child("initContainers")))
    errs.extend(_validate_ephemeral_containers(spec, volumes, path.child("ephemeralContainers")))
    errs.extend(validate_host_network_ports(spec, path, is_pod))
    restart = a.s(spec, "restartPolicy")
    if not restart:
        errs.append(required(path.child("restartPolicy")))
    elif restart not in _RESTART_POLICIES:
        errs.append(not_supported(path.child("restartPolicy"), restart, _RESTART_POLICIES))
    dns = a.s(spec, "dnsPolicy")
    if not dns:
        errs.append(required(path.child("dnsPolicy")))
    elif dns not in _DNS_POLICIES:
        errs.append(not_supported(path.child("dnsPolicy"), dns, _DNS_POLICIES))
    errs.extend(validate_labels(a.string_map(spec, "nodeSelector"), path.child("nodeSelector")))
    errs.extend(
        _validate_pod_security_context(a.d(spec, "securityContext"), path.child("securityContext"))
    )
    errs.extend(_validate_dns_config(spec, path.child("dnsConfig")))
    errs.extend(_validate_names(spec, path))
    deadline = a.i(spec, "activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        errs.append(
            invalid(
                path.child("activeDeadlineSeconds"),
                deadline,
                formats.inclusive_range_error(1, MAX_INT32),
            )
        )
    for key in ("hostname", "subdomain"):
        value = a.s(spec, key)
        if value:
            errs.extend(invalid(path.child(key), value, m) for m in formats.is_dns1123_label(value))
    tolerations = a.items(spec, "tolerations")
    if tolerations:
        errs.extend(validate_tolerations(tolerations, path.child("tolerations")))
    priority_class = a.s(spec, "priorityClassName")
    if priority_class:
        errs.extend(
            invalid(path.child("priorityClassName"), priority_class, m)
            for m in formats.name_is_dns_subdomain(priority_class)
        )
    runtime_class = spec.get("runtimeClassName")
    if isinstance(runtime_class, str):
        errs.extend(
            invalid(path.child("runtimeClassName"), runtime_class, m)
            for m in formats.name_is_dns_subdomain(runtime_class)
        )
    preemption = spec.get("preemptionPolicy")
    if isinstance(preemption, str) and preemption not in _PREEMPTION_POLICIES:
        errs.append(
            required(path.child("preemptionPolicy"))
            if not preemption
            else not_supported(path.child("preemptionPolicy"), preemption, _PREEMPTION_POLICIES)
        )
    return errs


def _validate_names(spec: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in ("serviceAccountName", "nodeName"):
        value = a.s(spec, key)
        if value:
            errs.extend(
                invalid(path.child(key), value, m) for m in formats.name_is_dns_subdomain(value)
            )
    return errs


def _validate_ephemeral_containers(
    spec: Obj, volumes: dict[str, Obj], path: Path
) -> list[FieldError]:
    errs: list[FieldError] = []
    others = {
        a.s(c, "name") for key in ("containers", "initContainers") for c in a.items(spec, key)
    }
    names = set(others)
    for idx, container in enumerate(a.items(spec, "ephemeralContainers")):
        item = path.index(idx)
        errs.extend(validate_container_common(container, volumes, item))
        name = a.s(container, "name")
        if name in names:
            errs.append(duplicate(item.child("name"), name))
        else:
            names.add(name)
        target = a.s(container, "targetContainerName")
        if target and target not in others:
            errs.append(not_found(item.child("targetContainerName"), target))
        for key in (
            "ports",
            "resources",
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle",
        ):
            if container.get(key) not in (None, [], {}):
                errs.append(forbidden(item.child(key), "cannot be set for an Ephemeral Container"))
    return errs


def validate_host_network_ports(spec: Obj, path: Path, is_pod: bool = False) -> list[FieldError]:
    if not a.b(spec, "hostNetwork"):
        return []
    errs: list[FieldError] = []
    for ci, container in enumerate(a.items(spec, "containers")):
        for pi, port in enumerate(a.items(container, "ports")):
            host_port, container_port = a.i0(port, "hostPort"), a.i0(port, "containerPort")
            if (is_pod or host_port != 0) and host_port != container_port:
                errs.append(
                    invalid(
                        path.child("containers")
                        .index(ci)
                        .child("ports")
                        .index(pi)
                        .child("hostPort"),
                        host_port,
                        "must match `containerPort` when `hostNetwork` is true",
                    )
                )
    return errs


def _validate_pod_security_context(context: Obj | None, path: Path) -> list[FieldError]:
    if context is None:
        return []
    errs: list[FieldError] = []
    for key in ("fsGroup", "runAsUser", "runAsGroup"):
        value = a.i(context, key)
        if value is not None:
            errs.extend(invalid(path.child(key), value, m) for m in formats.is_valid_user_id(value))
    groups = context.get("supplementalGroups")
    for idx, gid in enumerate(groups if isinstance(groups, list) else []):
        if isinstance(gid, int):
            errs.extend(
                invalid(path.child("supplementalGroups").index(idx), gid, m)
                for m in formats.is_valid_group_id(gid)
            )
    return errs
