"""The pod printer: READY, STATUS and RESTARTS the way `kubectl get pods` shows them.

A port of upstream's `printPod`. STATUS is the most involved cell of all printers; it is
decided in this order, each step able to override the previous one:

1. `status.reason`, else `status.phase`; `SchedulingGated` when the PodScheduled
   condition says so;
2. the first init container that has not finished: `Init:<reason>`, `Init:ExitCode:<n>`,
   `Init:Signal:<n>` or `Init:<i>/<n>` (restartable "sidecar" init containers that have
   started count as ready instead);
3. once initialised, the regular containers from last to first: a waiting or terminated
   reason, `ExitCode:<n>` / `Signal:<n>`; `Completed` turns back into `Running` (or
   `NotReady`) while some container still runs;
4. a deletion timestamp: `Unknown` for pods on a lost node, else `Terminating` unless the
   pod already finished.

RESTARTS is a string: the restart count, followed by `(<age> ago)` of the most recent
container termination when there was one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openeks.kube.api.printers.common import (
    column,
    integer,
    mapping,
    meta,
    name_of,
    parse_time,
    present,
    seq,
    text,
    translate_timestamp_since,
)
from openeks.kube.api.printers.descriptions import doc
from openeks.kube.api.printers.printer import Printer

_NODE_LOST = "NodeLost"  # node.NodeUnreachablePodReason

COLUMNS = (
    column("Name", "string", doc("ObjectMeta.name"), format="name"),
    column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    column("Status", "string", "The aggregate status of the containers in this pod."),
    column(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the "
        "last container in this pod has restarted.",
    ),
    column("Age", "string", doc("ObjectMeta.creationTimestamp")),
    column("IP", "string", doc("PodStatus.podIP"), priority=1),
    column("Node", "string", doc("PodSpec.nodeName"), priority=1),
    column("Nominated Node", "string", doc("PodStatus.nominatedNodeName"), priority=1),
    column("Readiness Gates", "string", doc("PodSpec.readinessGates"), priority=1),
)


def _later(current: datetime | None, candidate: Any) -> datetime | None:
    """`if current.Before(candidate) { current = candidate }` on possibly-zero times."""
    when = parse_time(candidate)
    if when is None:
        return current
    return when if current is None or current < when else current


def _last_terminated(status: Mapping[str, Any]) -> Any:
    terminated = mapping(status.get("lastState")).get("terminated")
    return mapping(terminated).get("finishedAt") if present(terminated) else None


def _restartable(container: Mapping[str, Any] | None) -> bool:
    """`podutil.IsRestartableInitContainer`: an init container with restartPolicy Always."""
    return container is not None and container.get("restartPolicy") == "Always"


def _condition_true(status: Mapping[str, Any], kind: str) -> bool:
    for condition in seq(status.get("conditions")):
        condition = mapping(condition)
        if condition.get("type") == kind:
            return condition.get("status") == "True"
    return False


def _has_ready_condition(status: Mapping[str, Any]) -> bool:
    return any(
        mapping(c).get("type") == "Ready" and mapping(c).get("status") == "True"
        for c in seq(status.get("conditions"))
    )


def _exit_reason(prefix: str, terminated: Mapping[str, Any]) -> str:
    signal = integer(terminated.get("signal"))
    if signal != 0:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{integer(terminated.get('exitCode'))}"


def pod_cells(pod: Mapping[str, Any], now: datetime) -> list[Any]:
    """Upstream's `printPod`, always wide."""
    spec, status = mapping(pod.get("spec")), mapping(pod.get("status"))
    restarts = restartable_restarts = ready = 0
    total = len(seq(spec.get("containers")))
    last_restart: datetime | None = None
    last_restartable_restart: datetime | None = None

    phase = text(status.get("phase"))
    reason = text(status.get("reason")) or phase
    for condition in seq(status.get("conditions")):
        condition = mapping(condition)
        if condition.get("type") == "PodScheduled" and condition.get("reason") == (
            "SchedulingGated"
        ):
            reason = "SchedulingGated"

    init_specs = [mapping(c) for c in seq(spec.get("initContainers"))]
    init_by_name = {text(c.get("name")): c for c in init_specs}
    total += sum(1 for c in init_specs if _restartable(c))

    initializing = False
    for index, raw in enumerate(seq(status.get("initContainerStatuses"))):
        container = mapping(raw)
        state = mapping(container.get("state"))
        terminated, waiting = state.get("terminated"), state.get("waiting")
        restartable = _restartable(init_by_name.get(text(container.get("name"))))
        restarts += integer(container.get("restartCount"))
        last_restart = _later(last_restart, _last_terminated(container))
        if restartable:
            restartable_restarts += integer(container.get("restartCount"))
            last_restartable_restart = _later(last_restartable_restart, _last_terminated(container))
        if present(terminated) and integer(mapping(terminated).get("exitCode")) == 0:
            continue
        if restartable and container.get("started") is True:
            if container.get("ready") is True:
                ready += 1
            continue
        if present(terminated):
            terminated_reason = text(mapping(terminated).get("reason"))
            if terminated_reason:
                reason = "Init:" + terminated_reason
            else:
                reason = _exit_reason("Init:", mapping(terminated))
        elif present(waiting) and text(mapping(waiting).get("reason")) not in (
            "",
            "PodInitializing",
        ):
            reason = "Init:" + text(mapping(waiting).get("reason"))
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(status, "Initialized"):
        restarts = restartable_restarts
        last_restart = last_restartable_restart
        has_running = False
        for raw in reversed(seq(status.get("containerStatuses"))):
            container = mapping(raw)
            state = mapping(container.get("state"))
            terminated, waiting = state.get("terminated"), state.get("waiting")
            restarts += integer(container.get("restartCount"))
            last_restart = _later(last_restart, _last_terminated(container))
            if present(waiting) and text(mapping(waiting).get("reason")):
                reason = text(mapping(waiting).get("reason"))
            elif present(terminated) and text(mapping(terminated).get("reason")):
                reason = text(mapping(terminated).get("reason"))
            elif present(terminated):
                reason = _exit_reason("", mapping(terminated))
            elif container.get("ready") is True and present(state.get("running")):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _has_ready_condition(status) else "NotReady"

    deleting = present(meta(pod).get("deletionTimestamp"))
    if deleting and status.get("reason") == _NODE_LOST:
        reason = "Unknown"
    elif deleting and phase not in ("Failed", "Succeeded"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({translate_timestamp_since(last_restart, now)} ago)"

    return [
        name_of(pod),
        f"{ready}/{total}",
        reason,
        restarts_cell,
        translate_timestamp_since(meta(pod).get("creationTimestamp"), now),
        _pod_ip(status) or "<none>",
        text(spec.get("nodeName")) or "<none>",
        text(status.get("nominatedNodeName")) or "<none>",
        _readiness_gates(spec, status),
    ]


def _pod_ip(status: Mapping[str, Any]) -> str:
    """The first pod IP; `status.podIP` wins over `podIPs` as in the v1 conversion."""
    pod_ip = text(status.get("podIP"))
    if pod_ip:
        return pod_ip
    ips = seq(status.get("podIPs"))
    return text(mapping(ips[0]).get("ip")) if ips else ""


def _readiness_gates(spec: Mapping[str, Any], status: Mapping[str, Any]) -> str:
    gates = seq(spec.get("readinessGates"))
    if not gates:
        return "<none>"
    conditions = [mapping(c) for c in seq(status.get("conditions"))]
    passed = 0
    for gate in gates:
        wanted = mapping(gate).get("conditionType")
        for condition in conditions:
            if condition.get("type") == wanted:
                passed += condition.get("status") == "True"
                break
    return f"{passed}/{len(gates)}"


def pod_conditions(pod: Mapping[str, Any]) -> list[dict[str, str]] | None:
    """The row condition `Completed` that upstream sets on finished pods."""
    phase = mapping(pod.get("status")).get("phase")
    if phase == "Succeeded":
        message = "The pod has completed successfully."
    elif phase == "Failed":
        message = "The pod failed."
    else:
        return None
    return [{"type": "Completed", "status": "True", "reason": phase, "message": message}]


POD = Printer(COLUMNS, pod_cells, pod_conditions)

PRINTERS = {("", "pods"): POD}
