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


async def get_backlog(topic: str = SEARCH) -> tuple[int, float]:
    """(rows not yet applied, age in seconds of the oldest one) for ``topic``."""
    import datetime as dt

    pending = OutboxEntry.filter(topic=topic, processed_at__isnull=True)
    oldest = await pending.order_by("id").first()
    age = (dt.datetime.now(dt.UTC) - oldest.created_at).total_seconds() if oldest else 0.0
    return await pending.count(), max(age, 0.0)
