"""Per-key exponential back-off, as client-go's `flowcontrol.Backoff` that kubelet uses.

Two users: container restarts (CrashLoopBackOff) and image pulls (ImagePullBackOff),
both 10 s doubling to 300 s. `next(key, t)` records a failure at `t`; a key is in
back-off while less than its current delay has passed since `t`. An entry untouched for
twice the maximum (10 minutes) starts over at the initial delay, which is how a
container that ran long enough is restarted promptly again. Time comes from a clock
function so tests need not sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

INITIAL = 10.0
MAXIMUM = 300.0


@dataclass
class _Entry:
    delay: float
    last_update: float


class Backoff:
    def __init__(
        self,
        initial: float = INITIAL,
        maximum: float = MAXIMUM,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        return event_time - entry.last_update > self.maximum * 2

    def get(self, key: str) -> float:
        """The current delay for `key` (0 if it has none)."""
        entry = self._entries.get(key)
        return entry.delay if entry else 0.0

    def next(self, key: str, event_time: float | None = None) -> float:
        """Record a failure: the first waits `initial`, each next one twice as long."""
        now = self.clock()
        event_time = now if event_time is None else event_time
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            entry = _Entry(self.initial, now)
        else:
            entry = _Entry(min(entry.delay * 2, self.maximum), now)
        self._entries[key] = entry
        return entry.delay

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        """Whether less than the current delay has passed since `event_time`."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return self.clock() - event_time < entry.delay

    def in_backoff_since_update(self, key: str) -> bool:
        """Whether less than the current delay has passed since the last failure."""
        entry = self._entries.get(key)
        if entry is None or self._expired(self.clock(), entry):
            return False
        return self.clock() - entry.last_update < entry.delay

    def remaining(self, key: str, since: float) -> float:
        """Seconds until `key` leaves back-off measured from `since` (0 if not in it)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, since + entry.delay - self.clock())

    def remaining_since_update(self, key: str) -> float:
        """Seconds until `key` leaves back-off measured from its last failure."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.last_update + entry.delay - self.clock())

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]


def go_duration(seconds: float) -> str:
    """Go's time.Duration String for whole seconds: `10s`, `1m20s`, `5m0s`."""
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{secs}s"
