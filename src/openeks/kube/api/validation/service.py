"""Service validation, as `ValidateService` and `ValidateServiceUpdate` upstream.

Ports are required unless the service is headless or ExternalName; port names must be
DNS labels and unique, required when there are several; ports and protocols are
checked and (protocol, port) pairs may not repeat. Type, session affinity, traffic
policies, cluster IPs and IP families are checked as upstream checks them, and on update
the primary cluster IP and IP family may not change. Service names are DNS-1035 labels
(RelaxedServiceNameValidation is alpha and off in 1.37).

The validators read `clusterIPs` the way the registry normalises it before validating:
when only `clusterIP` is set, it counts as `clusterIPs: [clusterIP]`.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import (
    FieldError,
    GoValue,
    Path,
    duplicate,
    forbidden,
    go_quote,
    invalid,
    not_supported,
    required,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.containers import PORT_PROTOCOLS
from openeks.kube.api.validation.meta import (
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from openeks.kube.api.validation.probes import validate_port_num_or_name
from openeks.kube.api.validation.service_ips import (
    cluster_ips,
    is_headless,
    validate_cluster_ip_update,
    validate_cluster_ips,
)

Obj = dict[str, Any]

_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
_AFFINITIES = ["ClientIP", "None"]
_EXTERNAL_POLICIES = ["Cluster", "Local"]
_INTERNAL_POLICIES = ["Cluster", "Local"]
_MAX_CLIENT_IP_TIMEOUT = 86400
_SPEC = Path("spec")


def _port_value(protocol: str, port: int) -> GoValue:
    """`%#v` of the core.ServicePort key upstream reports duplicates with."""
    return GoValue(
        f'core.ServicePort{{Name:"", Protocol:{go_quote(protocol)}, AppProtocol:(*string)(nil), '
        f'Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:""}}, NodePort:0}}'
    )


def _validate_port(port: Obj, require_name: bool, names: set[str], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    name = a.s(port, "name")
    if require_name and not name:
        errs.append(required(path.child("name")))
    elif name:
        errs.extend(invalid(path.child("name"), name, m) for m in formats.is_dns1123_label(name))
        if name in names:
            errs.append(duplicate(path.child("name"), name))
        names.add(name)
    number = a.i0(port, "port")
    errs.extend(invalid(path.child("port"), number, m) for m in formats.is_valid_port_num(number))
    protocol = a.s(port, "protocol")
    if not protocol:
        errs.append(required(path.child("protocol")))
    elif protocol not in PORT_PROTOCOLS:
        errs.append(not_supported(path.child("protocol"), protocol, PORT_PROTOCOLS))
    errs.extend(validate_port_num_or_name(port.get("targetPort", 0), path.child("targetPort")))
    app_protocol = port.get("appProtocol")
    if isinstance(app_protocol, str):
        errs.extend(
            invalid(path.child("appProtocol"), app_protocol, m)
            for m in formats.is_qualified_name(app_protocol)
        )
    return errs


def _validate_type_specifics(spec: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    kind = a.s(spec, "type")
    ips = cluster_ips(spec)
    if kind in ("LoadBalancer", "NodePort") and is_headless(spec):
        errs.append(
            invalid(
                _SPEC.child("clusterIPs").index(0),
                ips[0],
                f"may not be set to 'None' for {kind} services",
            )
        )
    elif kind == "ExternalName":
        if ips:
            errs.append(
                forbidden(_SPEC.child("clusterIPs"), "may not be set for ExternalName services")
            )
        if a.strings(spec, "ipFamilies"):
            errs.append(
                forbidden(_SPEC.child("ipFamilies"), "may not be set for ExternalName services")
            )
        if a.has(spec, "ipFamilyPolicy"):
            errs.append(
                forbidden(_SPEC.child("ipFamilyPolicy"), "may not be set for ExternalName services")
            )
        cname = a.s(spec, "externalName").removesuffix(".")
        if cname:
            errs.extend(
                invalid(_SPEC.child("externalName"), cname, m)
                for m in formats.is_dns1123_subdomain(cname)
            )
        else:
            errs.append(required(_SPEC.child("externalName")))
    return errs


def _validate_affinity(spec: Obj) -> list[FieldError]:
    affinity = a.s(spec, "sessionAffinity")
    config_path = _SPEC.child("sessionAffinityConfig")
    if not affinity:
        return [required(_SPEC.child("sessionAffinity"))]
    if affinity not in _AFFINITIES:
        return [not_supported(_SPEC.child("sessionAffinity"), affinity, _AFFINITIES)]
    config = a.d(spec, "sessionAffinityConfig")
    if affinity == "None":
        if config is not None:
            return [forbidden(config_path, "must not be set when session affinity is None")]
        return []
    reason = "when session affinity type is ClientIP"
    if config is None:
        return [required(config_path, reason)]
    client_ip = a.d(config, "clientIP")
    if client_ip is None:
        return [required(config_path.child("clientIP"), reason)]
    timeout = a.i(client_ip, "timeoutSeconds")
    timeout_path = config_path.child("clientIP", "timeoutSeconds")
    if timeout is None:
        return [required(timeout_path, reason)]
    if not 0 < timeout <= _MAX_CLIENT_IP_TIMEOUT:
        return [
            invalid(
                timeout_path,
                timeout,
                f"must be greater than 0 and less than {_MAX_CLIENT_IP_TIMEOUT}",
            )
        ]
    return []


def _externally_accessible(spec: Obj) -> bool:
    kind = a.s(spec, "type")
    return kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(a.strings(spec, "externalIPs"))
    )


def _needs_health_check(spec: Obj) -> bool:
    return a.s(spec, "type") == "LoadBalancer" and a.s(spec, "externalTrafficPolicy") == "Local"


def _validate_traffic_policies(spec: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    external = a.s(spec, "externalTrafficPolicy")
    if not _externally_accessible(spec):
        if external:
            errs.append(
                invalid(
                    _SPEC.child("externalTrafficPolicy"),
                    external,
                    "may only be set for externally-accessible services",
                )
            )
    elif not external:
        errs.append(required(_SPEC.child("externalTrafficPolicy")))
    elif external not in _EXTERNAL_POLICIES:
        errs.append(
            not_supported(_SPEC.child("externalTrafficPolicy"), external, _EXTERNAL_POLICIES)
        )
    health = a.i0(spec, "healthCheckNodePort")
    if not _needs_health_check(spec):
        if health != 0:
            errs.append(
                invalid(
                    _SPEC.child("healthCheckNodePort"),
                    health,
                    "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` "
                    "is 'Local'",
                )
            )
    elif health == 0:
        errs.append(required(_SPEC.child("healthCheckNodePort")))
    else:
        errs.extend(
            invalid(_SPEC.child("healthCheckNodePort"), health, m)
            for m in formats.is_valid_port_num(health)
        )
    internal = spec.get("internalTrafficPolicy")
    if internal is None:
        if a.s(spec, "type") in ("NodePort", "LoadBalancer", "ClusterIP"):
            errs.append(required(_SPEC.child("internalTrafficPolicy")))
    elif internal not in _INTERNAL_POLICIES:
        errs.append(
            not_supported(_SPEC.child("internalTrafficPolicy"), internal, _INTERNAL_POLICIES)
        )
    distribution = spec.get("trafficDistribution")
    allowed = ["PreferClose", "PreferSameZone", "PreferSameNode"]
    if isinstance(distribution, str) and distribution not in allowed:
        errs.append(not_supported(_SPEC.child("trafficDistribution"), distribution, allowed))
    return errs


def validate_service_spec(spec: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    kind = a.s(spec, "type")
    ports = a.items(spec, "ports")
    if not ports and not is_headless(spec) and kind != "ExternalName":
        errs.append(required(_SPEC.child("ports")))
    errs.extend(_validate_type_specifics(spec))
    names: set[str] = set()
    for idx, port in enumerate(ports):
        errs.extend(_validate_port(port, len(ports) > 1, names, _SPEC.child("ports").index(idx)))
    if spec.get("selector") is not None:
        errs.extend(validate_labels(a.string_map(spec, "selector"), _SPEC.child("selector")))
    errs.extend(_validate_affinity(spec))
    errs.extend(validate_cluster_ips(spec))
    for idx, ip in enumerate(a.strings(spec, "externalIPs")):
        errs.extend(
            invalid(_SPEC.child("externalIPs").index(idx), ip, m) for m in formats.is_valid_ip(ip)
        )
    if not kind:
        errs.append(required(_SPEC.child("type")))
    elif kind not in _TYPES:
        errs.append(not_supported(_SPEC.child("type"), kind, _TYPES))
    if kind == "ClusterIP":
        for idx, port in enumerate(ports):
            if a.i0(port, "nodePort") != 0:
                errs.append(
                    forbidden(
                        _SPEC.child("ports").index(idx).child("nodePort"),
                        "may not be used when `type` is 'ClusterIP'",
                    )
                )
    errs.extend(_validate_duplicate_ports(ports))
    if a.strings(spec, "loadBalancerSourceRanges"):
        ranges_path = _SPEC.child("LoadBalancerSourceRanges")  # sic, upstream's capital L
        if kind != "LoadBalancer":
            errs.append(forbidden(ranges_path, "may only be used when `type` is 'LoadBalancer'"))
        for idx, value in enumerate(a.strings(spec, "loadBalancerSourceRanges")):
            value = value.strip()
            errs.extend(
                invalid(ranges_path.index(idx), value, m) for m in formats.is_valid_cidr(value)
            )
    if a.has(spec, "allocateLoadBalancerNodePorts") and kind != "LoadBalancer":
        errs.append(
            forbidden(
                _SPEC.child("allocateLoadBalancerNodePorts"),
                "may only be used when `type` is 'LoadBalancer'",
            )
        )
    if kind == "LoadBalancer" and not a.has(spec, "allocateLoadBalancerNodePorts"):
        errs.append(required(Path("allocateLoadBalancerNodePorts")))
    errs.extend(_validate_traffic_policies(spec))
    return errs


def _validate_duplicate_ports(ports: list[Obj]) -> list[FieldError]:
    errs: list[FieldError] = []
    node_ports: set[tuple[str, int]] = set()
    for idx, port in enumerate(ports):
        node_port = a.i0(port, "nodePort")
        if node_port == 0:
            continue
        key = (a.s(port, "protocol"), node_port)
        if key in node_ports:
            errs.append(duplicate(_SPEC.child("ports").index(idx).child("nodePort"), node_port))
        node_ports.add(key)
    seen: set[tuple[str, int]] = set()
    for idx, port in enumerate(ports):
        pair = (a.s(port, "protocol"), a.i0(port, "port"))
        if pair in seen:
            errs.append(duplicate(_SPEC.child("ports").index(idx), _port_value(*pair)))
        seen.add(pair)
    return errs


def validate_service(obj: Obj, old: Obj | None) -> list[FieldError]:
    meta, spec = a.d0(obj, "metadata"), a.d0(obj, "spec")
    errs: list[FieldError] = []
    if old is not None:
        old_spec = a.d0(old, "spec")
        errs.extend(validate_object_meta_update(meta, a.d0(old, "metadata")))
        errs.extend(validate_cluster_ip_update(spec, old_spec))
        health_changed = a.i0(spec, "healthCheckNodePort") != a.i0(old_spec, "healthCheckNodePort")
        if _needs_health_check(old_spec) and _needs_health_check(spec) and health_changed:
            errs.append(forbidden(_SPEC.child("healthCheckNodePort"), "field is immutable"))
    errs.extend(validate_object_meta(meta, True, formats.name_is_dns1035_label))
    errs.extend(validate_service_spec(spec))
    return errs
