"""What the API server serves, learnt through discovery as client-go's discovery client does.

The namespace controller and the garbage collector work on every resource, including
ones added at run time (CRDs), so they cannot use a fixed table. `discover()` asks
`/api` and `/apis` for aggregated discovery (two requests) and falls back to the legacy
documents (`/api/v1`, `/apis/<group>/<version>`) for servers without it. A group
version that cannot be read, or that aggregated discovery marks `Stale`, is reported in
`Discovery.failed`, the way `ErrGroupDiscoveryFailed` reports it, so callers can carry
on with what they have and say what is missing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import ResourceInfo, Subresource
from openeks.kube.client import Client
from openeks.kube.controllers.common.transport import AS_AGGREGATED_DISCOVERY, request_as

Obj = dict[str, Any]


@dataclass(frozen=True)
class ApiResource:
    info: ResourceInfo
    preferred: bool
    """The group's preferred version (what `ServerPreferredResources` returns)."""


@dataclass
class Discovery:
    resources: list[ApiResource] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """'group/version' → why it could not be discovered."""

    def preferred(
        self, *, namespaced: bool | None = None, verbs: tuple[str, ...] = ()
    ) -> list[ResourceInfo]:
        """Preferred-version resources, optionally only namespaced ones with all `verbs`."""
        return [
            r.info
            for r in self.resources
            if r.preferred
            and (namespaced is None or r.info.namespaced == namespaced)
            and all(v in r.info.verbs for v in verbs)
        ]

    def for_kind(self, api_version: str, kind: str) -> ResourceInfo | None:
        """The resource serving `kind` at `api_version`, else the group's preferred one."""
        group = api_version.rpartition("/")[0]
        fallback = None
        for r in self.resources:
            if r.info.kind != kind or r.info.group != group:
                continue
            if r.info.api_version == api_version:
                return r.info
            if r.preferred or fallback is None:
                fallback = r.info
        return fallback

    def error_message(self) -> str:
        parts = ", ".join(f"{gv}: {why}" for gv, why in sorted(self.failed.items()))
        return f"unable to retrieve the complete list of server APIs: {parts}"


async def discover(client: Client) -> Discovery:
    """Every served resource (no subresources as entries), aggregated or legacy."""
    core, groups = await asyncio.gather(
        request_as(client, "GET", "/api", AS_AGGREGATED_DISCOVERY),
        request_as(client, "GET", "/apis", AS_AGGREGATED_DISCOVERY),
    )
    found = Discovery()
    if core.get("kind") == "APIGroupDiscoveryList" and groups.get("kind") == (
        "APIGroupDiscoveryList"
    ):
        for doc in (core, groups):
            _read_aggregated(doc, found)
        return found
    await _read_legacy(client, core, groups, found)
    return found


def _read_aggregated(doc: Obj, found: Discovery) -> None:
    for item in doc.get("items") or ():
        group = (item.get("metadata") or {}).get("name") or ""
        for index, version_doc in enumerate(item.get("versions") or ()):
            version = version_doc.get("version", "")
            if version_doc.get("freshness") == "Stale":
                gv = f"{group}/{version}" if group else version
                found.failed[gv] = f"stale GroupVersion discovery: {gv}"
                continue
            for res in version_doc.get("resources") or ():
                info = _info_from_aggregated(group, version, res)
                found.resources.append(ApiResource(info, preferred=index == 0))


def _info_from_aggregated(group: str, version: str, res: Obj) -> ResourceInfo:
    kind = (res.get("responseKind") or {}).get("kind", "")
    subs = tuple(
        Subresource(s.get("subresource", ""), (s.get("responseKind") or {}).get("kind", ""))
        for s in res.get("subresources") or ()
    )
    return ResourceInfo(
        group=group,
        version=version,
        kind=kind,
        plural=res.get("resource", ""),
        singular=res.get("singularResource") or kind.lower(),
        namespaced=res.get("scope") == "Namespaced",
        short_names=tuple(res.get("shortNames") or ()),
        verbs=tuple(res.get("verbs") or ()),
        subresources=subs,
    )


async def _read_legacy(client: Client, core: Obj, groups: Obj, found: Discovery) -> None:
    wanted: list[tuple[str, str, bool]] = [
        ("", v, i == 0) for i, v in enumerate(core.get("versions") or ())
    ]
    for g in groups.get("groups") or ():
        preferred = (g.get("preferredVersion") or {}).get("version", "")
        for v in g.get("versions") or ():
            wanted.append((g["name"], v["version"], v["version"] == preferred))
    docs = await asyncio.gather(
        *(_legacy_version(client, g, v) for g, v, _ in wanted), return_exceptions=True
    )
    for (group, version, preferred), doc in zip(wanted, docs, strict=True):
        gv = f"{group}/{version}" if group else version
        if isinstance(doc, BaseException):
            found.failed[gv] = str(doc)
            continue
        for info in _infos_from_legacy(group, version, doc):
            found.resources.append(ApiResource(info, preferred))


async def _legacy_version(client: Client, group: str, version: str) -> Obj:
    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    try:
        doc: Obj = await client.request("GET", path)
    except ApiError as e:
        raise RuntimeError(e.message or str(e)) from e
    return doc


def _infos_from_legacy(group: str, version: str, doc: Obj) -> list[ResourceInfo]:
    entries = doc.get("resources") or ()
    subs: dict[str, list[Subresource]] = {}
    for e in entries:
        parent, _, sub = e.get("name", "").partition("/")
        if sub:
            subs.setdefault(parent, []).append(Subresource(sub, e.get("kind", "")))
    return [
        ResourceInfo(
            group=group,
            version=version,
            kind=e.get("kind", ""),
            plural=e["name"],
            singular=e.get("singularName") or e.get("kind", "").lower(),
            namespaced=bool(e.get("namespaced")),
            short_names=tuple(e.get("shortNames") or ()),
            verbs=tuple(e.get("verbs") or ()),
            subresources=tuple(subs.get(e["name"], ())),
        )
        for e in entries
        if "/" not in e.get("name", "")
    ]
