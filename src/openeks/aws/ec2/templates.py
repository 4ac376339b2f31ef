"""Launch templates on the API side: CreateLaunchTemplate, DescribeLaunchTemplates,
DeleteLaunchTemplate, CreateLaunchTemplateVersion, DescribeLaunchTemplateVersions.

Templates and their versions live in `openeks.region.vpc.templates` (the instance
launch reads them there too); this module shapes requests and answers.
"""

from __future__ import annotations

from typing import Any

from openeks.aws.ec2.filters import TEMPLATE_FIELDS, by_ids, filtered, page
from openeks.aws.service import RequestContext
from openeks.region.state import RegionState
from openeks.region.vpc import errors, templates
from openeks.region.vpc.documents import LAUNCH_TEMPLATES, private, public, tags_for

Doc = dict[str, Any]


def _creator(context: RequestContext) -> str:
    return context.principal.arn if context.principal else f"arn:aws:iam::{context.account_id}:root"


async def create_launch_template(state: RegionState, params: Doc, context: RequestContext) -> Doc:
    kinds = {"launch-template": "launch-template"}
    tags = tags_for(params.get("TagSpecifications"), kinds).get("launch-template")
    template = await templates.create_launch_template(
        state,
        name=params["LaunchTemplateName"],
        data=dict(params.get("LaunchTemplateData") or {}),
        created_by=_creator(context),
        description=params.get("VersionDescription"),
        tags=tags,
    )
    return {"LaunchTemplate": public(template)}


async def describe_launch_templates(state: RegionState, params: Doc) -> Doc:
    docs = [public(r.value) for r in await state.list(LAUNCH_TEMPLATES)]
    docs.sort(key=lambda d: str(d["CreateTime"]))
    docs = by_ids(
        docs,
        params.get("LaunchTemplateIds"),
        "LaunchTemplateId",
        lambda m: errors.template_id_not_found(m[0]),
    )
    docs = by_ids(
        docs,
        params.get("LaunchTemplateNames"),
        "LaunchTemplateName",
        lambda m: errors.template_name_not_found(),
    )
    chosen, token = page(
        filtered(docs, params.get("Filters"), TEMPLATE_FIELDS),
        params.get("MaxResults"),
        params.get("NextToken"),
    )
    return {"LaunchTemplates": chosen, "NextToken": token}


async def _find(state: RegionState, params: Doc) -> Doc:
    if not params.get("LaunchTemplateId") and not params.get("LaunchTemplateName"):
        raise errors.template_id_or_name()
    return await templates.find_template(
        state, template_id=params.get("LaunchTemplateId"), name=params.get("LaunchTemplateName")
    )


async def delete_launch_template(state: RegionState, params: Doc) -> Doc:
    template = await _find(state, params)
    gone = await templates.delete_launch_template(state, template_id=template["LaunchTemplateId"])
    return {"LaunchTemplate": public(gone)}


async def create_launch_template_version(
    state: RegionState, params: Doc, context: RequestContext
) -> Doc:
    template = await _find(state, params)
    version = await templates.create_version(
        state,
        template,
        data=dict(params.get("LaunchTemplateData") or {}),
        created_by=_creator(context),
        description=params.get("VersionDescription"),
        source_version=params.get("SourceVersion"),
    )
    return {"LaunchTemplateVersion": version}


async def describe_launch_template_versions(state: RegionState, params: Doc) -> Doc:
    template = await _find(state, params)
    stored = private(template)["versions"]
    wanted = params.get("Versions") or []
    if wanted:
        numbers = [templates.version_number(template, v) for v in wanted]
    else:
        numbers = sorted(int(n) for n in stored)
        low = templates.version_number(template, params.get("MinVersion") or 1)
        high = templates.version_number(template, params.get("MaxVersion") or "$Latest")
        numbers = [n for n in numbers if low <= n <= high]
    versions = [templates.version_view(template, stored[str(n)]) for n in dict.fromkeys(numbers)]
    chosen, token = page(versions, params.get("MaxResults"), params.get("NextToken"))
    return {"LaunchTemplateVersions": chosen, "NextToken": token}
