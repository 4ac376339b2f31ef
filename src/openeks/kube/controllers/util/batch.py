"""Slow start: create many objects in doubling batches, stopping at the first failure.

Upstream's `slowStartBatch`: batches of 1, 2, 4, ... run concurrently; when a batch has
any failure the rest are not attempted, so a quota or admission error costs a handful
of calls instead of hundreds. Returns how many calls succeeded and the first error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

SLOW_START_INITIAL_BATCH_SIZE = 1


async def slow_start_batch(
    count: int,
    fn: Callable[[int], Awaitable[None]],
    initial: int = SLOW_START_INITIAL_BATCH_SIZE,
) -> tuple[int, BaseException | None]:
    """Call `fn(i)` for i in range(count) in doubling concurrent batches."""
    remaining = count
    successes = 0
    position = 0
    batch = min(remaining, initial)
    while batch > 0:
        results = await asyncio.gather(
            *(fn(position + i) for i in range(batch)), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        successes += batch - len(errors)
        if errors:
            return successes, errors[0]
        position += batch
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None
