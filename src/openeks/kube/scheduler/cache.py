"""The scheduler cache: node infos built from the node and pod informers, plus assumed pods.

Upstream's `internal/cache`: every assigned pod is accounted to its node's `NodeInfo`
incrementally (add/update/remove), so a scheduling cycle never recomputes totals. A pod
the scheduler has just placed is *assumed* — accounted to its node at once, before the
bind request even leaves — so the next cycle already sees the node as fuller; the
informer's event for the bound pod *confirms* it, a failed bind *forgets* it, and an
assumed pod never confirmed within `assumed_ttl` after its bind finished expires.

The cache is also the cycle's snapshot: cycles run synchronously on the event loop, so
nothing changes under a cycle and no copy is taken. Node order is upstream's node tree
(zones interleaved), so scanning a share of the nodes still covers every zone. Pods are
indexed by (namespace, label set) → node → count, which turns "how many pods matching
this selector per node" — the heart of topology spreading and pod affinity — into one
selector match per distinct label set instead of one per pod.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from openeks.kube.api import labels as labelsel
from openeks.kube.scheduler.framework.types import (
    LABEL_REGION,
    LABEL_ZONE,
    GroupKey,
    NodeInfo,
    PodInfo,
)

Obj = dict[str, Any]

TRACKED_TOPOLOGY_KEYS = (LABEL_ZONE, LABEL_REGION)
"""Keys whose per-value pod counts the label-set index keeps aggregated."""
_LEGACY_ZONE = "failure-domain.beta.kubernetes.io/zone"
_LEGACY_REGION = "failure-domain.beta.kubernetes.io/region"


def zone_key(labels: Mapping[str, str]) -> str:
    region = labels.get(LABEL_REGION) or labels.get(_LEGACY_REGION) or ""
    zone = labels.get(LABEL_ZONE) or labels.get(_LEGACY_ZONE) or ""
    return f"{region}:\x00:{zone}" if region or zone else ""


def is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class Cache:
    def __init__(
        self, assumed_ttl: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.assumed_ttl = assumed_ttl
        self.clock = clock
        self._nodes: dict[str, NodeInfo] = {}
        self._real: set[str] = set()
        self._pods: dict[str, PodInfo] = {}
        self._assumed: dict[str, float | None] = {}
        self._groups: dict[GroupKey, dict[str, int]] = {}
        self._group_labels: dict[GroupKey, dict[str, str]] = {}
        self._ns_groups: dict[str, set[GroupKey]] = {}
        self._affinity: set[str] = set()
        self._anti_affinity: set[str] = set()
        self._hard_tainted: set[str] = set()
        self._soft_tainted: set[str] = set()
        self._cordoned: set[str] = set()
        self._zones: dict[str, list[str]] = {}
        self._order: list[NodeInfo] | None = None
        self._label_keys: dict[str, int] = {}
        self._tracked_values: dict[str, dict[str, int]] = {k: {} for k in TRACKED_TOPOLOGY_KEYS}
        self._topo: dict[GroupKey, dict[tuple[str, str], int]] = {}
        self._topo_labels: dict[str, dict[str, str]] = {}

    @classmethod
    def from_objects(cls, nodes: Iterable[Obj], pods: Iterable[Obj] = ()) -> Cache:
        """A cache holding these nodes and (assigned) pods; for tests and tools."""
        cache = cls()
        for n in nodes:
            cache.add_node(n)
        for p in pods:
            cache.add_pod(p)
        return cache

    # -- nodes -----------------------------------------------------------------------------
    def add_node(self, node: Obj) -> NodeInfo:
        name = node["metadata"]["name"]
        info = self._nodes.get(name)
        old_zone: str | None = None
        if info is not None and name in self._real:
            old_zone = zone_key(info.labels)
            self._count_label_keys(info.labels, -1)
        if info is None:
            info = NodeInfo(node)
            self._nodes[name] = info
        else:
            info.set_node(node)
        self._real.add(name)
        self._count_label_keys(info.labels, 1)
        self._retopo(info, info.labels)
        self._track_node_flags(info)
        new_zone = zone_key(info.labels)
        if old_zone != new_zone:
            if old_zone is not None:
                self._zone_remove(old_zone, name)
            self._zones.setdefault(new_zone, []).append(name)
            self._order = None
        return info

    update_node = add_node

    def remove_node(self, name: str) -> None:
        info = self._nodes.get(name)
        if info is None or name not in self._real:
            return
        self._real.discard(name)
        self._count_label_keys(info.labels, -1)
        self._retopo(info, {})
        for names in (self._hard_tainted, self._soft_tainted, self._cordoned):
            names.discard(name)
        self._zone_remove(zone_key(info.labels), name)
        self._order = None
        if not info.pods:
            del self._nodes[name]

    def _count_label_keys(self, labels: Mapping[str, str], delta: int) -> None:
        for key, value in labels.items():
            left = self._label_keys.get(key, 0) + delta
            if left > 0:
                self._label_keys[key] = left
            else:
                self._label_keys.pop(key, None)
            values = self._tracked_values.get(key)
            if values is not None:
                left = values.get(value, 0) + delta
                if left > 0:
                    values[value] = left
                else:
                    values.pop(value, None)

    def _retopo(self, info: NodeInfo, labels: Mapping[str, str]) -> None:
        """Move this node's pods' aggregated topology counts to its current labels."""
        old = self._topo_labels.get(info.name, {})
        new = {k: labels[k] for k in TRACKED_TOPOLOGY_KEYS if k in labels}
        if old == new:
            return
        for key, n in info.groups.items():
            self._topo_add(key, old, -n)
            self._topo_add(key, new, n)
        if new:
            self._topo_labels[info.name] = new
        else:
            self._topo_labels.pop(info.name, None)

    def _topo_add(self, key: GroupKey, pairs: Mapping[str, str], n: int) -> None:
        if not pairs:
            return
        per = self._topo.setdefault(key, {})
        for pair in pairs.items():
            left = per.get(pair, 0) + n
            if left:
                per[pair] = left
            else:
                per.pop(pair, None)
        if not per:
            self._topo.pop(key, None)

    def _track_node_flags(self, info: NodeInfo) -> None:
        for flag, names in (
            (info.hard_taints, self._hard_tainted),
            (info.soft_taints, self._soft_tainted),
            (info.unschedulable, self._cordoned),
        ):
            if flag:
                names.add(info.name)
            else:
                names.discard(info.name)

    def _zone_remove(self, zone: str, name: str) -> None:
        names = self._zones.get(zone)
        if names and name in names:
            names.remove(name)
            if not names:
                del self._zones[zone]

    # -- pods ------------------------------------------------------------------------------
    def add_pod(self, pod: Obj) -> PodInfo | None:
        """An assigned pod from the informer (also confirms an assumed pod)."""
        info = PodInfo(pod)
        if not info.node_name:
            return None
        if is_terminal(pod):
            self.remove_pod(info.uid)
            return None
        self._assumed.pop(info.uid, None)
        self._detach(info.uid)
        self._attach(info)
        return info

    update_pod = add_pod

    def remove_pod(self, uid: str) -> None:
        self._assumed.pop(uid, None)
        self._detach(uid)

    def get_pod(self, uid: str) -> PodInfo | None:
        return self._pods.get(uid)

    def _attach(self, info: PodInfo) -> None:
        node = self._nodes.get(info.node_name)
        if node is None:
            node = NodeInfo({"metadata": {"name": info.node_name}})
            self._nodes[info.node_name] = node
        node.add_pod(info)
        self._pods[info.uid] = info
        if not info.terminating:
            key = info.group_key
            per_node = self._groups.get(key)
            if per_node is None:
                per_node = self._groups[key] = {}
                self._group_labels[key] = info.labels
                self._ns_groups.setdefault(info.namespace, set()).add(key)
            per_node[info.node_name] = per_node.get(info.node_name, 0) + 1
            self._topo_add(key, self._topo_labels.get(info.node_name, {}), 1)
        self._track_affinity(node)

    def _detach(self, uid: str) -> PodInfo | None:
        info = self._pods.pop(uid, None)
        if info is None:
            return None
        node = self._nodes.get(info.node_name)
        if node is not None:
            node.remove_pod(uid)
            self._track_affinity(node)
            if not node.pods and info.node_name not in self._real:
                del self._nodes[info.node_name]
        if not info.terminating:
            key = info.group_key
            self._topo_add(key, self._topo_labels.get(info.node_name, {}), -1)
            per_node = self._groups.get(key)
            if per_node is not None:
                left = per_node.get(info.node_name, 0) - 1
                if left > 0:
                    per_node[info.node_name] = left
                else:
                    per_node.pop(info.node_name, None)
                    if not per_node:
                        del self._groups[key]
                        del self._group_labels[key]
                        ns_keys = self._ns_groups.get(info.namespace)
                        if ns_keys is not None:
                            ns_keys.discard(key)
                            if not ns_keys:
                                del self._ns_groups[info.namespace]
        return info

    def _track_affinity(self, node: NodeInfo) -> None:
        for counter, names in (
            (node.pods_with_affinity, self._affinity),
            (node.pods_with_required_anti_affinity, self._anti_affinity),
        ):
            if counter > 0:
                names.add(node.name)
            else:
                names.discard(node.name)

    # -- assumed pods ----------------------------------------------------------------------
    def assume(self, pod: PodInfo, node_name: str) -> PodInfo:
        """Account `pod` to `node_name` now, before its binding is confirmed."""
        placed = pod.assumed_on(node_name)
        self._detach(pod.uid)
        self._attach(placed)
        self._assumed[pod.uid] = None
        return placed

    def finish_binding(self, uid: str) -> None:
        """The bind request returned: expire the assumption if no confirmation follows."""
        if uid in self._assumed:
            self._assumed[uid] = self.clock() + self.assumed_ttl

    def forget(self, uid: str) -> None:
        """The bind failed: the pod is not on that node after all."""
        if self._assumed.pop(uid, "missing") != "missing":
            self._detach(uid)

    def is_assumed(self, uid: str) -> bool:
        return uid in self._assumed

    def cleanup_expired(self) -> list[str]:
        now = self.clock()
        expired = [uid for uid, t in self._assumed.items() if t is not None and t < now]
        for uid in expired:
            self.forget(uid)
        return expired

    # -- NodeLister ------------------------------------------------------------------------
    def nodes(self) -> list[NodeInfo]:
        if self._order is None:
            self._order = self._interleave()
        return self._order

    def _interleave(self) -> list[NodeInfo]:
        zones = [list(names) for names in self._zones.values()]
        out: list[NodeInfo] = []
        depth = max((len(z) for z in zones), default=0)
        for i in range(depth):
            for names in zones:
                if i < len(names):
                    out.append(self._nodes[names[i]])
        return out

    def get(self, name: str) -> NodeInfo | None:
        info = self._nodes.get(name)
        return info if info is not None and name in self._real else None

    @property
    def num_nodes(self) -> int:
        return len(self._real)

    def any_hard_taints(self) -> bool:
        """Does any node carry a NoSchedule/NoExecute taint?"""
        return bool(self._hard_tainted)

    def any_soft_taints(self) -> bool:
        return bool(self._soft_tainted)

    def any_unschedulable(self) -> bool:
        return bool(self._cordoned)

    def have_pods_with_affinity(self) -> list[NodeInfo]:
        return [self._nodes[n] for n in self._affinity if n in self._real]

    def have_pods_with_required_anti_affinity(self) -> list[NodeInfo]:
        return [self._nodes[n] for n in self._anti_affinity if n in self._real]

    def matching_counts(self, namespace: str, selector: labelsel.Selector) -> Mapping[str, int]:
        if selector.empty or selector.nothing:
            return {}
        found: list[dict[str, int]] = [
            self._groups[key]
            for key in self._ns_groups.get(namespace, ())
            if selector.matches(self._group_labels[key])
        ]
        if len(found) == 1:
            return found[0]
        merged: dict[str, int] = {}
        for per_node in found:
            for name, n in per_node.items():
                merged[name] = merged.get(name, 0) + n
        return merged

    def topology_counts(
        self, namespace: str, selector: labelsel.Selector, key: str
    ) -> dict[str, int] | None:
        """Topology value → matching pods on real nodes, for TRACKED_TOPOLOGY_KEYS only."""
        if key not in TRACKED_TOPOLOGY_KEYS:
            return None
        out: dict[str, int] = {}
        if selector.empty or selector.nothing:
            return out
        for gk in self._ns_groups.get(namespace, ()):
            if not selector.matches(self._group_labels[gk]):
                continue
            for (k, value), n in self._topo.get(gk, {}).items():
                if k == key:
                    out[value] = out.get(value, 0) + n
        return out

    def all_nodes_have(self, key: str) -> bool:
        return self._label_keys.get(key, 0) == len(self._real)

    def distinct_values(self, key: str) -> int | None:
        """How many values `key` takes over the nodes (TRACKED_TOPOLOGY_KEYS only)."""
        values = self._tracked_values.get(key)
        return None if values is None else len(values)

    def matching_groups(self, namespace: str) -> list[tuple[dict[str, str], Mapping[str, int]]]:
        return [
            (self._group_labels[key], self._groups[key])
            for key in self._ns_groups.get(namespace, ())
        ]

    def all_groups(self) -> list[tuple[str, dict[str, str], Mapping[str, int]]]:
        return [(key[0], self._group_labels[key], per) for key, per in self._groups.items()]

    def pods(self) -> list[PodInfo]:
        return list(self._pods.values())
