"""In-process notice that a round's votes changed, for live rankings.

It only wakes up this process's subscribers early; subscribers also poll the database,
so a vote cast through another app process is seen too (the database stays the one
source of truth).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

_waiters: dict[int, set[asyncio.Event]] = defaultdict(set)


def round_changed(round_id: int) -> None:
    """Wake every local subscriber of ``round_id``."""
    for event in list(_waiters.get(round_id, ())):
        event.set()


async def wait_for_change(round_id: int, *, timeout: float) -> None:
    """Return when ``round_id`` changes in this process, or after ``timeout`` seconds."""
    event = asyncio.Event()
    _waiters[round_id].add(event)
    try:
        await asyncio.wait_for(event.wait(), timeout=timeout)
    except TimeoutError:
        pass
    finally:
        _waiters[round_id].discard(event)
        if not _waiters[round_id]:
            _waiters.pop(round_id, None)
