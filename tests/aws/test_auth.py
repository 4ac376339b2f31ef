"""Authentication at the endpoint: each service family names failures its own way."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from openeks.aws import sigv4
from openeks.aws.server import make_app
from openeks.aws.sigv4 import Credential
from tests.aws import fakes
from tests.aws.conftest import Edge, ServerThread

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
EC2_FAILURE = "AWS was not able to validate the provided access credentials"
UNKNOWN = Credential("AKIANOBODY", "whatever", "000000000000", "arn:aws:iam::0:user/nobody")

# One cheap call per service: (service, method, kwargs)
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "eks": ("list_clusters", {}),
    "sts": ("get_caller_identity", {}),
    "iam": ("list_users", {}),
    "ec2": ("describe_availability_zones", {}),
}


def call_error(client: Any, service: str) -> dict[str, Any]:
    method, kwargs = CALLS[service]
    with pytest.raises(ClientError) as caught:
        getattr(client, method)(**kwargs)
    return caught.value.response


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("eks", "InvalidSignatureException", 403),
        ("sts", "SignatureDoesNotMatch", 403),
        ("iam", "SignatureDoesNotMatch", 403),
        ("ec2", "AuthFailure", 401),
    ],
)
def test_a_wrong_secret_is_refused(edge: Edge, service: str, code: str, status: int) -> None:
    response = call_error(edge.client(service, secret="not-the-secret"), service)
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    if service == "ec2":
        assert response["Error"]["Message"] == EC2_FAILURE
    else:
        assert response["Error"]["Message"].startswith(MISMATCH)


@pytest.mark.parametrize(
    ("service", "code", "status", "message"),
    [
        ("eks", "UnrecognizedClientException", 403, INVALID_TOKEN),
        ("sts", "InvalidClientTokenId", 403, INVALID_TOKEN),
        ("ec2", "AuthFailure", 401, EC2_FAILURE),
    ],
)
def test_an_unknown_key_is_refused(
    edge: Edge, service: str, code: str, status: int, message: str
) -> None:
    response = call_error(edge.client(service, UNKNOWN), service)
    assert response["Error"]["Code"] == code
    assert response["Error"]["Message"] == message
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status


@pytest.fixture
def twenty_minutes_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore signs with a clock 20 minutes behind."""
    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda: real() - timedelta(minutes=20)
    )


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("eks", "InvalidSignatureException", 403),
        ("sts", "SignatureDoesNotMatch", 403),
        ("ec2", "RequestExpired", 400),
    ],
)
@pytest.mark.usefixtures("twenty_minutes_slow")
def test_a_request_signed_20_minutes_ago_has_expired(
    edge: Edge, service: str, code: str, status: int
) -> None:
    response = call_error(edge.client(service), service)
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    message = response["Error"]["Message"]
    if service == "ec2":
        assert message == "Request has expired."
    else:
        assert message.startswith("Signature expired: ")
        assert " is now earlier than " in message
        assert message.endswith(" - 15 min.)")


def test_temporary_credentials_work_until_they_expire(edge: Edge) -> None:
    assert edge.client("eks", fakes.TEMPORARY).list_clusters()["clusters"]
    response = call_error(edge.client("sts", fakes.EXPIRED), "sts")
    assert response["Error"]["Code"] == "ExpiredToken"
    assert response["Error"]["Message"] == "The security token included in the request is expired"
    response = call_error(edge.client("eks", fakes.EXPIRED), "eks")
    assert response["Error"]["Code"] == "ExpiredTokenException"


def test_unsigned_requests_are_missing_authentication(edge: Edge) -> None:
    unsigned = Config(signature_version=UNSIGNED, retries={"max_attempts": 1})
    session = boto3.session.Session(region_name=fakes.REGION)
    eks = session.client("eks", endpoint_url=edge.url, config=unsigned)
    response = call_error(eks, "eks")
    assert response["Error"] == {
        "Code": "MissingAuthenticationTokenException",
        "Message": "Missing Authentication Token",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    ec2 = session.client("ec2", endpoint_url=edge.url, config=unsigned)
    assert call_error(ec2, "ec2")["Error"]["Code"] == "MissingAuthenticationToken"


def test_the_credential_scope_must_name_this_region_except_for_iam(edge: Edge) -> None:
    response = call_error(edge.client("eks", region="eu-west-1"), "eks")
    assert response["Error"]["Code"] == "InvalidSignatureException"
    assert response["Error"]["Message"] == (
        "Credential should be scoped to a valid region, not 'eu-west-1'. "
    )
    assert edge.client("iam", region="eu-west-1").list_users()["Users"]


def test_a_presigned_get_caller_identity_url_is_served(edge: Edge) -> None:
    """What aws-iam-authenticator does with an `aws eks get-token` token."""
    sts = edge.client("sts")

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers["x-k8s-aws-id"] = "prod"

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    target = url.removeprefix(edge.url)
    response = edge.raw("GET", target, service="sts", headers={"x-k8s-aws-id": "prod"}, sign=False)
    assert response.status == 200, response.body
    assert fakes.ALICE.arn.encode() in response.body
    wrong = edge.raw("GET", target, service="sts", headers={"x-k8s-aws-id": "dev"}, sign=False)
    assert wrong.status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in wrong.body
    verified = sigv4.verify_presigned(
        url, {"x-k8s-aws-id": "prod"}, fakes.lookup, datetime.now(UTC)
    )
    assert verified.principal.arn == fakes.ALICE.arn


def test_a_request_for_a_service_not_served_is_unknown(edge: Edge) -> None:
    response = edge.raw("GET", "/bucket/key", service="s3")
    assert response.status == 404
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert b"<Code>UnknownOperationException</Code>" in response.body


def test_an_async_credential_lookup_is_awaited() -> None:
    seen: list[str] = []

    async def lookup(access_key_id: str) -> Credential | None:
        await asyncio.sleep(0)
        seen.append(access_key_id)
        return fakes.lookup(access_key_id)

    services = fakes.all_services()
    app = make_app({"sts": services["sts"]}, lookup, fakes.REGION)
    with ServerThread(app) as server:
        sts = boto3.session.Session(
            aws_access_key_id=fakes.ALICE.access_key_id,
            aws_secret_access_key=fakes.ALICE.secret_access_key,
            region_name=fakes.REGION,
        ).client("sts", endpoint_url=server.url)
        assert sts.get_caller_identity()["Arn"] == fakes.ALICE.arn
    assert seen == [fakes.ALICE.access_key_id]
