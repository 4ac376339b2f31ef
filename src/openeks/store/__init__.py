"""Storage: one revisioned key-value interface, three backends chosen by URL.

- ``memory://``                      in-process, for unit tests
- ``sqlite:///path/to/state.db``     the embedded default (``sqlite://relative.db`` too)
- ``etcd://host:port[,host:port]``   real etcd v3, failing over between endpoints

Nothing here knows about Kubernetes or AWS: keys are strings, values are bytes.
"""

from __future__ import annotations

from openeks.store.base import (
    CompactedError,
    ConflictError,
    Event,
    EventType,
    FutureRevisionError,
    KeyExistsError,
    KeyValue,
    ListResult,
    NotFoundError,
    Store,
    StoreError,
    UnavailableError,
)

__all__ = [
    "CompactedError",
    "ConflictError",
    "Event",
    "EventType",
    "FutureRevisionError",
    "KeyExistsError",
    "KeyValue",
    "ListResult",
    "NotFoundError",
    "Store",
    "StoreError",
    "UnavailableError",
    "open_store",
]


async def open_store(url: str) -> Store:
    """Open the backend a URL names; raises ValueError for an unknown scheme."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"store URL needs a scheme (memory://, sqlite://, etcd://): {url!r}")
    if scheme == "memory":
        from openeks.store.memory import MemoryStore

        return MemoryStore()
    if scheme == "sqlite":
        from openeks.store.sqlite import SqliteStore

        return await SqliteStore.open(rest)
    if scheme == "etcd":
        from openeks.store.etcd import EtcdStore

        endpoints = [e.strip() for e in rest.split(",") if e.strip()]
        if not endpoints:
            raise ValueError(f"etcd store URL names no endpoints: {url!r}")
        return await EtcdStore.open(endpoints)
    raise ValueError(f"unknown store scheme {scheme!r} (memory, sqlite or etcd)")
