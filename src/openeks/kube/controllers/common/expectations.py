"""Expectations: what a controller has asked for but its informer has not shown yet.

After creating pods a controller must not count them missing just because the watch
has not delivered them; upstream's `ControllerExpectations` records how many creations
and deletions are in flight per owner key and a sync that finds them unsatisfied does
not act on pod counts. Records expire (5 minutes, as upstream) so a lost event cannot
wedge a controller. `UIDExpectations` is the job controller's variant for finalizer
removals, tracked by pod uid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Record:
    adds: int
    dels: int
    stamp: float


class Expectations:
    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self._records: dict[str, _Record] = {}

    def expect_creations(self, key: str, count: int) -> None:
        self._records[key] = _Record(count, 0, time.monotonic())

    def expect_deletions(self, key: str, count: int) -> None:
        self._records[key] = _Record(0, count, time.monotonic())

    def creation_observed(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.adds -= 1

    def deletion_observed(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.dels -= 1

    def satisfied(self, key: str) -> bool:
        record = self._records.get(key)
        if record is None:
            return True
        if record.adds <= 0 and record.dels <= 0:
            return True
        return time.monotonic() - record.stamp > self.ttl

    def delete(self, key: str) -> None:
        self._records.pop(key, None)


class UIDExpectations:
    """Pod uids whose finalizer removal a job's sync is waiting to observe."""

    def __init__(self) -> None:
        self._uids: dict[str, set[str]] = {}

    def expect(self, key: str, uids: list[str]) -> None:
        self._uids.setdefault(key, set()).update(uids)

    def observed(self, key: str, uid: str) -> None:
        uids = self._uids.get(key)
        if uids is not None:
            uids.discard(uid)
            if not uids:
                del self._uids[key]

    def expected(self, key: str) -> set[str]:
        return set(self._uids.get(key, ()))

    def delete(self, key: str) -> None:
        self._uids.pop(key, None)
