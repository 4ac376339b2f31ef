"""Semantic validation of built-in objects, as the Go API server's `Validate*` functions.

`validate(group, version, kind, obj, old=None)` returns upstream's `field.ErrorList` for
a create (no `old`) or an update: `FieldError`s with upstream's reason, field path and
message, in upstream's order, so `errors.invalid(...)` can build the same
`Deployment.apps "web" is invalid: [...]` message a real cluster returns. Errors are
returned, never raised. Objects are expected to be defaulted first (`defaults.py`), as
upstream validates after decoding with defaults; structural checks against the OpenAPI
schema (types, unknown fields) are done elsewhere.

Kinds with a dedicated validator: Pod, PodTemplate, ReplicationController, Service,
ConfigMap, Secret, Namespace, ServiceAccount, Endpoints, Node; Deployment, ReplicaSet,
StatefulSet, DaemonSet; Job, CronJob. Every other kind gets upstream's object-meta
validation with the name rule its group uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openeks.kube.api import formats
from openeks.kube.api.fielderrors import FieldError, Path, aggregate
from openeks.kube.api.validation import access as a
from openeks.kube.api.validation.batch import validate_cron_job, validate_job
from openeks.kube.api.validation.core import (
    validate_config_map,
    validate_endpoints,
    validate_namespace,
    validate_node,
    validate_secret,
    validate_service_account,
)
from openeks.kube.api.validation.meta import validate_object_meta, validate_object_meta_update
from openeks.kube.api.validation.pod import (
    validate_pod_create,
    validate_pod_template,
    validate_pod_update,
)
from openeks.kube.api.validation.service import validate_service
from openeks.kube.api.validation.workloads import validate_workload

__all__ = ["FieldError", "Path", "aggregate", "is_cluster_scoped", "validate"]

Obj = dict[str, Any]
Validator = Callable[[Obj, Obj | None], list[FieldError]]

# Built-in kinds that live outside namespaces; any other built-in kind is namespaced.
_CLUSTER_SCOPED = {
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
}
_BUILTIN_GROUPS = {
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
}
# Groups whose object names only have to be valid URL path segments.
_PATH_SEGMENT_NAME_GROUPS = {"rbac.authorization.k8s.io", "flowcontrol.apiserver.k8s.io"}

_VALIDATORS: dict[tuple[str, str], Validator] = {
    ("", "PodTemplate"): validate_pod_template,
    ("", "Service"): validate_service,
    ("", "ConfigMap"): validate_config_map,
    ("", "Secret"): validate_secret,
    ("", "Namespace"): validate_namespace,
    ("", "ServiceAccount"): validate_service_account,
    ("", "Endpoints"): validate_endpoints,
    ("", "Node"): validate_node,
    ("batch", "Job"): validate_job,
    ("batch", "CronJob"): validate_cron_job,
}
_WORKLOADS = {
    ("", "ReplicationController"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
}


def is_cluster_scoped(group: str, kind: str) -> bool | None:
    """True/False for built-in kinds, None for kinds this module does not know."""
    if (group, kind) in _CLUSTER_SCOPED:
        return True
    return False if group in _BUILTIN_GROUPS else None


def validate(
    group: str,
    version: str,
    kind: str,
    obj: dict[str, Any],
    *,
    old: dict[str, Any] | None = None,
    namespaced: bool | None = None,
) -> list[FieldError]:
    """Upstream's validation for a create (`old` None) or an update of `obj`.

    `namespaced` overrides the scope for kinds not built in (custom resources)."""
    if (group, kind) == ("", "Pod"):
        return validate_pod_create(obj) if old is None else validate_pod_update(obj, old)
    if (group, kind) in _WORKLOADS:
        return validate_workload(kind, obj, old)
    validator = _VALIDATORS.get((group, kind))
    if validator is not None:
        return validator(obj, old)
    return _validate_generic(group, kind, obj, old, namespaced)


def _validate_generic(
    group: str, kind: str, obj: Obj, old: Obj | None, namespaced: bool | None
) -> list[FieldError]:
    meta = a.d0(obj, "metadata")
    if old is not None:
        return validate_object_meta_update(meta, a.d0(old, "metadata"))
    if namespaced is None:
        scoped = is_cluster_scoped(group, kind)
        namespaced = None if scoped is None else not scoped
    if group in _PATH_SEGMENT_NAME_GROUPS:
        return validate_object_meta(meta, namespaced, _path_segment_name)
    return validate_object_meta(meta, namespaced, formats.name_is_dns_subdomain)


def _path_segment_name(name: str, prefix: bool) -> list[str]:
    return formats.is_valid_path_segment_name(name)
