"""Defaults for pods and pod templates, as `pkg/apis/core/v1/defaults.go` sets them.

Upstream's generated defaulters walk every pod spec the same way wherever it appears
(Pod, PodTemplate, the templates inside Deployments, Jobs, ...): `SetDefaults_PodSpec`,
then each volume, init container, container and ephemeral container. Only a real Pod
also gets `SetDefaults_Pod` (requests copied from limits, `enableServiceLinks`, host ports
under host networking); templates do not, which is why `kubectl get deploy -o yaml` shows
no `enableServiceLinks`. Everything here mutates the dicts it is given, and only fills
fields that are absent (or empty, where upstream tests the zero value).
"""

from __future__ import annotations

import re
from typing import Any

Obj = dict[str, Any]

DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
FILE_MODE_DEFAULT = 0o644  # 420: secret, configMap, downwardAPI and projected volumes
TOKEN_EXPIRATION_SECONDS = 3600

# Every VolumeSource member: a volume with none of them becomes an emptyDir.
_VOLUME_SOURCES = (
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "hostPath",
    "image",
    "iscsi",
    "nfs",
    "persistentVolumeClaim",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "quobyte",
    "rbd",
    "scaleIO",
    "secret",
    "storageos",
    "vsphereVolume",
)


def _dict(parent: Obj, key: str) -> Obj | None:
    value = parent.get(key)
    return value if isinstance(value, dict) else None


def _items(parent: Obj, key: str) -> list[Obj]:
    value = parent.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _set_if_empty(obj: Obj, key: str, value: Any) -> None:
    """Set when absent, null or the zero value ("" for strings, 0 for numbers)."""
    current = obj.get(key)
    if current is None or current == "" or (current == 0 and not isinstance(current, bool)):
        obj[key] = value


def _set_if_missing(obj: Obj, key: str, value: Any) -> None:
    """Set when absent or null (upstream's pointer fields)."""
    if obj.get(key) is None:
        obj[key] = value


# -- small types -------------------------------------------------------------------------------


_ALNUM = "[a-z0-9]+"
_SEPARATOR = "(?:[._]|__|[-]+)"
_PATH_COMPONENT = f"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_NAME = f"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(f"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?")


def image_tag(image: str) -> str:
    """The tag `parsers.ParseImageName` finds: "latest" when neither tag nor digest is given,
    "" when the reference does not parse (upstream ignores the error)."""
    match = _REFERENCE.fullmatch(image)
    if match is None or len(match.group(1)) > 255:
        return ""
    tag, digest = match.group(2) or "", match.group(3) or ""
    return "latest" if not tag and not digest else tag


def default_pull_policy(image: str) -> str:
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


def default_object_field_selector(ref: Obj) -> None:
    _set_if_empty(ref, "apiVersion", "v1")


def default_http_get(action: Obj) -> None:
    _set_if_empty(action, "path", "/")
    _set_if_empty(action, "scheme", "HTTP")


def default_probe(probe: Obj) -> None:
    _set_if_empty(probe, "timeoutSeconds", 1)
    _set_if_empty(probe, "periodSeconds", 10)
    _set_if_empty(probe, "successThreshold", 1)
    _set_if_empty(probe, "failureThreshold", 3)
    http = _dict(probe, "httpGet")
    if http is not None:
        default_http_get(http)


def default_pvc_spec(spec: Obj) -> None:
    """SetDefaults_PersistentVolumeClaimSpec."""
    _set_if_missing(spec, "volumeMode", "Filesystem")


# -- containers --------------------------------------------------------------------------------


def default_container(container: Obj) -> None:
    """SetDefaults_Container plus what the generated defaulter applies to its members."""
    if not container.get("imagePullPolicy"):
        image = container.get("image")
        container["imagePullPolicy"] = default_pull_policy(image if isinstance(image, str) else "")
    _set_if_empty(container, "terminationMessagePath", TERMINATION_MESSAGE_PATH)
    _set_if_empty(container, "terminationMessagePolicy", "File")
    for port in _items(container, "ports"):
        _set_if_empty(port, "protocol", "TCP")
    for env in _items(container, "env"):
        source = _dict(env, "valueFrom")
        ref = _dict(source, "fieldRef") if source is not None else None
        if ref is not None:
            default_object_field_selector(ref)
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = _dict(container, probe_name)
        if probe is not None:
            default_probe(probe)
    lifecycle = _dict(container, "lifecycle")
    if lifecycle is not None:
        for hook_name in ("postStart", "preStop"):
            hook = _dict(lifecycle, hook_name)
            http = _dict(hook, "httpGet") if hook is not None else None
            if http is not None:
                default_http_get(http)


# -- volumes -----------------------------------------------------------------------------------


def default_volume(volume: Obj) -> None:
    """SetDefaults_Volume and the defaulters of each volume source."""
    if not any(volume.get(source) is not None for source in _VOLUME_SOURCES):
        volume["emptyDir"] = {}
    image = _dict(volume, "image")
    if image is not None and not image.get("pullPolicy"):
        reference = image.get("reference")
        image["pullPolicy"] = default_pull_policy(reference if isinstance(reference, str) else "")
    host_path = _dict(volume, "hostPath")
    if host_path is not None:
        _set_if_missing(host_path, "type", "")
    for mode_source in ("secret", "configMap", "downwardAPI", "projected"):
        source = _dict(volume, mode_source)
        if source is not None:
            _set_if_missing(source, "defaultMode", FILE_MODE_DEFAULT)
    downward = _dict(volume, "downwardAPI")
    if downward is not None:
        _default_downward_items(downward)
    projected = _dict(volume, "projected")
    if projected is not None:
        for source in _items(projected, "sources"):
            inner = _dict(source, "downwardAPI")
            if inner is not None:
                _default_downward_items(inner)
            token = _dict(source, "serviceAccountToken")
            if token is not None:
                _set_if_missing(token, "expirationSeconds", TOKEN_EXPIRATION_SECONDS)
    _default_legacy_sources(volume)
    ephemeral = _dict(volume, "ephemeral")
    template = _dict(ephemeral, "volumeClaimTemplate") if ephemeral is not None else None
    spec = _dict(template, "spec") if template is not None else None
    if spec is not None:
        default_pvc_spec(spec)


def _default_downward_items(source: Obj) -> None:
    for item in _items(source, "items"):
        ref = _dict(item, "fieldRef")
        if ref is not None:
            default_object_field_selector(ref)


def _default_legacy_sources(volume: Obj) -> None:
    """iSCSI, RBD, Azure Disk and ScaleIO defaults (also used by PersistentVolumes)."""
    iscsi = _dict(volume, "iscsi")
    if iscsi is not None:
        _set_if_empty(iscsi, "iscsiInterface", "default")
    rbd = _dict(volume, "rbd")
    if rbd is not None:
        _set_if_empty(rbd, "pool", "rbd")
        _set_if_empty(rbd, "user", "admin")
        _set_if_empty(rbd, "keyring", "/etc/ceph/keyring")
    azure = _dict(volume, "azureDisk")
    if azure is not None:
        _set_if_missing(azure, "cachingMode", "ReadWrite")
        _set_if_missing(azure, "kind", "Shared")
        _set_if_missing(azure, "fsType", "ext4")
        _set_if_missing(azure, "readOnly", False)
    scale_io = _dict(volume, "scaleIO")
    if scale_io is not None:
        _set_if_empty(scale_io, "storageMode", "ThinProvisioned")
        _set_if_empty(scale_io, "fsType", "xfs")


def default_persistent_volume_source(spec: Obj) -> None:
    """The volume-source defaults a PersistentVolume spec gets."""
    host_path = _dict(spec, "hostPath")
    if host_path is not None:
        _set_if_missing(host_path, "type", "")
    _default_legacy_sources(spec)


# -- pod specs ---------------------------------------------------------------------------------


def default_pod_spec(spec: Obj) -> None:
    """SetDefaults_PodSpec and everything the generated defaulter reaches below a PodSpec."""
    _set_if_empty(spec, "dnsPolicy", "ClusterFirst")
    _set_if_empty(spec, "restartPolicy", "Always")
    _set_if_missing(spec, "securityContext", {})
    _set_if_missing(spec, "terminationGracePeriodSeconds", DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS)
    _set_if_empty(spec, "schedulerName", DEFAULT_SCHEDULER_NAME)
    for volume in _items(spec, "volumes"):
        default_volume(volume)
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in _items(spec, key):
            default_container(container)


def default_pod_template_spec(template: Obj | None) -> None:
    """A PodTemplateSpec inside a workload: pod spec defaults, no Pod-only defaults."""
    if template is None:
        return
    spec = _dict(template, "spec")
    if spec is not None:
        default_pod_spec(spec)


def default_pod(pod: Obj) -> None:
    """SetObjectDefaults_Pod: SetDefaults_Pod, then the pod spec."""
    spec = _dict(pod, "spec")
    if spec is None:
        spec = pod["spec"] = {}
    for key in ("containers", "initContainers"):
        for container in _items(spec, key):
            _requests_from_limits(container)
    _set_if_missing(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for container in _items(spec, key):
                for port in _items(container, "ports"):
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort", 0)
    default_pod_spec(spec)


def _requests_from_limits(container: Obj) -> None:
    """Requests default to limits, resource by resource, when limits are set."""
    resources = _dict(container, "resources")
    if resources is None:
        return
    limits = _dict(resources, "limits")
    if limits is None:
        return
    requests = _dict(resources, "requests")
    if requests is None:
        requests = resources["requests"] = {}
    for name, value in limits.items():
        requests.setdefault(name, value)
