"""The rules of Kubernetes' bootstrap roles, as tables: upstream's `bootstrappolicy`.

Ported from kubernetes/kubernetes `plugin/pkg/auth/authorizer/rbac/bootstrappolicy`
(`policy.go`, `controller_policy.go`, `namespace_policy.go`) as evaluated with the
default feature gates of a 1.37 API server; the golden files under
`tests/kube/api/rbac_golden/` are what these tables must produce. Rules are listed in
upstream's order, one line each. `rule()` sorts every list, as upstream's
`NewRule(...).RuleOrDie()` does, so a table line may name verbs in any order.

Data only: `bootstrap.py` turns these tables into API objects.
"""

from __future__ import annotations

from collections.abc import Iterable

Rule = dict[str, list[str]]

READ = "get list watch"
WRITE = "create update patch delete deletecollection"
READ_WRITE = f"{READ} {WRITE}"
READ_UPDATE = f"{READ} update patch"

CORE = ""
APPS_EXT = ("apps", "extensions")
AUTHN = "authentication.k8s.io"
AUTHZ = "authorization.k8s.io"
CERTS = "certificates.k8s.io"
COORD = "coordination.k8s.io"
DISCOVERY = "discovery.k8s.io"
NET = "networking.k8s.io"
RBAC = "rbac.authorization.k8s.io"
RESOURCE = "resource.k8s.io"
STORAGE = "storage.k8s.io"


def _words(value: str | Iterable[str]) -> list[str]:
    return value.split() if isinstance(value, str) else list(value)


def rule(
    verbs: str | Iterable[str],
    groups: str | Iterable[str] = (),
    resources: str | Iterable[str] = (),
    names: str | Iterable[str] = (),
    urls: str | Iterable[str] = (),
) -> Rule:
    """One PolicyRule. Strings are space-separated lists; a string `groups` is one group
    (so `""` is the core group). Empty fields are left out, as upstream's JSON omits them."""
    group_list = [groups] if isinstance(groups, str) else list(groups)
    out: Rule = {"verbs": sorted(_words(verbs))}
    for key, values in (
        ("apiGroups", group_list),
        ("resources", _words(resources)),
        ("resourceNames", _words(names)),
        ("nonResourceURLs", _words(urls)),
    ):
        if values:
            out[key] = sorted(values)
    return out


EVENTS = rule("create update patch", (CORE, "events.k8s.io"), "events")


AGGREGATE_TO_EDIT: list[Rule] = [
    rule(READ, CORE, "pods/attach pods/proxy pods/exec pods/portforward secrets services/proxy"),
    rule("impersonate", CORE, "serviceaccounts"),
    rule(WRITE, CORE, "pods pods/attach pods/proxy pods/exec pods/portforward"),
    rule("create", CORE, "pods/eviction"),
    rule(
        WRITE,
        CORE,
        "replicationcontrollers replicationcontrollers/scale serviceaccounts services "
        "services/proxy persistentvolumeclaims configmaps secrets",
    ),
    rule("create", CORE, "serviceaccounts/token"),
    rule(WRITE, (CORE, "events.k8s.io"), "events"),
    rule(
        WRITE,
        "apps",
        "statefulsets statefulsets/scale daemonsets deployments deployments/scale "
        "deployments/rollback replicasets replicasets/scale",
    ),
    rule(WRITE, "autoscaling", "horizontalpodautoscalers"),
    rule(WRITE, "batch", "jobs cronjobs"),
    rule(
        WRITE,
        "extensions",
        "daemonsets deployments deployments/scale deployments/rollback ingresses replicasets "
        "replicasets/scale replicationcontrollers/scale networkpolicies",
    ),
    rule(WRITE, "policy", "poddisruptionbudgets"),
    rule(WRITE, NET, "networkpolicies ingresses"),
    rule(READ_WRITE, COORD, "leases"),
    rule(WRITE, RESOURCE, "resourceclaims resourceclaimtemplates"),
]

AGGREGATE_TO_VIEW: list[Rule] = [
    rule(
        READ,
        CORE,
        "pods replicationcontrollers replicationcontrollers/scale serviceaccounts services "
        "services/status endpoints persistentvolumeclaims persistentvolumeclaims/status "
        "configmaps",
    ),
    rule(
        READ,
        CORE,
        "limitranges resourcequotas bindings pods/status resourcequotas/status "
        "namespaces/status replicationcontrollers/status pods/log",
    ),
    rule(READ, CORE, "namespaces"),
    rule(READ, (CORE, "events.k8s.io"), "events"),
    rule(READ, DISCOVERY, "endpointslices"),
    rule(
        READ,
        "apps",
        "controllerrevisions statefulsets statefulsets/status statefulsets/scale daemonsets "
        "daemonsets/status deployments deployments/status deployments/scale replicasets "
        "replicasets/status replicasets/scale",
    ),
    rule(READ, "autoscaling", "horizontalpodautoscalers horizontalpodautoscalers/status"),
    rule(READ, "batch", "jobs cronjobs cronjobs/status jobs/status"),
    rule(
        READ,
        "extensions",
        "daemonsets daemonsets/status deployments deployments/scale deployments/status "
        "ingresses ingresses/status replicasets replicasets/scale replicasets/status "
        "replicationcontrollers/scale networkpolicies",
    ),
    rule(READ, "policy", "poddisruptionbudgets poddisruptionbudgets/status"),
    rule(READ, NET, "networkpolicies ingresses ingresses/status"),
    rule(READ, RESOURCE, "resourceclaims resourceclaims/status resourceclaimtemplates"),
]

NODE: list[Rule] = [
    rule("create", AUTHN, "tokenreviews"),
    rule("create", AUTHZ, "subjectaccessreviews localsubjectaccessreviews"),
    rule(READ, CORE, "services"),
    rule("create get list watch", CORE, "nodes"),
    rule("update patch", CORE, "nodes/status"),
    rule("update patch", CORE, "nodes"),
    EVENTS,
    rule(READ, CORE, "pods"),
    rule("create delete", CORE, "pods"),
    rule("update patch", CORE, "pods/status"),
    rule("create", CORE, "pods/eviction"),
    rule(READ, CORE, "secrets configmaps"),
    rule("get", CORE, "persistentvolumeclaims persistentvolumes"),
    rule("get", CORE, "endpoints"),
    rule("create get list watch", CERTS, "certificatesigningrequests"),
    rule("get create update patch delete", COORD, "leases"),
    rule("get", STORAGE, "volumeattachments"),
    rule("create", CORE, "serviceaccounts/token"),
    rule("get update patch", CORE, "persistentvolumeclaims/status"),
    rule(READ, STORAGE, "csidrivers"),
    rule("get create update patch delete", STORAGE, "csinodes"),
    rule(READ, "node.k8s.io", "runtimeclasses"),
    rule("get", RESOURCE, "resourceclaims"),
    rule("deletecollection", RESOURCE, "resourceslices"),
    rule("get", CORE, "serviceaccounts"),
]

KUBE_SCHEDULER: list[Rule] = [
    EVENTS,
    rule("create", COORD, "leases"),
    rule("get update list watch", COORD, "leases", names="kube-scheduler"),
    rule(READ_WRITE, COORD, "leasecandidates"),
    rule(READ, CORE, "nodes"),
    rule("get list watch delete", CORE, "pods"),
    rule("create", CORE, "pods/binding bindings"),
    rule("patch update", CORE, "pods/status"),
    rule(READ, CORE, "services replicationcontrollers"),
    rule(READ, APPS_EXT, "replicasets"),
    rule(READ, "apps", "statefulsets"),
    rule(READ, "policy", "poddisruptionbudgets"),
    rule(READ, CORE, "persistentvolumeclaims persistentvolumes"),
    rule("create", AUTHN, "tokenreviews"),
    rule("create", AUTHZ, "subjectaccessreviews"),
    rule(READ, STORAGE, "csinodes"),
    rule(READ, STORAGE, "volumeattachments"),
    rule(READ, CORE, "namespaces"),
    rule(READ, STORAGE, "csidrivers"),
    rule(READ, STORAGE, "csistoragecapacities"),
    rule(READ, RESOURCE, "deviceclasses"),
    rule(READ_UPDATE, RESOURCE, "resourceclaims"),
    rule(READ_UPDATE, RESOURCE, "resourceclaims/status"),
    rule("update", CORE, "pods/finalizers"),
    rule(READ, RESOURCE, "resourceslices"),
    rule("create delete", RESOURCE, "resourceclaims"),
    rule("update patch", RESOURCE, "resourceclaims/binding"),
]

KUBE_CONTROLLER_MANAGER: list[Rule] = [
    EVENTS,
    rule("create", COORD, "leases"),
    rule("get update", COORD, "leases", names="kube-controller-manager"),
    rule("create", CORE, "secrets serviceaccounts"),
    rule("delete", CORE, "secrets"),
    rule("get", CORE, "namespaces secrets serviceaccounts configmaps"),
    rule("update", CORE, "secrets serviceaccounts"),
    rule("create", AUTHN, "tokenreviews"),
    rule("create", AUTHZ, "subjectaccessreviews"),
    rule("list watch", "*", "*"),
    rule("create", CORE, "serviceaccounts/token"),
]


def _approver(signer: str) -> list[Rule]:
    return [rule("approve", CERTS, "signers", names=f"kubernetes.io/{signer}")]


CSR = "system:certificates.k8s.io:"

# name -> rules, for the ClusterRoles of ClusterRoles() that are not aggregated.
CLUSTER_ROLES: dict[str, list[Rule]] = {
    "cluster-admin": [rule("*", "*", "*"), rule("*", urls="*")],
    "system:discovery": [
        rule(
            "get",
            urls="/livez /readyz /healthz /version /version/ /openapi /openapi/* "
            "/api /api/* /apis /apis/*",
        ),
    ],
    "system:monitoring": [
        rule(
            "get",
            urls="/metrics /metrics/slis /livez /readyz /healthz /livez/* /readyz/* "
            "/healthz/* /flagz /statusz",
        ),
        rule("get", CORE, "nodes/metrics"),
    ],
    "system:basic-user": [
        rule("create", AUTHZ, "selfsubjectaccessreviews selfsubjectrulesreviews"),
        rule("create", AUTHN, "selfsubjectreviews"),
    ],
    "system:public-info-viewer": [rule("get", urls="/livez /readyz /healthz /version /version/")],
    "system:aggregate-to-admin": [
        rule("create", AUTHZ, "localsubjectaccessreviews"),
        rule(READ_WRITE, RBAC, "roles rolebindings"),
    ],
    "system:aggregate-to-edit": AGGREGATE_TO_EDIT,
    "system:aggregate-to-view": AGGREGATE_TO_VIEW,
    "system:heapster": [
        rule(READ, CORE, "events pods nodes namespaces"),
        rule(READ, "extensions", "deployments"),
    ],
    "system:node": NODE,
    "system:node-problem-detector": [
        rule("get", CORE, "nodes"),
        rule("patch", CORE, "nodes/status"),
        EVENTS,
    ],
    "system:node-bootstrapper": [
        rule("create get list watch", CERTS, "certificatesigningrequests")
    ],
    "system:auth-delegator": [
        rule("create", AUTHN, "tokenreviews"),
        rule("create", AUTHZ, "subjectaccessreviews"),
    ],
    "system:kube-aggregator": [rule(READ, CORE, "services endpoints")],
    "system:kube-controller-manager": KUBE_CONTROLLER_MANAGER,
    "system:kube-dns": [rule("list watch", CORE, "endpoints services")],
    "system:persistent-volume-provisioner": [
        rule("get list watch create delete", CORE, "persistentvolumes"),
        rule("get list watch update", CORE, "persistentvolumeclaims"),
        rule(READ, STORAGE, "storageclasses"),
        rule("watch", CORE, "events"),
        EVENTS,
    ],
    f"{CSR}certificatesigningrequests:nodeclient": [
        rule("create", CERTS, "certificatesigningrequests/nodeclient"),
    ],
    f"{CSR}certificatesigningrequests:selfnodeclient": [
        rule("create", CERTS, "certificatesigningrequests/selfnodeclient"),
    ],
    "system:volume-scheduler": [
        rule(READ_UPDATE, CORE, "persistentvolumes"),
        rule(READ, STORAGE, "storageclasses"),
        rule(READ_UPDATE, CORE, "persistentvolumeclaims"),
    ],
    f"{CSR}legacy-unknown-approver": _approver("legacy-unknown"),
    f"{CSR}kubelet-serving-approver": _approver("kubelet-serving"),
    f"{CSR}kube-apiserver-client-approver": _approver("kube-apiserver-client"),
    f"{CSR}kube-apiserver-client-kubelet-approver": _approver("kube-apiserver-client-kubelet"),
    "system:service-account-issuer-discovery": [
        rule(
            "get",
            urls="/.well-known/openid-configuration /.well-known/openid-configuration/ "
            "/openid/v1/jwks /openid/v1/jwks/",
        ),
    ],
    "system:kubelet-api-admin": [
        rule(READ, CORE, "nodes"),
        rule("proxy", CORE, "nodes"),
        rule("*", CORE, "nodes/proxy nodes/metrics nodes/stats nodes/log"),
        rule("*", CORE, "nodes/pods nodes/healthz nodes/configz"),
    ],
    "system:node-proxier": [
        rule("list watch", CORE, "services endpoints"),
        rule(READ, CORE, "nodes"),
        EVENTS,
        rule("list watch", NET, "servicecidrs"),
        rule("list watch", DISCOVERY, "endpointslices"),
    ],
    "system:kube-scheduler": KUBE_SCHEDULER,
}

AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"

# name -> (the aggregate-to-* label it carries, the aggregate-to-* label it collects).
AGGREGATED_ROLES: dict[str, tuple[str | None, str]] = {
    "admin": (None, "admin"),
    "edit": ("admin", "edit"),
    "view": ("edit", "view"),
}

# the aggregate-to-* label carried by each non-aggregated ClusterRole that has one.
AGGREGATE_LABELS: dict[str, str] = {
    "system:aggregate-to-admin": "admin",
    "system:aggregate-to-edit": "edit",
    "system:aggregate-to-view": "view",
}

# name -> subjects, as (kind, name) for users and groups or ("ServiceAccount", "ns/name");
# each binds the ClusterRole of its own name.
CLUSTER_ROLE_BINDINGS: dict[str, list[tuple[str, str]]] = {
    "cluster-admin": [("Group", "system:masters")],
    "system:monitoring": [("Group", "system:monitoring")],
    "system:discovery": [("Group", "system:authenticated")],
    "system:basic-user": [("Group", "system:authenticated")],
    "system:public-info-viewer": [
        ("Group", "system:authenticated"),
        ("Group", "system:unauthenticated"),
    ],
    "system:node-proxier": [("User", "system:kube-proxy")],
    "system:kube-controller-manager": [("User", "system:kube-controller-manager")],
    "system:kube-dns": [("ServiceAccount", "kube-system/kube-dns")],
    "system:kube-scheduler": [("User", "system:kube-scheduler")],
    "system:volume-scheduler": [("User", "system:kube-scheduler")],
    # Deprecated since 1.7 (the Node authorizer): kept with no subjects, as upstream does.
    "system:node": [],
    "system:service-account-issuer-discovery": [("Group", "system:serviceaccounts")],
}

ADMISSION = "admissionregistration.k8s.io"
BATCH = "batch"
SIGNERS = (
    "kubernetes.io/kube-apiserver-client kubernetes.io/kube-apiserver-client-kubelet "
    "kubernetes.io/kubelet-serving kubernetes.io/legacy-unknown"
)

# controller name -> rules of ClusterRole `system:controller:<name>`, bound to the
# ServiceAccount kube-system/<name> (upstream's controller_policy.go, in its order).
CONTROLLER_ROLES: dict[str, list[Rule]] = {
    "attachdetach-controller": [
        rule("list watch", CORE, "persistentvolumes persistentvolumeclaims"),
        rule(READ, CORE, "nodes"),
        rule("patch update", CORE, "nodes/status"),
        rule("list watch", CORE, "pods"),
        EVENTS,
        rule("get create delete list watch", STORAGE, "volumeattachments"),
        rule(READ, STORAGE, "csidrivers"),
        rule(READ, STORAGE, "csinodes"),
    ],
    "clusterrole-aggregation-controller": [
        rule("escalate get list watch update patch", RBAC, "clusterroles"),
    ],
    "cronjob-controller": [
        rule("get list watch update", BATCH, "cronjobs"),
        rule("get list watch create update delete patch", BATCH, "jobs"),
        rule("update", BATCH, "cronjobs/status"),
        rule("update", BATCH, "cronjobs/finalizers"),
        rule("list watch delete", CORE, "pods"),
        EVENTS,
    ],
    "daemon-set-controller": [
        rule(READ, APPS_EXT, "daemonsets"),
        rule("update", APPS_EXT, "daemonsets/status"),
        rule("update", APPS_EXT, "daemonsets/finalizers"),
        rule("list watch", CORE, "nodes"),
        rule("list watch create delete patch", CORE, "pods"),
        rule("create", CORE, "pods/binding"),
        rule("get list watch create delete update patch", "apps", "controllerrevisions"),
        EVENTS,
    ],
    "deployment-controller": [
        rule("get list watch update", APPS_EXT, "deployments"),
        rule("update", APPS_EXT, "deployments/status"),
        rule("update", APPS_EXT, "deployments/finalizers"),
        rule("get list watch create update patch delete", APPS_EXT, "replicasets"),
        rule("get list watch update", CORE, "pods"),
        EVENTS,
    ],
    "disruption-controller": [
        rule(READ, APPS_EXT, "deployments"),
        rule(READ, APPS_EXT, "replicasets"),
        rule(READ, CORE, "replicationcontrollers"),
        rule(READ, "policy", "poddisruptionbudgets"),
        rule(READ, "apps", "statefulsets"),
        rule("update", "policy", "poddisruptionbudgets/status"),
        rule("patch update", CORE, "pods/status"),
        rule("get", "*", "*/scale"),
        EVENTS,
    ],
    "endpoint-controller": [
        rule(READ, CORE, "services pods"),
        rule("get list watch create update delete", CORE, "endpoints"),
        rule("create", CORE, "endpoints/restricted"),
        EVENTS,
    ],
    "endpointslice-controller": [
        rule(READ, CORE, "services pods nodes"),
        rule("update", CORE, "services/finalizers"),
        rule("get list watch create update delete", DISCOVERY, "endpointslices"),
        EVENTS,
    ],
    "endpointslicemirroring-controller": [
        rule(READ, CORE, "services endpoints"),
        rule("update", CORE, "services/finalizers"),
        rule("update", CORE, "endpoints/finalizers"),
        rule("get list watch create update delete", DISCOVERY, "endpointslices"),
        EVENTS,
    ],
    "expand-controller": [
        rule(READ_UPDATE, CORE, "persistentvolumes"),
        rule("update patch", CORE, "persistentvolumeclaims/status"),
        rule(READ, CORE, "persistentvolumeclaims"),
        EVENTS,
    ],
    "ephemeral-volume-controller": [
        rule(READ, CORE, "pods"),
        rule("update", CORE, "pods/finalizers"),
        rule("get list watch create", CORE, "persistentvolumeclaims"),
        EVENTS,
    ],
    "resource-claim-controller": [
        rule(READ, CORE, "pods"),
        rule("update", CORE, "pods/finalizers"),
        rule("get list watch create delete", RESOURCE, "resourceclaims"),
        rule("update patch", RESOURCE, "resourceclaims resourceclaims/status"),
        rule("update patch", CORE, "pods/status"),
        EVENTS,
        rule("update patch", RESOURCE, "resourceclaims/binding"),
    ],
    "device-taint-eviction-controller": [
        rule("get list watch delete", CORE, "pods"),
        rule("update patch", CORE, "pods/status"),
        rule(READ, RESOURCE, "resourceclaims"),
        rule(READ, RESOURCE, "resourceslices"),
        rule(READ, RESOURCE, "deviceclasses"),
        EVENTS,
    ],
    "generic-garbage-collector": [rule("get list watch patch update delete", "*", "*"), EVENTS],
    "horizontal-pod-autoscaler": [
        rule(READ, "autoscaling", "horizontalpodautoscalers"),
        rule("update", "autoscaling", "horizontalpodautoscalers/status"),
        rule("get update", "*", "*/scale"),
        rule("list watch", CORE, "pods"),
        rule("list watch", "metrics.k8s.io", "pods"),
        rule(READ, "custom.metrics.k8s.io", "*"),
        rule(READ, "external.metrics.k8s.io", "*"),
        EVENTS,
    ],
    "job-controller": [
        rule("get list watch update patch", BATCH, "jobs"),
        rule("update", BATCH, "jobs/status"),
        rule("update", BATCH, "jobs/finalizers"),
        rule("list watch create delete patch", CORE, "pods"),
        EVENTS,
    ],
    "namespace-controller": [
        rule("get list watch delete", CORE, "namespaces"),
        rule("update", CORE, "namespaces/finalize namespaces/status"),
        rule("get list watch delete deletecollection", "*", "*"),
    ],
    "node-controller": [
        rule("get list update delete patch watch", CORE, "nodes"),
        rule("patch update", CORE, "nodes/status"),
        rule("patch update", CORE, "pods/status"),
        rule("list watch delete get", CORE, "pods"),
        EVENTS,
    ],
    "persistent-volume-binder": [
        rule("get list watch update create delete", CORE, "persistentvolumes"),
        rule("update", CORE, "persistentvolumes/status"),
        rule("get list watch update", CORE, "persistentvolumeclaims"),
        rule("update", CORE, "persistentvolumeclaims/status"),
        rule("list watch get create delete", CORE, "pods"),
        rule(READ, STORAGE, "storageclasses"),
        rule("list watch", CORE, "nodes"),
        EVENTS,
        rule("watch", CORE, "events"),
    ],
    "pod-garbage-collector": [
        rule("list watch delete", CORE, "pods"),
        rule(READ, CORE, "nodes"),
        rule("patch", CORE, "pods/status"),
    ],
    "replicaset-controller": [
        rule("get list watch update", APPS_EXT, "replicasets"),
        rule("update", APPS_EXT, "replicasets/status"),
        rule("update", APPS_EXT, "replicasets/finalizers"),
        rule("list watch patch create delete", CORE, "pods"),
        EVENTS,
    ],
    "replication-controller": [
        rule("get list watch update", CORE, "replicationcontrollers"),
        rule("update", CORE, "replicationcontrollers/status"),
        rule("update", CORE, "replicationcontrollers/finalizers"),
        rule("list watch patch create delete", CORE, "pods"),
        EVENTS,
    ],
    "resourcequota-controller": [
        rule("list watch", "*", "*"),
        rule("update", CORE, "resourcequotas/status"),
        EVENTS,
    ],
    "route-controller": [
        rule("list watch", CORE, "nodes"),
        rule("patch", CORE, "nodes/status"),
        EVENTS,
    ],
    "service-account-controller": [rule("create", CORE, "serviceaccounts"), EVENTS],
    "service-controller": [
        rule(READ, CORE, "services"),
        rule("patch update", CORE, "services/status"),
        rule("list watch", CORE, "nodes"),
        EVENTS,
    ],
    "statefulset-controller": [
        rule("list watch", CORE, "pods"),
        rule(READ, "apps", "statefulsets"),
        rule("update", "apps", "statefulsets/status"),
        rule("update", "apps", "statefulsets/finalizers"),
        rule("get create delete update patch", CORE, "pods"),
        rule("get list watch create delete update patch", "apps", "controllerrevisions"),
        rule("get list watch create", CORE, "persistentvolumeclaims"),
        rule("update delete", CORE, "persistentvolumeclaims"),
        rule("update", CORE, "pods/finalizers"),
        EVENTS,
    ],
    "ttl-controller": [rule("update patch list watch", CORE, "nodes"), EVENTS],
    "certificate-controller": [
        rule("get list watch delete", CERTS, "certificatesigningrequests"),
        rule(
            "update",
            CERTS,
            "certificatesigningrequests/status certificatesigningrequests/approval",
        ),
        rule("approve", CERTS, "signers", names="kubernetes.io/kube-apiserver-client-kubelet"),
        rule("sign", CERTS, "signers", names=SIGNERS),
        rule("create", AUTHZ, "subjectaccessreviews"),
        EVENTS,
    ],
    "pvc-protection-controller": [
        rule("get list watch update", CORE, "persistentvolumeclaims"),
        rule("update", CORE, "persistentvolumeclaims/status"),
        rule(READ, CORE, "pods"),
        EVENTS,
    ],
    "pv-protection-controller": [rule("get list watch update", CORE, "persistentvolumes"), EVENTS],
    "ttl-after-finished-controller": [rule("get list watch delete", BATCH, "jobs"), EVENTS],
    "root-ca-cert-publisher": [rule("create update", CORE, "configmaps"), EVENTS],
    "validatingadmissionpolicy-status-controller": [
        rule(READ, ADMISSION, "validatingadmissionpolicies"),
        rule("get patch update", ADMISSION, "validatingadmissionpolicies/status"),
        EVENTS,
    ],
    "legacy-service-account-token-cleaner": [
        rule(
            "get",
            CORE,
            "configmaps",
            names="kube-apiserver-legacy-service-account-token-tracking",
        ),
        rule("patch delete", CORE, "secrets"),
    ],
    "service-cidrs-controller": [
        rule("get list watch patch update", NET, "servicecidrs"),
        rule("patch update", NET, "servicecidrs/finalizers"),
        rule("patch update", NET, "servicecidrs/status"),
        rule(READ, NET, "ipaddresses"),
        EVENTS,
    ],
    "volumeattributesclass-protection-controller": [
        rule(READ, CORE, "persistentvolumeclaims"),
        rule(READ, CORE, "persistentvolumes"),
        rule("get list watch update", STORAGE, "volumeattributesclasses"),
        EVENTS,
    ],
    "selinux-warning-controller": [
        EVENTS,
        rule(READ, CORE, "persistentvolumes"),
        rule(READ, CORE, "persistentvolumeclaims"),
        rule(READ, CORE, "pods"),
        rule(READ, STORAGE, "csidrivers"),
    ],
}

LEADER_LOCKING = [
    rule("get list watch create update", COORD, "leases"),
    rule("get list watch create update", COORD, "leasecandidates"),
]

# namespace -> role name -> rules (upstream's namespace_policy.go).
NAMESPACE_ROLES: dict[str, dict[str, list[Rule]]] = {
    "kube-system": {
        "extension-apiserver-authentication-reader": [
            rule(READ, CORE, "configmaps", names="extension-apiserver-authentication"),
        ],
        "system::leader-locking-kube-controller-manager": LEADER_LOCKING,
        "system::leader-locking-kube-scheduler": LEADER_LOCKING,
        "system:controller:bootstrap-signer": [rule(READ, CORE, "secrets")],
        "system:controller:cloud-provider": [rule("create get list watch", CORE, "configmaps")],
        "system:controller:token-cleaner": [rule("delete get list watch", CORE, "secrets"), EVENTS],
    },
    "kube-public": {
        "system:controller:bootstrap-signer": [
            rule(READ, CORE, "configmaps"),
            rule("update", CORE, "configmaps", names="cluster-info"),
            EVENTS,
        ],
    },
}

KCM = ("User", "system:kube-controller-manager")
SCHEDULER = ("User", "system:kube-scheduler")

# namespace -> binding name -> (Role name, subjects as in CLUSTER_ROLE_BINDINGS).
NAMESPACE_ROLE_BINDINGS: dict[str, dict[str, tuple[str, list[tuple[str, str]]]]] = {
    "kube-system": {
        "system::extension-apiserver-authentication-reader": (
            "extension-apiserver-authentication-reader",
            [KCM, SCHEDULER],
        ),
        "system::leader-locking-kube-controller-manager": (
            "system::leader-locking-kube-controller-manager",
            [
                KCM,
                ("ServiceAccount", "kube-system/kube-controller-manager"),
                ("ServiceAccount", "kube-system/leader-election-controller"),
            ],
        ),
        "system::leader-locking-kube-scheduler": (
            "system::leader-locking-kube-scheduler",
            [SCHEDULER, ("ServiceAccount", "kube-system/kube-scheduler")],
        ),
        "system:controller:bootstrap-signer": (
            "system:controller:bootstrap-signer",
            [("ServiceAccount", "kube-system/bootstrap-signer")],
        ),
        "system:controller:cloud-provider": (
            "system:controller:cloud-provider",
            [("ServiceAccount", "kube-system/cloud-provider")],
        ),
        "system:controller:token-cleaner": (
            "system:controller:token-cleaner",
            [("ServiceAccount", "kube-system/token-cleaner")],
        ),
    },
    "kube-public": {
        "system:controller:bootstrap-signer": (
            "system:controller:bootstrap-signer",
            [("ServiceAccount", "kube-system/bootstrap-signer")],
        ),
    },
}
