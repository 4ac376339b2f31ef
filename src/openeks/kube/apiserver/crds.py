"""Serving custom resources: the API server side of CustomResourceDefinitions.

A loop over the CRD cache (upstream's apiextensions controllers, in-process): for every
accepted CRD it installs the served versions — discovery and OpenAPI entries, a registry
store and watch-cache prefix for its objects, the schemas that validate them, the printer
columns, "None" conversion between versions — and reports `NamesAccepted` and
`Established` in the CRD's status. A CRD being deleted first loses its objects (all
namespaces), then its cleanup finalizer, then its endpoints. Runs once before the server
listens, so custom resources are served right after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api import conversion, meta
from openeks.kube.api.crd import definition
from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.api.schema import Node
from openeks.kube.apiserver.context import ApiContext
from openeks.kube.apiserver.openapi import OpenAPI
from openeks.kube.apiserver.registry import DeleteOptions, ListOptions, WriteOptions, decode
from openeks.kube.apiserver.strategies.crds import CustomResourceStrategy

log = logging.getLogger(__name__)

Obj = dict[str, Any]
CRD_STORAGE = "apiextensions.k8s.io/customresourcedefinitions"
_OBJECT_META = "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def _reverse(group: str) -> str:
    return ".".join(reversed(group.split(".")))


@dataclass
class _Installed:
    uid: str
    generation: int
    infos: list[ResourceInfo] = field(default_factory=list)


class CRDManager:
    def __init__(self, ctx: ApiContext, openapi: OpenAPI, period: float = 0.3) -> None:
        self.ctx = ctx
        self.openapi = openapi
        self.period = period
        self.installed: dict[str, _Installed] = {}
        self._prefix = f"/registry/{CRD_STORAGE}/"

    async def run(self) -> None:
        seen = -1
        while True:
            cache = self.ctx.registry.cache.cache(self._prefix)
            if cache.changes != seen:
                seen = cache.changes
                try:
                    await self.sync()
                except ApiError as e:
                    log.warning("serving custom resources: %s", e)
            await asyncio.sleep(self.period)

    async def sync(self) -> None:
        crds = {
            c["metadata"]["name"]: c
            for c in self.ctx.registry.cache.cache(self._prefix).objects.values()
        }
        for name in [n for n in self.installed if n not in crds]:
            self._uninstall(name)
        for name, crd in crds.items():
            if crd["metadata"].get("deletionTimestamp"):
                await self._delete(crd)
                continue
            current = self.installed.get(name)
            m = crd["metadata"]
            if (
                current is None
                or current.uid != m["uid"]
                or current.generation != m.get("generation")
            ):
                if current is not None:
                    self._uninstall(name)
                await self._install(crd)
            await self._report(crd)

    # -- installing --------------------------------------------------------------------
    def _object_schema(self, crd: Obj, version: Obj) -> Obj:
        schema = dict((version.get("schema") or {}).get("openAPIV3Schema") or {"type": "object"})
        props = dict(schema.get("properties") or {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props["metadata"] = {"$ref": _OBJECT_META}
        schema["properties"] = props
        return schema

    async def _install(self, crd: Obj) -> None:
        if self._conflicts(crd):
            return
        spec = crd["spec"]
        group, kind = spec["group"], spec["names"]["kind"]
        infos = definition.served_resources(crd)
        if not infos:
            return
        schemas: dict[str, Node] = {}
        for version in spec.get("versions") or ():
            raw = self._object_schema(crd, version)
            node = self.ctx.definitions.wrap(raw)
            schemas[version["name"]] = node
            self.ctx.crd_schemas[(group, version["name"], kind)] = node
            self.ctx.crd_columns[(group, version["name"], kind)] = definition.printer_columns(
                crd, version["name"]
            )
            openapi_schema = {
                **raw,
                "x-kubernetes-group-version-kind": [
                    {"group": group, "version": version["name"], "kind": kind}
                ],
            }
            self.openapi.extra_schemas[f"{_reverse(group)}.{version['name']}.{kind}"] = (
                openapi_schema
            )
        storage_version = definition.storage_version(crd)
        conversion.register_custom(group, kind, storage_version)
        storage_info = next((i for i in infos if i.version == storage_version), infos[0])
        strategy = CustomResourceStrategy(storage_info, schemas)
        rs = self.ctx.registry.add(storage_info, strategy)
        await self.ctx.registry.cache.add(rs.prefix, decode)
        for info in infos:
            self.ctx.resources.add(info)
        self.installed[crd["metadata"]["name"]] = _Installed(
            crd["metadata"]["uid"], crd["metadata"].get("generation", 1), infos
        )

    def _conflicts(self, crd: Obj) -> bool:
        spec = crd["spec"]
        for info in self.ctx.resources.all():
            if (
                info.group == spec["group"]
                and info.plural == spec["names"]["plural"]
                and not info.crd
            ):
                return True
        return False

    def _uninstall(self, name: str) -> None:
        installed = self.installed.pop(name, None)
        if installed is None or not installed.infos:
            return
        first = installed.infos[0]
        for info in installed.infos:
            self.ctx.resources.remove(info.group, info.version, info.plural)
            self.ctx.crd_schemas.pop((info.group, info.version, info.kind), None)
            self.ctx.crd_columns.pop((info.group, info.version, info.kind), None)
            self.openapi.extra_schemas.pop(
                f"{_reverse(info.group)}.{info.version}.{info.kind}", None
            )
        conversion.unregister_custom(first.group, first.kind)
        self.ctx.registry.remove(first.storage_path)
        self.ctx.registry.cache.remove(f"/registry/{first.storage_path}/")

    # -- status --------------------------------------------------------------------------
    async def _report(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        accepted = name in self.installed
        now = meta.rfc3339(meta.now())
        names = dict(crd["spec"]["names"])
        conditions = [
            _condition(
                "NamesAccepted",
                accepted,
                "NoConflicts" if accepted else "NameConflict",
                "no conflicts found"
                if accepted
                else "the name is already served by the API server",
                now,
            ),
            _condition(
                "Established",
                accepted,
                "InitialNamesAccepted" if accepted else "NotAccepted",
                "the initial names have been accepted"
                if accepted
                else "not all names are accepted",
                now,
            ),
        ]
        status = crd.get("status") or {}
        wanted = {
            "conditions": _keep_times(status.get("conditions") or [], conditions),
            "acceptedNames": names
            if accepted
            else (status.get("acceptedNames") or {"plural": "", "kind": ""}),
            "storedVersions": sorted(
                set(status.get("storedVersions") or []) | {definition.storage_version(crd)}
            ),
        }
        if {k: status.get(k) for k in wanted} == wanted:
            return

        async def set_status(current: Obj) -> Obj:
            current["status"] = {**(current.get("status") or {}), **wanted}
            return current

        rs = self.ctx.registry.for_storage(CRD_STORAGE)
        await rs.update("", name, set_status, WriteOptions(), "status")

    # -- deleting ------------------------------------------------------------------------
    async def _delete(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        spec = crd["spec"]
        storage = f"{spec['group']}/{spec['names']['plural']}"
        try:
            rs = self.ctx.registry.for_storage(storage)
        except KeyError:
            rs = None
        if rs is not None:
            listed = await rs.list("", ListOptions(resource_version="0"))
            for obj in listed.items:
                m = obj["metadata"]
                try:
                    await rs.delete(
                        m.get("namespace", ""), m["name"], DeleteOptions(grace_period=0)
                    )
                except ApiError as e:
                    if e.code != 404:
                        raise
                if m.get("finalizers"):

                    async def strip(current: Obj) -> Obj:
                        current["metadata"].pop("finalizers", None)
                        return current

                    try:
                        await rs.update(m.get("namespace", ""), m["name"], strip, WriteOptions())
                    except ApiError as e:
                        if e.code != 404:
                            raise
            if (await rs.list("", ListOptions())).items:
                return
        self._uninstall(name)

        async def release(current: Obj) -> Obj:
            finalizers = [
                f
                for f in current["metadata"].get("finalizers") or ()
                if f != definition.CLEANUP_FINALIZER
            ]
            current["metadata"]["finalizers"] = finalizers
            if not finalizers:
                current["metadata"].pop("finalizers")
            return current

        try:
            await self.ctx.registry.for_storage(CRD_STORAGE).update(
                "", name, release, WriteOptions()
            )
        except ApiError as e:
            if e.code != 404:
                raise


def _condition(kind: str, ok: bool, reason: str, message: str, now: str) -> Obj:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "lastTransitionTime": now,
    }


def _keep_times(old: list[Obj], new: list[Obj]) -> list[Obj]:
    """Keep lastTransitionTime where a condition's status did not change."""
    by_type = {c.get("type"): c for c in old}
    out = []
    for c in new:
        previous = by_type.get(c["type"])
        if (
            previous
            and previous.get("status") == c["status"]
            and previous.get("reason") == c["reason"]
        ):
            c = {
                **c,
                "lastTransitionTime": previous.get("lastTransitionTime", c["lastTransitionTime"]),
            }
        out.append(c)
    return out
