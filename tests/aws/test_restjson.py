"""EKS over rest-json, driven by real boto3 clients and raw signed HTTP."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws import fakes
from tests.aws.conftest import Edge


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response


def test_query_string_members_reach_the_backend_typed(edge: Edge) -> None:
    eks = edge.client("eks")
    answer = eks.list_clusters(maxResults=5, include=["all"])
    assert answer["clusters"] == ["alpha", "beta"]
    assert answer["nextToken"] == "after-5"
    assert edge.services["eks"].last("ListClusters") == {"maxResults": 5, "include": ["all"]}
    metadata = answer["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 200
    assert metadata["RequestId"] == metadata["HTTPHeaders"]["x-amzn-requestid"]


def test_every_field_of_a_cluster_arrives_as_boto3_types(edge: Edge) -> None:
    described = edge.client("eks").describe_cluster(name="web")["cluster"]
    assert described == fakes.cluster("web")
    assert described["createdAt"] == fakes.CREATED  # epoch seconds with milliseconds
    assert edge.services["eks"].last("DescribeCluster") == {"name": "web"}
    context = edge.services["eks"].calls[-1][2]
    assert context.principal is not None and context.principal.arn == fakes.ALICE.arn
    assert (context.region, context.service, context.operation) == (
        "us-east-1",
        "eks",
        "DescribeCluster",
    )
    assert context.account_id == fakes.ACCOUNT


def test_a_nested_json_body_round_trips(edge: Edge) -> None:
    request: dict[str, Any] = {
        "name": "made",
        "roleArn": "arn:aws:iam::123456789012:role/eks",
        "version": "1.31",
        "resourcesVpcConfig": {
            "subnetIds": ["subnet-1", "subnet-2"],
            "endpointPublicAccess": False,
            "publicAccessCidrs": [],
        },
        "logging": {"clusterLogging": [{"types": ["api"], "enabled": False}]},
        "tags": {"a": "1", "é": "ü"},
        "accessConfig": {"bootstrapClusterCreatorAdminPermissions": True},
    }
    created = edge.client("eks").create_cluster(**request)["cluster"]
    received = edge.services["eks"].last("CreateCluster")
    token = received.pop("clientRequestToken")  # botocore's idempotency token
    assert len(token) == 36
    assert received == request
    for key in ("resourcesVpcConfig", "logging", "tags", "accessConfig"):
        assert created[key] == request[key]
    assert created["status"] == "CREATING"


def test_a_modeled_error_arrives_with_its_code_status_message_and_fields(edge: Edge) -> None:
    eks = edge.client("eks")
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as caught:
        eks.describe_cluster(name="missing")
    response = caught.value.response
    assert response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "No cluster found for name: missing.",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert response["clusterName"] == "missing"
    assert response["ResponseMetadata"]["RequestId"]


def test_an_error_raised_by_code_takes_its_status_from_the_model(edge: Edge) -> None:
    response = error_of(
        edge.client("eks").create_cluster,
        name="taken",
        roleArn="arn:aws:iam::1:role/r",
        resourcesVpcConfig={},
    )
    assert response["Error"]["Code"] == "ResourceInUseException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_invalid_input_is_an_invalid_parameter_exception_not_a_crash(edge: Edge) -> None:
    eks = edge.client("eks", validate=False)
    response = error_of(eks.create_cluster, name="bad name!", resourcesVpcConfig={})
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "2 validation errors detected: "
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null; "
        "Value 'bad name!' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[0-9A-Za-z][A-Za-z0-9\\-_]*",
    }
    response = error_of(eks.list_clusters, maxResults=1000)
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value '1000' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"
    )
    response = error_of(eks.list_clusters, maxResults=-(2**40))
    assert response["Error"]["Message"] == (
        "2 validation errors detected: Value '-1099511627776' at 'maxResults' failed to "
        "satisfy constraint: Member must have value greater than or equal to 1; "
        "Value '-1099511627776' at 'maxResults' failed to satisfy constraint: "
        "Member must be a 32-bit integer"
    )


def test_raw_requests_with_wrong_types_or_bad_json_get_client_errors(edge: Edge) -> None:
    headers = {"Content-Type": "application/json"}
    wrong = edge.raw(
        "POST",
        "/clusters",
        service="eks",
        headers=headers,
        body=json.dumps({"name": 5, "roleArn": "r", "resourcesVpcConfig": {}}).encode(),
    )
    assert wrong.status == 400
    assert wrong.headers["x-amzn-errortype"] == "InvalidParameterException"
    assert wrong.json() == {
        "message": "1 validation error detected: Value '5' at 'name' failed to satisfy "
        "constraint: Member must be a string"
    }
    broken = edge.raw("POST", "/clusters", service="eks", headers=headers, body=b"{nope")
    assert broken.status == 400
    assert broken.headers["x-amzn-errortype"] == "SerializationException"
    not_a_number = edge.raw("GET", "/clusters?maxResults=ten", service="eks")
    assert not_a_number.status == 400
    assert "Member must be an integer" in not_a_number.json()["message"]


def test_an_unknown_path_is_an_unknown_operation(edge: Edge) -> None:
    response = edge.raw("GET", "/no/such/thing", service="eks")
    assert response.status == 404
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert response.headers["x-amzn-requestid"]
    wrong_method = edge.raw("PUT", "/clusters", service="eks")
    assert wrong_method.status == 404


def test_a_backend_bug_is_a_logged_internal_failure(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    eks = edge.client("eks")
    with caplog.at_level(logging.ERROR, logger="openeks.aws.server"):
        response = error_of(eks.describe_cluster, name="boom")
    assert response["Error"] == {
        "Code": "InternalFailure",
        "Message": "We encountered an internal error. Please try again.",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "a bug in the backend" in caplog.text
    assert error_of(eks.describe_cluster, name="bad-result")["Error"]["Code"] == "InternalFailure"
