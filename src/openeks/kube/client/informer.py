"""Informers: a local, always-current copy of one resource, and change notifications.

An informer lists the resource, then watches from the list's resourceVersion; on a
dropped connection it resumes from the last version it saw, on 410 Gone it lists again
and reports the differences as events, as client-go's reflector does. Handlers are plain
functions that should only compute a key and enqueue it. Indexes (pods by node, objects
by owner) are kept up to date with the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from openeks.kube.api.errors import ApiError
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.client.rest import Client

log = logging.getLogger(__name__)

Obj = dict[str, Any]
AddHandler = Callable[[Obj], None]
UpdateHandler = Callable[[Obj, Obj], None]
DeleteHandler = Callable[[Obj], None]
IndexFunc = Callable[[Obj], list[str]]


def key_of(obj: Obj) -> str:
    """'namespace/name', or 'name' for cluster-scoped objects (client-go's MetaNamespaceKey)."""
    m = obj.get("metadata") or {}
    ns = m.get("namespace")
    return f"{ns}/{m['name']}" if ns else m["name"]


def split_key(key: str) -> tuple[str, str]:
    ns, _, name = key.rpartition("/")
    return ns, name


class Informer:
    def __init__(
        self,
        client: Client,
        resource: ResourceInfo,
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        resync: float = 0.0,
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync = resync
        self.store: dict[str, Obj] = {}
        self.synced = asyncio.Event()
        self._adds: list[AddHandler] = []
        self._updates: list[UpdateHandler] = []
        self._deletes: list[DeleteHandler] = []
        self._indexers: dict[str, IndexFunc] = {}
        self._indexes: dict[str, dict[str, set[str]]] = {}
        self._task: asyncio.Task[None] | None = None
        self.resource_version = ""

    # -- wiring --------------------------------------------------------------------------
    def on(
        self,
        add: AddHandler | None = None,
        update: UpdateHandler | None = None,
        delete: DeleteHandler | None = None,
    ) -> None:
        if add:
            self._adds.append(add)
            for obj in list(self.store.values()):
                add(obj)
        if update:
            self._updates.append(update)
        if delete:
            self._deletes.append(delete)

    def add_index(self, name: str, fn: IndexFunc) -> None:
        self._indexers[name] = fn
        index: dict[str, set[str]] = {}
        for key, obj in self.store.items():
            for value in fn(obj):
                index.setdefault(value, set()).add(key)
        self._indexes[name] = index

    def by_index(self, name: str, value: str) -> list[Obj]:
        keys = self._indexes[name].get(value, ())
        return [self.store[k] for k in sorted(keys) if k in self.store]

    def get(self, key: str) -> Obj | None:
        return self.store.get(key)

    def list(self, namespace: str = "") -> list[Obj]:
        if not namespace:
            return list(self.store.values())
        return [
            o
            for o in self.store.values()
            if (o.get("metadata") or {}).get("namespace") == namespace
        ]

    # -- running -------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"informer-{self.resource.plural}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_synced(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self.synced.wait(), timeout)

    async def run(self) -> None:
        backoff = 0.2
        need_list = True
        resync_task = asyncio.create_task(self._resync_loop()) if self.resync else None
        try:
            while True:
                try:
                    if need_list:
                        await self._relist()
                        need_list = False
                    await self._watch()
                    backoff = 0.2
                except ApiError as e:
                    if e.code == 410:
                        need_list = True
                        continue
                    log.debug(
                        "informer %s: %s; retrying in %.1fs", self.resource.plural, e, backoff
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    if e.code in (403, 404):
                        need_list = True
        finally:
            if resync_task:
                resync_task.cancel()

    async def _relist(self) -> None:
        items: list[Obj] = []
        token = ""
        while True:
            page = await self.client.list(
                self.resource,
                self.namespace,
                label_selector=self.label_selector,
                field_selector=self.field_selector,
                limit=500,
                continue_token=token,
            )
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue", "")
            if not token:
                break
        self.resource_version = page["metadata"]["resourceVersion"]
        fresh = {key_of(o): o for o in items}
        for key in [k for k in self.store if k not in fresh]:
            self._apply("DELETED", self.store[key])
        for obj in items:
            self._apply("ADDED", obj)
        self.synced.set()

    async def _watch(self) -> None:
        async for kind, obj in self.client.watch(
            self.resource,
            self.namespace,
            resource_version=self.resource_version,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            timeout_seconds=300,
        ):
            self.resource_version = obj["metadata"].get("resourceVersion", self.resource_version)
            if kind != "BOOKMARK":
                self._apply(kind, obj)

    def _apply(self, kind: str, obj: Obj) -> None:
        key = key_of(obj)
        old = self.store.get(key)
        if kind == "DELETED":
            if old is None:
                return
            del self.store[key]
            self._unindex(key, old)
            for handler in self._deletes:
                _safely(handler, obj)
            return
        if old is not None and old["metadata"].get("resourceVersion") == obj["metadata"].get(
            "resourceVersion"
        ):
            return
        self.store[key] = obj
        if old is not None:
            self._unindex(key, old)
        self._index(key, obj)
        if old is None:
            for add in self._adds:
                _safely(add, obj)
        else:
            for update in self._updates:
                _safely(update, old, obj)

    def _index(self, key: str, obj: Obj) -> None:
        for name, fn in self._indexers.items():
            for value in fn(obj):
                self._indexes[name].setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: Obj) -> None:
        for name, fn in self._indexers.items():
            for value in fn(obj):
                keys = self._indexes[name].get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self._indexes[name][value]

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync)
            for obj in list(self.store.values()):
                for update in self._updates:
                    _safely(update, obj, obj)


def _safely(handler: Callable[..., None], *args: Obj) -> None:
    try:
        handler(*args)
    except Exception:
        log.exception("informer handler failed")
