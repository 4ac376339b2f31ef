"""Pod status as kubelet reports it: phase, conditions, container statuses (pure).

Ports of upstream's `getPhase` (kubelet_pods.go) and `pkg/kubelet/status/generate.go`:
the phase follows from the container statuses and the restart policy; the five
kubelet-owned conditions come in kubelet's order (PodReadyToStartContainers,
Initialized, Ready, ContainersReady, PodScheduled) with its reasons and messages
(`ContainersNotReady`, `containers with unready status: [web]`, `PodCompleted`, ...).
Conditions other kubelet does not own (readiness gates, DisruptionTarget) are kept.
A condition's lastTransitionTime only moves when its status changes.

`status_patch` is the merge patch from the status the API holds to the one computed,
carrying the pod's uid so a pod recreated under the same name is never written to.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

KUBELET_CONDITIONS = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
)


def is_sidecar(container: Obj) -> bool:
    """An init container with restartPolicy Always (a restartable init container)."""
    return container.get("restartPolicy") == "Always"


def _by_name(statuses: list[Obj]) -> dict[str, Obj]:
    return {s["name"]: s for s in statuses}


def _state(status: Obj, key: str) -> Obj | None:
    value = (status.get("state") or {}).get(key)
    return value if isinstance(value, dict) else None


def _last_terminated(status: Obj) -> Obj | None:
    value = (status.get("lastState") or {}).get("terminated")
    return value if isinstance(value, dict) else None


def _count_init(spec: Obj, statuses: dict[str, Obj]) -> tuple[int, int]:
    """(pending, failed) regular init containers."""
    pending = failed = 0
    for c in spec.get("initContainers") or ():
        if is_sidecar(c):
            continue
        s = statuses.get(c["name"])
        if s is None or _state(s, "running"):
            pending += 1
        elif (t := _state(s, "terminated")) is not None:
            failed += t.get("exitCode", 0) != 0
        elif _state(s, "waiting"):
            last = _last_terminated(s)
            if last is not None:
                failed += last.get("exitCode", 0) != 0
            else:
                pending += 1
        else:
            pending += 1
    return pending, failed


def any_regular_started(spec: Obj, statuses: dict[str, Obj]) -> bool:
    for c in spec.get("containers") or ():
        s = statuses.get(c["name"])
        if s and (_state(s, "running") or _state(s, "terminated") or _last_terminated(s)):
            return True
    return False


def pod_phase(pod: Obj, statuses: list[Obj], terminal: bool = False) -> str:
    """upstream getPhase over init and regular container statuses."""
    spec = pod.get("spec") or {}
    by_name = _by_name(statuses)
    pending_init, failed_init = _count_init(spec, by_name)
    unknown = running = waiting = stopped = succeeded = 0
    for c in spec.get("initContainers") or ():
        if not is_sidecar(c):
            continue
        s = by_name.get(c["name"])
        if s is None:
            unknown += 1
        elif _state(s, "running"):
            pending_init += 0 if s.get("started") else 1
            running += 1
        elif _state(s, "waiting") and not _last_terminated(s):
            pending_init += 1
            waiting += 1
    for c in spec.get("containers") or ():
        s = by_name.get(c["name"])
        if s is None:
            unknown += 1
        elif _state(s, "running"):
            running += 1
        elif (t := _state(s, "terminated")) is not None:
            stopped += 1
            succeeded += t.get("exitCode", 0) == 0
        elif _state(s, "waiting"):
            if _last_terminated(s):
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    policy = spec.get("restartPolicy", "Always")
    if failed_init and policy == "Never":
        return "Failed"
    if (pending_init and not any_regular_started(spec, by_name)) or waiting:
        return "Pending"
    if running and not unknown:
        return "Running"
    if not running and stopped and not unknown:
        if terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


# -- conditions ----------------------------------------------------------------------------


def _cond(kind: str, ok: bool, reason: str = "", message: str = "") -> Obj:
    c: Obj = {"type": kind, "status": "True" if ok else "False"}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def _names(names: list[str]) -> str:
    return "[" + " ".join(names) + "]"


def initialized_condition(pod: Obj, statuses: list[Obj], phase: str) -> Obj:
    spec = pod.get("spec") or {}
    by_name = _by_name(statuses)
    unknown, incomplete = [], []
    for c in spec.get("initContainers") or ():
        s = by_name.get(c["name"])
        if s is None:
            unknown.append(c["name"])
        elif not (s.get("started") if is_sidecar(c) else s.get("ready")):
            incomplete.append(c["name"])
    if phase == "Succeeded" and not unknown:
        return _cond("Initialized", True, "PodCompleted")
    if any_regular_started(spec, by_name):
        return _cond("Initialized", True)
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_names(unknown)}")
    if incomplete:
        messages.append(f"containers with incomplete status: {_names(incomplete)}")
    if messages:
        return _cond("Initialized", False, "ContainersNotInitialized", ", ".join(messages))
    return _cond("Initialized", True)


def containers_ready_condition(pod: Obj, statuses: list[Obj], phase: str) -> Obj:
    spec = pod.get("spec") or {}
    by_name = _by_name(statuses)
    unknown, unready = [], []
    wanted = [c for c in spec.get("initContainers") or () if is_sidecar(c)]
    for c in wanted + list(spec.get("containers") or ()):
        s = by_name.get(c["name"])
        if s is None:
            unknown.append(c["name"])
        elif not s.get("ready"):
            unready.append(c["name"])
    if phase == "Failed" or (phase == "Succeeded" and not unknown):
        reason = "PodFailed" if phase == "Failed" else "PodCompleted"
        return _cond("ContainersReady", False, reason)
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_names(unknown)}")
    if unready:
        messages.append(f"containers with unready status: {_names(unready)}")
    if messages:
        return _cond("ContainersReady", False, "ContainersNotReady", ", ".join(messages))
    return _cond("ContainersReady", True)


def ready_condition(pod: Obj, containers_ready: Obj, conditions: list[Obj]) -> Obj:
    if containers_ready["status"] != "True":
        return {**containers_ready, "type": "Ready"}
    by_type = {c.get("type"): c for c in conditions}
    messages = []
    for gate in (pod.get("spec") or {}).get("readinessGates") or ():
        kind = gate.get("conditionType", "")
        c = by_type.get(kind)
        if c is None:
            messages.append(
                f'corresponding condition of pod readiness gate "{kind}" does not exist.'
            )
        elif c.get("status") != "True":
            messages.append(
                f'the status of pod readiness gate "{kind}" is not "True", but {c.get("status")}'
            )
    if messages:
        return _cond("Ready", False, "ReadinessGatesNotReady", ", ".join(messages))
    return _cond("Ready", True)


def pod_conditions(
    pod: Obj,
    statuses: list[Obj],
    phase: str,
    sandbox_ready: bool,
    now: str,
    previous: list[Obj] | None = None,
) -> list[Obj]:
    """Kept foreign conditions, then kubelet's five, with transition times carried over
    from `previous` (the last conditions reported; default: the pod's)."""
    old = list((pod.get("status") or {}).get("conditions") or ())
    kept = [c for c in old if c.get("type") not in KUBELET_CONDITIONS]
    containers_ready = containers_ready_condition(pod, statuses, phase)
    new = [
        _cond("PodReadyToStartContainers", sandbox_ready),
        initialized_condition(pod, statuses, phase),
        ready_condition(pod, containers_ready, kept),
        containers_ready,
        _cond("PodScheduled", True),
    ]
    generation = (pod.get("metadata") or {}).get("generation")
    old_by_type = {c.get("type"): c for c in old}
    old_by_type.update({c.get("type"): c for c in previous or ()})
    for c in new:
        if generation is not None:
            c["observedGeneration"] = generation
        c["lastProbeTime"] = None
        previous = old_by_type.get(c["type"])
        if previous is not None and previous.get("status") == c["status"]:
            c["lastTransitionTime"] = previous.get("lastTransitionTime") or now
        else:
            c["lastTransitionTime"] = now
    return kept + new


def normalized(value: Any) -> Any:
    """`value` without null members (the API server may drop them), for comparing."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


# -- the patch -----------------------------------------------------------------------------


def status_patch(uid: str, old: Obj, new: Obj) -> Obj | None:
    """A merge patch turning status `old` into `new`, or None if they are equal."""
    changes: Obj = {}
    for key, value in new.items():
        if old.get(key) != value:
            changes[key] = value
    for key in old:
        if key not in new:
            changes[key] = None
    if not changes:
        return None
    return {"metadata": {"uid": uid}, "status": changes}
