"""The scheduler's views of pods and nodes: `PodInfo`, `NodeInfo`, `AffinityTerm`.

Everything a plugin needs per pod is computed once when the pod enters the scheduler
(requests in integers, tolerations, parsed affinity terms, host ports), and everything
it needs per node is kept up to date incrementally as pods come and go (requested and
non-zero requested resources, pod count, taints split by effect, pods grouped by label
set). Plugins read plain attributes in their per-node loops; nothing here copies a pod.

`NodeInfo.generation` changes on every mutation, so per-node results may be memoised
by generation (scoring does this for pods with identical requests).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from openeks.kube.api import labels as labelsel
from openeks.kube.scheduler.framework import resources as res

Obj = dict[str, Any]
GroupKey = tuple[str, tuple[tuple[str, str], ...]]

_generation = itertools.count(1)

LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"
LABEL_REGION = "topology.kubernetes.io/region"


def next_generation() -> int:
    return next(_generation)


class AffinityTerm:
    """A parsed PodAffinityTerm: which pods (namespaces + selector) and at what topology."""

    __slots__ = ("namespace_selector", "namespaces", "selector", "topology_key", "weight")

    def __init__(
        self,
        namespaces: frozenset[str],
        selector: labelsel.Selector,
        topology_key: str,
        namespace_selector: labelsel.Selector | None = None,
        weight: int = 0,
    ) -> None:
        self.namespaces = namespaces
        self.selector = selector
        self.topology_key = topology_key
        self.namespace_selector = namespace_selector
        self.weight = weight

    @classmethod
    def parse(cls, pod_namespace: str, term: Mapping[str, Any], weight: int = 0) -> AffinityTerm:
        names = term.get("namespaces") or []
        ns_sel_raw = term.get("namespaceSelector")
        namespaces = frozenset(names) if names or ns_sel_raw is not None else {pod_namespace}
        ns_sel = labelsel.from_label_selector(ns_sel_raw) if ns_sel_raw is not None else None
        return cls(
            frozenset(namespaces),
            labelsel.from_label_selector(term.get("labelSelector")),
            term.get("topologyKey", ""),
            ns_sel,
            weight,
        )

    def matches_namespace(self, namespace: str, ns_labels: Mapping[str, str] | None) -> bool:
        if namespace in self.namespaces:
            return True
        sel = self.namespace_selector
        if sel is None or sel.nothing:
            return False
        if sel.empty:
            return True
        return ns_labels is not None and sel.matches(ns_labels)

    def matches_labels(self, namespace: str, labels: Mapping[str, str]) -> bool:
        """For resolved terms (namespaceSelector merged into namespaces)."""
        return self.matches_namespace(namespace, None) and self.selector.matches(labels)

    def matches(self, pod: PodInfo, ns_labels: Mapping[str, str] | None = None) -> bool:
        return self.matches_namespace(pod.namespace, ns_labels) and self.selector.matches(
            pod.labels
        )


def _terms(pod_ns: str, raw: Iterable[Mapping[str, Any]] | None) -> list[AffinityTerm]:
    return [AffinityTerm.parse(pod_ns, t) for t in raw or ()]


def _weighted(pod_ns: str, raw: Iterable[Mapping[str, Any]] | None) -> list[AffinityTerm]:
    return [
        AffinityTerm.parse(pod_ns, t.get("podAffinityTerm") or {}, int(t.get("weight") or 0))
        for t in raw or ()
    ]


class PodInfo:
    """A pod as the scheduler sees it; `pod` is the informer's object, never mutated."""

    __slots__ = (
        "cpu",
        "created",
        "ephemeral",
        "group_key",
        "host_ports",
        "key",
        "labels",
        "memory",
        "name",
        "namespace",
        "node_name",
        "nz_cpu",
        "nz_memory",
        "pod",
        "preferred_affinity",
        "preferred_anti_affinity",
        "priority",
        "requests",
        "required_affinity",
        "required_anti_affinity",
        "scalars",
        "terminating",
        "tolerations",
        "uid",
    )

    def __init__(self, pod: Obj) -> None:
        m = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        self.pod = pod
        self.namespace: str = m.get("namespace", "")
        self.name: str = m.get("name", "")
        self.key = f"{self.namespace}/{self.name}"
        self.uid: str = m.get("uid", "") or self.key
        self.labels: dict[str, str] = m.get("labels") or {}
        self.created: str = m.get("creationTimestamp") or ""
        self.terminating = bool(m.get("deletionTimestamp"))
        self.node_name: str = spec.get("nodeName") or ""
        self.priority = int(spec.get("priority") or 0)
        self.tolerations: list[Obj] = spec.get("tolerations") or []
        self.group_key: GroupKey = (self.namespace, tuple(sorted(self.labels.items())))
        self.requests = res.pod_requests(pod)
        self.cpu = self.requests.get(res.CPU, 0)
        self.memory = self.requests.get(res.MEMORY, 0)
        self.ephemeral = self.requests.get(res.EPHEMERAL_STORAGE, 0)
        self.scalars = {k: v for k, v in self.requests.items() if res.is_scalar(k)}
        nz = res.pod_requests(pod, non_missing=True)
        self.nz_cpu = nz.get(res.CPU, 0)
        self.nz_memory = nz.get(res.MEMORY, 0)
        self.host_ports = _host_ports(spec)
        affinity = spec.get("affinity") or {}
        pa = affinity.get("podAffinity") or {}
        paa = affinity.get("podAntiAffinity") or {}
        ns = self.namespace
        self.required_affinity = _terms(
            ns, pa.get("requiredDuringSchedulingIgnoredDuringExecution")
        )
        self.required_anti_affinity = _terms(
            ns, paa.get("requiredDuringSchedulingIgnoredDuringExecution")
        )
        self.preferred_affinity = _weighted(
            ns, pa.get("preferredDuringSchedulingIgnoredDuringExecution")
        )
        self.preferred_anti_affinity = _weighted(
            ns, paa.get("preferredDuringSchedulingIgnoredDuringExecution")
        )

    @property
    def spec(self) -> Obj:
        spec: Obj = self.pod.get("spec") or {}
        return spec

    @property
    def has_affinity(self) -> bool:
        return bool(
            self.required_affinity
            or self.required_anti_affinity
            or self.preferred_affinity
            or self.preferred_anti_affinity
        )

    def assumed_on(self, node_name: str) -> PodInfo:
        """A shallow twin placed on `node_name` (the pod object itself is shared)."""
        twin = object.__new__(PodInfo)
        for slot in PodInfo.__slots__:
            object.__setattr__(twin, slot, getattr(self, slot))
        twin.node_name = node_name
        return twin

    def __repr__(self) -> str:
        return f"PodInfo({self.key} on {self.node_name or '-'})"


def _host_ports(spec: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    ports = []
    for c in itertools.chain(spec.get("initContainers") or (), spec.get("containers") or ()):
        for p in c.get("ports") or ():
            host_port = int(p.get("hostPort") or 0)
            if host_port > 0:
                ports.append((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", host_port))
    return ports


class NodeInfo:
    """A node plus the pods on it, with running totals kept as pods are added/removed."""

    __slots__ = (
        "alloc_cpu",
        "alloc_ephemeral",
        "alloc_memory",
        "alloc_pods",
        "alloc_scalars",
        "free_cpu",
        "free_ephemeral",
        "free_memory",
        "free_pods",
        "generation",
        "groups",
        "hard_taints",
        "labels",
        "name",
        "node",
        "nz_cpu",
        "nz_memory",
        "pods",
        "pods_with_affinity",
        "pods_with_required_anti_affinity",
        "req_cpu",
        "req_ephemeral",
        "req_memory",
        "req_scalars",
        "soft_taints",
        "taints",
        "unschedulable",
        "used_ports",
    )

    def __init__(self, node: Obj | None = None, pods: Iterable[PodInfo] = ()) -> None:
        self.name = ""
        self.node: Obj = {}
        self.labels: dict[str, str] = {}
        self.pods: dict[str, PodInfo] = {}
        self.groups: dict[GroupKey, int] = {}
        self.used_ports: dict[tuple[str, str, int], int] = {}
        self.pods_with_affinity = 0
        self.pods_with_required_anti_affinity = 0
        self.req_cpu = self.req_memory = self.req_ephemeral = 0
        self.nz_cpu = self.nz_memory = 0
        self.req_scalars: dict[str, int] = {}
        self.set_node(node or {"metadata": {"name": ""}})
        for p in pods:
            self.add_pod(p)

    # -- node ------------------------------------------------------------------------------
    def set_node(self, node: Obj) -> None:
        m = node.get("metadata") or {}
        spec = node.get("spec") or {}
        self.node = node
        self.name = m.get("name", "")
        self.labels = m.get("labels") or {}
        alloc = res.allocatable(node)
        self.alloc_cpu = alloc.get(res.CPU, 0)
        self.alloc_memory = alloc.get(res.MEMORY, 0)
        self.alloc_ephemeral = alloc.get(res.EPHEMERAL_STORAGE, 0)
        self.alloc_pods = alloc.get(res.PODS, 0)
        self.alloc_scalars = {k: v for k, v in alloc.items() if res.is_scalar(k)}
        self.unschedulable = bool(spec.get("unschedulable"))
        self.taints: list[Obj] = spec.get("taints") or []
        self.hard_taints = [
            t for t in self.taints if t.get("effect") in ("NoSchedule", "NoExecute")
        ]
        self.soft_taints = [t for t in self.taints if t.get("effect") == "PreferNoSchedule"]
        self._refresh()

    # -- pods ------------------------------------------------------------------------------
    def add_pod(self, p: PodInfo) -> None:
        self.pods[p.uid] = p
        self.req_cpu += p.cpu
        self.req_memory += p.memory
        self.req_ephemeral += p.ephemeral
        self.nz_cpu += p.nz_cpu
        self.nz_memory += p.nz_memory
        for name, v in p.scalars.items():
            self.req_scalars[name] = self.req_scalars.get(name, 0) + v
        if not p.terminating:
            self.groups[p.group_key] = self.groups.get(p.group_key, 0) + 1
        if p.has_affinity:
            self.pods_with_affinity += 1
        if p.required_anti_affinity:
            self.pods_with_required_anti_affinity += 1
        for port in p.host_ports:
            self.used_ports[port] = self.used_ports.get(port, 0) + 1
        self._refresh()

    def remove_pod(self, uid: str) -> PodInfo | None:
        p = self.pods.pop(uid, None)
        if p is None:
            return None
        self.req_cpu -= p.cpu
        self.req_memory -= p.memory
        self.req_ephemeral -= p.ephemeral
        self.nz_cpu -= p.nz_cpu
        self.nz_memory -= p.nz_memory
        for name, v in p.scalars.items():
            self.req_scalars[name] = self.req_scalars.get(name, 0) - v
        if not p.terminating:
            left = self.groups.get(p.group_key, 0) - 1
            if left > 0:
                self.groups[p.group_key] = left
            else:
                self.groups.pop(p.group_key, None)
        if p.has_affinity:
            self.pods_with_affinity -= 1
        if p.required_anti_affinity:
            self.pods_with_required_anti_affinity -= 1
        for port in p.host_ports:
            left = self.used_ports.get(port, 0) - 1
            if left > 0:
                self.used_ports[port] = left
            else:
                self.used_ports.pop(port, None)
        self._refresh()
        return p

    def _refresh(self) -> None:
        self.free_cpu = self.alloc_cpu - self.req_cpu
        self.free_memory = self.alloc_memory - self.req_memory
        self.free_ephemeral = self.alloc_ephemeral - self.req_ephemeral
        self.free_pods = self.alloc_pods - len(self.pods)
        self.generation = next_generation()

    # -- queries ---------------------------------------------------------------------------
    def count_matching(self, namespace: str, selector: labelsel.Selector) -> int:
        """Non-terminating pods of `namespace` whose labels match (countPodsMatchSelector)."""
        if selector.empty or selector.nothing:
            return 0
        return sum(
            n
            for (ns, items), n in self.groups.items()
            if ns == namespace and selector.matches(dict(items))
        )

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, {len(self.pods)} pods)"
