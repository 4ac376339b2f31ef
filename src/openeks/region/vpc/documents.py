"""Where the region keeps its EC2 resources, and the helpers every operation shares:
ids, timestamps, tags, loading a document or failing the way EC2 does.

Documents (RegionState kinds) hold the botocore output shape in boto3 form plus a
private `"openeks": {...}` the API never shows (`public()` strips it):

    vpcs/<vpc-id>                 Vpc           + openeks.subnetCidrs {subnet id: cidr}
    subnets/<subnet-id>           Subnet
    subnetips/<subnet-id>         {"cidr", "used": {ip or cidr: owner}} (ipam.py)
    securitygroups/<sg-id>        SecurityGroup
    launchtemplates/<name>        LaunchTemplate + openeks.versions {"1": {...}, ...}
    networkinterfaces/<eni-id>    NetworkInterface + openeks.owner
    instances/<instance-id>       Instance      + openeks {reservationId, ownerId, ...}
    clienttokens/<token hash>     a RunInstances idempotency claim (clienttokens.py)

Ids are AWS's: a prefix and 17 hex digits (`i-0123456789abcdef0`).
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Iterable
from typing import Any

from openeks.region.state import Record, RegionState
from openeks.region.vpc import errors

Doc = dict[str, Any]

VPCS = "vpcs"
SUBNETS = "subnets"
SUBNET_IPS = "subnetips"
SECURITY_GROUPS = "securitygroups"
LAUNCH_TEMPLATES = "launchtemplates"
NETWORK_INTERFACES = "networkinterfaces"
INSTANCES = "instances"
CLIENT_TOKENS = "clienttokens"

MAX_TAGS = 50
_HEX_ID = re.compile(r"^[a-z]+(-[a-z]+)*-([0-9a-f]{8}|[0-9a-f]{17})$")


def new_id(prefix: str) -> str:
    """`prefix-` and 17 hex digits, as EC2 names resources today."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def now_iso() -> str:
    moment = datetime.datetime.now(datetime.UTC)
    return moment.isoformat(timespec="milliseconds")


def public(doc: Doc) -> Doc:
    """The document as the API shows it: without the private `openeks` member."""
    return {key: value for key, value in doc.items() if key != "openeks"}


def private(doc: Doc) -> Doc:
    value = doc.get("openeks")
    return value if isinstance(value, dict) else {}


def well_formed(resource_id: str, prefix: str) -> bool:
    return resource_id.startswith(f"{prefix}-") and bool(_HEX_ID.match(resource_id))


def check_ids(ids: Iterable[str], prefix: str, code: str) -> None:
    """EC2's `*.Malformed` for the first id that is not `prefix-<hex>`."""
    for resource_id in ids:
        if not well_formed(resource_id, prefix):
            raise errors.malformed(code, resource_id, prefix)


# -- tags ------------------------------------------------------------------------------


def tag_list(tags: dict[str, str]) -> list[Doc]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tag_map(tags: Iterable[Doc] | None) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value") or "") for t in tags or ()}


def check_tags(tags: dict[str, str]) -> None:
    for key in tags:
        if key.lower().startswith("aws:"):
            raise errors.reserved_tag_key(key)
    if len(tags) > MAX_TAGS:
        raise errors.too_many_tags()


def tags_for(
    specifications: Iterable[Doc] | None, allowed: dict[str, str]
) -> dict[str, dict[str, str]]:
    """TagSpecifications → {resource type: tags}; `allowed` maps each resource type the
    operation accepts to itself (or to the type it stands for)."""
    out: dict[str, dict[str, str]] = {}
    for spec in specifications or ():
        kind = str(spec.get("ResourceType") or "")
        if kind not in allowed:
            raise errors.bad_tag_resource_type(kind)
        tags = out.setdefault(allowed[kind], {})
        tags.update(tag_map(spec.get("Tags")))
        check_tags(tags)
    return out


# -- loading ---------------------------------------------------------------------------


async def load_vpc(state: RegionState, vpc_id: str) -> Record:
    record = await state.get(VPCS, vpc_id)
    if record is None:
        raise errors.vpc_not_found(vpc_id)
    return record


async def load_subnet(state: RegionState, subnet_id: str) -> Record:
    record = await state.get(SUBNETS, subnet_id)
    if record is None:
        raise errors.subnet_not_found(subnet_id)
    return record


async def default_vpc(state: RegionState) -> Doc | None:
    for record in await state.list(VPCS):
        if record.value.get("IsDefault"):
            return record.value
    return None


async def in_vpc(state: RegionState, kind: str, vpc_id: str) -> list[Doc]:
    """Every `kind` document whose `VpcId` is `vpc_id`."""
    return [r.value for r in await state.list(kind) if r.value.get("VpcId") == vpc_id]
