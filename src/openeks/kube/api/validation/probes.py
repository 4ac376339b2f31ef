"""Probes and lifecycle handlers, as `pkg/apis/core/validation` validates them.

Exactly one handler (exec, httpGet, tcpSocket, grpc, or sleep for hooks) per probe or
hook; non-negative timings; liveness and startup probes need `successThreshold: 1`;
readiness probes may not set their own `terminationGracePeriodSeconds`.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import (
    FieldError,
    Path,
    forbidden,
    invalid,
    not_supported,
    required,
)
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.meta import validate_nonnegative

Obj = dict[str, Any]

_HTTP_SCHEMES = ["HTTP", "HTTPS"]


def validate_port_num_or_name(value: Any, path: Path) -> list[FieldError]:
    if isinstance(value, bool):
        return [invalid(path, value, "must be an integer or a port name")]
    if isinstance(value, int):
        return [invalid(path, value, msg) for msg in formats.is_valid_port_num(value)]
    text = value if isinstance(value, str) else ""
    return [invalid(path, text, msg) for msg in formats.is_valid_port_name(text)]


# -- handlers -------------------------------------------------------------------------


def _validate_handler(handler: Obj, path: Path, grace_period: int | None) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for key in ("exec", "httpGet", "tcpSocket", "grpc", "sleep"):
        action = a.d(handler, key)
        if action is None:
            continue
        if count > 0:
            errs.append(forbidden(path.child(key), "may not specify more than 1 handler type"))
            continue
        count += 1
        if key == "exec" and not a.strings(action, "command"):
            errs.append(required(path.child("exec", "command")))
        elif key == "httpGet":
            errs.extend(_validate_http_get(action, path.child("httpGet")))
        elif key == "tcpSocket":
            errs.extend(
                validate_port_num_or_name(action.get("port"), path.child("tcpSocket", "port"))
            )
        elif key == "grpc":
            errs.extend(validate_port_num_or_name(a.i0(action, "port"), path.child("grpc", "port")))
        elif key == "sleep":
            seconds = a.i0(action, "seconds")
            if grace_period is not None and (seconds < 0 or seconds > grace_period):
                errs.append(
                    invalid(
                        path.child("sleep"),
                        seconds,
                        "must be non-negative and less than terminationGracePeriodSeconds "
                        f"({grace_period})",
                    )
                )
    if count == 0:
        errs.append(required(path, "must specify a handler type"))
    return errs


def _validate_http_get(action: Obj, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    if not a.s(action, "path"):
        errs.append(required(path.child("path")))
    errs.extend(validate_port_num_or_name(action.get("port"), path.child("port")))
    scheme = a.s(action, "scheme")
    if scheme not in _HTTP_SCHEMES:
        errs.append(not_supported(path.child("scheme"), scheme, _HTTP_SCHEMES))
    for header in a.items(action, "httpHeaders"):
        name = a.s(header, "name")
        errs.extend(
            invalid(path.child("httpHeaders"), name, msg)
            for msg in formats.is_http_header_name(name)
        )
    return errs


def validate_probe(
    probe: Obj | None, path: Path, grace_period: int | None, kind: str
) -> list[FieldError]:
    """kind: "liveness", "readiness" or "startup"."""
    if probe is None:
        return []
    errs = _validate_handler(probe, path, grace_period)
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        errs.extend(validate_nonnegative(a.i0(probe, key), path.child(key)))
    grace = a.i(probe, "terminationGracePeriodSeconds")
    if grace is not None and grace <= 0:
        errs.append(
            invalid(path.child("terminationGracePeriodSeconds"), grace, "must be greater than 0")
        )
    if kind in ("liveness", "startup") and a.i0(probe, "successThreshold") != 1:
        errs.append(
            invalid(path.child("successThreshold"), a.i0(probe, "successThreshold"), "must be 1")
        )
    if kind == "readiness" and grace is not None:
        errs.append(
            invalid(
                path.child("terminationGracePeriodSeconds"),
                grace,
                "must not be set for readinessProbes",
            )
        )
    return errs


def validate_lifecycle(lifecycle: Obj, path: Path, grace_period: int | None) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in ("postStart", "preStop"):
        hook = a.d(lifecycle, key)
        if hook is not None:
            errs.extend(_validate_handler(hook, path.child(key), grace_period))
    return errs


def validate_probes_and_lifecycle(
    container: Obj, path: Path, grace_period: int | None
) -> list[FieldError]:
    errs: list[FieldError] = []
    lifecycle = a.d(container, "lifecycle")
    if lifecycle is not None:
        errs.extend(validate_lifecycle(lifecycle, path.child("lifecycle"), grace_period))
    for key, kind in (
        ("livenessProbe", "liveness"),
        ("readinessProbe", "readiness"),
        ("startupProbe", "startup"),
    ):
        errs.extend(validate_probe(a.d(container, key), path.child(key), grace_period, kind))
    return errs
