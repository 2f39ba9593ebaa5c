"""DataLoaders of webhooks."""

from __future__ import annotations

from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.webhooks import endpoints


def webhook_event_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("webhook_event_by_id", endpoints.get_events_by_ids)
