"""Protocol codecs against botocore's own request serializers and response parsers,
without HTTP: whatever botocore writes, we read back exactly; whatever we write,
botocore reads back exactly. Synthetic models cover the bindings the served services
barely use (greedy labels, header and status-code members, payloads, flattened XML)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from openeks.aws.errors import AwsError
from openeks.aws.protocols import WireProtocol, protocol_for
from openeks.aws.protocols.validation import InvalidInput, check
from openeks.aws.service import load_model
from openeks.aws.wire import Request, Response

WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
WHEN_MS = datetime(2024, 5, 6, 7, 8, 9, 250000, tzinfo=UTC)


def shape(kind: str, **traits: Any) -> dict[str, Any]:
    return {"type": kind, **traits}


REST_MODEL: dict[str, Any] = {
    "metadata": {
        "apiVersion": "2020-01-01",
        "endpointPrefix": "things",
        "jsonVersion": "1.1",
        "protocol": "rest-json",
        "serviceId": "Things",
        "signatureVersion": "v4",
        "signingName": "things",
        "uid": "things-2020-01-01",
    },
    "operations": {
        "PutObject": {
            "name": "PutObject",
            "http": {
                "method": "PUT",
                "requestUri": "/buckets/{Bucket}/objects/{Key+}",
                "responseCode": 201,
            },
            "input": {"shape": "PutObjectRequest"},
            "output": {"shape": "PutObjectResponse"},
        },
        "ListThings": {
            "name": "ListThings",
            "http": {"method": "GET", "requestUri": "/things"},
            "input": {"shape": "ListThingsRequest"},
            "output": {"shape": "ListThingsResponse"},
        },
        "ListSpecial": {
            "name": "ListSpecial",
            "http": {"method": "GET", "requestUri": "/things?special"},
            "input": {"shape": "Empty"},
        },
        "GetThing": {
            "name": "GetThing",
            "http": {"method": "GET", "requestUri": "/things/{Id}"},
            "input": {"shape": "GetThingRequest"},
            "output": {"shape": "GetThingResponse"},
            "errors": [{"shape": "ThingNotFound"}],
        },
        "DeleteThing": {
            "name": "DeleteThing",
            "http": {"method": "DELETE", "requestUri": "/things/{Id}", "responseCode": 204},
            "input": {"shape": "GetThingRequest"},
        },
    },
    "shapes": {
        "String": shape("string"),
        "Integer": shape("integer"),
        "Long": shape("long"),
        "Double": shape("double"),
        "Boolean": shape("boolean"),
        "Timestamp": shape("timestamp"),
        "IsoTimestamp": shape("timestamp", timestampFormat="iso8601"),
        "Blob": shape("blob"),
        "JsonValue": shape("string", jsonvalue=True),
        "StringList": shape("list", member={"shape": "String"}),
        "TimestampList": shape("list", member={"shape": "Timestamp"}),
        "StringMap": shape("map", key={"shape": "String"}, value={"shape": "String"}),
        "ListMap": shape("map", key={"shape": "String"}, value={"shape": "StringList"}),
        "Empty": shape("structure", members={}),
        "PutObjectRequest": shape(
            "structure",
            required=["Bucket", "Key"],
            payload="Body",
            members={
                "Bucket": {"shape": "String", "location": "uri", "locationName": "Bucket"},
                "Key": {"shape": "String", "location": "uri", "locationName": "Key"},
                "Size": {"shape": "Long", "location": "header", "locationName": "X-Thing-Size"},
                "Expires": {
                    "shape": "Timestamp",
                    "location": "header",
                    "locationName": "X-Expires",
                },
                "Flags": {"shape": "StringList", "location": "header", "locationName": "X-Flags"},
                "Doc": {"shape": "JsonValue", "location": "header", "locationName": "X-Doc"},
                "Meta": {"shape": "StringMap", "location": "headers", "locationName": "x-meta-"},
                "Body": {"shape": "Blob"},
            },
        ),
        "PutObjectResponse": shape(
            "structure",
            members={
                "ETag": {"shape": "String", "location": "header", "locationName": "ETag"},
                "Stored": {"shape": "Timestamp", "location": "header", "locationName": "X-Stored"},
                "Code": {"shape": "Integer", "location": "statusCode"},
                "Version": {"shape": "Integer"},
            },
        ),
        "ListThingsRequest": shape(
            "structure",
            members={
                "Max": {"shape": "Integer", "location": "querystring", "locationName": "max"},
                "Deep": {"shape": "Boolean", "location": "querystring", "locationName": "deep"},
                "Ratio": {"shape": "Double", "location": "querystring", "locationName": "ratio"},
                "Since": {"shape": "Timestamp", "location": "querystring", "locationName": "since"},
                "Kinds": {"shape": "StringList", "location": "querystring", "locationName": "kind"},
                "Extra": {"shape": "ListMap", "location": "querystring"},
            },
        ),
        "ListThingsResponse": shape(
            "structure",
            members={
                "Names": {"shape": "StringList", "locationName": "names"},
                "Seen": {"shape": "TimestampList"},
                "Iso": {"shape": "IsoTimestamp"},
                "Data": {"shape": "Blob"},
                "Ratio": {"shape": "Double"},
                "Labels": {"shape": "StringMap"},
            },
        ),
        "GetThingRequest": shape(
            "structure",
            required=["Id"],
            members={"Id": {"shape": "String", "location": "uri", "locationName": "Id"}},
        ),
        "GetThingResponse": shape(
            "structure",
            payload="Thing",
            members={"Thing": {"shape": "Thing"}},
        ),
        "Thing": shape(
            "structure",
            members={"Name": {"shape": "String"}, "Child": {"shape": "Thing"}},
        ),
        "ThingNotFound": shape(
            "structure",
            members={"message": {"shape": "String"}, "thingId": {"shape": "String"}},
            error={"httpStatusCode": 404},
            exception=True,
        ),
    },
}


def to_wire(protocol: str, model: ServiceModel, operation: str, params: dict[str, Any]) -> Request:
    """The request botocore would send for `operation(**params)`, as the server sees it."""
    operation_model = model.operation_model(operation)
    serialized = create_serializer(protocol).serialize_to_request(params, operation_model)
    prepare_request_dict(serialized, "http://127.0.0.1:4566")
    serialized["context"] = {}
    prepared = create_request_object(serialized).prepare()
    body = prepared.body or b""
    body = body.encode("utf-8") if isinstance(body, str) else body
    return Request.from_url(prepared.method, prepared.url, list(prepared.headers.items()), body)


def parsed_by_botocore(protocol: str, response: Response, operation: OperationModel) -> Any:
    headers = HeadersDict(response.headers)
    raw = {"status_code": response.status, "headers": headers, "body": response.body}
    return create_parser(protocol).parse(raw, operation.output_shape)


def decode(codec: WireProtocol, request: Request) -> tuple[str, dict[str, Any]]:
    call = codec.decode(request)
    return call.operation.name, call.params


# rest-json


@pytest.fixture(scope="module")
def things() -> WireProtocol:
    return protocol_for(ServiceModel(REST_MODEL, "things"))


def test_uri_greedy_header_and_payload_members_are_read(things: WireProtocol) -> None:
    params = {
        "Bucket": "b 1",
        "Key": "dir/sub dir/ሴ%.txt",
        "Size": 12,
        "Expires": WHEN,
        "Flags": ["a", "b,c"],
        "Doc": {"k": [1, 2]},
        "Meta": {"Owner": "me"},
        "Body": b"\x00\x01binary",
    }
    request = to_wire("rest-json", things.model, "PutObject", params)
    assert decode(things, request) == ("PutObject", params)


def test_query_string_members_and_the_catch_all_map_are_read(things: WireProtocol) -> None:
    params = {
        "Max": 3,
        "Deep": False,
        "Ratio": 0.5,
        "Since": WHEN_MS,
        "Kinds": ["x", "y z"],
        "Extra": {"colour": ["red", "blue"]},
    }
    request = to_wire("rest-json", things.model, "ListThings", params)
    assert decode(things, request) == ("ListThings", params)


def test_a_literal_query_in_the_template_selects_the_more_specific_route(
    things: WireProtocol,
) -> None:
    assert decode(things, Request("GET", "/things", "special"))[0] == "ListSpecial"
    assert decode(things, Request("GET", "/things", "max=1"))[0] == "ListThings"
    assert decode(things, Request("GET", "/things/a%2Fb", ""))[1] == {"Id": "a/b"}
    assert decode(things, Request("DELETE", "/things/x", ""))[0] == "DeleteThing"


def test_header_and_status_code_members_are_written(things: WireProtocol) -> None:
    operation = things.model.operation_model("PutObject")
    result = {"ETag": '"abc"', "Stored": WHEN, "Version": 7}
    response = things.encode(operation, result, "req-1")
    assert response.status == 201
    assert response.headers["X-Stored"] == "Mon, 06 May 2024 07:08:09 GMT"
    parsed = parsed_by_botocore("rest-json", response, operation)
    assert {key: parsed[key] for key in result} == result
    assert parsed["Code"] == 201
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"
    overridden = things.encode(operation, {"Code": 202}, "req-2")
    assert overridden.status == 202


def test_body_members_of_every_kind_are_written(things: WireProtocol) -> None:
    operation = things.model.operation_model("ListThings")
    result = {
        "Names": ["a", "b"],
        "Seen": [WHEN, WHEN_MS],
        "Iso": WHEN_MS,
        "Data": b"\xff\x00",
        "Ratio": float("inf"),
        "Labels": {"k": "v"},
    }
    response = things.encode(operation, result, "r")
    assert b'"names":["a","b"]' in response.body
    assert b'"Iso":"2024-05-06T07:08:09.250000Z"' in response.body
    parsed = parsed_by_botocore("rest-json", response, operation)
    del parsed["ResponseMetadata"]
    assert parsed == result


def test_a_structure_payload_and_204s(things: WireProtocol) -> None:
    operation = things.model.operation_model("GetThing")
    thing = {"Name": "a", "Child": {"Name": "b", "Child": {"Name": "c"}}}
    response = things.encode(operation, {"Thing": thing}, "r")
    assert parsed_by_botocore("rest-json", response, operation)["Thing"] == thing
    deleted = things.encode(things.model.operation_model("DeleteThing"), None, "r")
    assert (deleted.status, deleted.body) == (204, b"")


def test_modeled_error_fields_are_written(things: WireProtocol) -> None:
    error = AwsError("no such thing", code="ThingNotFound", fields={"thingId": "t-1"})
    response = things.encode_error(error, "r")
    assert response.status == 404
    parsed = parsed_by_botocore("rest-json", response, things.model.operation_model("GetThing"))
    assert parsed["Error"] == {"Code": "ThingNotFound", "Message": "no such thing"}
    assert response.headers["x-amzn-ErrorType"] == "ThingNotFound"
    assert b'"thingId":"t-1"' in response.body


QUERY_MODEL: dict[str, Any] = {
    "metadata": {
        "apiVersion": "2021-02-03",
        "endpointPrefix": "flat",
        "protocol": "query",
        "serviceId": "Flat",
        "signatureVersion": "v4",
        "signingName": "flat",
        "uid": "flat-2021-02-03",
        "xmlNamespace": "https://flat.example/doc/2021-02-03/",
    },
    "operations": {
        "Echo": {
            "name": "Echo",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "EchoInput"},
            "output": {"shape": "EchoOutput", "resultWrapper": "EchoResult"},
        }
    },
    "shapes": {
        "String": shape("string"),
        "Timestamp": shape("timestamp"),
        "EpochTimestamp": shape("timestamp", timestampFormat="unixTimestamp"),
        "Blob": shape("blob"),
        "FlatNames": shape(
            "list", member={"shape": "String", "locationName": "Name"}, flattened=True
        ),
        "Items": shape("list", member={"shape": "Item", "locationName": "item"}),
        "Item": shape("structure", members={"Id": {"shape": "String"}, "Sub": {"shape": "Items"}}),
        "FlatMap": shape(
            "map",
            key={"shape": "String", "locationName": "k"},
            value={"shape": "String", "locationName": "v"},
            flattened=True,
        ),
        "NestedMap": shape("map", key={"shape": "String"}, value={"shape": "Items"}),
        "EchoInput": shape(
            "structure",
            members={
                "Names": {"shape": "FlatNames"},
                "Items": {"shape": "Items"},
                "Attributes": {"shape": "FlatMap", "locationName": "Attribute"},
                "Groups": {"shape": "NestedMap"},
                "At": {"shape": "EpochTimestamp"},
                "Data": {"shape": "Blob"},
            },
        ),
        "EchoOutput": shape(
            "structure",
            members={
                "Names": {"shape": "FlatNames"},
                "Items": {"shape": "Items"},
                "Attributes": {"shape": "FlatMap", "locationName": "Attribute"},
                "Groups": {"shape": "NestedMap"},
                "At": {"shape": "EpochTimestamp"},
                "When": {"shape": "Timestamp"},
                "Data": {"shape": "Blob"},
            },
        ),
    },
}


def test_flattened_and_nested_query_shapes_round_trip() -> None:
    flat = protocol_for(ServiceModel(QUERY_MODEL, "flat"))
    value = {
        "Names": ["a", "b"],
        "Items": [{"Id": "1", "Sub": [{"Id": "1.1"}]}, {"Id": "2"}],
        "Attributes": {"x": "1", "y": "2"},
        "Groups": {"g": [{"Id": "3"}]},
        "At": WHEN,
        "Data": b"\x00\x01",
    }
    request = to_wire("query", flat.model, "Echo", value)
    assert "Name.1=a" in request.body.decode()
    assert decode(flat, request) == ("Echo", value)
    operation = flat.model.operation_model("Echo")
    result = {**value, "When": WHEN_MS}
    parsed = parsed_by_botocore("query", flat.encode(operation, result, "rid"), operation)
    del parsed["ResponseMetadata"]
    assert parsed == result


# query and ec2, with the real models.


def test_query_maps_lists_and_nested_structures_are_read() -> None:
    iam = protocol_for(load_model("iam"))
    properties = {"Owner": "me", "Cost-Centre": "42"}
    request = to_wire("query", iam.model, "PutAccountProperties", {"Properties": properties})
    assert decode(iam, request) == ("PutAccountProperties", {"Properties": properties})
    sts = protocol_for(load_model("sts"))
    params = {
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "RoleSessionName": "session",
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnly"}],
        "Tags": [{"Key": "k", "Value": "v"}],
        "TransitiveTagKeys": ["k"],
        "DurationSeconds": 900,
    }
    assert decode(sts, to_wire("query", sts.model, "AssumeRole", params))[1] == params
    check(sts.model.operation_model("AssumeRole").input_shape, params)


def test_query_outputs_read_back_by_botocore() -> None:
    sts = protocol_for(load_model("sts"))
    operation = sts.model.operation_model("AssumeRole")
    result = {
        "Credentials": {
            "AccessKeyId": "ASIA",
            "SecretAccessKey": "s",
            "SessionToken": "t",
            "Expiration": WHEN,
        },
        "AssumedRoleUser": {"AssumedRoleId": "AROA:session", "Arn": "arn:aws:sts::1:x"},
        "PackedPolicySize": 6,
        "SourceIdentity": "who <&> me",
    }
    parsed = parsed_by_botocore("query", sts.encode(operation, result, "rid"), operation)
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"
    del parsed["ResponseMetadata"]
    assert parsed == result


def test_ec2_names_and_lists_round_trip() -> None:
    ec2 = protocol_for(load_model("ec2"))
    params = {
        "ImageId": "ami-1",
        "MinCount": 1,
        "MaxCount": 2,
        "SecurityGroupIds": ["sg-1", "sg-2"],
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "x"}]}
        ],
        "Monitoring": {"Enabled": True},
        "UserData": "IyEvYmluL3NoCg==",
    }
    assert decode(ec2, to_wire("ec2", ec2.model, "RunInstances", params))[1] == params
    operation = ec2.model.operation_model("DescribeInstances")
    result = {
        "Reservations": [
            {
                "ReservationId": "r-1",
                "Instances": [
                    {
                        "InstanceId": "i-1",
                        "LaunchTime": WHEN_MS,
                        "State": {"Code": 16, "Name": "running"},
                        "Tags": [{"Key": "Name", "Value": "x"}],
                    }
                ],
            }
        ]
    }
    response = ec2.encode(operation, result, "rid")
    assert b"<launchTime>2024-05-06T07:08:09.250Z</launchTime>" in response.body
    parsed = parsed_by_botocore("ec2", response, operation)
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"
    del parsed["ResponseMetadata"]
    assert parsed == result


def test_wrongly_typed_values_are_violations_not_crashes() -> None:
    ec2 = protocol_for(load_model("ec2"))
    request = Request("GET", "/", "Action=RunInstances&Version=2016-11-15&MinCount=one")
    with pytest.raises(InvalidInput) as caught:
        ec2.decode(request)
    assert caught.value.violations[0].path == "minCount"
    assert ec2.validation_error(caught.value.violations).code == "InvalidParameterValue"
