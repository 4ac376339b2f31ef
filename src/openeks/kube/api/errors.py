"""Kubernetes API errors: one exception class per `Status` reason.

Everything below the HTTP edge raises these; the API server turns each into a
`meta/v1 Status` with the matching HTTP code, reason, message and details, exactly in
upstream's shape (staging/src/k8s.io/apimachinery/pkg/api/errors), so kubectl prints
`Error from server (NotFound): deployments.apps "web" not found`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Cause:
    type: str
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.type, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass
class ApiError(Exception):
    """An error with a Status reason and HTTP code. `details` follows StatusDetails."""

    message: str
    code: int = 500
    reason: str = "InternalError"
    name: str = ""
    group: str = ""
    kind: str = ""
    causes: list[Cause] = field(default_factory=list)
    retry_after: int = 0

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after:
            details["retryAfterSeconds"] = self.retry_after
        if details:
            out["details"] = details
        if not self.reason:
            del out["reason"]
        return out


def qualified(resource: str, group: str) -> str:
    """'deployments.apps', or 'pods' for the core group."""
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, group: str, name: str) -> ApiError:
    return ApiError(
        f'{qualified(resource, group)} "{name}" not found',
        404,
        "NotFound",
        name=name,
        group=group,
        kind=resource,
    )


def already_exists(resource: str, group: str, name: str) -> ApiError:
    return ApiError(
        f'{qualified(resource, group)} "{name}" already exists',
        409,
        "AlreadyExists",
        name=name,
        group=group,
        kind=resource,
    )


def conflict(resource: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {why}',
        409,
        "Conflict",
        name=name,
        group=group,
        kind=resource,
    )


def modified_conflict(resource: str, group: str, name: str) -> ApiError:
    return conflict(
        resource,
        group,
        name,
        "the object has been modified; please apply your changes to the latest version "
        "and try again",
    )


def invalid(kind: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid, message as upstream's NewInvalid: `Kind.group "name" is invalid: ...`."""
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    if len(parts) == 1:
        summary = parts[0]
    else:
        summary = "[" + ", ".join(parts) + "]"
    qualified_kind = f"{kind}.{group}" if group else kind
    return ApiError(
        f'{qualified_kind} "{name}" is invalid: {summary}',
        422,
        "Invalid",
        name=name,
        group=group,
        kind=kind,
        causes=causes,
    )


def bad_request(message: str) -> ApiError:
    return ApiError(message, 400, "BadRequest")


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(message, 405, "MethodNotAllowed")


def unsupported_media_type(accepted: list[str]) -> ApiError:
    return ApiError(
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
        415,
        "UnsupportedMediaType",
    )


def not_acceptable() -> ApiError:
    return ApiError(
        "only the following media types are accepted: application/json, application/yaml",
        406,
        "NotAcceptable",
    )


def gone(message: str) -> ApiError:
    return ApiError(message, 410, "Expired")


def too_old_resource_version(requested: int, oldest: int) -> ApiError:
    return ApiError(
        f"too old resource version: {requested} ({oldest})",
        410,
        "Expired",
    )


def unauthorized() -> ApiError:
    return ApiError("Unauthorized", 401, "Unauthorized")


def forbidden(
    user: str, verb: str, resource: str, group: str, namespace: str, name: str = "", why: str = ""
) -> ApiError:
    target = f'{qualified(resource, group)} "{name}"' if name else qualified(resource, group)
    scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    message = (
        f'{target} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
        f'in API group "{group}"{scope}'
    )
    if why:
        message += f": {why}"
    return ApiError(message, 403, "Forbidden", name=name, group=group, kind=resource)


def internal(message: str) -> ApiError:
    return ApiError(f"Internal error occurred: {message}", 500, "InternalError")


def timeout(message: str) -> ApiError:
    return ApiError(message, 504, "Timeout")


def unavailable(message: str) -> ApiError:
    return ApiError(message, 503, "ServiceUnavailable", retry_after=1)
