"""Service cluster IPs and IP families: `ValidateServiceClusterIPsRelatedFields` and the
upgrade/downgrade rules of `ValidateServiceUpdate`.

`clusterIP` and `clusterIPs[0]` must agree, at most two IPs of different families, `None`
only alone, families IPv4/IPv6 without repeats and matching the IPs; on update the
primary IP and family never change and releasing the secondary needs `SingleStack`.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import (
    FieldError,
    GoValue,
    Path,
    duplicate,
    go_slice,
    invalid,
    not_supported,
)
from openeks.kube.api.validation import access as a

Obj = dict[str, Any]

_IP_FAMILIES = ["IPv4", "IPv6"]
_IP_FAMILY_POLICIES = ["PreferDualStack", "RequireDualStack", "SingleStack"]
_SPEC = Path("spec")


def cluster_ips(spec: Obj) -> list[str]:
    ips = a.strings(spec, "clusterIPs")
    cluster_ip = a.s(spec, "clusterIP")
    return ips if ips or not cluster_ip else [cluster_ip]


def is_headless(spec: Obj) -> bool:
    ips = cluster_ips(spec)
    return len(ips) == 1 and ips[0] == "None"


def _strings_value(values: list[str]) -> GoValue:
    return GoValue(go_slice(values, "string") if values else "[]string(nil)")


def validate_cluster_ips(spec: Obj) -> list[FieldError]:
    """ValidateServiceClusterIPsRelatedFields."""
    if a.s(spec, "type") == "ExternalName":
        return []
    errs: list[FieldError] = []
    ips_path = _SPEC.child("clusterIPs")
    ips = cluster_ips(spec)
    cluster_ip = a.s(spec, "clusterIP")
    if cluster_ip:
        if ips[0] != cluster_ip:
            errs.append(
                invalid(ips_path, _strings_value(ips), "first value must match `clusterIP`")
            )
    elif ips:
        errs.append(
            invalid(
                ips_path, _strings_value(ips), "must be empty when `clusterIP` is not specified"
            )
        )
    seen: set[str] = set()
    for idx, family in enumerate(a.strings(spec, "ipFamilies")):
        if family not in _IP_FAMILIES:
            errs.append(not_supported(_SPEC.child("ipFamilies").index(idx), family, _IP_FAMILIES))
        if family in seen:
            errs.append(duplicate(_SPEC.child("ipFamilies").index(idx), family))
        seen.add(family)
    policy = spec.get("ipFamilyPolicy")
    if isinstance(policy, str) and policy not in _IP_FAMILY_POLICIES:
        errs.append(not_supported(_SPEC.child("ipFamilyPolicy"), policy, _IP_FAMILY_POLICIES))
    bad_ips = False
    for idx, ip in enumerate(ips):
        if idx == 0 and ip == "None":
            if len(ips) > 1:
                bad_ips = True
                errs.append(
                    invalid(
                        ips_path, _strings_value(ips), "'None' must be the first and only value"
                    )
                )
            continue
        msgs = formats.is_valid_ip(ip)
        bad_ips = bad_ips or bool(msgs)
        errs.extend(invalid(ips_path.index(idx), ip, m) for m in msgs)
    if len(ips) > 2:
        errs.append(invalid(ips_path, _strings_value(ips), "may only hold up to 2 values"))
    if bad_ips:
        return errs
    if len(ips) == 2 and (":" in ips[0]) == (":" in ips[1]):
        errs.append(
            invalid(
                ips_path, _strings_value(ips), "may specify no more than one IP for each IP family"
            )
        )
    families = a.strings(spec, "ipFamilies")
    if not is_headless(spec):
        for idx, (ip, family) in enumerate(zip(ips, families, strict=False)):
            if family == "IPv4" and ":" in ip:
                errs.append(
                    invalid(
                        ips_path.index(idx),
                        ip,
                        f"expected an IPv4 value as indicated by `ipFamilies[{idx}]`",
                    )
                )
            if family == "IPv6" and ":" not in ip:
                errs.append(
                    invalid(
                        ips_path.index(idx),
                        ip,
                        f"expected an IPv6 value as indicated by `ipFamilies[{idx}]`",
                    )
                )
    return errs


def validate_cluster_ip_update(spec: Obj, old_spec: Obj) -> list[FieldError]:
    """validateUpgradeDowngradeClusterIPs and ...IPFamilies."""
    if "ExternalName" in (a.s(spec, "type"), a.s(old_spec, "type")):
        return []
    errs: list[FieldError] = []
    new_ips, old_ips = cluster_ips(spec), cluster_ips(old_spec)
    ips_path = _SPEC.child("clusterIPs")
    if not (is_headless(spec) and is_headless(old_spec)):
        if len(old_ips) == len(new_ips):
            for idx, ip in enumerate(old_ips):
                if ip != new_ips[idx]:
                    errs.append(
                        invalid(
                            ips_path.index(idx), _strings_value(new_ips), "may not change once set"
                        )
                    )
        elif len(old_ips) > len(new_ips):
            if not new_ips:
                errs.append(
                    invalid(
                        ips_path.index(0),
                        _strings_value(new_ips),
                        "primary clusterIP can not be unset",
                    )
                )
            elif old_ips[0] != new_ips[0]:
                errs.append(
                    invalid(ips_path.index(0), _strings_value(new_ips), "may not change once set")
                )
            if len(new_ips) == 1 and spec.get("ipFamilyPolicy") != "SingleStack":
                errs.append(
                    invalid(
                        _SPEC.child("ipFamilyPolicy"),
                        spec.get("ipFamilyPolicy"),
                        "must be set to 'SingleStack' when releasing the secondary clusterIP",
                    )
                )
        elif old_ips and new_ips[0] != old_ips[0]:
            errs.append(
                invalid(ips_path.index(0), _strings_value(new_ips), "may not change once set")
            )
    if is_headless(spec) != is_headless(old_spec) or is_headless(spec):
        return errs
    families, old_families = a.strings(spec, "ipFamilies"), a.strings(old_spec, "ipFamilies")
    families_path = _SPEC.child("ipFamilies").index(0)
    if len(families) == len(old_families):
        if families != old_families:
            errs.append(invalid(families_path, _strings_value(families), "may not change once set"))
    elif old_families and families and families[0] != old_families[0]:
        errs.append(invalid(families_path, _strings_value(new_ips), "may not change once set"))
    return errs
