"""Expectations: what a controller waits to see in its informer before acting again.

A ReplicaSet that has just sent three pod creations must not, on its next sync, count
the pods in its (not yet updated) cache and create three more. So before writing it
records "expect 3 adds"; the pod informer's add handler lowers the count as each pod
shows up, and the controller only manages replicas again once the count is down to zero
or five minutes have passed (a lost watch event must not stall it forever). Deletions
are tracked by pod key, so a pod that is deleted, or only marked for deletion, is
counted once (upstream's `UIDTrackingControllerExpectations`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

EXPECTATIONS_TIMEOUT = 5 * 60.0
"""Seconds after which unmet expectations are ignored (upstream's ExpectationsTimeout)."""


@dataclass
class _Expectation:
    add: int
    delete: int
    timestamp: float = field(default_factory=time.monotonic)

    def fulfilled(self) -> bool:
        return self.add <= 0 and self.delete <= 0

    def expired(self, timeout: float) -> bool:
        return time.monotonic() - self.timestamp > timeout


class Expectations:
    """Per controller key: pending creations and the keys of pending deletions."""

    def __init__(self, timeout: float = EXPECTATIONS_TIMEOUT) -> None:
        self.timeout = timeout
        self._store: dict[str, _Expectation] = {}
        self._deleting: dict[str, set[str]] = {}

    def satisfied(self, key: str) -> bool:
        """True when the controller may act: nothing pending, met, or expired."""
        exp = self._store.get(key)
        if exp is None:
            return True
        if exp.fulfilled():
            return True
        if exp.expired(self.timeout):
            log.debug("expectations of %s expired: %s", key, exp)
            return True
        return False

    def pending(self, key: str) -> tuple[int, int]:
        exp = self._store.get(key)
        return (exp.add, exp.delete) if exp else (0, 0)

    def set(self, key: str, add: int, delete: int) -> None:
        self._store[key] = _Expectation(add, delete)

    def expect_creations(self, key: str, count: int) -> None:
        self.set(key, count, 0)

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._deleting[key] = set(pod_keys)
        self.set(key, 0, len(pod_keys))

    def lower(self, key: str, add: int = 0, delete: int = 0) -> None:
        exp = self._store.get(key)
        if exp is not None:
            exp.add -= add
            exp.delete -= delete

    def raise_(self, key: str, add: int = 0, delete: int = 0) -> None:
        exp = self._store.get(key)
        if exp is not None:
            exp.add += add
            exp.delete += delete

    def creation_observed(self, key: str) -> None:
        self.lower(key, add=1)

    def deletion_observed(self, key: str, pod_key: str | None = None) -> None:
        """A deletion seen; with `pod_key`, counted only if that pod was expected to go."""
        if pod_key is None:
            self.lower(key, delete=1)
            return
        waiting = self._deleting.get(key)
        if waiting is not None and pod_key in waiting:
            waiting.discard(pod_key)
            self.lower(key, delete=1)

    def delete(self, key: str) -> None:
        self._store.pop(key, None)
        self._deleting.pop(key, None)
