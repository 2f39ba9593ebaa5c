"""DataLoaders of webhooks."""

from __future__ import annotations

from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.webhooks import endpoints


def webhook_event_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("webhook_event_by_id", endpoints.get_events_by_ids)


def readable_endpoint_by_id(ctx: Context) -> DataLoader[int, Any]:
    """Endpoints the viewer may read, by ID (``node``)."""
    fetch = partial(endpoints.get_readable_endpoints_by_ids, ctx.viewer)
    return ctx.loader("readable_webhook_endpoint_by_id", fetch)


def readable_delivery_by_id(ctx: Context) -> DataLoader[int, Any]:
    """Deliveries in the logs the viewer may read, by ID (``node``)."""
    fetch = partial(endpoints.get_readable_deliveries_by_ids, ctx.viewer)
    return ctx.loader("readable_webhook_delivery_by_id", fetch)
