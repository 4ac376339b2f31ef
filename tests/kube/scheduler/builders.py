"""Plain-dict pods and nodes for scheduler tests, and a framework over them."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from openeks.kube.scheduler.cache import Cache
from openeks.kube.scheduler.framework.cycle_state import CycleState
from openeks.kube.scheduler.framework.interface import Handle, Listers, NoListers, Plugin
from openeks.kube.scheduler.framework.profile import Profile, default_profile
from openeks.kube.scheduler.framework.runtime import Framework
from openeks.kube.scheduler.framework.status import Status
from openeks.kube.scheduler.framework.types import NodeInfo, PodInfo
from openeks.kube.scheduler.plugins.registry import in_tree_registry

Obj = dict[str, Any]
_uids = itertools.count(1)


def node(
    name: str,
    cpu: str = "4",
    memory: str = "16Gi",
    pods: str = "110",
    zone: str | None = None,
    labels: dict[str, str] | None = None,
    taints: list[Obj] | None = None,
    unschedulable: bool = False,
    extra: dict[str, str] | None = None,
) -> Obj:
    all_labels = {"kubernetes.io/hostname": name, **(labels or {})}
    if zone is not None:
        all_labels["topology.kubernetes.io/zone"] = zone
    alloc = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    spec: Obj = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": all_labels},
        "spec": spec,
        "status": {"allocatable": alloc, "capacity": alloc},
    }


def pod(
    name: str = "",
    cpu: str | None = None,
    memory: str | None = None,
    namespace: str = "default",
    labels: dict[str, str] | None = None,
    node_name: str = "",
    **spec: Any,
) -> Obj:
    name = name or f"pod-{next(_uids)}"
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: Obj = {"name": "c", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    body: Obj = {"containers": [container], **spec}
    if node_name:
        body["nodeName"] = node_name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}-{next(_uids)}",
            "labels": labels or {},
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": body,
        "status": {"phase": "Pending"},
    }


def framework(
    nodes: list[Obj],
    pods: Iterable[Obj] = (),
    profile: Profile | None = None,
    listers: Listers | None = None,
) -> tuple[Framework, Cache]:
    cache = Cache.from_objects(nodes, pods)
    handle = Handle(cache, listers or NoListers())
    return Framework(profile or default_profile(), in_tree_registry(), handle), cache


def plugin(
    name: str, nodes: list[Obj], pods: Iterable[Obj] = (), args: Obj | None = None
) -> Plugin:
    cache = Cache.from_objects(nodes, pods)
    return in_tree_registry().new(name, Handle(cache), args)


def run_filter(pl: Any, p: Obj, nodes: list[NodeInfo]) -> dict[str, Status | None]:
    """PreFilter (if any) then Filter on each node; None means it fits."""
    state = CycleState()
    info = PodInfo(p)
    if hasattr(pl, "pre_filter"):
        _, st = pl.pre_filter(state, info, nodes)
        if st is not None and st.is_skip():
            return {n.name: None for n in nodes}
        if st is not None and not st.is_success():
            return {n.name: st for n in nodes}
    return {n.name: pl.filter(state, info, n) for n in nodes}


def run_score(pl: Any, p: Obj, nodes: list[NodeInfo]) -> dict[str, int]:
    """PreScore (if any), Score, NormalizeScore; a skipped plugin scores nothing ({})."""
    state = CycleState()
    info = PodInfo(p)
    if hasattr(pl, "pre_score"):
        st = pl.pre_score(state, info, nodes)
        if st is not None and st.is_skip():
            return {}
    scores = pl.score_nodes(state, info, nodes)
    if pl.has_normalize:
        pl.normalize(state, info, nodes, scores)
    return {n.name: s for n, s in zip(nodes, scores, strict=True)}


def reasons(statuses: dict[str, Status | None]) -> dict[str, str]:
    return {name: st.message for name, st in statuses.items() if st is not None}


class FakeListers(NoListers):
    def __init__(
        self,
        services: list[Obj] | None = None,
        controllers: dict[tuple[str, str, str], Obj] | None = None,
        namespaces: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self._services = services or []
        self._controllers = controllers or {}
        self._namespaces = namespaces or {}

    def services(self, namespace: str) -> list[Obj]:
        return [s for s in self._services if s["metadata"].get("namespace") == namespace]

    def controller(self, namespace: str, kind: str, name: str) -> Obj | None:
        return self._controllers.get((namespace, kind, name))

    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        return self._namespaces.get(namespace, {})

    def namespaces(self) -> list[tuple[str, dict[str, str]]]:
        return list(self._namespaces.items())
