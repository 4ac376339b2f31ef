"""`CycleState`: what plugins compute for one pod in one scheduling cycle.

PreFilter and PreScore write precomputed data under their own keys; Filter and Score
read it for every node. The framework also records here which plugins asked to be
skipped for this pod (a PreFilter or PreScore that returned `SKIP`), so the per-node
loops never call them. A state lives for one cycle only, so nothing is copied.
"""

from __future__ import annotations

from typing import Any


class StateKeyError(KeyError):
    """A plugin read a key that its PreFilter/PreScore did not write."""


class CycleState:
    __slots__ = ("_data", "skip_filter_plugins", "skip_score_plugins")

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self.skip_filter_plugins: set[str] = set()
        self.skip_score_plugins: set[str] = set()

    def write(self, key: str, value: Any) -> None:
        self._data[key] = value

    def read(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise StateKeyError(f"{key!r} not found in the cycle state") from None

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)
