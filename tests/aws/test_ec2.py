"""EC2 over its own query dialect, driven by real boto3 clients."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest import Edge

EC2_NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response


def test_filters_and_id_lists_reach_the_backend(edge: Edge) -> None:
    ec2 = edge.client("ec2")
    answer = ec2.describe_vpcs(
        Filters=[
            {"Name": "tag:Name", "Values": ["main", "other"]},
            {"Name": "state", "Values": []},
        ],
        VpcIds=["vpc-1", "vpc-2"],
        DryRun=False,
    )
    assert edge.services["ec2"].last("DescribeVpcs") == {
        "Filters": [{"Name": "tag:Name", "Values": ["main", "other"]}, {"Name": "state"}],
        "VpcIds": ["vpc-1", "vpc-2"],
        "DryRun": False,
    }
    vpc = answer["Vpcs"][0]
    assert vpc["VpcId"] == "vpc-1"
    assert vpc["IsDefault"] is True
    assert vpc["Tags"] == [{"Key": "Name", "Value": "main <&> vpc"}]
    assert vpc["CidrBlockAssociationSet"][0]["CidrBlockState"] == {"State": "associated"}
    assert answer["NextToken"] == "t2"
    assert answer["ResponseMetadata"]["RequestId"]


def test_availability_zones_come_back_as_items(edge: Edge) -> None:
    zones = edge.client("ec2").describe_availability_zones(ZoneNames=["us-east-1b"])
    assert [zone["ZoneName"] for zone in zones["AvailabilityZones"]] == ["us-east-1b"]
    assert zones["AvailabilityZones"][0]["Messages"] == []


def test_the_envelope_is_ec2s(edge: Edge) -> None:
    response = edge.raw("GET", "/?Action=DescribeVpcs&Version=2016-11-15", service="ec2")
    assert response.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.body)
    assert root.tag == f"{EC2_NS}DescribeVpcsResponse"
    assert root[0].tag == f"{EC2_NS}requestId"
    assert root[0].text == response.headers["x-amzn-requestid"]
    assert root.find(f"{EC2_NS}vpcSet/{EC2_NS}item/{EC2_NS}vpcId") is not None
    assert root.findtext(f"{EC2_NS}vpcSet/{EC2_NS}item/{EC2_NS}isDefault") == "true"


def test_an_ec2_error_has_its_code_message_and_request_id(edge: Edge) -> None:
    response = error_of(edge.client("ec2").describe_vpcs, VpcIds=["vpc-missing"])
    assert response["Error"] == {
        "Code": "InvalidVpcID.NotFound",
        "Message": "The vpc ID 'vpc-missing' does not exist",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(response["ResponseMetadata"]["RequestId"]) == 36


def test_missing_and_bad_parameters_are_named_as_ec2_names_them(edge: Edge) -> None:
    ec2 = edge.client("ec2", validate=False)
    missing = error_of(ec2.describe_vpc_attribute, VpcId="vpc-1")
    assert missing["Error"] == {
        "Code": "MissingParameter",
        "Message": "The request must contain the parameter Attribute",
    }
    bad = error_of(ec2.describe_vpc_attribute, VpcId="vpc-1", Attribute="colour")
    assert bad["Error"]["Code"] == "InvalidParameterValue"
    assert "Member must satisfy enum value set: [enableDnsSupport" in bad["Error"]["Message"]


def test_an_operation_without_a_backend_method_is_not_implemented(edge: Edge) -> None:
    response = error_of(
        edge.client("ec2").describe_vpc_attribute, VpcId="vpc-1", Attribute="enableDnsSupport"
    )
    assert response["Error"]["Code"] == "NotImplemented"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
