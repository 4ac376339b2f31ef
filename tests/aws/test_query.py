"""IAM, STS and CloudFormation over the query protocol, driven by real boto3 clients."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws import fakes
from tests.aws.conftest import Edge

IAM_NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response


def test_lists_of_structures_and_empty_lists_reach_the_backend(edge: Edge) -> None:
    iam = edge.client("iam")
    tags = [{"Key": "team", "Value": "a&b"}, {"Key": "cost", "Value": ""}]
    user = iam.create_user(UserName="carol", Path="/ops/", Tags=tags)["User"]
    assert edge.services["iam"].last("CreateUser") == {
        "UserName": "carol",
        "Path": "/ops/",
        "Tags": tags,
    }
    assert user["UserName"] == "carol"
    assert user["Path"] == "/ops/"
    assert user["Tags"] == tags
    assert user["CreateDate"] == fakes.CREATED
    iam.create_user(UserName="dave", Tags=[])
    assert edge.services["iam"].last("CreateUser") == {"UserName": "dave", "Tags": []}


def test_lists_booleans_maps_blobs_and_timestamps_parse(edge: Edge) -> None:
    iam = edge.client("iam")
    listed = iam.list_users(MaxItems=10)
    assert [user["UserName"] for user in listed["Users"]] == ["alice", "bob"]
    assert listed["IsTruncated"] is True
    assert listed["Marker"] == "next-page"
    assert edge.services["iam"].last("ListUsers") == {"MaxItems": 10}
    assert iam.get_account_summary()["SummaryMap"] == {"Users": 2, "Groups": 0, "UsersQuota": 5000}
    report = iam.get_credential_report()
    assert report["Content"] == b"user,arn\n\x00\xff"
    assert report["GeneratedTime"] == fakes.CREATED
    assert report["ResponseMetadata"]["RequestId"]


def test_the_xml_envelope_is_the_query_protocols(edge: Edge) -> None:
    response = edge.raw(
        "POST",
        "/",
        service="iam",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        body=b"Action=ListUsers&Version=2010-05-08",
    )
    assert response.status == 200
    root = ET.fromstring(response.body)
    assert root.tag == f"{IAM_NS}ListUsersResponse"
    assert [child.tag for child in root] == [
        f"{IAM_NS}ListUsersResult",
        f"{IAM_NS}ResponseMetadata",
    ]
    members = root.findall(f"{IAM_NS}ListUsersResult/{IAM_NS}Users/{IAM_NS}member")
    assert len(members) == 2
    assert root.findtext(f"{IAM_NS}ListUsersResult/{IAM_NS}IsTruncated") == "true"
    created = members[0].findtext(f"{IAM_NS}CreateDate")
    assert created == "2024-03-01T12:30:45.123000Z"
    request_id = root.findtext(f"{IAM_NS}ResponseMetadata/{IAM_NS}RequestId")
    assert request_id == response.headers["x-amzn-requestid"]


def test_a_modeled_query_error_has_type_code_message_and_status(edge: Edge) -> None:
    iam = edge.client("iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_user(UserName="ghost")
    response = caught.value.response
    assert response["Error"] == {
        "Type": "Sender",
        "Code": "NoSuchEntity",
        "Message": "The user with name ghost cannot be found.",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    conflict = error_of(iam.create_user, UserName="exists")
    assert conflict["Error"]["Code"] == "EntityAlreadyExists"
    assert conflict["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_invalid_input_is_a_validation_error_in_aws_words(edge: Edge) -> None:
    iam = edge.client("iam", validate=False)
    response = error_of(iam.create_user, UserName="bad name")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"] == {
        "Type": "Sender",
        "Code": "ValidationError",
        "Message": "1 validation error detected: Value 'bad name' at 'userName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    }
    missing = error_of(iam.create_user)
    assert missing["Error"]["Message"] == (
        "1 validation error detected: Value null at 'userName' failed to satisfy "
        "constraint: Member must not be null"
    )
    too_many = error_of(iam.list_users, MaxItems=0)
    assert "Member must have value greater than or equal to 1" in too_many["Error"]["Message"]


def test_unknown_actions_versions_and_bad_values(edge: Edge) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    unknown = edge.raw(
        "POST", "/", service="iam", headers=form, body=b"Action=Nope&Version=2010-05-08"
    )
    assert unknown.status == 400
    root = ET.fromstring(unknown.body)
    assert root.findtext(f"{IAM_NS}Error/{IAM_NS}Code") == "InvalidAction"
    assert root.findtext(f"{IAM_NS}Error/{IAM_NS}Message") == (
        "Could not find operation Nope for version 2010-05-08"
    )
    wrong_version = edge.raw("GET", "/?Action=ListUsers&Version=2011-06-15", service="iam")
    assert b"InvalidAction" in wrong_version.body
    not_a_number = edge.raw(
        "GET", "/?Action=ListUsers&Version=2010-05-08&MaxItems=many", service="iam"
    )
    assert not_a_number.status == 400
    assert b"<Code>ValidationError</Code>" in not_a_number.body
    assert b"Member must be an integer" in not_a_number.body


def test_get_caller_identity_names_the_signer(edge: Edge) -> None:
    identity = edge.client("sts").get_caller_identity()
    assert (identity["UserId"], identity["Account"], identity["Arn"]) == (
        fakes.ALICE.user_id,
        fakes.ACCOUNT,
        fakes.ALICE.arn,
    )
    temporary = edge.client("sts", fakes.TEMPORARY).get_caller_identity()
    assert temporary["Arn"] == fakes.TEMPORARY.arn


def test_an_operation_modeled_without_auth_is_served_unsigned(edge: Edge) -> None:
    sts = boto3.session.Session(region_name=fakes.REGION).client(
        "sts", endpoint_url=edge.url, config=Config(signature_version=UNSIGNED)
    )
    answer = sts.assume_role_with_web_identity(
        RoleArn="arn:aws:iam::123456789012:role/app",
        RoleSessionName="session",
        WebIdentityToken="eyJ.token",
    )
    assert answer["Credentials"]["Expiration"] == fakes.CREATED
    context = edge.services["sts"].calls[-1][2]
    assert context.principal is None
    response = error_of(sts.get_caller_identity)
    assert response["Error"]["Code"] == "MissingAuthenticationToken"
    assert response["Error"]["Message"] == "Request is missing Authentication Token"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_cloudformation_stacks_parse(edge: Edge) -> None:
    stacks = edge.client("cloudformation").describe_stacks(StackName="demo")["Stacks"]
    assert stacks[0]["StackName"] == "demo"
    assert stacks[0]["CreationTime"] == fakes.CREATED
    assert stacks[0]["Parameters"] == [{"ParameterKey": "Size", "ParameterValue": "3"}]
    assert stacks[0]["DisableRollback"] is False
