"""Test support for the workload controllers (ReplicaSet, Deployment, StatefulSet,
DaemonSet).

Two kinds of help:

- `FakeClient` / `FakeRecorder` / `controller_with`: an in-memory stand-in for `Client`
  that serves objects a test seeds and records the writes a sync makes, and a controller
  wired to it with unstarted informers fed by hand (`observe`,
  `sync_client_into_informers`), for controller tests in upstream's style (seed a store,
  run one sync, compare the actions).
- `ControlPlane`: for end-to-end tests with the real kubectl. It runs, on an event loop
  in a background thread, the controller manager with only the workload controllers and
  `FakeNodes`, a tiny scheduler+kubelet that registers Ready nodes, binds pending pods
  (honouring a DaemonSet pod's `metadata.name` node affinity), marks them Running and
  Ready through pods/status (unless a test holds a pod back) and completes graceful
  deletions at once. Tests stay synchronous and call kubectl directly.

Fixtures: `api` (an API server process without its own scheduler and controllers),
`kubectl`, `plane` (the ControlPlane) and `namespace`; a test module imports them as
`from tests.kube.controllers.workloads_support import FIXTURES  # noqa: F401` (the
functions are named `*_fixture` so that test parameters do not shadow the imports).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openeks.kube.api import meta
from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client import Client, Informer, InformerFactory, key_of, load_kubeconfig
from openeks.kube.client.resources import (
    CONTROLLERREVISIONS,
    DAEMONSETS,
    DEPLOYMENTS,
    NODES,
    PODS,
    PVCS,
    REPLICASETS,
    STATEFULSETS,
)
from openeks.kube.controllers.base import Controller, ControllerContext
from openeks.kube.controllers.manager import ControllerManager, ManagerConfig
from openeks.runtime import WorkQueue, run_workers
from tests.support.apiserver import ApiServerProcess
from tests.support.kubectl import Kubectl

Obj = dict[str, Any]

FIXTURES = ("api_fixture", "kubectl_fixture", "plane_fixture", "namespace_fixture")
WORKLOAD_CONTROLLERS = ["replicaset", "deployment", "statefulset", "daemonset"]


# -- a fake client for one-sync controller tests ------------------------------------------------
RESOURCES_BY_KIND: dict[str, ResourceInfo] = {
    "Pod": PODS,
    "Node": NODES,
    "PersistentVolumeClaim": PVCS,
    "ReplicaSet": REPLICASETS,
    "Deployment": DEPLOYMENTS,
    "StatefulSet": STATEFULSETS,
    "DaemonSet": DAEMONSETS,
    "ControllerRevision": CONTROLLERREVISIONS,
}


class FakeClient:
    """Serves seeded objects and records every write as (verb, resource, name, body).

    Creations get a name (generateName + a counter), a UID and a creationTimestamp;
    every write bumps resourceVersion. `fail` makes chosen calls raise: it is called as
    `fail(verb, resource, body)` and returns an ApiError to raise, or None.
    """

    def __init__(self, objects: list[Obj] | None = None) -> None:
        self.store: dict[tuple[str, str, str], Obj] = {}
        self.actions: list[tuple[str, str, str, Any]] = []
        self.fail: Callable[[str, str, Any], ApiError | None] = lambda verb, res, body: None
        self._rv = itertools.count(100)
        self._names = itertools.count()
        for obj in objects or []:
            self.seed(obj)

    def seed(self, obj: Obj) -> Obj:
        res = RESOURCES_BY_KIND[obj["kind"]]
        m = obj.setdefault("metadata", {})
        m.setdefault("uid", f"uid-{m['name']}")
        m.setdefault("resourceVersion", str(next(self._rv)))
        m.setdefault("creationTimestamp", meta.rfc3339(meta.now()))
        self.store[(res.plural, m.get("namespace", ""), m["name"])] = obj
        return obj

    def writes(self, verb: str | None = None, resource: str | None = None) -> list[Any]:
        return [
            a
            for a in self.actions
            if (verb is None or a[0] == verb) and (resource is None or a[1] == resource)
        ]

    def _key(self, res: ResourceInfo, namespace: str, name: str) -> tuple[str, str, str]:
        return (res.plural, namespace, name)

    def _check(self, verb: str, res: ResourceInfo, body: Any) -> None:
        error = self.fail(verb, res.plural, body)
        if error is not None:
            raise error

    async def get(
        self, res: ResourceInfo, name: str, namespace: str = "", subresource: str = ""
    ) -> Obj:
        obj = self.store.get(self._key(res, namespace, name))
        if obj is None:
            raise ApiError(f'{res.plural} "{name}" not found', 404, "NotFound")
        return meta.deep_copy(obj)

    async def create(self, res: ResourceInfo, obj: Obj, namespace: str = "", **_: Any) -> Obj:
        body = meta.deep_copy(obj)
        m = body["metadata"]
        namespace = namespace or m.get("namespace", "")
        if not m.get("name"):
            m["name"] = f"{m.get('generateName', '')}{next(self._names):05d}"
        self.actions.append(("create", res.plural, m["name"], meta.deep_copy(body)))
        self._check("create", res, body)
        if self._key(res, namespace, m["name"]) in self.store:
            raise ApiError(f'{res.plural} "{m["name"]}" already exists', 409, "AlreadyExists")
        m["namespace"] = namespace
        m["uid"] = f"uid-{m['name']}"
        if res.plural in ("pods",):
            body.setdefault("status", {"phase": "Pending"})
        return self.seed(body)

    async def update(self, res: ResourceInfo, obj: Obj, **_: Any) -> Obj:
        body = meta.deep_copy(obj)
        m = body["metadata"]
        self.actions.append(("update", res.plural, m["name"], meta.deep_copy(body)))
        self._check("update", res, body)
        m["resourceVersion"] = str(next(self._rv))
        self.store[self._key(res, m.get("namespace", ""), m["name"])] = body
        return meta.deep_copy(body)

    async def update_status(self, res: ResourceInfo, obj: Obj) -> Obj:
        body = meta.deep_copy(obj)
        m = body["metadata"]
        self.actions.append(("update_status", res.plural, m["name"], meta.deep_copy(body)))
        self._check("update_status", res, body)
        m["resourceVersion"] = str(next(self._rv))
        self.store[self._key(res, m.get("namespace", ""), m["name"])] = body
        return meta.deep_copy(body)

    async def patch(
        self, res: ResourceInfo, name: str, patch: Any, namespace: str = "", **_: Any
    ) -> Obj:
        self.actions.append(("patch", res.plural, name, patch))
        self._check("patch", res, patch)
        obj = self.store[self._key(res, namespace, name)]
        refs = [r for r in obj["metadata"].get("ownerReferences") or [] if isinstance(r, dict)]
        for ref in (patch.get("metadata") or {}).get("ownerReferences") or []:
            if ref.get("$patch") == "delete":
                refs = [r for r in refs if r.get("uid") != ref.get("uid")]
            else:
                refs.append(ref)
        obj["metadata"]["ownerReferences"] = refs
        for key, value in ((patch.get("metadata") or {}).get("labels") or {}).items():
            obj["metadata"].setdefault("labels", {})[key] = value
        obj["metadata"]["resourceVersion"] = str(next(self._rv))
        return meta.deep_copy(obj)

    async def delete(self, res: ResourceInfo, name: str, namespace: str = "", **_: Any) -> Obj:
        self.actions.append(("delete", res.plural, name, None))
        self._check("delete", res, name)
        obj = self.store.pop(self._key(res, namespace, name), None)
        if obj is None:
            raise ApiError(f'{res.plural} "{name}" not found', 404, "NotFound")
        return obj


class FakeRecorder:
    """Records events as (type, reason, message)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    async def event(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


def controller_with(
    cls: type[Controller], objects: list[Obj]
) -> tuple[Any, FakeClient, FakeRecorder]:
    """A controller whose informers hold `objects` (not started), on a FakeClient."""
    client = FakeClient()
    recorder = FakeRecorder()
    factory = InformerFactory(client)  # type: ignore[arg-type]
    controller = cls(ControllerContext(client, factory, recorder))  # type: ignore[arg-type]
    controller.setup()
    for obj in objects:
        client.seed(obj)
        observe(controller, obj)
    return controller, client, recorder


def observe(controller: Controller, obj: Obj, kind: str = "ADDED") -> None:
    """Deliver a watch event to the controller's informer for `obj`'s resource."""
    informer = controller.informers.get(RESOURCES_BY_KIND[obj["kind"]])
    informer._apply(kind, meta.deep_copy(obj))


def sync_client_into_informers(controller: Controller, client: FakeClient) -> None:
    """Let the informers catch up with the client's store: adds, updates and deletes."""
    for kind, res in RESOURCES_BY_KIND.items():
        informer = controller.informers.get(res)
        current = {
            key_of(obj): obj for (plural, _, _), obj in client.store.items() if plural == res.plural
        }
        for key in [k for k in informer.store if k not in current]:
            informer._apply("DELETED", informer.store[key])
        for obj in current.values():
            obj.setdefault("kind", kind)
            informer._apply("ADDED", meta.deep_copy(obj))


# -- polling -----------------------------------------------------------------------------------
def wait_for(check: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    """Poll `check()` until it returns something truthy; fail with the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except (AssertionError, ApiError) as e:
            last = e
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {timeout}s; last: {last!r}")
        time.sleep(every)


# -- the fake scheduler + kubelet --------------------------------------------------------------
def ready_node(name: str, labels: dict[str, str] | None = None) -> Obj:
    now = meta.rfc3339(meta.now())
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
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


def target_node(pod: Obj) -> str:
    """The node a DaemonSet pod's required node affinity pins it to, if any."""
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or ():
        for field in term.get("matchFields") or ():
            if field.get("key") == "metadata.name" and field.get("operator") == "In":
                return str(field["values"][0])
    return ""


def running_status(pod: Obj, node: str, ready: bool) -> Obj:
    now = meta.rfc3339(meta.now())
    flag = "True" if ready else "False"
    containers = (pod.get("spec") or {}).get("containers") or []
    return {
        "phase": "Running",
        "hostIP": "10.0.0.1",
        "podIP": "10.244.0.10",
        "startTime": now,
        "qosClass": (pod.get("status") or {}).get("qosClass", "BestEffort"),
        "conditions": [
            {"type": t, "status": s, "lastTransitionTime": now}
            for t, s in (
                ("PodReadyToStartContainers", "True"),
                ("Initialized", "True"),
                ("Ready", flag),
                ("ContainersReady", flag),
                ("PodScheduled", "True"),
            )
        ],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": "",
                "ready": ready,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": now}},
            }
            for c in containers
        ],
    }


class FakeNodes:
    """Registers nodes; binds, starts and readies pods; finishes deletions."""

    def __init__(self, client: Client, nodes: list[str]) -> None:
        self.client = client
        self.nodes = nodes
        self.held: set[str] = set()
        self.hold_rules: list[Callable[[Obj], bool]] = []
        self._next_node = itertools.cycle(nodes)
        self.informer = Informer(client, PODS)
        self.queue = WorkQueue("fake-nodes")

    async def start(self) -> asyncio.Task[None]:
        for name in self.nodes:
            with contextlib.suppress(ApiError):
                await self.client.create(NODES, ready_node(name))
        self.informer.on(
            add=lambda p: self.queue.add(key_of(p)),
            update=lambda _, p: self.queue.add(key_of(p)),
        )
        self.informer.start()
        await self.informer.wait_synced(30)
        return asyncio.create_task(run_workers("fake-nodes", self.queue, self.handle, 4))

    def release(self, key: str) -> None:
        self.held.discard(key)
        self.queue.add(key)

    def release_all(self) -> None:
        self.held.clear()
        self.hold_rules.clear()
        for pod in self.informer.list():
            self.queue.add(key_of(pod))

    def holds(self, key: str, pod: Obj) -> bool:
        return key in self.held or any(rule(pod) for rule in self.hold_rules)

    async def handle(self, key: str) -> None:
        pod = self.informer.get(key)
        if pod is None:
            return
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        if pod["metadata"].get("deletionTimestamp"):
            with contextlib.suppress(ApiError):
                await self.client.delete(PODS, name, ns, grace_period=0)
            return
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            node = target_node(pod) or next(self._next_node)
            binding = {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node},
            }
            await self.client.create(PODS, binding, ns, subresource="binding", name=name)
            return
        ready = not self.holds(key, pod)
        status = pod.get("status") or {}
        is_ready = any(
            c.get("type") == "Ready" and c.get("status") == ("True" if ready else "False")
            for c in status.get("conditions") or ()
        )
        if status.get("phase") == "Running" and is_ready:
            return
        body = meta.deep_copy(pod)
        body["status"] = running_status(pod, node, ready)
        await self.client.update_status(PODS, body)


# -- the control plane in a thread -------------------------------------------------------------
class ControlPlane:
    """The workload controllers and FakeNodes on an event loop in a background thread."""

    def __init__(
        self, kubeconfig: Path, nodes: list[str], controllers: list[str] | None = None
    ) -> None:
        self.kubeconfig = kubeconfig
        self.node_names = nodes
        self.controller_names = controllers or WORKLOAD_CONTROLLERS
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.manager: ControllerManager | None = None
        self.fake: FakeNodes | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._client: Client | None = None
        self.rs_history: list[tuple[str, dict[str, tuple[int, int]]]] = []

    def call(self, coro: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> ControlPlane:
        self.thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        config = load_kubeconfig(self.kubeconfig)
        self._client = Client(config)
        self.fake = FakeNodes(self._client, self.node_names)
        self._tasks.append(await self.fake.start())
        self.manager = ControllerManager(
            ManagerConfig(client=config, controllers=self.controller_names, leader_elect=False)
        )
        self._tasks.append(asyncio.create_task(self.manager.run()))
        self._tasks.append(asyncio.create_task(self._watch_replica_sets()))
        deadline = time.monotonic() + 20
        while not self.manager.controllers:
            if time.monotonic() > deadline:
                raise RuntimeError("controllers did not start")
            await asyncio.sleep(0.05)

    async def _watch_replica_sets(self) -> None:
        """Record (spec.replicas, availableReplicas) of every ReplicaSet on each change."""
        assert self._client is not None
        informer = Informer(self._client, REPLICASETS)

        def record(rs: Obj) -> None:
            ns = rs["metadata"]["namespace"]
            snapshot = {
                o["metadata"]["name"]: (
                    int(o["spec"].get("replicas") or 0),
                    int((o.get("status") or {}).get("availableReplicas") or 0),
                )
                for o in informer.list(ns)
            }
            self.rs_history.append((ns, snapshot))

        informer.on(add=record, update=lambda _, rs: record(rs), delete=record)
        informer.start()
        try:
            await asyncio.Event().wait()
        finally:
            await informer.stop()

    def hold(self, namespace: str, pod: str) -> None:
        """Keep a pod Running but not Ready until `release`."""
        assert self.fake is not None
        self.loop.call_soon_threadsafe(self.fake.held.add, f"{namespace}/{pod}")

    def release(self, namespace: str, pod: str) -> None:
        assert self.fake is not None
        self.loop.call_soon_threadsafe(self.fake.release, f"{namespace}/{pod}")

    def hold_where(self, rule: Callable[[Obj], bool]) -> None:
        """Keep every pod for which `rule(pod)` is true (evaluated each time) not Ready."""
        assert self.fake is not None
        self.loop.call_soon_threadsafe(self.fake.hold_rules.append, rule)

    def release_all(self) -> None:
        assert self.fake is not None
        self.loop.call_soon_threadsafe(self.fake.release_all)

    def stop(self) -> None:
        async def _stop() -> None:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self.fake is not None:
                self.fake.queue.shutdown()
                await self.fake.informer.stop()
            if self._client is not None:
                await self._client.close()

        if not self.thread.is_alive():
            self.loop.close()
            return
        try:
            self.call(_stop(), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module", name="api")
def api_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    data = tmp_path_factory.mktemp("workloads")
    with ApiServerProcess(data / "kube", extra=["--no-scheduler", "--no-controllers"]) as server:
        yield server


@pytest.fixture(scope="module", name="kubectl")
def kubectl_fixture(api: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(api.kubeconfig, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module", name="plane")
def plane_fixture(api: ApiServerProcess) -> Iterator[ControlPlane]:
    control = ControlPlane(api.kubeconfig, ["node-1", "node-2"])
    try:
        yield control.start()
    finally:
        control.stop()


_namespaces = itertools.count()


@pytest.fixture(name="namespace")
def namespace_fixture(kubectl: Kubectl) -> Iterator[str]:
    name = f"w{next(_namespaces)}-{meta.generate_name('')}"
    kubectl("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)
