"""What the API serves: one `ResourceInfo` per (group, version, resource).

This table is the single source for discovery (`/api`, `/apis`, aggregated discovery),
the OpenAPI documents, request routing and storage keys. Names, short names, categories,
verbs and subresources are upstream's, so `kubectl api-resources` prints what it prints
against a real cluster. CRDs add entries at run time through `Resources.add`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION_DELETE = ("create", "delete", "get", "list", "patch", "update", "watch")
SUB_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...] = SUB_VERBS
    group: str | None = None
    """Group of the response kind; None = the parent's."""
    version: str | None = None


@dataclass(frozen=True)
class ResourceInfo:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = ()
    storage: str = ""
    """Storage path segment; several served versions (events) may share one."""
    crd: bool = False
    stored: bool = True
    """False for request/response kinds computed by the server (reviews)."""
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def storage_path(self) -> str:
        return self.storage or f"{self.group or 'core'}/{self.plural}"

    @property
    def qualified(self) -> str:
        """'deployments.apps' or 'pods': how errors name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)

    @property
    def has_status(self) -> bool:
        return self.subresource("status") is not None

    @property
    def has_scale(self) -> bool:
        return self.subresource("scale") is not None


def _status(kind: str) -> Subresource:
    return Subresource("status", kind)


def _scale() -> Subresource:
    return Subresource("scale", "Scale", group="autoscaling", version="v1")


def _core(kind: str, plural: str, namespaced: bool = True, **kw: object) -> ResourceInfo:
    return ResourceInfo("", "v1", kind, plural, kind.lower(), namespaced, **kw)  # type: ignore[arg-type]


def _review(group: str, kind: str, plural: str, namespaced: bool = False) -> ResourceInfo:
    return ResourceInfo(
        group, "v1", kind, plural, kind.lower(), namespaced, verbs=("create",), stored=False
    )


def _rbac() -> list[ResourceInfo]:
    group = "rbac.authorization.k8s.io"
    return [
        ResourceInfo(
            group, "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", False
        ),
        ResourceInfo(group, "v1", "ClusterRole", "clusterroles", "clusterrole", False),
        ResourceInfo(group, "v1", "RoleBinding", "rolebindings", "rolebinding", True),
        ResourceInfo(group, "v1", "Role", "roles", "role", True),
    ]


def _admission_registration() -> list[ResourceInfo]:
    group = "admissionregistration.k8s.io"
    return [
        ResourceInfo(
            group,
            "v1",
            kind,
            kind.lower() + "s",
            kind.lower(),
            False,
            categories=("api-extensions",),
        )
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
    ]


_POD_SUBRESOURCES = (
    Subresource("attach", "PodAttachOptions", ("create", "get")),
    Subresource("binding", "Binding", ("create",)),
    Subresource("ephemeralcontainers", "Pod"),
    Subresource("eviction", "Eviction", ("create",), group="policy", version="v1"),
    Subresource("exec", "PodExecOptions", ("create", "get")),
    Subresource("log", "Pod", ("get",)),
    Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
    Subresource("proxy", "PodProxyOptions", ("create", "delete", "get", "patch", "update")),
    Subresource("resize", "Pod"),
    _status("Pod"),
)


def builtin_resources() -> list[ResourceInfo]:
    """The built-in kinds this API server serves, in upstream's discovery order."""
    apps = "apps"
    return [
        _core("ConfigMap", "configmaps", short_names=("cm",)),
        _core("Endpoints", "endpoints", short_names=("ep",)),
        _core("Event", "events", short_names=("ev",)),
        _core("LimitRange", "limitranges", short_names=("limits",)),
        _core(
            "Namespace",
            "namespaces",
            False,
            short_names=("ns",),
            verbs=NO_COLLECTION_DELETE,
            subresources=(Subresource("finalize", "Namespace", ("update",)), _status("Namespace")),
        ),
        _core(
            "Node",
            "nodes",
            False,
            short_names=("no",),
            subresources=(
                Subresource(
                    "proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")
                ),
                _status("Node"),
            ),
        ),
        _core(
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            short_names=("pvc",),
            subresources=(_status("PersistentVolumeClaim"),),
        ),
        _core(
            "PersistentVolume",
            "persistentvolumes",
            False,
            short_names=("pv",),
            subresources=(_status("PersistentVolume"),),
        ),
        _core(
            "Pod",
            "pods",
            short_names=("po",),
            categories=("all",),
            subresources=_POD_SUBRESOURCES,
        ),
        _core("PodTemplate", "podtemplates"),
        _core(
            "ResourceQuota",
            "resourcequotas",
            short_names=("quota",),
            subresources=(_status("ResourceQuota"),),
        ),
        _core("Secret", "secrets"),
        _core(
            "ServiceAccount",
            "serviceaccounts",
            short_names=("sa",),
            subresources=(
                Subresource("token", "TokenRequest", ("create",), group="authentication.k8s.io"),
            ),
        ),
        _core(
            "Service",
            "services",
            short_names=("svc",),
            categories=("all",),
            subresources=(
                Subresource(
                    "proxy", "ServiceProxyOptions", ("create", "delete", "get", "patch", "update")
                ),
                _status("Service"),
            ),
        ),
        ResourceInfo(
            apps, "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", True
        ),
        ResourceInfo(
            apps,
            "v1",
            "DaemonSet",
            "daemonsets",
            "daemonset",
            True,
            short_names=("ds",),
            categories=("all",),
            subresources=(_status("DaemonSet"),),
        ),
        ResourceInfo(
            apps,
            "v1",
            "Deployment",
            "deployments",
            "deployment",
            True,
            short_names=("deploy",),
            categories=("all",),
            subresources=(_scale(), _status("Deployment")),
        ),
        ResourceInfo(
            apps,
            "v1",
            "ReplicaSet",
            "replicasets",
            "replicaset",
            True,
            short_names=("rs",),
            categories=("all",),
            subresources=(_scale(), _status("ReplicaSet")),
        ),
        ResourceInfo(
            apps,
            "v1",
            "StatefulSet",
            "statefulsets",
            "statefulset",
            True,
            short_names=("sts",),
            categories=("all",),
            subresources=(_scale(), _status("StatefulSet")),
        ),
        ResourceInfo(
            "batch",
            "v1",
            "CronJob",
            "cronjobs",
            "cronjob",
            True,
            short_names=("cj",),
            categories=("all",),
            subresources=(_status("CronJob"),),
        ),
        ResourceInfo(
            "batch",
            "v1",
            "Job",
            "jobs",
            "job",
            True,
            categories=("all",),
            subresources=(_status("Job"),),
        ),
        ResourceInfo("coordination.k8s.io", "v1", "Lease", "leases", "lease", True),
        ResourceInfo(
            "discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", True
        ),
        ResourceInfo(
            "events.k8s.io",
            "v1",
            "Event",
            "events",
            "event",
            True,
            short_names=("ev",),
            storage="core/events",
        ),
        *_rbac(),
        *_admission_registration(),
        ResourceInfo(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            "customresourcedefinition",
            False,
            short_names=("crd", "crds"),
            categories=("api-extensions",),
            subresources=(_status("CustomResourceDefinition"),),
        ),
        _review("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews"),
        _review("authentication.k8s.io", "TokenReview", "tokenreviews"),
        _review(
            "authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews", True
        ),
        _review("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
        _review("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
        _review("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews"),
        ResourceInfo(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            "poddisruptionbudget",
            True,
            short_names=("pdb",),
            subresources=(_status("PodDisruptionBudget"),),
        ),
    ]


class Resources:
    """The live set of served resources, indexed the ways requests need."""

    def __init__(self, infos: Iterable[ResourceInfo] = ()) -> None:
        self._by_path: dict[tuple[str, str, str], ResourceInfo] = {}
        self.generation = 0
        for info in infos:
            self.add(info)

    def add(self, info: ResourceInfo) -> None:
        self._by_path[(info.group, info.version, info.plural)] = info
        self.generation += 1

    def remove(self, group: str, version: str, plural: str) -> None:
        if self._by_path.pop((group, version, plural), None) is not None:
            self.generation += 1

    def get(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceInfo | None:
        return next(
            (
                r
                for r in self._by_path.values()
                if r.group == group and r.version == version and r.kind == kind
            ),
            None,
        )

    def all(self) -> list[ResourceInfo]:
        return list(self._by_path.values())

    def group_versions(self) -> dict[str, list[str]]:
        """group → served versions, preferred first (core group is '')."""
        out: dict[str, list[str]] = {}
        for info in self._by_path.values():
            versions = out.setdefault(info.group, [])
            if info.version not in versions:
                versions.append(info.version)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceInfo]:
        return [r for r in self._by_path.values() if r.group == group and r.version == version]

    def sharing_storage(self, storage_path: str) -> list[ResourceInfo]:
        return [r for r in self._by_path.values() if r.storage_path == storage_path]
