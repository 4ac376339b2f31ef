"""STS GetCallerIdentity and AssumeRole over the region's identities."""

from __future__ import annotations

import datetime
from typing import Any

from openeks.aws.errors import AccessDenied, AwsError
from openeks.aws.service import MethodDispatch, RequestContext, load_model
from openeks.region.identity import Identities
from openeks.region.state import RegionState

Doc = dict[str, Any]


class StsService(MethodDispatch):
    model = load_model("sts")

    def __init__(self, state: RegionState, identities: Identities) -> None:
        self.state = state
        self.identities = identities

    async def get_caller_identity(self, params: Doc, context: RequestContext) -> Doc:
        principal = context.principal
        assert principal is not None
        return {"UserId": principal.user_id, "Account": principal.account_id, "Arn": principal.arn}

    async def assume_role(self, params: Doc, context: RequestContext) -> Doc:
        arn = params["RoleArn"]
        name = arn.rsplit("/", 1)[-1]
        record = await self.state.get("roles", name)
        if record is None or record.value["Arn"] != arn:
            caller = context.principal.arn if context.principal else "anonymous"
            raise AccessDenied(
                f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {arn}"
            )
        seconds = int(params.get("DurationSeconds") or 3600)
        if not 900 <= seconds <= int(record.value.get("MaxSessionDuration", 3600)):
            raise AwsError(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                code="ValidationError",
                status=400,
            )
        session = await self.identities.assume_role(
            record.value, params["RoleSessionName"], seconds
        )
        return {
            "Credentials": {
                "AccessKeyId": session["AccessKeyId"],
                "SecretAccessKey": session["SecretAccessKey"],
                "SessionToken": session["SessionToken"],
                "Expiration": datetime.datetime.fromisoformat(session["Expiration"]),
            },
            "AssumedRoleUser": {"AssumedRoleId": session["AssumedRoleId"], "Arn": session["Arn"]},
        }
