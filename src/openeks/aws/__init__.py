"""The AWS edge: everything between an HTTP request from boto3 or the AWS CLI and a
service backend's `handle(operation, params, context)`, and back.

- `server` — one aiohttp endpoint for every served service (`make_app`), and the
  framework-free `Endpoint` behind it: route, authenticate, decode, validate, call,
  encode, and map every failure to the service's own error shape.
- `sigv4` (+ `signing`, `identity`) — Signature Version 4 verification, header-signed
  and presigned (the `aws eks get-token` token), against a caller-supplied key lookup.
- `protocols` — the wire codecs driven by botocore's service models: rest-json (EKS),
  query (IAM, STS, CloudFormation), ec2; plus model-based input validation.
- `errors` — `AwsError` and the names each protocol family gives auth failures.
- `service` — the `ServiceHandler` protocol backends implement, `RequestContext`,
  `MethodDispatch`, `load_model`.
- `wire` — the framework-free request/response values.

This layer knows nothing of Kubernetes or of the region's resources; service packages
(`aws/eks`, `aws/iam`, ...) and the region service build on it.
"""

from openeks.aws.errors import AwsError
from openeks.aws.identity import Credential, Principal
from openeks.aws.server import Endpoint, make_app
from openeks.aws.service import MethodDispatch, RequestContext, ServiceHandler, load_model

__all__ = [
    "AwsError",
    "Credential",
    "Endpoint",
    "MethodDispatch",
    "Principal",
    "RequestContext",
    "ServiceHandler",
    "load_model",
    "make_app",
]
