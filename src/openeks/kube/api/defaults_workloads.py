"""Defaults for workload controllers: apps/v1 and batch/v1 (`pkg/apis/{apps,batch}/v1`).

Deployment, ReplicaSet, DaemonSet, StatefulSet, Job and CronJob, with the feature gates
a 1.37 cluster runs with: StatefulSet `maxUnavailable` (MaxUnavailableStatefulSet, beta
and on since 1.35), `persistentVolumeClaimRetentionPolicy` (StatefulSetAutoDeletePVC) and
Job `podReplacementPolicy` (JobPodReplacementPolicy). Pod templates get the pod-spec
defaults of `defaults_pod`; a CronJob's job template gets no Job defaults, as upstream.
"""

from __future__ import annotations

from typing import Any

from openeks.kube.api.defaults_pod import default_pod_template_spec, default_pvc_spec

Obj = dict[str, Any]


def _dict(parent: Obj | None, key: str) -> Obj | None:
    if parent is None:
        return None
    value = parent.get(key)
    return value if isinstance(value, dict) else None


def _child(parent: Obj, key: str) -> Obj:
    value = parent.get(key)
    if not isinstance(value, dict):
        value = parent[key] = {}
    return value


def _items(parent: Obj | None, key: str) -> list[Obj]:
    value = parent.get(key) if parent is not None else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _missing(obj: Obj, key: str) -> bool:
    return obj.get(key) is None


def _empty(obj: Obj, key: str) -> bool:
    return obj.get(key) in (None, "")


def _pvc(obj: Obj) -> None:
    default_pvc_spec(_child(obj, "spec"))
    status = _child(obj, "status")
    if _empty(status, "phase"):
        status["phase"] = "Pending"


# -- apps/v1 ---------------------------------------------------------------------------------


def default_deployment(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if _missing(spec, "replicas"):
        spec["replicas"] = 1
    strategy = _child(spec, "strategy")
    if _empty(strategy, "type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _child(strategy, "rollingUpdate")
        if _missing(rolling, "maxUnavailable"):
            rolling["maxUnavailable"] = "25%"
        if _missing(rolling, "maxSurge"):
            rolling["maxSurge"] = "25%"
    if _missing(spec, "revisionHistoryLimit"):
        spec["revisionHistoryLimit"] = 10
    if _missing(spec, "progressDeadlineSeconds"):
        spec["progressDeadlineSeconds"] = 600
    default_pod_template_spec(_dict(spec, "template"))


def default_replica_set(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if _missing(spec, "replicas"):
        spec["replicas"] = 1
    default_pod_template_spec(_dict(spec, "template"))


def default_daemon_set(obj: Obj) -> None:
    spec = _child(obj, "spec")
    strategy = _child(spec, "updateStrategy")
    if _empty(strategy, "type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _child(strategy, "rollingUpdate")
        if _missing(rolling, "maxUnavailable"):
            rolling["maxUnavailable"] = 1
        if _missing(rolling, "maxSurge"):
            rolling["maxSurge"] = 0
    if _missing(spec, "revisionHistoryLimit"):
        spec["revisionHistoryLimit"] = 10
    default_pod_template_spec(_dict(spec, "template"))


def default_stateful_set(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if _empty(spec, "podManagementPolicy"):
        spec["podManagementPolicy"] = "OrderedReady"
    strategy = _child(spec, "updateStrategy")
    if _empty(strategy, "type"):
        strategy["type"] = "RollingUpdate"
        _child(strategy, "rollingUpdate")
    rolling = _dict(strategy, "rollingUpdate")
    if strategy["type"] == "RollingUpdate" and rolling is not None:
        if _missing(rolling, "partition"):
            rolling["partition"] = 0
        if _missing(rolling, "maxUnavailable"):
            rolling["maxUnavailable"] = 1
    policy = _child(spec, "persistentVolumeClaimRetentionPolicy")
    for key in ("whenDeleted", "whenScaled"):
        if _empty(policy, key):
            policy[key] = "Retain"
    if _missing(spec, "replicas"):
        spec["replicas"] = 1
    if _missing(spec, "revisionHistoryLimit"):
        spec["revisionHistoryLimit"] = 10
    default_pod_template_spec(_dict(spec, "template"))
    for claim in _items(spec, "volumeClaimTemplates"):
        _pvc(claim)


# -- batch/v1 --------------------------------------------------------------------------------

MAX_INT32 = 2**31 - 1


def default_job(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if _missing(spec, "completions") and _missing(spec, "parallelism"):
        spec["completions"] = 1
        spec["parallelism"] = 1
    if _missing(spec, "parallelism"):
        spec["parallelism"] = 1
    if _missing(spec, "backoffLimit"):
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    template_labels = _dict(_dict(_dict(spec, "template"), "metadata"), "labels")
    meta = _child(obj, "metadata")
    if template_labels is not None and not meta.get("labels"):
        meta["labels"] = dict(template_labels)
    if _missing(spec, "completionMode"):
        spec["completionMode"] = "NonIndexed"
    if _missing(spec, "suspend"):
        spec["suspend"] = False
    failure_policy = _dict(spec, "podFailurePolicy")
    for rule in _items(failure_policy, "rules"):
        for pattern in _items(rule, "onPodConditions"):
            if _empty(pattern, "status"):
                pattern["status"] = "True"
    if _missing(spec, "podReplacementPolicy"):
        spec["podReplacementPolicy"] = (
            "Failed" if failure_policy is not None else "TerminatingOrFailed"
        )
    if _missing(spec, "manualSelector"):
        spec["manualSelector"] = False
    default_pod_template_spec(_dict(spec, "template"))


def default_cron_job(obj: Obj) -> None:
    spec = _child(obj, "spec")
    if _empty(spec, "concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    if _missing(spec, "suspend"):
        spec["suspend"] = False
    if _missing(spec, "successfulJobsHistoryLimit"):
        spec["successfulJobsHistoryLimit"] = 3
    if _missing(spec, "failedJobsHistoryLimit"):
        spec["failedJobsHistoryLimit"] = 1
    job_spec = _dict(_dict(spec, "jobTemplate"), "spec")
    default_pod_template_spec(_dict(job_spec, "template"))
