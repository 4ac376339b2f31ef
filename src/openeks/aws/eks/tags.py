"""TagResource, UntagResource, ListTagsForResource over EKS resource ARNs.

An ARN names a region document: `cluster/<name>` is `clusters/<name>`,
`access-entry/<cluster>/...` the access entry whose `accessEntryArn` it is, and
`nodegroup/`, `addon/`, `fargateprofile/<cluster>/<name>/...` the documents the later
backends keep under `nodegroups/`, `addons/`, `fargateprofiles/` (matched on their ARN
member). Tags are the document's `tags` map. Like EKS, these operations answer
NotFoundException for a well-formed ARN naming nothing and BadRequestException for an
ARN that is not an EKS resource of this region and account.

Tags can be changed at any time, also while the cluster is updating; changing
`openeks.io/control-plane` afterwards does not change a cluster's control plane.
"""

from __future__ import annotations

import re
from typing import Any

from openeks.aws.eks import errors
from openeks.aws.eks.documents import (
    ACCESS_ENTRIES,
    ADDONS,
    CLUSTERS,
    FARGATE_PROFILES,
    NODEGROUPS,
    children,
)
from openeks.aws.service import RequestContext
from openeks.region.state import Missing, RegionState

Doc = dict[str, Any]
MAX_TAGS = 50
_ARN = re.compile(
    r"^arn:aws:eks:(?P<region>[^:]+):(?P<account>\d{12}):(?P<kind>[a-z-]+)/(?P<rest>.+)$"
)
# resource type in the ARN -> (document kind, member holding the document's ARN)
_CHILD_KINDS = {
    "access-entry": (ACCESS_ENTRIES, "accessEntryArn"),
    "nodegroup": (NODEGROUPS, "nodegroupArn"),
    "addon": (ADDONS, "addonArn"),
    "fargateprofile": (FARGATE_PROFILES, "fargateProfileArn"),
}


def _bad_arn(arn: str) -> errors.AwsError:
    # (openeks wording)
    return errors.BadRequestException(f"The resource ARN {arn} is not a valid EKS resource ARN")


async def _locate(state: RegionState, arn: str, context: RequestContext) -> tuple[str, str]:
    """(document kind, document name) of the resource `arn` names."""
    found = _ARN.match(arn)
    if found is None or found["kind"] not in ("cluster", *_CHILD_KINDS):
        raise _bad_arn(arn)
    if found["region"] != context.region or found["account"] != context.account_id:
        raise errors.resource_not_found_for_tags()
    if found["kind"] == "cluster":
        record = await state.get(CLUSTERS, found["rest"])
        if record is None or record.value.get("arn") != arn:
            raise errors.resource_not_found_for_tags()
        return CLUSTERS, record.name
    kind, member = _CHILD_KINDS[found["kind"]]
    cluster = found["rest"].split("/", 1)[0]
    for record in await children(state, kind, cluster):
        if record.value.get(member) == arn:
            return kind, record.name
    raise errors.resource_not_found_for_tags()


async def tag_resource(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    kind, name = await _locate(state, params["resourceArn"], context)
    new_tags: dict[str, str] = dict(params["tags"])

    def change(doc: Doc) -> Doc:
        tags = dict(doc.get("tags") or {})
        tags.update(new_tags)
        if len(tags) > MAX_TAGS:
            # (openeks wording)
            raise errors.BadRequestException(
                f"A resource can have at most {MAX_TAGS} tags; this request would give it "
                f"{len(tags)}"
            )
        doc["tags"] = tags
        return doc

    try:
        await state.mutate(kind, name, change)
    except Missing:
        raise errors.resource_not_found_for_tags() from None
    return {}


async def untag_resource(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    kind, name = await _locate(state, params["resourceArn"], context)
    removed = set(params["tagKeys"])

    def change(doc: Doc) -> Doc:
        doc["tags"] = {k: v for k, v in (doc.get("tags") or {}).items() if k not in removed}
        return doc

    try:
        await state.mutate(kind, name, change)
    except Missing:
        raise errors.resource_not_found_for_tags() from None
    return {}


async def list_tags_for_resource(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    kind, name = await _locate(state, params["resourceArn"], context)
    record = await state.get(kind, name)
    if record is None:
        raise errors.resource_not_found_for_tags()
    return {"tags": dict(record.value.get("tags") or {})}
