"""StatefulSet pod identity, storage and revisions (`stateful_set_utils.go`).

A StatefulSet pod's identity is its ordinal: name `<set>-<ordinal>`, hostname equal to
the name, subdomain the governing Service, labels `statefulset.kubernetes.io/pod-name`
and `apps.kubernetes.io/pod-index`, and one PersistentVolumeClaim per claim template
named `<template>-<set>-<ordinal>`, mounted through a volume named like the template.
A pod carries the revision it was made from in `controller-revision-hash` (the
ControllerRevision's name); with a partition, ordinals below it keep the current
revision's template.

The `persistentVolumeClaimRetentionPolicy` is expressed as owner references on the
claims: `whenDeleted: Delete` makes the StatefulSet an owner, `whenScaled: Delete` makes
a scaled-down pod an owner, so the garbage collector removes the claims with them.
"""

from __future__ import annotations

import re
from typing import Any

from openeks.kube.api import meta
from openeks.kube.controllers.util import pods as podutil
from openeks.kube.controllers.util.intstr import scaled_value
from openeks.kube.controllers.util.ownership import controller_ref, has_owner_ref, uid_of
from openeks.kube.controllers.util.revisions import POD_REVISION_LABEL

Obj = dict[str, Any]

API_VERSION, KIND = "apps/v1", "StatefulSet"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


# -- ordinals --------------------------------------------------------------------------------
def parent_and_ordinal(pod: Obj) -> tuple[str, int]:
    match = _ORDINAL.match(meta.name_of(pod))
    if match is None:
        return "", -1
    return match.group(1), int(match.group(2))


def ordinal_of(pod: Obj) -> int:
    return parent_and_ordinal(pod)[1]


def is_member_of(sts: Obj, pod: Obj) -> bool:
    return parent_and_ordinal(pod)[0] == meta.name_of(sts)


def replicas_of(sts: Obj) -> int:
    value = (sts.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def start_ordinal(sts: Obj) -> int:
    return int(((sts.get("spec") or {}).get("ordinals") or {}).get("start") or 0)


def end_ordinal(sts: Obj) -> int:
    return start_ordinal(sts) + replicas_of(sts) - 1


def in_ordinal_range(pod: Obj, sts: Obj) -> bool:
    return start_ordinal(sts) <= ordinal_of(pod) <= end_ordinal(sts)


def pod_name(sts: Obj, ordinal: int) -> str:
    return f"{meta.name_of(sts)}-{ordinal}"


def claim_name(sts: Obj, template: Obj, ordinal: int) -> str:
    return f"{meta.name_of(template)}-{meta.name_of(sts)}-{ordinal}"


# -- pod predicates --------------------------------------------------------------------------
def is_created(pod: Obj) -> bool:
    return bool(podutil.phase(pod))


def is_running_and_ready(pod: Obj) -> bool:
    return podutil.phase(pod) == "Running" and podutil.is_ready(pod)


def is_running_and_available(pod: Obj, min_ready_seconds: int) -> bool:
    return podutil.phase(pod) == "Running" and podutil.is_available(
        pod, min_ready_seconds, meta.now()
    )


def is_healthy(pod: Obj) -> bool:
    return is_running_and_ready(pod) and not podutil.is_terminating(pod)


def min_ready_seconds(sts: Obj) -> int:
    return int((sts.get("spec") or {}).get("minReadySeconds") or 0)


# -- identity and storage --------------------------------------------------------------------
def identity_matches(sts: Obj, pod: Obj) -> bool:
    parent, ordinal = parent_and_ordinal(pod)
    labels = meta.labels_of(pod)
    return (
        ordinal >= 0
        and parent == meta.name_of(sts)
        and meta.name_of(pod) == pod_name(sts, ordinal)
        and meta.namespace_of(pod) == meta.namespace_of(sts)
        and labels.get(POD_NAME_LABEL) == meta.name_of(pod)
        and labels.get(POD_INDEX_LABEL) == str(ordinal)
    )


def update_identity(sts: Obj, pod: Obj) -> None:
    ordinal = ordinal_of(pod)
    m = pod.setdefault("metadata", {})
    m["name"] = pod_name(sts, ordinal)
    m["namespace"] = meta.namespace_of(sts)
    labels = m.setdefault("labels", {})
    labels[POD_NAME_LABEL] = m["name"]
    labels[POD_INDEX_LABEL] = str(ordinal)


def claim_templates(sts: Obj) -> list[Obj]:
    return list((sts.get("spec") or {}).get("volumeClaimTemplates") or [])


def claims_for(sts: Obj, ordinal: int) -> dict[str, Obj]:
    """The claims the pod with `ordinal` needs, by claim template name."""
    selector_labels = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    claims: dict[str, Obj] = {}
    for template in claim_templates(sts):
        claim = meta.deep_copy(template)
        claim.pop("status", None)
        claim["apiVersion"], claim["kind"] = "v1", "PersistentVolumeClaim"
        m = claim.setdefault("metadata", {})
        m["name"] = claim_name(sts, template, ordinal)
        m["namespace"] = meta.namespace_of(sts)
        m["labels"] = {**(m.get("labels") or {}), **selector_labels}
        claims[meta.name_of(template)] = claim
    return claims


def storage_matches(sts: Obj, pod: Obj) -> bool:
    ordinal = ordinal_of(pod)
    if ordinal < 0:
        return False
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or ()}
    for name, claim in claims_for(sts, ordinal).items():
        volume = volumes.get(name)
        source = (volume or {}).get("persistentVolumeClaim") or {}
        if source.get("claimName") != meta.name_of(claim):
            return False
    return True


def update_storage(sts: Obj, pod: Obj) -> None:
    """Point the template-named volumes at this ordinal's claims."""
    claims = claims_for(sts, ordinal_of(pod))
    spec = pod.setdefault("spec", {})
    volumes = [
        {"name": name, "persistentVolumeClaim": {"claimName": meta.name_of(claim)}}
        for name, claim in claims.items()
    ]
    volumes += [v for v in spec.get("volumes") or () if v.get("name") not in claims]
    if volumes:
        spec["volumes"] = volumes


def new_pod(sts: Obj, ordinal: int) -> Obj:
    """`newStatefulSetPod`: the pod for `ordinal`, from `sts`'s template."""
    template = (sts.get("spec") or {}).get("template") or {}
    pod = podutil.pod_from_template(template, sts, controller_ref(sts, API_VERSION, KIND))
    pod["metadata"]["name"] = pod_name(sts, ordinal)
    update_identity(sts, pod)
    pod["spec"]["hostname"] = meta.name_of(pod)
    service = (sts.get("spec") or {}).get("serviceName")
    if service:
        pod["spec"]["subdomain"] = service
    update_storage(sts, pod)
    return pod


def pod_revision(pod: Obj) -> str:
    return meta.labels_of(pod).get(POD_REVISION_LABEL, "")


def set_pod_revision(pod: Obj, revision: str) -> None:
    pod["metadata"].setdefault("labels", {})[POD_REVISION_LABEL] = revision


def partition_of(sts: Obj) -> int:
    rolling = ((sts.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    return int(rolling.get("partition") or 0)


def update_strategy(sts: Obj) -> str:
    return str(((sts.get("spec") or {}).get("updateStrategy") or {}).get("type") or "RollingUpdate")


def new_versioned_pod(
    current_set: Obj, update_set: Obj, current_revision: str, update_revision: str, ordinal: int
) -> Obj:
    """The pod for `ordinal`: ordinals below the partition keep the current revision."""
    if update_strategy(current_set) == "RollingUpdate" and ordinal < start_ordinal(
        current_set
    ) + partition_of(current_set):
        pod = new_pod(current_set, ordinal)
        set_pod_revision(pod, current_revision)
        return pod
    pod = new_pod(update_set, ordinal)
    set_pod_revision(pod, update_revision)
    return pod


def apply_revision(sts: Obj, revision: Obj) -> Obj:
    """The StatefulSet as it was at `revision` (its template put back)."""
    clone = meta.deep_copy(sts)
    template = meta.deep_copy(((revision.get("data") or {}).get("spec") or {}).get("template"))
    if isinstance(template, dict):
        template.pop("$patch", None)
        clone.setdefault("spec", {})["template"] = template
    return clone


def max_unavailable(sts: Obj) -> int:
    rolling = ((sts.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    value = rolling.get("maxUnavailable")
    if value is None:
        return 1
    return max(scaled_value(value, replicas_of(sts), True), 1)


# -- claim retention -------------------------------------------------------------------------
def retention_policy(sts: Obj) -> tuple[str, str]:
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    return policy.get("whenScaled") or "Retain", policy.get("whenDeleted") or "Retain"


def _plain_ref(owner: Obj, api_version: str, kind: str) -> Obj:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta.name_of(owner),
        "uid": uid_of(owner),
    }


def wanted_claim_owners(sts: Obj, pod: Obj) -> tuple[bool, bool]:
    """(owned by the set, owned by the pod) as the retention policy wants it."""
    when_scaled, when_deleted = retention_policy(sts)
    scaled_down = not in_ordinal_range(pod, sts)
    by_pod = when_scaled == "Delete" and scaled_down
    by_set = when_deleted == "Delete" and not (when_scaled == "Delete" and scaled_down)
    return by_set, by_pod


def claim_owners_match(claim: Obj, sts: Obj, pod: Obj) -> bool:
    by_set, by_pod = wanted_claim_owners(sts, pod)
    return has_owner_ref(claim, sts) == by_set and has_owner_ref(claim, pod) == by_pod


def update_claim_owners(claim: Obj, sts: Obj, pod: Obj) -> bool:
    """Make `claim`'s owner references follow the retention policy; True if changed."""
    by_set, by_pod = wanted_claim_owners(sts, pod)
    refs = list((claim.get("metadata") or {}).get("ownerReferences") or [])
    before = list(refs)
    for owner, wanted, api_version, kind in (
        (sts, by_set, API_VERSION, KIND),
        (pod, by_pod, "v1", "Pod"),
    ):
        present = any(r.get("uid") == uid_of(owner) for r in refs)
        if wanted and not present and uid_of(owner):
            refs.append(_plain_ref(owner, api_version, kind))
        elif not wanted and present:
            refs = [r for r in refs if r.get("uid") != uid_of(owner)]
    if refs == before:
        return False
    claim["metadata"]["ownerReferences"] = refs
    if not refs:
        del claim["metadata"]["ownerReferences"]
    return True


# -- status ----------------------------------------------------------------------------------
STATUS_FIELDS = (
    "observedGeneration",
    "replicas",
    "readyReplicas",
    "currentReplicas",
    "updatedReplicas",
    "currentRevision",
    "updateRevision",
    "availableReplicas",
    "collisionCount",
)


def complete_rolling_update(sts: Obj, status: Obj) -> None:
    """Once every replica is updated and ready the update revision becomes current."""
    if (
        update_strategy(sts) == "RollingUpdate"
        and status.get("updatedReplicas", 0) == status.get("replicas", 0)
        and status.get("readyReplicas", 0) == status.get("replicas", 0)
    ):
        status["currentReplicas"] = status.get("updatedReplicas", 0)
        status["currentRevision"] = status.get("updateRevision", "")


def inconsistent_status(sts: Obj, status: Obj) -> bool:
    old = sts.get("status") or {}
    return any(
        (old.get(k) or 0) != (status.get(k) or 0) for k in STATUS_FIELDS if k != "collisionCount"
    ) or (old.get("collisionCount") != status.get("collisionCount"))


def omit_zero(status: Obj) -> Obj:
    keep = {"replicas", "availableReplicas", "collisionCount"}
    return {k: v for k, v in status.items() if k in keep or v not in (0, "", None, [])}
