"""Launch templates: named, versioned sets of RunInstances parameters.

A template is the document `launchtemplates/<name>` (the name is the key, so two
concurrent CreateLaunchTemplate calls with one name cannot both win): the EC2
`LaunchTemplate` shape plus `openeks.versions`, a map from version number to
`{"VersionNumber", "VersionDescription", "CreateTime", "CreatedBy", "LaunchTemplateData"}`
with the data as the request gave it (boto3 form; `UserData` still base64, as EC2
keeps it). Ids (`lt-` + 17 hex) are found by listing; there are few templates.

`resolve` picks the version RunInstances (and the lead's node group controller) asks
for: a number, `$Latest`, or `$Default` (also when no version is named).
"""

from __future__ import annotations

import contextlib
from typing import Any

from openeks.region.state import Exists, Missing, RegionState
from openeks.region.vpc import errors
from openeks.region.vpc.documents import LAUNCH_TEMPLATES, new_id, now_iso, private, tag_list

Doc = dict[str, Any]


def _version(number: int, data: Doc, description: str | None, created_by: str) -> Doc:
    version: Doc = {
        "VersionNumber": number,
        "CreateTime": now_iso(),
        "CreatedBy": created_by,
        "LaunchTemplateData": data,
    }
    if description:
        version["VersionDescription"] = description
    return version


async def create_launch_template(
    state: RegionState,
    *,
    name: str,
    data: Doc,
    created_by: str,
    description: str | None = None,
    tags: dict[str, str] | None = None,
) -> Doc:
    doc: Doc = {
        "LaunchTemplateId": new_id("lt"),
        "LaunchTemplateName": name,
        "CreateTime": now_iso(),
        "CreatedBy": created_by,
        "DefaultVersionNumber": 1,
        "LatestVersionNumber": 1,
        "Tags": tag_list(tags or {}),
        "openeks": {"versions": {"1": _version(1, data, description, created_by)}},
    }
    try:
        await state.create(LAUNCH_TEMPLATES, name, doc)
    except Exists:
        raise errors.template_name_taken() from None
    return doc


async def find_template(
    state: RegionState, *, template_id: str | None = None, name: str | None = None
) -> Doc:
    """A template by id or by name (EC2's not-found errors otherwise)."""
    if name and not template_id:
        record = await state.get(LAUNCH_TEMPLATES, name)
        if record is None:
            raise errors.template_name_not_found(name)
        return record.value
    if not template_id:
        raise errors.template_id_or_name()
    for record in await state.list(LAUNCH_TEMPLATES):
        if record.value["LaunchTemplateId"] == template_id:
            return record.value
    raise errors.template_id_not_found(template_id)


def version_number(template: Doc, version: str | int | None) -> int:
    if version in (None, "", "$Default"):
        return int(template["DefaultVersionNumber"])
    if version == "$Latest":
        return int(template["LatestVersionNumber"])
    number = str(version)
    if not number.isdigit() or number not in private(template).get("versions", {}):
        raise errors.template_version_not_found(number, template["LaunchTemplateId"])
    return int(number)


def resolve(template: Doc, version: str | int | None) -> Doc:
    """The stored version (`VersionNumber`, `LaunchTemplateData`, ...) `version` names."""
    number = version_number(template, version)
    stored: Doc = private(template)["versions"][str(number)]
    return stored


def version_view(template: Doc, version: Doc) -> Doc:
    """A version in EC2's `LaunchTemplateVersion` shape."""
    return {
        "LaunchTemplateId": template["LaunchTemplateId"],
        "LaunchTemplateName": template["LaunchTemplateName"],
        "DefaultVersion": version["VersionNumber"] == template["DefaultVersionNumber"],
        **version,
    }


async def create_version(
    state: RegionState,
    template: Doc,
    *,
    data: Doc,
    created_by: str,
    description: str | None = None,
    source_version: str | None = None,
) -> Doc:
    """A new version (numbered after the latest); `source_version`'s data is the base
    the new data's members replace, as CreateLaunchTemplateVersion does."""
    base = resolve(template, source_version)["LaunchTemplateData"] if source_version else {}
    merged = {**base, **data}
    made: list[Doc] = []

    def change(doc: Doc) -> Doc:
        number = int(doc["LatestVersionNumber"]) + 1
        version = _version(number, merged, description, created_by)
        doc["openeks"]["versions"][str(number)] = version
        doc["LatestVersionNumber"] = number
        made[:] = [version_view(doc, version)]
        return doc

    try:
        await state.mutate(LAUNCH_TEMPLATES, template["LaunchTemplateName"], change)
    except Missing:
        raise errors.template_id_not_found(template["LaunchTemplateId"]) from None
    return made[0]


async def delete_launch_template(
    state: RegionState, *, template_id: str | None = None, name: str | None = None
) -> Doc:
    template = await find_template(state, template_id=template_id, name=name)
    with contextlib.suppress(Missing):
        await state.delete(LAUNCH_TEMPLATES, template["LaunchTemplateName"])
    return template
