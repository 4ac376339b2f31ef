"""Security groups: create, find, delete, and ingress rules kept as EC2 shows them.

Nothing filters traffic here (all node agents share the host's loopback network); the
groups exist because EKS and its users name them (cluster security groups, node groups'
remote access, RunInstances' SecurityGroupIds), so they are checked and stored as EC2
does: a name is unique within its VPC, `sg-*` names are refused, the VPC's `default`
group cannot be deleted, and a group still used by an instance, a network interface or
another group's rule is a DependencyViolation.

Rules are stored one per (protocol, ports, source) in the private `openeks.rules`, each
with its `sgr-` id, and `IpPermissions` is rebuilt from them grouped by protocol and
ports, as DescribeSecurityGroups answers.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterable
from typing import Any

from openeks.region.state import Missing, RegionState
from openeks.region.vpc import errors
from openeks.region.vpc.documents import (
    INSTANCES,
    NETWORK_INTERFACES,
    SECURITY_GROUPS,
    default_vpc,
    in_vpc,
    load_vpc,
    new_id,
    private,
    tag_list,
)

Doc = dict[str, Any]
DEFAULT = "default"
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}
_NAMED = {"tcp", "udp", "icmp", "icmpv6", "-1"}
ALL_EGRESS = {
    "IpProtocol": "-1",
    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
    "Ipv6Ranges": [],
    "PrefixListIds": [],
    "UserIdGroupPairs": [],
}


def _group_document(
    group_id: str, name: str, description: str, vpc_id: str, region: str, account: str
) -> Doc:
    return {
        "GroupId": group_id,
        "GroupName": name,
        "Description": description,
        "VpcId": vpc_id,
        "OwnerId": account,
        "SecurityGroupArn": f"arn:aws:ec2:{region}:{account}:security-group/{group_id}",
        "IpPermissions": [],
        "IpPermissionsEgress": [dict(ALL_EGRESS)],
        "Tags": [],
        "openeks": {"rules": []},
    }


async def _vpc_for_group(state: RegionState, vpc_id: str | None) -> str:
    if vpc_id:
        await load_vpc(state, vpc_id)
        return vpc_id
    default = await default_vpc(state)
    if default is None:
        raise errors.Ec2Error(
            "VPCIdNotSpecified",
            "No default VPC for this user. GroupName is only supported for EC2-Classic and "
            "default VPC.",
        )
    return str(default["VpcId"])


async def create_security_group(
    state: RegionState,
    region: str,
    account: str,
    *,
    name: str,
    description: str,
    vpc_id: str | None = None,
    tags: dict[str, str] | None = None,
) -> Doc:
    if name.startswith("sg-"):
        raise errors.group_name_like_id(name)
    vpc_id = await _vpc_for_group(state, vpc_id)
    if any(g["GroupName"] == name for g in await in_vpc(state, SECURITY_GROUPS, vpc_id)):
        raise errors.group_duplicate(name, vpc_id)
    group_id = new_id("sg")
    doc = _group_document(group_id, name, description, vpc_id, region, account)
    doc["Tags"] = tag_list(tags or {})
    await state.create(SECURITY_GROUPS, group_id, doc)
    return doc


async def ensure_default_group(state: RegionState, region: str, account: str, vpc_id: str) -> Doc:
    """The VPC's `default` group (made on first call): all traffic from its own members
    in, everything out."""
    for group in await in_vpc(state, SECURITY_GROUPS, vpc_id):
        if group["GroupName"] == DEFAULT:
            return group
    group_id = new_id("sg")
    doc = _group_document(group_id, DEFAULT, "default VPC security group", vpc_id, region, account)
    rule = _rule(group_id, account, "-1", None, None, {"GroupId": group_id, "UserId": account})
    doc["openeks"]["rules"] = [rule]
    doc["IpPermissions"] = permissions(doc["openeks"]["rules"])
    await state.create(SECURITY_GROUPS, group_id, doc)
    return doc


async def find_group(
    state: RegionState, *, group_id: str | None = None, group_name: str | None = None
) -> Doc:
    """A group by id, or by name in the default VPC (EC2's rule for names)."""
    if group_id:
        record = await state.get(SECURITY_GROUPS, group_id)
        if record is None:
            raise errors.group_not_found(group_id)
        return record.value
    if not group_name:
        raise errors.missing_parameter("GroupId")
    default = await default_vpc(state)
    vpc_id = str(default["VpcId"]) if default else ""
    for group in await in_vpc(state, SECURITY_GROUPS, vpc_id):
        if group["GroupName"] == group_name:
            return group
    raise errors.group_not_found(group_name, vpc_id, default_vpc=True)


async def groups_for_launch(
    state: RegionState, group_ids: Iterable[str], vpc_id: str, subnet_id: str
) -> list[Doc]:
    """The groups an instance or interface in `vpc_id` asks for (its VPC's `default`
    group when none): each must exist and belong to that VPC."""
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        default = [
            g for g in await in_vpc(state, SECURITY_GROUPS, vpc_id) if g["GroupName"] == DEFAULT
        ]
        return default[:1]
    out = []
    for group_id in wanted:
        group = await find_group(state, group_id=group_id)
        if group["VpcId"] != vpc_id:
            raise errors.groups_in_other_vpc(group_id, subnet_id)
        out.append(group)
    return out


async def groups_named(state: RegionState, names: Iterable[str], vpc_id: str) -> list[str]:
    """The ids of the groups called `names` in `vpc_id`."""
    groups = {g["GroupName"]: g["GroupId"] for g in await in_vpc(state, SECURITY_GROUPS, vpc_id)}
    out = []
    for name in names:
        if name not in groups:
            raise errors.group_not_found(name, vpc_id)
        out.append(groups[name])
    return out


def _uses(doc: Doc, group_id: str, member: str) -> bool:
    return any(g.get("GroupId") == group_id for g in doc.get(member) or ())


async def _in_use(state: RegionState, group: Doc) -> bool:
    group_id = group["GroupId"]
    for record in await state.list(INSTANCES):
        live = record.value["State"]["Name"] != "terminated"
        if live and _uses(record.value, group_id, "SecurityGroups"):
            return True
    if any(_uses(r.value, group_id, "Groups") for r in await state.list(NETWORK_INTERFACES)):
        return True
    for other in await state.list(SECURITY_GROUPS):
        if other.name == group_id:
            continue
        sources = [
            r.get("ReferencedGroupInfo") or {} for r in private(other.value).get("rules") or ()
        ]
        if any(source.get("GroupId") == group_id for source in sources):
            return True
    return False


async def delete_security_group(
    state: RegionState, *, group_id: str | None = None, group_name: str | None = None
) -> str:
    group = await find_group(state, group_id=group_id, group_name=group_name)
    if group["GroupName"] == DEFAULT:
        raise errors.default_group_undeletable(group["GroupId"])
    if await _in_use(state, group):
        raise errors.group_in_use(group["GroupId"])
    with contextlib.suppress(Missing):
        await state.delete(SECURITY_GROUPS, group["GroupId"])
    return str(group["GroupId"])


# -- ingress rules ---------------------------------------------------------------------


def _protocol(value: str | None) -> str:
    protocol = str(value or "").lower()
    protocol = _PROTOCOL_NAMES.get(protocol, protocol)
    if protocol in _NAMED or (protocol.isdigit() and 0 <= int(protocol) <= 255):
        return protocol
    raise errors.bad_protocol(str(value))


def _rule(
    group_id: str, account: str, protocol: str, low: int | None, high: int | None, source: Doc
) -> Doc:
    rule: Doc = {
        "SecurityGroupRuleId": new_id("sgr"),
        "GroupId": group_id,
        "GroupOwnerId": account,
        "IsEgress": False,
        "IpProtocol": protocol,
        "FromPort": -1 if low is None else low,
        "ToPort": -1 if high is None else high,
        "Tags": [],
    }
    if "CidrIp" in source:
        rule["CidrIpv4"] = source["CidrIp"]
    elif "CidrIpv6" in source:
        rule["CidrIpv6"] = source["CidrIpv6"]
    elif "PrefixListId" in source:
        rule["PrefixListId"] = source["PrefixListId"]
    else:
        rule["ReferencedGroupInfo"] = {
            "GroupId": source["GroupId"],
            "UserId": source.get("UserId") or account,
        }
    if source.get("Description"):
        rule["Description"] = source["Description"]
    return rule


def _peer(rule: Doc) -> str:
    return str(
        rule.get("CidrIpv4")
        or rule.get("CidrIpv6")
        or rule.get("PrefixListId")
        or (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
    )


def _key(rule: Doc) -> tuple[str, int, int, str]:
    return (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], _peer(rule))


def _sources(permission: Doc) -> list[Doc]:
    sources = [dict(r) for r in permission.get("IpRanges") or ()]
    sources += [dict(r) for r in permission.get("Ipv6Ranges") or ()]
    sources += [dict(r) for r in permission.get("PrefixListIds") or ()]
    sources += [dict(p) for p in permission.get("UserIdGroupPairs") or ()]
    return sources


def permissions(rules: Iterable[Doc]) -> list[Doc]:
    """`IpPermissions` as DescribeSecurityGroups shows them, from the stored rules."""
    grouped: dict[tuple[str, int, int], Doc] = {}
    for rule in rules:
        protocol, low, high = rule["IpProtocol"], rule["FromPort"], rule["ToPort"]
        entry = grouped.setdefault(
            (protocol, low, high),
            {
                "IpProtocol": protocol,
                "IpRanges": [],
                "Ipv6Ranges": [],
                "PrefixListIds": [],
                "UserIdGroupPairs": [],
            },
        )
        if protocol != "-1":
            entry["FromPort"], entry["ToPort"] = low, high
        described = {"Description": rule["Description"]} if rule.get("Description") else {}
        if "CidrIpv4" in rule:
            entry["IpRanges"].append({"CidrIp": rule["CidrIpv4"], **described})
        elif "CidrIpv6" in rule:
            entry["Ipv6Ranges"].append({"CidrIpv6": rule["CidrIpv6"], **described})
        elif "PrefixListId" in rule:
            entry["PrefixListIds"].append({"PrefixListId": rule["PrefixListId"], **described})
        else:
            entry["UserIdGroupPairs"].append({**rule["ReferencedGroupInfo"], **described})
    return list(grouped.values())


async def _check_sources(state: RegionState, permissions_in: Iterable[Doc]) -> None:
    for permission in permissions_in:
        for pair in permission.get("UserIdGroupPairs") or ():
            if pair.get("GroupId") and await state.get(SECURITY_GROUPS, pair["GroupId"]) is None:
                raise errors.group_not_found(pair["GroupId"])


def _check_cidr(cidr: str | None) -> None:
    if cidr is None:
        return
    try:
        ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise errors.invalid_value(f"CIDR block {cidr} is malformed") from None


def _new_rules(group_id: str, account: str, permissions_in: Iterable[Doc]) -> list[Doc]:
    rules = []
    for permission in permissions_in:
        protocol = _protocol(permission.get("IpProtocol"))
        low, high = permission.get("FromPort"), permission.get("ToPort")
        if protocol == "-1":
            low = high = None
        elif protocol in ("tcp", "udp") and (low is None or high is None):
            raise errors.ports_required()
        sources = _sources(permission)
        if not sources:
            raise errors.rule_without_source()
        for source in sources:
            _check_cidr(source.get("CidrIp") or source.get("CidrIpv6"))
        rules += [_rule(group_id, account, protocol, low, high, source) for source in sources]
    return rules


async def authorize_ingress(
    state: RegionState, group: Doc, permissions_in: list[Doc], account: str
) -> list[Doc]:
    """Add ingress rules to `group`; each new rule (EC2's SecurityGroupRule shape).
    A rule that exists already is InvalidPermission.Duplicate and nothing is added."""
    await _check_sources(state, permissions_in)
    added = _new_rules(group["GroupId"], account, permissions_in)

    def change(doc: Doc) -> Doc:
        rules: list[Doc] = doc.setdefault("openeks", {}).setdefault("rules", [])
        existing = {_key(rule) for rule in rules}
        for rule in added:
            if _key(rule) in existing:
                low = None if rule["IpProtocol"] == "-1" else rule["FromPort"]
                raise errors.rule_duplicate(_peer(rule), rule["IpProtocol"], low, rule["ToPort"])
            existing.add(_key(rule))
        rules += added
        doc["IpPermissions"] = permissions(rules)
        return doc

    try:
        await state.mutate(SECURITY_GROUPS, group["GroupId"], change)
    except Missing:
        raise errors.group_not_found(group["GroupId"]) from None
    return added
