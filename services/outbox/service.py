"""Recording changes in the outbox (inside the caller's transaction)."""

from __future__ import annotations

from collections.abc import Iterable

from services.outbox.models import OutboxEntry

SEARCH = "search"


async def record_changes(entity_type: str, ids: Iterable[int], *, topic: str = SEARCH) -> None:
    """Note that entities changed; call it inside the transaction of the change."""
    rows = [OutboxEntry(topic=topic, entity_type=entity_type, entity_id=i) for i in set(ids)]
    if rows:
        await OutboxEntry.bulk_create(rows)
