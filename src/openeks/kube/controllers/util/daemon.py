"""DaemonSet placement and update arithmetic (`pkg/controller/daemon/util`, `update.go`).

Which nodes should run a daemon pod is decided as the scheduler would, on a pod made
from the template plus the tolerations upstream adds to every daemon pod (not-ready and
unreachable `NoExecute`; disk-, memory- and pid-pressure and unschedulable `NoSchedule`;
network-unavailable too for `hostNetwork` pods): `nodeSelector`, required node affinity,
and taints with effect `NoSchedule`/`NoExecute`. A node whose untolerated taints are all
`NoSchedule` keeps the pods it already has ("should continue running").

Daemon pods are created unscheduled with a required node affinity on `metadata.name`
(`matchFields`) naming their node, and the scheduler binds them; so a pod's node is its
`spec.nodeName` or, before binding, that affinity.

`plan_rolling_update` is upstream's `rollingUpdate` as a pure function over the pods per
node: which old pods to delete and on which nodes to surge new ones.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api import meta
from openeks.kube.controllers.util import pods as podutil
from openeks.kube.controllers.util import scheduling
from openeks.kube.controllers.util.intstr import scaled_value
from openeks.kube.controllers.util.revisions import POD_REVISION_LABEL

Obj = dict[str, Any]

TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"

DAEMON_TOLERATIONS: tuple[tuple[str, str], ...] = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
NETWORK_UNAVAILABLE = ("node.kubernetes.io/network-unavailable", "NoSchedule")


def add_daemon_tolerations(spec: Obj) -> None:
    """`AddOrUpdateDaemonPodTolerations`."""
    wanted = list(DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(NETWORK_UNAVAILABLE)
    for key, effect in wanted:
        scheduling.add_or_update_toleration(
            spec, {"key": key, "operator": "Exists", "effect": effect}
        )


def node_affinity_for(affinity: Obj | None, node_name: str) -> Obj:
    """`ReplaceDaemonSetPodNodeNameNodeAffinity`: pin the pod to `node_name`."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
    affinity = meta.deep_copy(affinity) if affinity else {}
    node_affinity = affinity.setdefault("nodeAffinity", {})
    required = node_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    required["nodeSelectorTerms"] = [term]
    return affinity


def target_node(pod: Obj) -> str | None:
    """`GetTargetNodeName`: spec.nodeName, or the node the affinity pins the pod to."""
    name = (pod.get("spec") or {}).get("nodeName")
    if name:
        return str(name)
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or ():
        for req in term.get("matchFields") or ():
            if req.get("key") == "metadata.name" and req.get("operator") == "In":
                values = req.get("values") or []
                return str(values[0]) if len(values) == 1 else None
    return None


def should_run(node: Obj, ds: Obj) -> tuple[bool, bool]:
    """`NodeShouldRunDaemonPod`: (should run a pod, should keep a running one)."""
    spec = meta.deep_copy(((ds.get("spec") or {}).get("template") or {}).get("spec") or {})
    name = meta.name_of(node)
    if spec.get("nodeName") and spec["nodeName"] != name:
        return False, False
    add_daemon_tolerations(spec)
    if not scheduling.required_affinity_matches(spec, node):
        return False, False
    taints = (node.get("spec") or {}).get("taints") or []
    tolerations = spec.get("tolerations") or []
    blocking = scheduling.untolerated_taint(
        taints, tolerations, lambda t: t.get("effect") in ("NoSchedule", "NoExecute")
    )
    if blocking is None:
        return True, True
    evicting = scheduling.untolerated_taint(
        taints, tolerations, lambda t: t.get("effect") == "NoExecute"
    )
    return False, evicting is None


def template_generation(ds: Obj) -> str | None:
    value = ((ds.get("metadata") or {}).get("annotations") or {}).get(
        TEMPLATE_GENERATION_ANNOTATION
    )
    return str(value) if value is not None else None


def pod_template(ds: Obj, hash_: str) -> Obj:
    """`CreatePodTemplate`: the template plus daemon tolerations and revision labels."""
    template = meta.deep_copy((ds.get("spec") or {}).get("template") or {})
    add_daemon_tolerations(template.setdefault("spec", {}))
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    generation = template_generation(ds)
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = generation
    if hash_:
        labels[POD_REVISION_LABEL] = hash_
    return template


def is_pod_updated(pod: Obj, hash_: str, generation: str | None) -> bool:
    pod_labels = meta.labels_of(pod)
    template_matches = generation is not None and pod_labels.get(TEMPLATE_GENERATION_LABEL) == (
        generation
    )
    return (bool(hash_) and pod_labels.get(POD_REVISION_LABEL) == hash_) or template_matches


def by_creation_and_phase(pods: list[Obj]) -> list[Obj]:
    """Scheduled pods first, then oldest first, name as tie breaker."""
    oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return sorted(
        pods,
        key=lambda p: (
            not podutil.node_name(p),
            podutil.created_at(p) or oldest,
            meta.name_of(p),
        ),
    )


def rolling_counts(ds: Obj, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) for `desired` scheduled pods; never both zero."""
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 1
    unavailable = scaled_value(rolling.get("maxUnavailable"), desired, True) if rolling else 0
    surge = scaled_value(rolling["maxSurge"], desired, True) if rolling.get("maxSurge") else 0
    if unavailable == 0 and surge == 0:
        unavailable = 1
    return surge, unavailable


def split_pods(
    pods: list[Obj], hash_: str, generation: str | None
) -> tuple[Obj | None, Obj | None, bool]:
    """`findUpdatedPodsOnNode`: (new pod, old pod, ok); not ok with duplicates."""
    new = old = None
    for pod in pods:
        if podutil.is_terminating(pod):
            continue
        if is_pod_updated(pod, hash_, generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


@dataclass
class RollingPlan:
    delete: list[str] = field(default_factory=list)
    """Names of old pods to delete."""
    create_on: list[str] = field(default_factory=list)
    """Nodes to create a new pod on (surge)."""


def plan_rolling_update(
    ds: Obj,
    pods_by_node: dict[str, list[Obj]],
    hash_: str,
    max_surge: int,
    max_unavailable: int,
    node_should_run: dict[str, bool],
    now: datetime.datetime,
) -> RollingPlan:
    """upstream's `rollingUpdate` decision, nodes taken in name order."""
    generation = template_generation(ds)
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)

    def available(pod: Obj | None) -> bool:
        return pod is not None and podutil.is_available(pod, min_ready, now)

    plan = RollingPlan()
    if max_surge == 0:
        unavailable = 0
        replace: list[str] = []
        candidates: list[str] = []
        for node in sorted(pods_by_node):
            new, old, ok = split_pods(pods_by_node[node], hash_, generation)
            if not ok or (new is None) == (old is None):
                unavailable += 1
            elif new is not None:
                if not available(new):
                    unavailable += 1
            elif old is not None and not available(old):
                replace.append(meta.name_of(old))
                unavailable += 1
            elif old is not None and unavailable < max_unavailable:
                candidates.append(meta.name_of(old))
        remaining = min(max(max_unavailable - unavailable, 0), len(candidates))
        plan.delete = replace + candidates[:remaining]
        return plan
    surging = 0
    allowed: list[str] = []
    surge_candidates: list[str] = []
    for node in sorted(pods_by_node):
        new, old, ok = split_pods(pods_by_node[node], hash_, generation)
        if not ok:
            surging += 1
            continue
        if old is None:
            continue
        if new is None:
            if not available(old):
                if not node_should_run.get(node, False):
                    plan.delete.append(meta.name_of(old))
                    continue
                allowed.append(node)
            else:
                surge_candidates.append(node)
        elif not available(new):
            surging += 1
        else:
            plan.delete.append(meta.name_of(old))
    remaining = min(max(max_surge - surging, 0), len(surge_candidates))
    plan.create_on = allowed + surge_candidates[:remaining]
    return plan
