"""Store housekeeping: compaction of old revisions, as upstream compacts etcd.

Every `interval` seconds the store is compacted up to the revision that was current one
interval earlier, so watchers and paginated lists have at least that long to resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from openeks.store import CompactedError, Store, StoreError

log = logging.getLogger(__name__)


class Compactor:
    def __init__(
        self, store: Store, interval: float, on_compacted: Callable[[int], None] | None = None
    ) -> None:
        self.store = store
        self.interval = interval
        self.on_compacted = on_compacted

    async def run(self) -> None:
        previous = await self.store.current_revision()
        while True:
            await asyncio.sleep(self.interval)
            current = await self.store.current_revision()
            if previous > await self.store.compacted_revision() + 1:
                with contextlib.suppress(CompactedError):
                    try:
                        await self.store.compact(previous)
                    except StoreError as e:
                        log.warning("compaction at %d failed: %s", previous, e)
                    else:
                        if self.on_compacted is not None:
                            self.on_compacted(previous)
            previous = current
