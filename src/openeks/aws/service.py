"""What a service backend gives the AWS edge, and what the edge tells it per request.

A backend is anything with a botocore `ServiceModel` (which fixes the protocol, the
operations and every shape) and `async handle(operation, params, context)`. `params` is
the operation's input as boto3 users write it (member names as keys; `datetime` for
timestamps, `bytes` for blobs), already validated against the model; the result is the
output as boto3 users read it (a dict; `None` for operations without output). Errors are
raised as `openeks.aws.errors.AwsError`.

`MethodDispatch` is the moto-style convenience most backends want: `CreateCluster` is
served by `async def create_cluster(self, params, context)`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import botocore.session
from botocore import xform_name
from botocore.model import ServiceModel

from openeks.aws.errors import NotImplementedYet
from openeks.aws.identity import Principal

Result = Mapping[str, Any] | None


@dataclass(frozen=True)
class RequestContext:
    """Who asked, where, and how to refer to this request in logs and responses."""

    request_id: str
    region: str
    service: str
    operation: str
    principal: Principal | None
    """None only for operations the model marks as unauthenticated."""
    source_ip: str = ""
    user_agent: str = ""

    @property
    def account_id(self) -> str:
        return self.principal.account_id if self.principal else ""


class ServiceHandler(Protocol):
    """One AWS service as served on the shared endpoint."""

    model: ServiceModel

    async def handle(
        self, operation: str, params: dict[str, Any], context: RequestContext
    ) -> Result: ...


@functools.cache
def load_model(service_name: str) -> ServiceModel:
    """botocore's model of `service_name` ("eks", "iam", ...), loaded once per process."""
    return _session().get_service_model(service_name)


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


class MethodDispatch:
    """Serves each operation with the method named after it (`ListClusters` →
    `list_clusters(params, context)`); operations without a method answer 501."""

    model: ServiceModel

    async def handle(
        self, operation: str, params: dict[str, Any], context: RequestContext
    ) -> Result:
        name = xform_name(operation)
        method: Callable[[dict[str, Any], RequestContext], Awaitable[Result]] | None
        method = None if name in ("handle", "model") else getattr(self, name, None)
        if method is None:
            raise NotImplementedYet(
                f"The operation {operation} of {self.model.service_name} is not "
                "implemented by openeks."
            )
        return await method(params, context)
