"""IAM operations over the region's identity documents.

Users (`users/<name>`), access keys (`accesskeys/<id>`) and roles (`roles/<name>`) are
region documents; the shapes returned are botocore's, the errors IAM's own
(`EntityAlreadyExists` 409, `NoSuchEntity` 404, `DeleteConflict` 409) with IAM's wording.
"""

from __future__ import annotations

import datetime
import json
import urllib.parse
from typing import Any

from openeks.aws.errors import AwsError
from openeks.aws.service import MethodDispatch, RequestContext, load_model
from openeks.region.identity import Identities, new_id, new_secret, now
from openeks.region.state import Exists, Missing, RegionState

Doc = dict[str, Any]


class EntityAlreadyExists(AwsError):
    STATUS = 409


class NoSuchEntity(AwsError):
    STATUS = 404


class DeleteConflict(AwsError):
    STATUS = 409


def _when(doc: Doc, key: str = "CreateDate") -> Doc:
    out = dict(doc)
    if isinstance(out.get(key), str):
        out[key] = datetime.datetime.fromisoformat(out[key])
    return out


class IamService(MethodDispatch):
    model = load_model("iam")

    def __init__(self, state: RegionState, identities: Identities) -> None:
        self.state = state
        self.identities = identities

    @property
    def account(self) -> str:
        return self.identities.account.id

    # -- users ---------------------------------------------------------------------------
    async def create_user(self, params: Doc, context: RequestContext) -> Doc:
        name, path = params["UserName"], params.get("Path", "/")
        user = {
            "Path": path,
            "UserName": name,
            "UserId": new_id("AIDA"),
            "Arn": self.identities.account.user_arn(name, path),
            "CreateDate": now().isoformat(),
        }
        if params.get("Tags"):
            user["Tags"] = params["Tags"]
        try:
            await self.state.create("users", name, user)
        except Exists:
            raise EntityAlreadyExists(f"User with name {name} already exists.") from None
        return {"User": _when(user)}

    async def _user(self, name: str) -> Doc:
        record = await self.state.get("users", name)
        if record is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return record.value

    async def get_user(self, params: Doc, context: RequestContext) -> Doc:
        name = params.get("UserName")
        if not name:
            principal = context.principal
            if principal is None or ":user/" not in principal.arn:
                raise NoSuchEntity("Must specify userName when calling with non-User credentials")
            name = principal.name
        return {"User": _when(await self._user(name))}

    async def list_users(self, params: Doc, context: RequestContext) -> Doc:
        users = [_when(r.value) for r in await self.state.list("users")]
        prefix = params.get("PathPrefix", "/")
        return {"Users": [u for u in users if u["Path"].startswith(prefix)], "IsTruncated": False}

    async def delete_user(self, params: Doc, context: RequestContext) -> None:
        name = params["UserName"]
        await self._user(name)
        if any(k.value["UserName"] == name for k in await self.state.list("accesskeys")):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        await self.state.delete("users", name)

    # -- access keys ---------------------------------------------------------------------
    async def create_access_key(self, params: Doc, context: RequestContext) -> Doc:
        name = params.get("UserName") or (context.principal.name if context.principal else "")
        await self._user(name)
        mine = [k for k in await self.state.list("accesskeys") if k.value["UserName"] == name]
        if len(mine) >= 2:
            raise AwsError(
                "Cannot exceed quota for AccessKeysPerUser: 2", code="LimitExceeded", status=409
            )
        key = {
            "UserName": name,
            "AccessKeyId": new_id("AKIA", 16),
            "Status": "Active",
            "SecretAccessKey": new_secret(),
            "CreateDate": now().isoformat(),
        }
        await self.state.create("accesskeys", key["AccessKeyId"], key)
        return {"AccessKey": _when(key)}

    async def list_access_keys(self, params: Doc, context: RequestContext) -> Doc:
        name = params.get("UserName") or (context.principal.name if context.principal else "")
        await self._user(name)
        keys = [
            _when({k: v for k, v in r.value.items() if k != "SecretAccessKey"})
            for r in await self.state.list("accesskeys")
            if r.value["UserName"] == name
        ]
        return {"AccessKeyMetadata": keys, "IsTruncated": False}

    async def delete_access_key(self, params: Doc, context: RequestContext) -> None:
        key_id = params["AccessKeyId"]
        record = await self.state.get("accesskeys", key_id)
        if record is None or (
            params.get("UserName") and record.value["UserName"] != params["UserName"]
        ):
            raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
        await self.state.delete("accesskeys", key_id)

    # -- roles ---------------------------------------------------------------------------
    async def create_role(self, params: Doc, context: RequestContext) -> Doc:
        name, path = params["RoleName"], params.get("Path", "/")
        try:
            json.loads(params["AssumeRolePolicyDocument"])
        except ValueError:
            raise AwsError(
                "This policy contains invalid Json", code="MalformedPolicyDocument", status=400
            ) from None
        role = {
            "Path": path,
            "RoleName": name,
            "RoleId": new_id("AROA"),
            "Arn": self.identities.account.role_arn(name, path),
            "CreateDate": now().isoformat(),
            "AssumeRolePolicyDocument": urllib.parse.quote(params["AssumeRolePolicyDocument"]),
            "MaxSessionDuration": params.get("MaxSessionDuration", 3600),
            "AttachedPolicies": [],
        }
        if params.get("Description"):
            role["Description"] = params["Description"]
        if params.get("Tags"):
            role["Tags"] = params["Tags"]
        try:
            await self.state.create("roles", name, role)
        except Exists:
            raise EntityAlreadyExists(f"Role with name {name} already exists.") from None
        return {"Role": self._role_shape(role)}

    @staticmethod
    def _role_shape(role: Doc) -> Doc:
        return _when({k: v for k, v in role.items() if k != "AttachedPolicies"})

    async def role(self, name: str) -> Doc:
        record = await self.state.get("roles", name)
        if record is None:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        return record.value

    async def get_role(self, params: Doc, context: RequestContext) -> Doc:
        return {"Role": self._role_shape(await self.role(params["RoleName"]))}

    async def list_roles(self, params: Doc, context: RequestContext) -> Doc:
        prefix = params.get("PathPrefix", "/")
        roles = [self._role_shape(r.value) for r in await self.state.list("roles")]
        return {"Roles": [r for r in roles if r["Path"].startswith(prefix)], "IsTruncated": False}

    async def delete_role(self, params: Doc, context: RequestContext) -> None:
        role = await self.role(params["RoleName"])
        if role.get("AttachedPolicies"):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        await self.state.delete("roles", params["RoleName"])

    async def attach_role_policy(self, params: Doc, context: RequestContext) -> None:
        arn = params["PolicyArn"]
        if not arn.startswith("arn:aws:iam::"):
            raise AwsError(f"ARN {arn} is not valid.", code="InvalidInput", status=400)
        await self.role(params["RoleName"])

        def attach(role: Doc) -> Doc:
            attached = role.setdefault("AttachedPolicies", [])
            if not any(p["PolicyArn"] == arn for p in attached):
                attached.append({"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn})
            return role

        await self.state.mutate("roles", params["RoleName"], attach)

    async def detach_role_policy(self, params: Doc, context: RequestContext) -> None:
        role = await self.role(params["RoleName"])
        arn = params["PolicyArn"]
        if not any(p["PolicyArn"] == arn for p in role.get("AttachedPolicies") or ()):
            raise NoSuchEntity(f"Policy {arn} was not found.")

        def detach(doc: Doc) -> Doc:
            doc["AttachedPolicies"] = [
                p for p in doc.get("AttachedPolicies") or () if p["PolicyArn"] != arn
            ]
            return doc

        try:
            await self.state.mutate("roles", params["RoleName"], detach)
        except Missing:
            raise NoSuchEntity(
                f"The role with name {params['RoleName']} cannot be found."
            ) from None

    async def list_attached_role_policies(self, params: Doc, context: RequestContext) -> Doc:
        role = await self.role(params["RoleName"])
        return {"AttachedPolicies": list(role.get("AttachedPolicies") or ()), "IsTruncated": False}
