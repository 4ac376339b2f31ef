"""The AWS wire protocols the shared endpoint speaks, chosen by each service's model.

`protocol_for(model)` returns the codec for a botocore `ServiceModel`: rest-json (EKS),
query (IAM, STS, CloudFormation) or ec2. Each turns a `wire.Request` into an operation
and its input, and results or `AwsError`s back into `wire.Response`s.
"""

from __future__ import annotations

from botocore.model import ServiceModel

from openeks.aws.protocols.base import Call, WireProtocol
from openeks.aws.protocols.ec2 import Ec2Protocol
from openeks.aws.protocols.query import QueryProtocol
from openeks.aws.protocols.restjson import RestJsonProtocol

PROTOCOLS: dict[str, type[WireProtocol]] = {
    "rest-json": RestJsonProtocol,
    "query": QueryProtocol,
    "ec2": Ec2Protocol,
}


def protocol_for(model: ServiceModel) -> WireProtocol:
    """The codec for `model`; raises ValueError for protocols not served here."""
    for name in [*(model.metadata.get("protocols") or []), model.protocol]:
        if name in PROTOCOLS:
            return PROTOCOLS[name](model)
    raise ValueError(f"{model.service_name}: protocol {model.protocol!r} is not supported")


__all__ = [
    "PROTOCOLS",
    "Call",
    "Ec2Protocol",
    "QueryProtocol",
    "RestJsonProtocol",
    "WireProtocol",
    "protocol_for",
]
