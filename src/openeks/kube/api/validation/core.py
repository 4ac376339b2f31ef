"""ConfigMap, Secret, Namespace, ServiceAccount, Endpoints and Node validation.

Ports the matching functions of `pkg/apis/core/validation`: ConfigMap and Secret keys
(`IsConfigMapKey`) and their 1 MiB total (ConfigMaps report it on the unnamed root path,
printed `[]`, as upstream does), the well-known Secret types' required keys, the
`immutable` flag, namespace finalizers, endpoint subsets and node taints.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import (
    DUPLICATE,
    FieldError,
    GoValue,
    Path,
    forbidden,
    invalid,
    not_supported,
    required,
    too_long,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.containers import PORT_PROTOCOLS
from openeks.kube.api.validation.meta import (
    FIELD_IMMUTABLE,
    validate_kube_finalizer_name,
    validate_object_meta,
    validate_object_meta_update,
)

Obj = dict[str, Any]

MAX_SECRET_SIZE = 1024 * 1024
_IMMUTABLE_SET = "field is immutable when `immutable` is set"
_TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]


def _meta(obj: Obj, old: Obj | None, namespaced: bool, name_fn: Any) -> list[FieldError]:
    meta = a.d0(obj, "metadata")
    if old is None:
        return validate_object_meta(meta, namespaced, name_fn)
    return validate_object_meta_update(meta, a.d0(old, "metadata"))


def _decode(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _immutable_updates(obj: Obj, old: Obj | None, keys: tuple[str, ...]) -> list[FieldError]:
    if old is None or old.get("immutable") is not True:
        return []
    errs: list[FieldError] = []
    if obj.get("immutable") is not True:
        errs.append(forbidden(Path("immutable"), _IMMUTABLE_SET))
    for key in keys:
        if (obj.get(key) or None) != (old.get(key) or None):
            errs.append(forbidden(Path(key), _IMMUTABLE_SET))
    return errs


# -- ConfigMap -------------------------------------------------------------------------------


def validate_config_map(obj: Obj, old: Obj | None) -> list[FieldError]:
    errs = _meta(obj, old, True, formats.name_is_dns_subdomain)
    errs.extend(_immutable_updates(obj, old, ("data", "binaryData")))
    if old is not None:
        errs.extend(
            validate_object_meta(a.d0(obj, "metadata"), True, formats.name_is_dns_subdomain)
        )
    data, binary = a.string_map(obj, "data"), a.d0(obj, "binaryData")
    total = 0
    for key in sorted(data):
        errs.extend(invalid(Path("data").key(key), key, m) for m in formats.is_config_map_key(key))
        if key in binary:
            errs.append(
                invalid(Path("data").key(key), key, "duplicate of key present in binaryData")
            )
        total += len(data[key].encode())
    for key in sorted(binary):
        errs.extend(
            invalid(Path("binaryData").key(key), key, m) for m in formats.is_config_map_key(key)
        )
        decoded = _decode(binary[key])
        total += len(decoded) if decoded is not None else 0
    if total > MAX_SECRET_SIZE:
        errs.append(too_long(Path(""), MAX_SECRET_SIZE))
    return errs


# -- Secret ----------------------------------------------------------------------------------


def _json_error(raw: bytes) -> str | None:
    """Go's json.Unmarshal into map[string]interface{} error text (common cases)."""
    if not raw.strip():
        return "unexpected end of JSON input"
    try:
        value = json.loads(raw)
    except ValueError as err:
        pos = getattr(err, "pos", 0)
        text = raw.decode(errors="replace")
        if pos >= len(text):
            return "unexpected end of JSON input"
        return f"invalid character '{text[pos]}' looking for beginning of value"
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "bool"}.get(type(value), "number")
        return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    return None


def _secret_type_checks(obj: Obj, secret_type: str) -> list[FieldError]:
    data_path = Path("data")
    data = a.d0(obj, "data")
    errs: list[FieldError] = []
    if secret_type == "kubernetes.io/service-account-token":
        annotation = "kubernetes.io/service-account.name"
        if not a.string_map(a.d(obj, "metadata"), "annotations").get(annotation):
            errs.append(required(Path("metadata", "annotations").key(annotation)))
    elif secret_type in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if secret_type == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            errs.append(required(data_path.key(key)))
        else:
            problem = _json_error(_decode(data[key]) or b"")
            if problem:
                errs.append(invalid(data_path.key(key), "<secret contents redacted>", problem))
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.append(required(data_path.key("username")))
            errs.append(required(data_path.key("password")))
    elif secret_type == "kubernetes.io/ssh-auth":
        if not _decode(data.get("ssh-privatekey")):
            errs.append(required(data_path.key("ssh-privatekey")))
    elif secret_type == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                errs.append(required(data_path.key(key)))
    return errs


def validate_secret(obj: Obj, old: Obj | None) -> list[FieldError]:
    """Secrets as validated after `stringData` was merged into `data` (we merge here)."""
    merged = dict(obj)
    string_data = a.string_map(obj, "stringData")
    if string_data:
        data = dict(a.d0(obj, "data"))
        for key, value in string_data.items():
            data[key] = base64.b64encode(value.encode()).decode()
        merged["data"] = data
    errs = _meta(merged, old, True, formats.name_is_dns_subdomain)
    if old is not None:
        if a.s(merged, "type") != a.s(old, "type"):
            errs.append(invalid(Path("type"), a.s(merged, "type"), FIELD_IMMUTABLE))
        errs.extend(_immutable_updates(merged, old, ("data",)))
        errs.extend(
            validate_object_meta(a.d0(merged, "metadata"), True, formats.name_is_dns_subdomain)
        )
    total = 0
    data = a.d0(merged, "data")
    for key in sorted(data):
        errs.extend(invalid(Path("data").key(key), key, m) for m in formats.is_config_map_key(key))
        decoded = _decode(data[key])
        total += len(decoded) if decoded is not None else 0
    if total > MAX_SECRET_SIZE:
        errs.append(too_long(Path("data"), MAX_SECRET_SIZE))
    errs.extend(_secret_type_checks(merged, a.s(merged, "type")))
    return errs


# -- Namespace, ServiceAccount ---------------------------------------------------------------


def validate_namespace(obj: Obj, old: Obj | None) -> list[FieldError]:
    errs = _meta(obj, old, False, formats.name_is_dns_label)
    if old is None:
        path = Path("spec", "finalizers")
        for name in a.strings(a.d(obj, "spec"), "finalizers"):
            errs.extend(invalid(path, name, m) for m in formats.is_qualified_name(name))
            errs.extend(validate_kube_finalizer_name(name, path))
    return errs


def validate_service_account(obj: Obj, old: Obj | None) -> list[FieldError]:
    errs = _meta(obj, old, True, formats.name_is_dns_subdomain)
    if old is not None:
        errs.extend(
            validate_object_meta(a.d0(obj, "metadata"), True, formats.name_is_dns_subdomain)
        )
    return errs


# -- Endpoints -------------------------------------------------------------------------------


def _validate_endpoint_address(address: Obj, path: Path, allow_loopback: bool) -> list[FieldError]:
    ip = a.s(address, "ip")
    errs = [invalid(path.child("ip"), ip, m) for m in formats.is_valid_ip(ip)]
    hostname = a.s(address, "hostname")
    if hostname:
        errs.extend(
            invalid(path.child("hostname"), hostname, m) for m in formats.is_dns1123_label(hostname)
        )
    node_name = address.get("nodeName")
    if isinstance(node_name, str):
        errs.extend(
            invalid(path.child("nodeName"), node_name, m)
            for m in formats.name_is_dns_subdomain(node_name)
        )
    if not formats.is_valid_ip(ip) and not allow_loopback:
        errs.extend(_validate_non_special_ip(ip, path.child("ip")))
    return errs


def _validate_non_special_ip(ip: str, path: Path) -> list[FieldError]:
    addr = ipaddress.ip_address(ip)
    errs: list[FieldError] = []
    if addr.is_unspecified:
        errs.append(invalid(path, ip, f"may not be unspecified ({ip})"))
    if addr.is_loopback:
        errs.append(invalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if addr.is_link_local and not addr.is_multicast:
        errs.append(
            invalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
        )
    link_local_multicast = (addr.version == 4 and ip.startswith("224.0.0.")) or (
        addr.version == 6 and addr.is_multicast and (int(addr) >> 112) & 0xF == 2
    )
    if link_local_multicast:
        errs.append(
            invalid(
                path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
            )
        )
    return errs


def validate_endpoints(obj: Obj, old: Obj | None) -> list[FieldError]:
    """Upstream forbids loopback and other special addresses in endpoints. openeks serves
    its own API on loopback, so the API server's `default/kubernetes` Endpoints (which
    upstream's reconciler owns) are exempt from that one rule."""
    errs = _meta(obj, old, True, formats.name_is_dns_subdomain)
    meta = a.d0(obj, "metadata")
    system = (a.s(meta, "namespace"), a.s(meta, "name")) == ("default", "kubernetes")
    if old is not None:
        errs.extend(
            validate_object_meta(a.d0(obj, "metadata"), True, formats.name_is_dns_subdomain)
        )
    for idx, subset in enumerate(a.items(obj, "subsets")):
        path = Path("subsets").index(idx)
        addresses, not_ready = a.items(subset, "addresses"), a.items(subset, "notReadyAddresses")
        if not addresses and not not_ready:
            errs.append(required(path, "must specify `addresses` or `notReadyAddresses`"))
        for key, entries in (("addresses", addresses), ("notReadyAddresses", not_ready)):
            for ai, address in enumerate(entries):
                errs.extend(_validate_endpoint_address(address, path.child(key).index(ai), system))
        ports = a.items(subset, "ports")
        for pi, port in enumerate(ports):
            port_path = path.child("ports").index(pi)
            name = a.s(port, "name")
            if len(ports) > 1 and not name:
                errs.append(required(port_path.child("name")))
            elif name:
                errs.extend(
                    invalid(port_path.child("name"), name, m)
                    for m in formats.is_dns1123_label(name)
                )
            number = a.i0(port, "port")
            errs.extend(
                invalid(port_path.child("port"), number, m)
                for m in formats.is_valid_port_num(number)
            )
            protocol = a.s(port, "protocol")
            if not protocol:
                errs.append(required(port_path.child("protocol")))
            elif protocol not in PORT_PROTOCOLS:
                errs.append(not_supported(port_path.child("protocol"), protocol, PORT_PROTOCOLS))
    return errs


# -- Node ------------------------------------------------------------------------------------


def _validate_taints(taints: list[Obj], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for idx, taint in enumerate(taints):
        item = path.index(idx)
        key, value, effect = a.s(taint, "key"), a.s(taint, "value"), a.s(taint, "effect")
        errs.extend(invalid(item.child("key"), key, m) for m in formats.is_qualified_name(key))
        msgs = formats.is_label_value(value)
        if msgs:
            errs.append(invalid(item.child("value"), value, ";".join(msgs)))
        if not effect:
            errs.append(required(item.child("effect")))
        elif effect not in _TAINT_EFFECTS:
            errs.append(not_supported(item.child("effect"), effect, _TAINT_EFFECTS))
        if (effect, key) in seen:
            shown = GoValue(
                f'core.Taint{{Key:"{key}", Value:"{value}", Effect:"{effect}", TimeAdded:<nil>}}'
            )
            detail = "taints must be unique by key and effect pair"
            errs.append(FieldError(DUPLICATE, str(item), shown, detail))
            continue
        seen.add((effect, key))
    return errs


def validate_node(obj: Obj, old: Obj | None) -> list[FieldError]:
    errs = _meta(obj, old, False, formats.name_is_dns_subdomain)
    spec = a.d0(obj, "spec")
    taints = a.items(spec, "taints")
    if taints:
        errs.extend(_validate_taints(taints, Path("metadata", "taints")))
    cidrs = a.strings(spec, "podCIDRs")
    for idx, cidr in enumerate(cidrs):
        errs.extend(
            invalid(Path("spec", "podCIDRs").index(idx), cidr, m)
            for m in formats.is_valid_cidr(cidr)
        )
    if old is not None:
        old_spec = a.d0(old, "spec")
        old_cidrs = a.strings(old_spec, "podCIDRs")
        if old_cidrs and old_cidrs != cidrs:
            errs.append(
                forbidden(
                    Path("spec", "podCIDRs"),
                    'node updates may not change podCIDR except from "" to valid',
                )
            )
        old_provider = a.s(old_spec, "providerID")
        if old_provider and old_provider != a.s(spec, "providerID"):
            errs.append(
                forbidden(
                    Path("spec", "providerID"),
                    'node updates may not change providerID except from "" to valid',
                )
            )
    return errs
