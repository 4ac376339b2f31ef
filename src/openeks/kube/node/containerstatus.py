"""A container's state in the API's words, from what the runtime reports (pure).

`api_state` turns a runtime `ContainerStatus` into the API `ContainerState`: running
with its start time, waiting `ContainerCreating` while created but not started,
terminated with exit code, kubelet's reason (`Completed` / `Error` unless the runtime
says `OOMKilled`, ...), times and the termination message — read from the file mounted
at terminationMessagePath, or with `FallbackToLogsOnError` the end of the log. A
container the runtime no longer knows is `ContainerStatusUnknown`, exit code 137.

`api_status` is one entry of `containerStatuses` / `initContainerStatuses`, including
what kubelet 1.33+ echoes from the spec (`volumeMounts`, `resources`,
`allocatedResources`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openeks.kube.node import logs
from openeks.kube.node.podstate import ContainerRecord
from openeks.kube.node.runtime.base import ContainerStatus, State

Obj = dict[str, Any]
MAX_TERMINATION_MESSAGE = 4096
FALLBACK_LOG_LINES = 80
FALLBACK_LOG_BYTES = 2048


def terminated_state(terminated: Obj) -> Obj:
    return {"terminated": {k: v for k, v in terminated.items() if v is not None}}


def termination_message(record: ContainerRecord, spec: Obj, exit_code: int) -> str:
    text = b""
    if record.termination_path:
        try:
            with open(record.termination_path, "rb") as f:
                text = f.read(MAX_TERMINATION_MESSAGE)
        except OSError:
            text = b""
    policy = spec.get("terminationMessagePolicy", "File")
    if not text and policy == "FallbackToLogsOnError" and exit_code != 0 and record.log_path:
        lines = logs.read_lines(Path(record.log_path))[-FALLBACK_LOG_LINES:]
        text = b"".join(line.content for line in lines)[-FALLBACK_LOG_BYTES:]
    return text.decode(errors="replace")


def api_state(status: ContainerStatus, record: ContainerRecord, spec: Obj, url: str) -> Obj:
    if status.state is State.RUNNING:
        return {"running": {"startedAt": status.started_at}}
    if status.state is State.CREATED:
        return {"waiting": {"reason": "ContainerCreating"}}
    if status.state is State.UNKNOWN:
        if record.terminated is not None:
            return record.state
        return {
            "terminated": {
                "exitCode": 137,
                "reason": "ContainerStatusUnknown",
                "message": "The container could not be located when the pod was terminated",
                "containerID": url,
            }
        }
    terminated: Obj = {
        "exitCode": status.exit_code,
        "reason": status.reason or ("Completed" if status.exit_code == 0 else "Error"),
        "message": status.message or termination_message(record, spec, status.exit_code) or None,
        "startedAt": status.started_at or None,
        "finishedAt": status.finished_at or None,
        "containerID": url,
    }
    return terminated_state(terminated)


def spec_echo(spec: Obj) -> Obj:
    """volumeMounts and resources, which kubelet 1.33+ echoes in container statuses."""
    out: Obj = {}
    mounts = []
    for vm in spec.get("volumeMounts") or ():
        m: Obj = {"name": vm.get("name", ""), "mountPath": vm.get("mountPath", "")}
        if vm.get("readOnly"):
            m["readOnly"] = True
            m["recursiveReadOnly"] = "Disabled"
        mounts.append(m)
    if mounts:
        out["volumeMounts"] = mounts
    resources = spec.get("resources") or {}
    kept = {k: resources[k] for k in ("limits", "requests") if resources.get(k)}
    if kept:
        out["resources"] = kept
        if kept.get("requests"):
            out["allocatedResources"] = dict(kept["requests"])
    return out


def api_status(
    spec: Obj,
    record: ContainerRecord,
    default_reason: str,
    started: bool,
    ready: bool,
    url: str,
) -> Obj:
    """One container status; `started`/`ready` are the probes' verdict while running."""
    state, last = record.api_states(default_reason)
    running = "running" in state
    started = running and started
    if record.init and spec.get("restartPolicy") != "Always":
        terminated = state.get("terminated") or {}
        ready = bool(terminated) and terminated.get("exitCode") == 0
    else:
        ready = started and ready
    status: Obj = {
        "name": record.name,
        "state": state,
        "lastState": last,
        "ready": ready,
        "restartCount": record.restart_count,
        "image": record.image or spec.get("image", ""),
        "imageID": record.image_id,
        "started": started,
    }
    if url:
        status["containerID"] = url
    status.update(spec_echo(spec))
    return status
