"""Garbage in, client errors out: no request a client can send makes the codecs crash.

Valid requests of the served models are mutated at random (wrong JSON types anywhere,
odd form parameter names and values) and decoded and validated; the only failures
allowed are `AwsError` and `InvalidInput`, which the endpoint answers as 4xx.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from openeks.aws.errors import AwsError
from openeks.aws.protocols import protocol_for
from openeks.aws.protocols.validation import InvalidInput, check
from openeks.aws.service import load_model
from openeks.aws.wire import Request

JSON_VALUES: list[Any] = [None, True, 0, -1, 2**70, 1.5, "", "x", [], [1, "a"], {}, {"a": 1}]


def mutate_json(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if depth > 4 or rng.random() < 0.25:
        return rng.choice(JSON_VALUES)
    if isinstance(value, dict):
        mutated = {key: mutate_json(rng, item, depth + 1) for key, item in value.items()}
        if rng.random() < 0.3:
            mutated[rng.choice(["extra", "name", "tags", "logging"])] = rng.choice(JSON_VALUES)
        return mutated
    if isinstance(value, list):
        return [mutate_json(rng, item, depth + 1) for item in value]
    return value


def survives(protocol: Any, request: Request) -> None:
    try:
        call = protocol.decode(request)
        check(call.operation.input_shape, call.params)
    except InvalidInput as invalid:
        assert protocol.encode_error(protocol.validation_error(invalid.violations), "r").status
    except AwsError as error:
        assert protocol.encode_error(error, "r").status < 500


EKS_BODIES = {
    "/clusters": {
        "name": "c",
        "roleArn": "r",
        "resourcesVpcConfig": {"subnetIds": ["s"], "endpointPublicAccess": True},
        "logging": {"clusterLogging": [{"types": ["api"], "enabled": True}]},
        "tags": {"a": "b"},
        "kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.0.0.0/16"},
    },
    "/clusters/c/node-groups": {
        "nodegroupName": "n",
        "nodeRole": "r",
        "subnets": ["s"],
        "scalingConfig": {"minSize": 1, "maxSize": 2, "desiredSize": 1},
        "labels": {"a": "b"},
        "taints": [{"key": "k", "value": "v", "effect": "NO_SCHEDULE"}],
    },
}


def test_mutated_eks_bodies_never_crash_the_codec() -> None:
    eks = protocol_for(load_model("eks"))
    rng = random.Random(11)
    for _ in range(400):
        path, body = rng.choice(list(EKS_BODIES.items()))
        data = json.dumps(mutate_json(rng, body)).encode()
        survives(eks, Request("POST", path, "", (("Content-Type", "application/json"),), data))
    for query in ["maxResults=-5", "maxResults=1e3", "include=", "nextToken=%FF%FE", "x=%"]:
        survives(eks, Request("GET", "/clusters", query))
    survives(eks, Request("GET", "/clusters/%FF%00", ""))
    survives(eks, Request("POST", "/clusters", "", (), b"[1, 2]"))
    survives(eks, Request("POST", "/clusters", "", (), b"\xff\xfe"))


FORM_NAMES = ["Tags.member.1.Key", "Tags.member.x", "Tags", "Tags.member.1", "UserName",
              "MaxItems", "Filter.1.Value.1", "Filter.1", "Filter.x.Name", "VpcId.1",
              "DryRun", "Properties.entry.1.key", "Properties.entry.1.value", "Properties",
              "TagSpecification.1.Tag.1.Key", "MinCount", "BlockDeviceMapping.1.Ebs.VolumeSize",
              "PolicyArns.member.1.arn", "DurationSeconds", "Monitoring.Enabled", ""]  # fmt: skip
FORM_VALUES = ["", "x", "-1", "1e10", "true", "maybe", "9" * 30, "%", "ሴ", "a" * 300]

QUERY_ACTIONS = {
    "iam": ["CreateUser", "ListUsers", "PutAccountProperties", "TagUser"],
    "sts": ["AssumeRole", "GetCallerIdentity", "GetSessionToken"],
    "ec2": ["DescribeVpcs", "RunInstances", "CreateTags"],
    "cloudformation": ["CreateStack", "DescribeStacks"],
}


@pytest.mark.parametrize("service", sorted(QUERY_ACTIONS))
def test_random_form_parameters_never_crash_the_codec(service: str) -> None:
    model = load_model(service)
    protocol = protocol_for(model)
    rng = random.Random(service)
    for _ in range(300):
        params = {
            "Action": rng.choice([*QUERY_ACTIONS[service], "Nope", ""]),
            "Version": rng.choice([model.api_version, model.api_version, "1999-01-01"]),
        }
        for _ in range(rng.randint(0, 6)):
            params[rng.choice(FORM_NAMES)] = rng.choice(FORM_VALUES)
        body = "&".join(f"{key}={value}" for key, value in params.items()).encode()
        headers = (("Content-Type", "application/x-www-form-urlencoded"),)
        survives(protocol, Request("POST", "/", "", headers, body))
