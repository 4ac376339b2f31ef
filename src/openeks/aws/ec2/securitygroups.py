"""Security groups on the API side: CreateSecurityGroup, DescribeSecurityGroups,
DeleteSecurityGroup, AuthorizeSecurityGroupIngress.

The documents and their rules live in `openeks.region.vpc.securitygroups`; this module
turns the request's two ways of naming a rule (IpPermissions, or the older top-level
IpProtocol/FromPort/ToPort/CidrIp/SourceSecurityGroupName) into one list, and shapes
the answers.
"""

from __future__ import annotations

from typing import Any

from openeks.aws.ec2.filters import SECURITY_GROUP_FIELDS, by_ids, filtered, page
from openeks.aws.service import RequestContext
from openeks.region.state import RegionState
from openeks.region.vpc import errors, securitygroups
from openeks.region.vpc.documents import (
    SECURITY_GROUPS,
    check_ids,
    default_vpc,
    public,
    tag_list,
    tags_for,
)

Doc = dict[str, Any]


async def create_security_group(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    kinds = {"security-group": "security-group"}
    tags = tags_for(params.get("TagSpecifications"), kinds).get("security-group")
    group = await securitygroups.create_security_group(
        state,
        context.region,
        context.account_id,
        name=params["GroupName"],
        description=params["Description"],
        vpc_id=params.get("VpcId"),
        tags=tags,
    )
    return {
        "GroupId": group["GroupId"],
        "SecurityGroupArn": group["SecurityGroupArn"],
        "Tags": tag_list(tags or {}),
    }


async def _by_names(state: RegionState, docs: list[Doc], names: list[str]) -> list[Doc]:
    vpc = await default_vpc(state)
    vpc_id = str(vpc["VpcId"]) if vpc else ""
    mine = {d["GroupName"]: d for d in docs if d["VpcId"] == vpc_id}
    for name in names:
        if name not in mine:
            raise errors.group_not_found(name, vpc_id, default_vpc=True)
    return [mine[name] for name in dict.fromkeys(names)]


async def describe_security_groups(state: RegionState, params: Doc) -> Doc:
    docs = [public(r.value) for r in await state.list(SECURITY_GROUPS)]
    ids = params.get("GroupIds") or []
    check_ids(ids, "sg", "InvalidGroupId.Malformed")
    docs = by_ids(docs, ids, "GroupId", lambda m: errors.group_not_found(m[0]))
    if params.get("GroupNames"):
        docs = await _by_names(state, docs, params["GroupNames"])
    chosen, token = page(
        filtered(docs, params.get("Filters"), SECURITY_GROUP_FIELDS),
        params.get("MaxResults"),
        params.get("NextToken"),
    )
    return {"SecurityGroups": chosen, "NextToken": token}


async def delete_security_group(state: RegionState, params: Doc) -> Doc:
    if not params.get("GroupId") and not params.get("GroupName"):
        raise errors.missing_parameter("GroupId")
    group_id = await securitygroups.delete_security_group(
        state, group_id=params.get("GroupId"), group_name=params.get("GroupName")
    )
    return {"Return": True, "GroupId": group_id}


async def _legacy_permission(state: RegionState, params: Doc, account: str) -> Doc | None:
    """The rule named by the top-level members, if any."""
    if not (
        params.get("IpProtocol") or params.get("CidrIp") or params.get("SourceSecurityGroupName")
    ):
        return None
    permission: Doc = {"IpProtocol": params.get("IpProtocol") or "-1"}
    for key in ("FromPort", "ToPort"):
        if params.get(key) is not None:
            permission[key] = params[key]
    if params.get("CidrIp"):
        permission["IpRanges"] = [{"CidrIp": params["CidrIp"]}]
    if params.get("SourceSecurityGroupName"):
        source = await securitygroups.find_group(
            state, group_name=params["SourceSecurityGroupName"]
        )
        permission["UserIdGroupPairs"] = [{"GroupId": source["GroupId"], "UserId": account}]
    return permission


async def authorize_security_group_ingress(
    state: RegionState, params: Doc, context: RequestContext
) -> Doc:
    if not params.get("GroupId") and not params.get("GroupName"):
        raise errors.missing_parameter("GroupId")
    group = await securitygroups.find_group(
        state, group_id=params.get("GroupId"), group_name=params.get("GroupName")
    )
    permissions = list(params.get("IpPermissions") or ())
    legacy = await _legacy_permission(state, params, context.account_id)
    if legacy is not None:
        permissions.append(legacy)
    if not permissions:
        raise errors.missing_parameter("IpPermissions")
    rules = await securitygroups.authorize_ingress(state, group, permissions, context.account_id)
    return {"Return": True, "SecurityGroupRules": rules}
