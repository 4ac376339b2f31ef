"""Tiny canned backends for the AWS edge tests: they record what they were called with
and answer fixed data rich enough to exercise every shape kind on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.model import ServiceModel

from openeks.aws.errors import AwsError, ResourceNotFoundException
from openeks.aws.service import MethodDispatch, RequestContext, Result, load_model
from openeks.aws.sigv4 import Credential

ACCOUNT = "123456789012"
REGION = "us-east-1"
CREATED = datetime(2024, 3, 1, 12, 30, 45, 123000, tzinfo=UTC)
ALICE = Credential(
    access_key_id="AKIAALICEEXAMPLE",
    secret_access_key="alice/secret+KEY",
    account_id=ACCOUNT,
    arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
    user_id="AIDAALICEEXAMPLE0001",
)
TEMPORARY = Credential(
    access_key_id="ASIATEMPEXAMPLE",
    secret_access_key="temporary-secret",
    account_id=ACCOUNT,
    arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/session",
    user_id="AROATEMP:session",
    session_token="FwoGZXIvYXdzEXAMPLETOKEN==",
    expiration=datetime.now(UTC) + timedelta(hours=1),
)
EXPIRED = Credential(
    access_key_id="ASIAEXPIREDEXAMPLE",
    secret_access_key="expired-secret",
    account_id=ACCOUNT,
    arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/old",
    session_token="OLDTOKEN",
    expiration=datetime(2020, 1, 1, tzinfo=UTC),
)
CREDENTIALS = {cred.access_key_id: cred for cred in (ALICE, TEMPORARY, EXPIRED)}


def lookup(access_key_id: str) -> Credential | None:
    return CREDENTIALS.get(access_key_id)


@dataclass
class Recorder(MethodDispatch):
    """A MethodDispatch that remembers every call (operation, params, context)."""

    model: ServiceModel
    calls: list[tuple[str, dict[str, Any], RequestContext]] = field(default_factory=list)

    async def handle(
        self, operation: str, params: dict[str, Any], context: RequestContext
    ) -> Result:
        self.calls.append((operation, params, context))
        return await super().handle(operation, params, context)

    def last(self, operation: str) -> dict[str, Any]:
        return next(params for name, params, _ in reversed(self.calls) if name == operation)


def cluster(name: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}",
        "createdAt": CREATED,
        "version": "1.31",
        "endpoint": f"https://{name}.eks.local",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/eks",
        "resourcesVpcConfig": {
            "subnetIds": ["subnet-a", "subnet-b"],
            "securityGroupIds": [],
            "vpcId": "vpc-1",
            "endpointPublicAccess": True,
            "endpointPrivateAccess": False,
            "publicAccessCidrs": ["0.0.0.0/0"],
        },
        "logging": {"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]},
        "status": "ACTIVE",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTg=="},
        "platformVersion": "eks.1",
        "tags": {"team": "platform", "env": "dev"},
        "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
    }
    base.update(overrides)
    return base


class Eks(Recorder):
    def __init__(self) -> None:
        super().__init__(load_model("eks"))

    async def list_clusters(self, params: dict[str, Any], context: RequestContext) -> Result:
        return {"clusters": ["alpha", "beta"], "nextToken": f"after-{params.get('maxResults')}"}

    async def describe_cluster(self, params: dict[str, Any], context: RequestContext) -> Result:
        name = params["name"]
        if name == "missing":
            raise ResourceNotFoundException(
                f"No cluster found for name: {name}.", fields={"clusterName": name}
            )
        if name == "boom":
            raise RuntimeError("a bug in the backend")
        if name == "bad-result":
            return {"cluster": "not a structure"}
        return {"cluster": cluster(name)}

    async def create_cluster(self, params: dict[str, Any], context: RequestContext) -> Result:
        if params["name"] == "taken":
            raise AwsError("Cluster already exists with name: taken", code="ResourceInUseException")
        created = cluster(params["name"], status="CREATING")
        for key in ("roleArn", "version", "tags", "logging", "accessConfig"):
            if key in params:
                created[key] = params[key]
        created["resourcesVpcConfig"] = params["resourcesVpcConfig"]
        return {"cluster": created}


class Iam(Recorder):
    def __init__(self) -> None:
        super().__init__(load_model("iam"))

    def user(self, name: str, **overrides: Any) -> dict[str, Any]:
        return {
            "Path": "/",
            "UserName": name,
            "UserId": f"AIDA{name.upper():0<16}"[:20],
            "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "CreateDate": CREATED,
            **overrides,
        }

    async def create_user(self, params: dict[str, Any], context: RequestContext) -> Result:
        name = params["UserName"]
        if name == "exists":
            raise AwsError(f"User with name {name} already exists.", code="EntityAlreadyExists")
        extra = {"Tags": params["Tags"]} if params.get("Tags") else {}
        return {"User": self.user(name, Path=params.get("Path", "/"), **extra)}

    async def get_user(self, params: dict[str, Any], context: RequestContext) -> Result:
        name = params.get("UserName", "alice")
        if name == "ghost":
            raise AwsError(f"The user with name {name} cannot be found.", code="NoSuchEntity")
        return {"User": self.user(name)}

    async def list_users(self, params: dict[str, Any], context: RequestContext) -> Result:
        users = [self.user("alice"), self.user("bob", Path="/ops/")]
        return {"Users": users, "IsTruncated": True, "Marker": "next-page"}

    async def get_account_summary(self, params: dict[str, Any], context: RequestContext) -> Result:
        return {"SummaryMap": {"Users": 2, "Groups": 0, "UsersQuota": 5000}}

    async def get_credential_report(
        self, params: dict[str, Any], context: RequestContext
    ) -> Result:
        return {
            "Content": b"user,arn\n\x00\xff",
            "ReportFormat": "text/csv",
            "GeneratedTime": CREATED,
        }

    async def delete_user(self, params: dict[str, Any], context: RequestContext) -> Result:
        return None


class Sts(Recorder):
    def __init__(self) -> None:
        super().__init__(load_model("sts"))

    async def get_caller_identity(self, params: dict[str, Any], context: RequestContext) -> Result:
        principal = context.principal
        assert principal is not None
        return {"UserId": principal.user_id, "Account": principal.account_id, "Arn": principal.arn}

    async def assume_role_with_web_identity(
        self, params: dict[str, Any], context: RequestContext
    ) -> Result:
        return {
            "Credentials": {
                "AccessKeyId": "ASIAWEBIDENTITY",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": CREATED,
            },
            "SubjectFromWebIdentityToken": "system:serviceaccount:default:app",
        }


class Ec2(Recorder):
    def __init__(self) -> None:
        super().__init__(load_model("ec2"))

    async def describe_vpcs(self, params: dict[str, Any], context: RequestContext) -> Result:
        if "vpc-missing" in params.get("VpcIds", []):
            raise AwsError("The vpc ID 'vpc-missing' does not exist", code="InvalidVpcID.NotFound")
        second_page = params.get("NextToken") == "t2"
        vpc = {
            "VpcId": "vpc-2" if second_page else "vpc-1",
            "OwnerId": ACCOUNT,
            "CidrBlock": "10.0.0.0/16",
            "State": "available",
            "IsDefault": True,
            "CidrBlockAssociationSet": [
                {
                    "AssociationId": "vpc-cidr-assoc-1",
                    "CidrBlock": "10.0.0.0/16",
                    "CidrBlockState": {"State": "associated"},
                }
            ],
            "Tags": [{"Key": "Name", "Value": "main <&> vpc"}],
        }
        return {"Vpcs": [vpc]} if second_page else {"Vpcs": [vpc], "NextToken": "t2"}

    async def describe_availability_zones(
        self, params: dict[str, Any], context: RequestContext
    ) -> Result:
        zones = [
            {
                "ZoneName": f"{context.region}{letter}",
                "ZoneId": f"use1-az{index}",
                "State": "available",
                "RegionName": context.region,
                "Messages": [],
                "ZoneType": "availability-zone",
            }
            for index, letter in enumerate("abc", 1)
        ]
        wanted = params.get("ZoneNames")
        if wanted:
            zones = [zone for zone in zones if zone["ZoneName"] in wanted]
        return {"AvailabilityZones": zones}


class CloudFormation(Recorder):
    def __init__(self) -> None:
        super().__init__(load_model("cloudformation"))

    async def describe_stacks(self, params: dict[str, Any], context: RequestContext) -> Result:
        stack = {
            "StackName": params.get("StackName", "demo"),
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/demo/1",
            "CreationTime": CREATED,
            "StackStatus": "CREATE_COMPLETE",
            "Parameters": [{"ParameterKey": "Size", "ParameterValue": "3"}],
            "Outputs": [{"OutputKey": "Endpoint", "OutputValue": "https://x"}],
            "DisableRollback": False,
        }
        return {"Stacks": [stack]}


def all_services() -> dict[str, Recorder]:
    return {
        "eks": Eks(),
        "iam": Iam(),
        "sts": Sts(),
        "ec2": Ec2(),
        "cloudformation": CloudFormation(),
    }
