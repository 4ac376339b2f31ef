"""The real AWS CLI (v1) against the endpoint: output, errors and `eks get-token`."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from openeks.aws import sigv4
from tests.aws import fakes
from tests.aws.conftest import Edge


def test_eks_commands_print_the_backends_answer(edge: Edge) -> None:
    described = edge.aws_json("eks", "describe-cluster", "--name", "web")["cluster"]
    assert described["name"] == "web"
    assert described["tags"] == {"team": "platform", "env": "dev"}
    assert described["resourcesVpcConfig"]["subnetIds"] == ["subnet-a", "subnet-b"]
    # CLI v1 prints timestamps as they came over the wire: epoch seconds for rest-json.
    assert described["createdAt"] == fakes.CREATED.timestamp()


def test_eks_errors_print_code_and_message(edge: Edge) -> None:
    done = edge.aws("eks", "describe-cluster", "--name", "missing")
    assert done.returncode == 255
    assert (
        "An error occurred (ResourceNotFoundException) when calling the DescribeCluster "
        "operation: No cluster found for name: missing."
    ) in done.stderr


def test_query_and_ec2_commands(edge: Edge) -> None:
    identity = edge.aws_json("sts", "get-caller-identity")
    assert identity == {
        "UserId": fakes.ALICE.user_id,
        "Account": fakes.ACCOUNT,
        "Arn": fakes.ALICE.arn,
    }
    vpcs = edge.aws_json("ec2", "describe-vpcs", "--filters", "Name=vpc-id,Values=vpc-1,vpc-2")
    assert [vpc["VpcId"] for vpc in vpcs["Vpcs"]] == ["vpc-1", "vpc-2"]  # two pages
    filters = [{"Name": "vpc-id", "Values": ["vpc-1", "vpc-2"]}]
    assert edge.services["ec2"].last("DescribeVpcs") == {"Filters": filters, "NextToken": "t2"}


def test_a_wrong_secret_fails_the_cli(edge: Edge) -> None:
    wrong = fakes.Credential(**{**fakes.ALICE.__dict__, "secret_access_key": "wrong"})
    done = edge.aws("iam", "list-users", credential=wrong)
    assert done.returncode == 255
    assert "An error occurred (SignatureDoesNotMatch) when calling the ListUsers" in done.stderr


def test_an_eks_get_token_token_verifies(edge: Edge) -> None:
    done = edge.aws_json(
        "eks", "get-token", "--cluster-name", "prod", env={"AWS_ENDPOINT_URL_STS": edge.url}
    )
    token = done["status"]["token"]
    encoded = token.removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    assert url.startswith(f"{edge.url}/?Action=GetCallerIdentity")
    verified = sigv4.verify_presigned(
        url, {"x-k8s-aws-id": "prod"}, fakes.lookup, datetime.now(UTC)
    )
    assert verified.principal.arn == fakes.ALICE.arn
    served = edge.raw(
        "GET",
        url.removeprefix(edge.url),
        service="sts",
        headers={"x-k8s-aws-id": "prod"},
        sign=False,
    )
    assert served.status == 200
