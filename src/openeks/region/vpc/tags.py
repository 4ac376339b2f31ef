"""CreateTags and DeleteTags over every EC2 resource the region keeps.

A resource id's prefix says where its document lives (`vpc-`, `subnet-`, `sg-`, `i-`,
`eni-`, `lt-`); every id is checked before any document changes, so a request naming
one unknown resource tags none. Network interfaces keep their tags in `TagSet`, the
others in `Tags`, as EC2's shapes have them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openeks.region.state import Missing, RegionState
from openeks.region.vpc import errors
from openeks.region.vpc.documents import (
    INSTANCES,
    LAUNCH_TEMPLATES,
    MAX_TAGS,
    NETWORK_INTERFACES,
    SECURITY_GROUPS,
    SUBNETS,
    VPCS,
    check_tags,
    tag_list,
    tag_map,
    well_formed,
)
from openeks.region.vpc.templates import find_template

Doc = dict[str, Any]


@dataclass(frozen=True)
class _Kind:
    kind: str
    not_found: Callable[[str], errors.Ec2Error]
    member: str = "Tags"


_KINDS = {
    "vpc": _Kind(VPCS, errors.vpc_not_found),
    "subnet": _Kind(SUBNETS, errors.subnet_not_found),
    "sg": _Kind(SECURITY_GROUPS, errors.group_not_found),
    "i": _Kind(INSTANCES, lambda i: errors.instances_not_found([i])),
    "eni": _Kind(NETWORK_INTERFACES, errors.interface_not_found, "TagSet"),
    "lt": _Kind(LAUNCH_TEMPLATES, errors.template_id_not_found),
}


async def _locate(state: RegionState, resource_id: str) -> tuple[_Kind, str]:
    """(kind, document name) of an existing resource."""
    prefix = resource_id.rsplit("-", 1)[0]
    kind = _KINDS.get(prefix)
    if kind is None or not well_formed(resource_id, prefix):
        raise errors.invalid_id(resource_id)
    if kind.kind == LAUNCH_TEMPLATES:
        template = await find_template(state, template_id=resource_id)
        return kind, str(template["LaunchTemplateName"])
    if await state.get(kind.kind, resource_id) is None:
        raise kind.not_found(resource_id)
    return kind, resource_id


async def _each(
    state: RegionState, resource_ids: list[str], edit: Callable[[dict[str, str]], dict[str, str]]
) -> None:
    located = [(await _locate(state, r), r) for r in resource_ids]
    for (kind, name), resource_id in located:

        def change(doc: Doc, kind: _Kind = kind) -> Doc:
            doc[kind.member] = tag_list(edit(tag_map(doc.get(kind.member))))
            return doc

        try:
            await state.mutate(kind.kind, name, change)
        except Missing:
            raise kind.not_found(resource_id) from None


async def create_tags(state: RegionState, resource_ids: list[str], tags: dict[str, str]) -> None:
    """Add or overwrite `tags` on every resource."""
    check_tags(tags)

    def edit(current: dict[str, str]) -> dict[str, str]:
        merged = {**current, **tags}
        if len(merged) > MAX_TAGS:
            raise errors.too_many_tags()
        return merged

    await _each(state, resource_ids, edit)


async def delete_tags(state: RegionState, resource_ids: list[str], tags: list[Doc] | None) -> None:
    """Remove tags: all of them when `tags` is None or empty; a key given without a
    value whatever its value; a key with a value only if the value matches."""

    def edit(current: dict[str, str]) -> dict[str, str]:
        if not tags:
            return {}
        out = dict(current)
        for tag in tags:
            key = tag["Key"]
            if key in out and ("Value" not in tag or tag["Value"] == out[key]):
                del out[key]
        return out

    await _each(state, resource_ids, edit)
