"""Which pods Fargate will not run, and the reasons EKS gives.

EKS documents the limits (user guide, "AWS Fargate considerations"): DaemonSets are not
supported, nor privileged containers, nor `hostNetwork` or `hostPort`. The two cases
behave differently:

- DaemonSet pods are never matched to a profile: the Fargate admission step leaves them
  to the default scheduler (`is_daemonset_pod`), so on a Fargate-only cluster they stay
  Pending without a Fargate event.
- Other unsupported pods do match a profile, get `schedulerName: fargate-scheduler`, and
  then stay Pending: the Fargate scheduler records a Warning event `FailedScheduling`
  from `fargate-scheduler` whose message lists every reason, in the form EKS writes:

      Pod not supported on Fargate: fields not supported: HostNetwork, invalid
      SecurityContext fields: Privileged, port contains HostIP or HostPort

`hostPID` and `hostIPC` are listed with HostNetwork and `hostPath` volumes as
"volumes not supported" (both unsupported on Fargate's per-pod virtual machines; the
exact sentences for them are openeks's, in EKS's pattern).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Pod = Mapping[str, Any]

SCHEDULER_NAME = "fargate-scheduler"
EVENT_REASON = "FailedScheduling"
EVENT_TYPE = "Warning"
UNSUPPORTED_PREFIX = "Pod not supported on Fargate: "
_HOST_FIELDS = (("hostNetwork", "HostNetwork"), ("hostPID", "HostPID"), ("hostIPC", "HostIPC"))


def is_daemonset_pod(pod: Pod) -> bool:
    """Whether a DaemonSet owns the pod (Fargate never places those)."""
    owners = (pod.get("metadata") or {}).get("ownerReferences") or ()
    return any(owner.get("kind") == "DaemonSet" for owner in owners)


def _containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or ()


def _host_fields(spec: Mapping[str, Any]) -> list[str]:
    return [name for key, name in _HOST_FIELDS if spec.get(key)]


def _privileged(spec: Mapping[str, Any]) -> bool:
    return any(
        (container.get("securityContext") or {}).get("privileged") is True
        for container in _containers(spec)
    )


def _host_ports(spec: Mapping[str, Any]) -> bool:
    return any(
        port.get("hostPort") or port.get("hostIP")
        for container in _containers(spec)
        for port in container.get("ports") or ()
    )


def _host_path_volumes(spec: Mapping[str, Any]) -> list[str]:
    return [str(v.get("name")) for v in spec.get("volumes") or () if v.get("hostPath") is not None]


def unsupported_reasons(pod: Pod) -> list[str]:
    """Why Fargate cannot run `pod`, in EKS's order and wording; empty if it can."""
    spec = pod.get("spec") or {}
    reasons = []
    fields = _host_fields(spec)
    if fields:
        reasons.append(f"fields not supported: {', '.join(fields)}")
    if _privileged(spec):
        reasons.append("invalid SecurityContext fields: Privileged")
    if _host_ports(spec):
        reasons.append("port contains HostIP or HostPort")
    volumes = _host_path_volumes(spec)
    if volumes:
        listed = ", ".join(f"{name} is of an unsupported volume Type" for name in volumes)
        reasons.append(f"volumes not supported: {listed}")
    return reasons


def unsupported_message(pod: Pod) -> str | None:
    """The FailedScheduling event message for a pod Fargate cannot run, or None."""
    reasons = unsupported_reasons(pod)
    return UNSUPPORTED_PREFIX + ", ".join(reasons) if reasons else None
