"""The built-in resources by name, for clients: `PODS`, `DEPLOYMENTS`, ..."""

from __future__ import annotations

from openeks.kube.api.resources import ResourceInfo, builtin_resources

_BY_KEY = {(r.group, r.plural): r for r in builtin_resources()}


def resource(plural: str, group: str = "") -> ResourceInfo:
    return _BY_KEY[(group, plural)]


NAMESPACES = resource("namespaces")
PODS = resource("pods")
NODES = resource("nodes")
SERVICES = resource("services")
ENDPOINTS = resource("endpoints")
CONFIGMAPS = resource("configmaps")
SECRETS = resource("secrets")
SERVICEACCOUNTS = resource("serviceaccounts")
EVENTS = resource("events")
PVCS = resource("persistentvolumeclaims")
DEPLOYMENTS = resource("deployments", "apps")
REPLICASETS = resource("replicasets", "apps")
STATEFULSETS = resource("statefulsets", "apps")
DAEMONSETS = resource("daemonsets", "apps")
CONTROLLERREVISIONS = resource("controllerrevisions", "apps")
JOBS = resource("jobs", "batch")
CRONJOBS = resource("cronjobs", "batch")
LEASES = resource("leases", "coordination.k8s.io")
ENDPOINTSLICES = resource("endpointslices", "discovery.k8s.io")
PDBS = resource("poddisruptionbudgets", "policy")
