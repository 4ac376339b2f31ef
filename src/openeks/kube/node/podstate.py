"""What the node agent knows about each pod it runs, and its checkpoint on disk.

A `PodState` holds the pod's sandbox and one `ContainerRecord` per container name: the
current runtime container, its restart count, the API-shaped `state` and `lastState`
kubelet reports, and why it is waiting when it has no container. The agent rebuilds pod
status from these records alone.

The state is written to `<data dir>/pods/<uid>/state.json` whenever a sandbox or
container is created or replaced. Upstream kubelet finds its containers again through
runtime labels; our runtime interface has no labels, so after a restart the agent reads
these checkpoints to adopt the sandboxes and containers of pods still bound to it and to
clean up after the pods that are gone.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from openeks.kube.node.runtime.base import Sandbox

Obj = dict[str, Any]
STATE_FILE = "state.json"


@dataclass
class ContainerRecord:
    name: str
    init: bool = False
    id: str = ""
    """The current runtime container ('' when none exists)."""
    restart_count: int = 0
    attempt: int = 0
    """Containers created so far under this name (the next log file's index)."""
    state: Obj = field(default_factory=dict)
    """The API ContainerState of the current container as the runtime reports it."""
    last_state: Obj = field(default_factory=dict)
    """The API lastState: `{"terminated": ...}` of the container before the current one."""
    waiting: Obj | None = None
    """Why no container runs now (CrashLoopBackOff, ErrImagePull, ...); shown as the state."""
    spec_image: str = ""
    """The image as written in the spec the current container was made from."""
    image: str = ""
    image_id: str = ""
    finished_at: float = 0.0
    """When the current container exited (epoch seconds), for crash-loop back-off."""
    log_path: str = ""
    termination_path: str = ""

    @property
    def running(self) -> bool:
        return bool(self.id) and "running" in self.state

    @property
    def terminated(self) -> Obj | None:
        value = self.state.get("terminated") if self.id else None
        return value if isinstance(value, dict) else None

    def wait(self, reason: str, message: str = "") -> None:
        waiting: Obj = {"reason": reason}
        if message:
            waiting["message"] = message
        self.waiting = waiting

    def api_states(self, default_reason: str) -> tuple[Obj, Obj]:
        """(state, lastState) as the pod status shows them."""
        if self.waiting is not None:
            current = self.terminated
            last = {"terminated": current} if current is not None else self.last_state
            return {"waiting": dict(self.waiting)}, dict(last)
        if self.id and self.state:
            return dict(self.state), dict(self.last_state)
        return {"waiting": {"reason": default_reason}}, dict(self.last_state)


@dataclass
class PodState:
    uid: str
    namespace: str
    name: str
    sandbox: Sandbox | None = None
    containers: dict[str, ContainerRecord] = field(default_factory=dict)
    start_time: str = ""
    reason: str = ""
    """Pod-level status reason (OutOfcpu, DeadlineExceeded), '' normally."""
    message: str = ""
    terminal: bool = False
    """The pod reached Succeeded/Failed here; nothing is (re)started any more."""

    def record(self, name: str, init: bool = False) -> ContainerRecord:
        rec = self.containers.get(name)
        if rec is None:
            rec = ContainerRecord(name=name, init=init)
            self.containers[name] = rec
        return rec

    # -- checkpoint --------------------------------------------------------------------
    def to_json(self) -> bytes:
        data = asdict(self)
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> PodState:
        data = json.loads(raw)
        sandbox = data.pop("sandbox", None)
        containers = data.pop("containers", {}) or {}
        state = cls(**data)
        state.sandbox = Sandbox(**sandbox) if sandbox else None
        state.containers = {k: ContainerRecord(**v) for k, v in containers.items()}
        return state

    def save(self, pod_dir: Path) -> None:
        pod_dir.mkdir(parents=True, exist_ok=True)
        tmp = pod_dir / (STATE_FILE + ".tmp")
        tmp.write_bytes(self.to_json())
        os.replace(tmp, pod_dir / STATE_FILE)


def load_checkpoints(pods_dir: Path) -> dict[str, PodState]:
    """Every readable checkpoint under `pods_dir`, by pod uid."""
    found: dict[str, PodState] = {}
    if not pods_dir.is_dir():
        return found
    for path in pods_dir.glob(f"*/{STATE_FILE}"):
        try:
            state = PodState.from_json(path.read_bytes())
        except (OSError, ValueError, TypeError):
            continue
        found[state.uid] = state
    return found
