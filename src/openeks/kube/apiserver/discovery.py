"""API discovery: `/api`, `/apis`, per-group and per-version documents, and aggregated
discovery (`apidiscovery.k8s.io/v2`), all derived from the `Resources` table.

kubectl 1.37 asks `/api` and `/apis` for the aggregated form first and so learns every
resource in two requests; older clients walk the legacy documents.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from openeks.kube.api.resources import ResourceInfo, Resources

Obj = dict[str, Any]

# Upstream's group priority order (the rest follow alphabetically).
_GROUP_ORDER = [
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
]


def _group_key(group: str) -> tuple[int, str]:
    try:
        return (_GROUP_ORDER.index(group), group)
    except ValueError:
        return (len(_GROUP_ORDER), group)


def storage_version_hash(info: ResourceInfo) -> str:
    digest = hashlib.sha256(f"{info.group}/{info.version}/{info.kind}".encode()).digest()
    import base64

    return base64.b64encode(digest[:8]).decode()


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_doc(group: str, versions: list[str]) -> Obj:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {
        "name": group,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_group_list(resources: Resources) -> Obj:
    groups = resources.group_versions()
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_doc(g, groups[g]) for g in sorted(groups, key=_group_key) if g],
    }


def api_group(resources: Resources, group: str) -> Obj | None:
    versions = resources.group_versions().get(group)
    if not versions or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group, versions)}


def api_resource_list(resources: Resources, group: str, version: str) -> Obj | None:
    infos = resources.in_group_version(group, version)
    if not infos:
        return None
    out: list[Obj] = []
    for info in infos:
        entry: Obj = {
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": list(info.verbs),
        }
        if info.short_names:
            entry["shortNames"] = list(info.short_names)
        if info.categories:
            entry["categories"] = list(info.categories)
        entry["storageVersionHash"] = storage_version_hash(info)
        out.append(entry)
        for sub in info.subresources:
            sub_entry: Obj = {
                "name": f"{info.plural}/{sub.name}",
                "singularName": "",
                "namespaced": info.namespaced,
                "kind": sub.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group is not None:
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version or "v1"
            out.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": infos[0].group_version,
        "resources": out,
    }


def _discovery_resource(info: ResourceInfo) -> Obj:
    entry: Obj = {
        "resource": info.plural,
        "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
        "scope": "Namespaced" if info.namespaced else "Cluster",
        "singularResource": info.singular,
        "verbs": list(info.verbs),
    }
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    if info.subresources:
        entry["subresources"] = [
            {
                "subresource": sub.name,
                "responseKind": {
                    "group": info.group if sub.group is None else sub.group,
                    "version": info.version if sub.version is None else sub.version,
                    "kind": sub.kind,
                },
                "verbs": list(sub.verbs),
            }
            for sub in info.subresources
        ]
    return entry


def aggregated(resources: Resources, *, core: bool, version: str = "v2") -> Obj:
    """The APIGroupDiscoveryList for /api (core) or /apis (every named group)."""
    groups = resources.group_versions()
    items = []
    for group in sorted(groups, key=_group_key):
        if bool(group) == core:
            continue
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": v,
                        "resources": [
                            _discovery_resource(i)
                            for i in sorted(
                                resources.in_group_version(group, v), key=lambda i: i.plural
                            )
                        ],
                        "freshness": "Current",
                    }
                    for v in groups[group]
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }


def etag(document: Obj) -> str:
    return '"' + hashlib.sha256(orjson.dumps(document)).hexdigest()[:32] + '"'
