"""The generic registry: every kind's create/get/list/update/delete/watch over the store.

Upstream serves all kinds through one generic store (`genericregistry.Store`) plus a
per-kind strategy; so do we. `ResourceStore` owns one storage prefix and implements the
object lifecycle the API conventions define: names and generateName, uid and
creationTimestamp, resourceVersion preconditions (409 Conflict), generation bumps,
status-only writes, graceful deletion, finalizers and propagation finalizers, and
namespace lifecycle (no new objects in a missing or terminating namespace). Objects are
stored as JSON without `resourceVersion`; the store's mod revision is the version.

Everything here speaks the storage version of a kind; handlers convert served versions
(only events have two) at the edge.
"""

from __future__ import annotations

import base64
import builtins
import datetime
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from openeks.kube.api import errors, meta
from openeks.kube.api.errors import ApiError, Cause
from openeks.kube.api.resources import ResourceInfo
from openeks.kube.apiserver.admission import Admission, AdmissionRequest
from openeks.kube.apiserver.auth import User
from openeks.kube.apiserver.strategy import Strategy
from openeks.kube.apiserver.watchcache import CacheEvent, WatchCache, Watcher
from openeks.store import (
    CompactedError,
    ConflictError,
    FutureRevisionError,
    KeyExistsError,
    KeyValue,
    NotFoundError,
    Store,
)

Obj = dict[str, Any]
Matcher = Callable[[Obj], bool]
Mutator = Callable[[Obj], Awaitable[Obj]]

_IMMUTABLE_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")
_GENERATE_NAME_ATTEMPTS = 8
TRUSTED_SUBRESOURCES = ("binding",)
"""Writes whose mutator is the server's own code (pods/binding): no update validation."""
_UPDATE_ATTEMPTS = 16


@dataclass
class ListOptions:
    matches: Matcher = lambda obj: True
    filtered: bool = False
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""


@dataclass
class WatchOptions:
    matches: Matcher = lambda obj: True
    resource_version: str = ""
    resource_version_match: str = ""
    send_initial_events: bool | None = None
    allow_bookmarks: bool = False
    name: str = ""


@dataclass
class WriteOptions:
    dry_run: bool = False
    field_manager: str = ""
    managed_fields: Callable[[Obj | None, Obj], Obj] | None = None
    """Computes metadata.managedFields for a write (old, new) -> new; None = leave."""
    user: User | None = None
    """Who writes (for checks such as RBAC escalation); None = the server itself."""
    admission: Admission | None = None
    """The admission chain for client writes; None for the server's own."""
    warnings: list[str] = field(default_factory=list)
    """Filled by admission plugins; the handler turns them into Warning headers."""


@dataclass
class DeleteOptions:
    admission: Admission | None = None
    user: User | None = None
    grace_period: int | None = None
    propagation: str = ""
    precondition_uid: str = ""
    precondition_rv: str = ""
    dry_run: bool = False


@dataclass
class Bookmark:
    revision: int
    initial_events_end: bool = False


@dataclass
class ListResult:
    items: list[Obj]
    resource_version: int
    continue_token: str = ""
    remaining: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def encode(obj: Obj) -> bytes:
    meta_ = obj.get("metadata")
    if meta_ and "resourceVersion" in meta_:
        stripped = dict(obj)
        stripped["metadata"] = {k: v for k, v in meta_.items() if k != "resourceVersion"}
        return orjson.dumps(stripped)
    return orjson.dumps(obj)


def decode(kv: KeyValue) -> Obj:
    obj: Obj = orjson.loads(kv.value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(kv.mod_revision)
    return obj


def _with_rv(obj: Obj, revision: int) -> Obj:
    obj["metadata"]["resourceVersion"] = str(revision)
    return obj


class ResourceStore:
    """One kind's objects under /registry/<group>/<resource>/."""

    def __init__(self, registry: Registry, info: ResourceInfo, strategy: Strategy) -> None:
        self.registry = registry
        self.info = info
        self.strategy = strategy
        strategy.registry = registry
        self.prefix = f"/registry/{info.storage_path}/"
        self.store: Store = registry.store
        self.cache: WatchCache = registry.cache

    # -- keys ------------------------------------------------------------------------
    def key(self, namespace: str, name: str) -> str:
        if self.info.namespaced:
            return f"{self.prefix}{namespace}/{name}"
        return f"{self.prefix}{name}"

    def key_prefix(self, namespace: str) -> str:
        if self.info.namespaced and namespace:
            return f"{self.prefix}{namespace}/"
        return self.prefix

    def _not_found(self, name: str) -> ApiError:
        return errors.not_found(self.info.plural, self.info.group, name)

    # -- reads -----------------------------------------------------------------------
    async def get(self, namespace: str, name: str) -> Obj:
        kv = await self.store.get(self.key(namespace, name))
        if kv is None:
            raise self._not_found(name)
        return decode(kv)

    async def list(self, namespace: str, opts: ListOptions) -> ListResult:
        key_prefix = self.key_prefix(namespace)
        rv, match = opts.resource_version, opts.resource_version_match
        if opts.continue_token or match == "Exact" or (opts.limit and rv != "0"):
            return await self._list_from_store(key_prefix, opts)
        if rv in ("", None):
            fresh = await self.cache.sync()
        elif rv == "0":
            fresh = True
        else:
            fresh = await self.cache.wait_for(_parse_rv(rv))
            if not fresh:
                raise _too_large(_parse_rv(rv), self.cache.revision)
        if not fresh:
            return await self._list_from_store(key_prefix, opts)
        cache = self.cache.cache(self.prefix)
        items = [o for o in cache.items(key_prefix) if opts.matches(o)]
        return ListResult(items, self.cache.revision)

    async def _list_from_store(self, key_prefix: str, opts: ListOptions) -> ListResult:
        revision, start_after = 0, ""
        if opts.continue_token:
            revision, start_after = _decode_continue(opts.continue_token, key_prefix)
        elif opts.resource_version_match == "Exact" and opts.resource_version:
            revision = _parse_rv(opts.resource_version)
        limit = opts.limit
        items: list[Obj] = []
        last_key, remaining = "", None
        try:
            while True:
                want = max(limit - len(items), 1) if limit else 0
                page = await self.store.list(
                    key_prefix,
                    revision=revision,
                    limit=want * (4 if opts.filtered else 1),
                    start_after=start_after,
                )
                revision = page.revision
                for i, kv in enumerate(page.items):
                    obj = decode(kv)
                    if opts.matches(obj):
                        items.append(obj)
                    if limit and len(items) >= limit:
                        left = len(page.items) - i - 1
                        if left or page.more:
                            last_key = kv.key
                            remaining = left + page.count
                        break
                else:
                    if page.more and page.items:
                        start_after = page.items[-1].key
                        continue
                break
        except CompactedError:
            raise errors.gone(
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter."
            ) from None
        except FutureRevisionError as e:
            raise _too_large(e.requested, e.current) from None
        token = _encode_continue(revision, last_key, key_prefix) if last_key else ""
        return ListResult(items, revision, token, None if opts.filtered or not token else remaining)

    # -- create ----------------------------------------------------------------------
    async def create(self, namespace: str, obj: Obj, opts: WriteOptions) -> Obj:
        m = meta.metadata(obj)
        self._set_namespace(namespace, m)
        if m.get("resourceVersion"):
            raise errors.bad_request("resourceVersion should not be set on objects to be created")
        generated = not m.get("name") and bool(m.get("generateName"))
        if not m.get("name") and not generated:
            raise errors.invalid(
                self.info.kind,
                self.info.group,
                "",
                [Cause("FieldValueRequired", "name or generateName is required", "metadata.name")],
            )
        m["uid"] = meta.new_uid()
        m["creationTimestamp"] = meta.rfc3339(meta.now())
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            m.pop(key, None)
        self.strategy.prepare_for_create(obj)
        self.strategy.default(obj)
        request = self._admission_request("CREATE", "", namespace, obj, None, opts)
        if opts.admission is not None:
            await opts.admission.mutate(request)
            obj = request.obj or obj
            m = meta.metadata(obj)
        for attempt in range(_GENERATE_NAME_ATTEMPTS if generated else 1):
            if generated:
                m["name"] = meta.generate_name(m["generateName"])
            self._validate(obj, self.strategy.validate(obj))
            if opts.admission is not None:
                request.name = m["name"]
                await opts.admission.validate(request)
            if self.info.namespaced:
                await self.registry.check_namespace_open(namespace)
            await self.strategy.admit(obj, None, opts.user)
            if opts.managed_fields is not None:
                obj = opts.managed_fields(None, obj)
            await self.strategy.before_create(obj, opts.dry_run)
            if opts.dry_run:
                return obj
            try:
                kv = await self.store.create(self.key(namespace, m["name"]), encode(obj))
            except KeyExistsError:
                await self.strategy.after_create_failed(obj)
                if generated and attempt + 1 < _GENERATE_NAME_ATTEMPTS:
                    continue
                raise errors.already_exists(self.info.plural, self.info.group, m["name"]) from None
            except BaseException:
                await self.strategy.after_create_failed(obj)
                raise
            return _with_rv(obj, kv.mod_revision)
        raise AssertionError("unreachable")

    def _admission_request(
        self,
        operation: str,
        subresource: str,
        namespace: str,
        obj: Obj | None,
        old: Obj | None,
        opts: WriteOptions,
    ) -> AdmissionRequest:
        name = meta.name_of(obj or old or {})
        return AdmissionRequest(
            operation,
            self.info,
            subresource,
            namespace,
            name,
            obj,
            old,
            opts.user,
            opts.dry_run,
            warnings=opts.warnings,
        )

    def _set_namespace(self, namespace: str, m: Obj) -> None:
        if not self.info.namespaced:
            m.pop("namespace", None)
            return
        given = m.get("namespace")
        if given and given != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        m["namespace"] = namespace

    def _validate(self, obj: Obj, causes: builtins.list[Cause]) -> None:
        if causes:
            raise errors.invalid(self.info.kind, self.info.group, meta.name_of(obj), causes)

    # -- update ----------------------------------------------------------------------
    async def update(
        self,
        namespace: str,
        name: str,
        mutate: Mutator,
        opts: WriteOptions,
        subresource: str = "",
        create: Callable[[], Awaitable[Obj]] | None = None,
    ) -> tuple[Obj, bool]:
        """Read, mutate, check and write back with compare-and-swap, retrying on races.

        `mutate` gets a private copy of the live object and returns the desired one; a
        resourceVersion in it is a precondition. Returns (object, created)."""
        key = self.key(namespace, name)
        for _ in range(_UPDATE_ATTEMPTS):
            kv = await self.store.get(key)
            if kv is None:
                if create is not None:
                    return await create(), True
                raise self._not_found(name)
            old = decode(kv)
            new = await mutate(meta.deep_copy(old))
            try:
                result = await self._write_update(key, kv, old, new, opts, subresource)
            except ConflictError:
                continue
            return result, False
        raise errors.modified_conflict(self.info.plural, self.info.group, name)

    async def _write_update(
        self, key: str, kv: KeyValue, old: Obj, new: Obj, opts: WriteOptions, subresource: str
    ) -> Obj:
        name = old["metadata"]["name"]
        m = meta.metadata(new)
        if m.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({m.get('name')}) does not match the name on the URL "
                f"({name})"
            )
        self._set_namespace(old["metadata"].get("namespace", ""), m)
        m["name"] = name
        rv = m.get("resourceVersion")
        if rv and _parse_rv(rv) != kv.mod_revision:
            raise errors.modified_conflict(self.info.plural, self.info.group, name)
        m["resourceVersion"] = str(kv.mod_revision)
        for field_name in _IMMUTABLE_META:
            if field_name in old["metadata"]:
                m[field_name] = old["metadata"][field_name]
            else:
                m.pop(field_name, None)
        if subresource == "status":
            self.strategy.prepare_for_status_update(new, old)
        elif subresource == "finalize":
            self.strategy.prepare_for_finalize(new, old)
        elif subresource not in TRUSTED_SUBRESOURCES:
            self.strategy.prepare_for_update(new, old)
            self.strategy.default(new)
        admitting = opts.admission is not None and subresource not in TRUSTED_SUBRESOURCES
        request = self._admission_request(
            "UPDATE", subresource, m.get("namespace", ""), new, old, opts
        )
        if admitting:
            assert opts.admission is not None
            await opts.admission.mutate(request)
            new = request.obj or new
        if subresource not in TRUSTED_SUBRESOURCES:
            self._validate(new, self.strategy.validate_update(new, old))
            await self.strategy.admit(new, old, opts.user)
        if admitting:
            assert opts.admission is not None
            await opts.admission.validate(request)
        self._check_finalizers(new, old)
        if opts.managed_fields is not None:
            new = opts.managed_fields(old, new)
        if _same(new, old):
            return old
        if _ready_to_go(new) and not self.strategy.blocks_deletion(new):
            if opts.dry_run:
                return new
            deleted = await self.store.delete(key, kv.mod_revision)
            await self.strategy.after_delete(new)
            return _with_rv(new, deleted.mod_revision)
        await self.strategy.before_update(new, old, opts.dry_run)
        if opts.dry_run:
            return new
        try:
            written = await self.store.update(key, encode(new), kv.mod_revision)
        except NotFoundError:
            await self.strategy.after_update(new, old, False)
            raise self._not_found(name) from None
        except BaseException:
            await self.strategy.after_update(new, old, False)
            raise
        await self.strategy.after_update(new, old, True)
        return _with_rv(new, written.mod_revision)

    def _check_finalizers(self, new: Obj, old: Obj) -> None:
        if not old["metadata"].get("deletionTimestamp"):
            return
        before = set(old["metadata"].get("finalizers") or ())
        added = [f for f in new["metadata"].get("finalizers") or () if f not in before]
        if added:
            raise errors.invalid(
                self.info.kind,
                self.info.group,
                meta.name_of(new),
                [
                    Cause(
                        "FieldValueForbidden",
                        "Forbidden: no new finalizers can be added if the object is being "
                        "deleted, found new finalizers " + str(added).replace("'", '"'),
                        "metadata.finalizers",
                    )
                ],
            )

    # -- delete ----------------------------------------------------------------------
    async def delete(self, namespace: str, name: str, opts: DeleteOptions) -> tuple[Obj, bool]:
        """Delete now, or start a graceful/finalized deletion. Returns (object, gone)."""
        key = self.key(namespace, name)
        for _ in range(_UPDATE_ATTEMPTS):
            kv = await self.store.get(key)
            if kv is None:
                raise self._not_found(name)
            obj = decode(kv)
            self._check_preconditions(obj, opts)
            if opts.admission is not None:
                request = AdmissionRequest(
                    "DELETE", self.info, "", namespace, name, None, obj, opts.user, opts.dry_run
                )
                await opts.admission.validate(request)
            try:
                return await self._delete_once(key, kv, obj, opts)
            except (ConflictError, NotFoundError):
                continue  # raced with another writer: look again
        raise errors.modified_conflict(self.info.plural, self.info.group, name)

    def _check_preconditions(self, obj: Obj, opts: DeleteOptions) -> None:
        m = obj["metadata"]
        if opts.precondition_uid and opts.precondition_uid != m.get("uid"):
            raise errors.conflict(
                self.info.plural,
                self.info.group,
                m["name"],
                f"Precondition failed: UID in precondition: {opts.precondition_uid}, "
                f"UID in object meta: {m.get('uid')}",
            )
        if opts.precondition_rv and opts.precondition_rv != m.get("resourceVersion"):
            raise errors.conflict(
                self.info.plural,
                self.info.group,
                m["name"],
                f"Precondition failed: ResourceVersion in precondition: {opts.precondition_rv}, "
                f"ResourceVersion in object meta: {m.get('resourceVersion')}",
            )

    async def _delete_once(
        self, key: str, kv: KeyValue, obj: Obj, opts: DeleteOptions
    ) -> tuple[Obj, bool]:
        m = obj["metadata"]
        finalizers = list(m.get("finalizers") or ())
        for wanted, unwanted in (
            ("orphan", "foregroundDeletion") if opts.propagation == "Orphan" else ("", ""),
            ("foregroundDeletion", "orphan") if opts.propagation == "Foreground" else ("", ""),
        ):
            if wanted and wanted not in finalizers:
                finalizers = [f for f in finalizers if f != unwanted] + [wanted]
        if opts.propagation == "Background":
            finalizers = [f for f in finalizers if f not in ("orphan", "foregroundDeletion")]
        grace = self.strategy.grace_period(obj, opts.grace_period)
        pending = bool(m.get("deletionTimestamp"))
        if pending and m.get("deletionGracePeriodSeconds") is not None:
            grace = min(grace, int(m["deletionGracePeriodSeconds"]))
        if finalizers or grace > 0 or self.strategy.blocks_deletion(obj):
            new = meta.deep_copy(obj)
            nm = new["metadata"]
            if finalizers:
                nm["finalizers"] = finalizers
            self.strategy.mark_terminating(new)
            when = meta.now()
            if not pending or grace < int(nm.get("deletionGracePeriodSeconds") or 0):
                nm["deletionTimestamp"] = meta.rfc3339(when + datetime.timedelta(seconds=grace))
                nm["deletionGracePeriodSeconds"] = grace
            if new == obj and pending:
                return obj, False
            if opts.dry_run:
                return new, False
            written = await self.store.update(key, encode(new), kv.mod_revision)
            return _with_rv(new, written.mod_revision), False
        if opts.dry_run:
            return obj, True
        deleted = await self.store.delete(key, kv.mod_revision)
        await self.strategy.after_delete(obj)
        return _with_rv(obj, deleted.mod_revision), True

    # -- watch -----------------------------------------------------------------------
    async def watch(
        self, namespace: str, opts: WatchOptions
    ) -> AsyncIterator[CacheEvent | Bookmark]:
        key_prefix = self.key_prefix(namespace)
        if opts.name:
            key_prefix = self.key(namespace, opts.name)
        rv = opts.resource_version
        initial = opts.send_initial_events
        if initial is None:
            initial = rv in ("", "0")
        if initial:
            if rv == "" and not await self.cache.sync():
                raise errors.timeout("Timeout: Too large resource version")
            if rv not in ("", "0") and not await self.cache.wait_for(_parse_rv(rv)):
                raise _too_large(_parse_rv(rv), self.cache.revision)
            cache = self.cache.cache(self.prefix)
            snapshot = [o for o in cache.items(key_prefix) if _exact(o, opts)]
            revision = self.cache.revision
            watcher = self.cache.subscribe(self.prefix, key_prefix, opts.matches)
            try:
                for obj in snapshot:
                    yield CacheEvent("ADDED", "", obj, None, revision)
                if opts.send_initial_events and opts.allow_bookmarks:
                    yield Bookmark(revision, initial_events_end=True)
                async for event in self._follow(watcher):
                    yield event
            finally:
                self.cache.unsubscribe(self.prefix, watcher)
            return
        since = _parse_rv(rv)
        if since > self.cache.revision and not await self.cache.wait_for(since):
            raise _too_large(since, self.cache.revision)
        cache = self.cache.cache(self.prefix)
        backlog = cache.since(since)
        if backlog is None:
            async for event in self._watch_store(key_prefix, since, opts):
                yield event
            return
        watcher = self.cache.subscribe(self.prefix, key_prefix, opts.matches)
        cache.watchers.discard(watcher)
        for event in backlog:
            watcher.offer(event)
        cache.watchers.add(watcher)
        try:
            async for event in self._follow(watcher):
                yield event
        finally:
            self.cache.unsubscribe(self.prefix, watcher)

    async def _follow(self, watcher: Watcher) -> AsyncIterator[CacheEvent | Bookmark]:
        while True:
            event = await watcher.queue.get()
            if event is None:
                return
            yield event

    async def _watch_store(
        self, key_prefix: str, since: int, opts: WatchOptions
    ) -> AsyncIterator[CacheEvent]:
        """A watch that starts before the cache's window: straight from the store."""
        matcher = Watcher(key_prefix, opts.matches)
        try:
            async for batch in self.cache.store_events(key_prefix, since):
                for event in batch:
                    prev = decode(event.prev) if event.prev else None
                    if event.type.value == "DELETE":
                        obj = _with_rv(meta.deep_copy(prev or decode(event.kv)), event.revision)
                        cached = CacheEvent("DELETED", event.kv.key, obj, prev, event.revision)
                    else:
                        kind = "MODIFIED" if prev else "ADDED"
                        cached = CacheEvent(
                            kind, event.kv.key, decode(event.kv), prev, event.revision
                        )
                    matcher.offer(cached)
                    while not matcher.queue.empty():
                        item = matcher.queue.get_nowait()
                        if item is not None:
                            yield item
        except CompactedError as e:
            raise errors.too_old_resource_version(since, e.compacted + 1) from None


def _exact(obj: Obj, opts: WatchOptions) -> bool:
    return opts.matches(obj)


def _same(new: Obj, old: Obj) -> bool:
    if new.keys() != old.keys():
        return False
    for key, value in new.items():
        if key == "metadata":
            a = {k: v for k, v in value.items() if k not in ("resourceVersion", "managedFields")}
            b = {k: v for k, v in old[key].items() if k not in ("resourceVersion", "managedFields")}
            if a != b:
                return False
        elif old[key] != value:
            return False
    return True


def _ready_to_go(obj: Obj) -> bool:
    """Terminating with no finalizers left and no grace period: delete during update."""
    m = obj["metadata"]
    return (
        bool(m.get("deletionTimestamp"))
        and not m.get("finalizers")
        and not m.get("deletionGracePeriodSeconds")
    )


def _parse_rv(rv: str) -> int:
    try:
        value = int(rv)
    except (TypeError, ValueError):
        raise errors.bad_request(f'invalid resource version "{rv}"') from None
    if value < 0:
        raise errors.bad_request(f'invalid resource version "{rv}"')
    return value


def _too_large(requested: int, current: int) -> ApiError:
    err = errors.timeout(f"Too large resource version: {requested}, current: {current}")
    err.causes = [Cause("ResourceVersionTooLarge", "Too large resource version")]
    err.retry_after = 1
    return err


def _encode_continue(revision: int, last_key: str, key_prefix: str) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": revision, "start": last_key[len(key_prefix) :] + "\x00"}
    return base64.urlsafe_b64encode(orjson.dumps(token)).decode().rstrip("=")


def _decode_continue(token: str, key_prefix: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        revision = int(data["rv"])
        start = str(data["start"])
        if data.get("v") != "meta.k8s.io/v1" or ".." in start.split("/"):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise errors.bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion "
            "(version meta.k8s.io/v1)"
        ) from None
    return revision, key_prefix + start.rstrip("\x00")


class Registry:
    """All resource stores of one API server, over one store and one watch cache."""

    def __init__(self, store: Store, cache: WatchCache) -> None:
        self.store = store
        self.cache = cache
        self._by_storage: dict[str, ResourceStore] = {}

    def add(self, info: ResourceInfo, strategy: Strategy) -> ResourceStore:
        existing = self._by_storage.get(info.storage_path)
        if existing is not None:
            return existing
        rs = ResourceStore(self, info, strategy)
        self._by_storage[info.storage_path] = rs
        return rs

    def remove(self, storage_path: str) -> None:
        self._by_storage.pop(storage_path, None)

    def for_storage(self, storage_path: str) -> ResourceStore:
        return self._by_storage[storage_path]

    def stores(self) -> list[ResourceStore]:
        return list(self._by_storage.values())

    async def check_namespace_open(self, namespace: str) -> None:
        """NamespaceLifecycle: no new objects in a missing or terminating namespace."""
        key = f"/registry/core/namespaces/{namespace}"
        ns = self.cache.cache("/registry/core/namespaces/").objects.get(key)
        if ns is None:
            kv = await self.store.get(key)
            if kv is None:
                raise errors.not_found("namespaces", "", namespace)
            ns = orjson.loads(kv.value)
        if ns.get("metadata", {}).get("deletionTimestamp") or (
            ns.get("status", {}).get("phase") == "Terminating"
        ):
            raise ApiError(
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
                403,
                "Forbidden",
                name=namespace,
                kind="namespaces",
                causes=[
                    Cause(
                        "NamespaceTerminating",
                        f"namespace {namespace} is being terminated",
                        "metadata.namespace",
                    )
                ],
            )
