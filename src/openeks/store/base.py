"""The narrow revisioned key-value interface every backend implements.

The shape follows etcd v3 (and kine): one global revision counter that every write
bumps; each key remembers the revision that created it and the one that last changed it.
Callers (the Kubernetes API server, the region service) use the revision as an object's
`resourceVersion`, pass it back for compare-and-swap, and resume watches from it.

Contract, shared by all backends and checked by `tests/store/test_contract.py`:

- `create` fails with `KeyExistsError` if the key is live.
- `update` and `delete` take the `mod_revision` the caller last saw; a mismatch raises
  `ConflictError` carrying the current value (or `NotFoundError` if the key is gone).
  `expected_revision=0` on delete means "whatever is there".
- `list` reads a consistent snapshot at `revision` (0 = now), sorted by key, at most
  `limit` items, starting after `start_after`; `more` tells whether more remain.
- `watch(prefix, start_revision)` yields batches of events with revision
  >= `start_revision` in revision order, then live ones. A start revision at or below
  the last compaction raises `CompactedError`.
- `compact(revision)` forgets history before `revision`; current values are kept.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum


class StoreError(Exception):
    """Base of everything a backend raises on purpose."""


class KeyExistsError(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key exists: {key}")
        self.key = key


class NotFoundError(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class ConflictError(StoreError):
    """The key's mod_revision is not the one the caller expected."""

    def __init__(self, key: str, current: KeyValue) -> None:
        super().__init__(f"revision conflict on {key}: now at {current.mod_revision}")
        self.key = key
        self.current = current


class CompactedError(StoreError):
    """The requested revision is older than the oldest one kept."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"revision {requested} is compacted (oldest kept: {compacted + 1})")
        self.requested = requested
        self.compacted = compacted


class FutureRevisionError(StoreError):
    """The requested revision has not happened yet."""

    def __init__(self, requested: int, current: int) -> None:
        super().__init__(f"revision {requested} is newer than current revision {current}")
        self.requested = requested
        self.current = current


class UnavailableError(StoreError):
    """The backend cannot be reached (all endpoints down, disk gone)."""


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int


class EventType(Enum):
    PUT = "PUT"
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True)
class Event:
    """One change. For DELETE, `kv.value` is the last value and `kv.mod_revision` the
    revision of the deletion; `prev` is the value before the change (None on create).

    `prev` can also be None for the first event at the compaction revision when the
    backend has already forgotten the older value (etcd does; for a DELETE there the
    last value is then empty too). `created` does not depend on `prev` for that reason.
    """

    type: EventType
    kv: KeyValue
    prev: KeyValue | None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision

    @property
    def created(self) -> bool:
        return self.type is EventType.PUT and self.kv.create_revision == self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[KeyValue]
    revision: int
    more: bool
    count: int = 0
    """Items left after this page (0 when `more` is False; backends may approximate)."""


class Store(abc.ABC):
    """A revisioned key-value store. Keys are '/'-separated strings; values bytes."""

    @abc.abstractmethod
    async def get(self, key: str) -> KeyValue | None: ...

    @abc.abstractmethod
    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult: ...

    @abc.abstractmethod
    async def create(self, key: str, value: bytes) -> KeyValue: ...

    @abc.abstractmethod
    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue: ...

    @abc.abstractmethod
    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        """Delete and return the deleted value, with mod_revision = the deletion's."""

    @abc.abstractmethod
    def watch(self, prefix: str, start_revision: int) -> AsyncIterator[builtins.list[Event]]: ...

    @abc.abstractmethod
    async def compact(self, revision: int) -> None: ...

    @abc.abstractmethod
    async def current_revision(self) -> int: ...

    async def compacted_revision(self) -> int:
        """The newest revision that compaction has removed (0 if none)."""
        return 0

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
