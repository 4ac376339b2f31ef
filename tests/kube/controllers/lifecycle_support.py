"""Fixtures for the lifecycle controllers' end-to-end tests.

A real API server process (without its own scheduler and controller manager, so only
the controllers under test act), a client, the controller manager run in-process with
just the controllers a test names, and a fake kubelet that binds pods to its node,
starts them (Running, Ready, a pod IP), ends them as a test decides, and completes
graceful deletions, all through the API like a real node agent.

Test modules import the fixtures they use (named `*_fixture`, registered as `api`,
`client`, `kubectl`, so test parameters do not shadow the imports):
`from tests.kube.controllers.lifecycle_support import api_fixture, client_fixture`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.client import Client, Informer, load_kubeconfig
from openeks.kube.client.resources import LEASES, NAMESPACES, NODES, PODS
from openeks.kube.controllers.base import Controller
from openeks.kube.controllers.manager import ControllerManager, ManagerConfig
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl

Obj = dict[str, Any]


@pytest.fixture(scope="module", name="api")
def api_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    data = tmp_path_factory.mktemp("lifecycle")
    with ApiServerProcess(data / "kube", extra=["--no-scheduler", "--no-controllers"]) as server:
        yield server


@pytest.fixture(scope="module", name="kubectl")
def kubectl_fixture(api: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(api.kubeconfig, tmp_path_factory.mktemp("home"))


@pytest.fixture(name="client")
async def client_fixture(api: ApiServerProcess) -> AsyncIterator[Client]:
    c = Client(load_kubeconfig(api.kubeconfig))
    try:
        yield c
    finally:
        await c.close()


_names = itertools.count()


async def new_namespace(client: Client, prefix: str = "t") -> str:
    name = f"{prefix}-{next(_names)}-{meta.generate_name('')}"
    await client.create(
        NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    return name


@contextlib.asynccontextmanager
async def controllers(
    api: ApiServerProcess, *names: str, tune: Callable[[Controller], None] | None = None
) -> AsyncIterator[ControllerManager]:
    """Run a controller manager with only `names`; `tune` adjusts each controller
    (shorter periods, an injected clock) before its workers start."""
    manager = ControllerManager(
        ManagerConfig(
            client=load_kubeconfig(api.kubeconfig), controllers=list(names), leader_elect=False
        )
    )
    task = asyncio.create_task(manager.run())
    try:
        await eventually(lambda: len(manager.controllers) == len(names), timeout=10)
        if tune is not None:
            for c in manager.controllers:
                tune(c)
        yield manager
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]],
    timeout: float = 15.0,
    every: float = 0.1,
) -> Any:
    """Poll until `check()` returns something truthy (awaiting it if it is a coroutine)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        try:
            value = check()
            if asyncio.iscoroutine(value):
                value = await value
            last = value
            if value:
                return value
        except ApiError as e:
            last = e
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")
        await asyncio.sleep(every)


def ready_node(name: str, zone: str = "") -> Obj:
    now = meta.rfc3339(meta.now())
    labels = {"kubernetes.io/hostname": name}
    if zone:
        labels["topology.kubernetes.io/zone"] = zone
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ]
        },
    }


Outcome = Callable[[Obj], str | None]


class FakeKubelet:
    """A node agent without containers: binds, starts and finishes pods through the API."""

    def __init__(
        self,
        client: Client,
        node: str = "node-1",
        *,
        outcome: Outcome | None = None,
        ready: Callable[[Obj], bool] | None = None,
        zone: str = "",
        subnet: int = 1,
    ) -> None:
        self.client = client
        self.node = node
        self.zone = zone
        self.outcome = outcome or (lambda pod: None)
        self.ready = ready or (lambda pod: True)
        self.subnet = subnet
        self._ips = itertools.count(2)
        self._informer = Informer(client, PODS)
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.peak = 0
        """Most pods seen running on this node at once."""

    async def __aenter__(self) -> FakeKubelet:
        try:
            await self.client.create(NODES, ready_node(self.node, self.zone))
        except ApiError as e:
            if e.code != 409:
                raise
        self._informer.on(
            add=lambda p: self._queue.put_nowait(_key(p)),
            update=lambda o, p: self._queue.put_nowait(_key(p)),
        )
        self._informer.start()
        self._tasks.append(asyncio.create_task(self._loop()))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await self._informer.stop()

    def poke(self, pod: Obj) -> None:
        """Look at a pod again (after a test changed what `outcome` or `ready` say)."""
        self._queue.put_nowait(_key(pod))

    async def _loop(self) -> None:
        while True:
            key = await self._queue.get()
            pod = self._informer.get(key)
            if pod is None:
                continue
            try:
                await self._handle(pod)
            except ApiError:
                self._queue.put_nowait(key)
                await asyncio.sleep(0.05)

    async def _handle(self, pod: Obj) -> None:
        m, spec = pod["metadata"], pod.get("spec") or {}
        if not spec.get("nodeName"):
            if not m.get("deletionTimestamp"):
                body = {
                    "apiVersion": "v1",
                    "kind": "Binding",
                    "metadata": {"name": m["name"]},
                    "target": {"kind": "Node", "name": self.node},
                }
                await self.client.create(
                    PODS, body, m["namespace"], subresource="binding", name=m["name"]
                )
            return
        if spec["nodeName"] != self.node:
            return
        running = [
            p
            for p in self._informer.list()
            if (p.get("spec") or {}).get("nodeName") == self.node
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and not p["metadata"].get("deletionTimestamp")
        ]
        self.peak = max(self.peak, len(running))
        if m.get("deletionTimestamp"):
            await self.client.delete(PODS, m["name"], m["namespace"], grace_period=0, uid=m["uid"])
            return
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            return
        new = meta.deep_copy(pod)
        final = self.outcome(pod) if phase == "Running" else None
        status = self._status(new, final)
        if status != pod.get("status"):
            new["status"] = status
            await self.client.update_status(PODS, new)

    def _status(self, pod: Obj, final: str | None) -> Obj:
        old = pod.get("status") or {}
        now = meta.rfc3339(meta.now())
        ip = old.get("podIP") or f"10.{self.subnet}.0.{next(self._ips)}"
        ready = final is None and self.ready(pod)
        cond = {"type": "Ready", "status": "True" if ready else "False"}
        prev = next((c for c in old.get("conditions") or () if c.get("type") == "Ready"), None)
        cond["lastTransitionTime"] = (
            prev["lastTransitionTime"] if prev and prev.get("status") == cond["status"] else now
        )
        containers = []
        for c in pod["spec"]["containers"]:
            if final:
                state = {
                    "terminated": {
                        "exitCode": 0 if final == "Succeeded" else 1,
                        "reason": "Completed" if final == "Succeeded" else "Error",
                        "startedAt": now,
                        "finishedAt": now,
                    }
                }
            else:
                state = {"running": {"startedAt": now}}
            containers.append(
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": ready,
                    "restartCount": 0,
                    "started": final is None,
                    "state": state,
                }
            )
        return {
            **old,
            "phase": final or "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "hostIP": "192.168.0.1",
            "startTime": old.get("startTime") or now,
            "conditions": [cond],
            "containerStatuses": containers,
        }


def _key(pod: Obj) -> str:
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


async def renew_lease(client: Client, node: str, when: datetime.datetime | None = None) -> None:
    """Create or renew the node's Lease in kube-node-lease as a kubelet does."""
    renew = meta.rfc3339_micro(when or meta.now())
    try:
        lease = await client.get(LEASES, node, "kube-node-lease")
    except ApiError as e:
        if e.code != 404:
            raise
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": node, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": renew},
        }
        await client.create(LEASES, body, "kube-node-lease")
        return
    lease["spec"]["renewTime"] = renew
    await client.update(LEASES, lease)


def pod_manifest(
    name: str, namespace: str, labels: dict[str, str] | None = None, **spec: Any
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec},
    }
