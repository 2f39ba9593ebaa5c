"""DataLoaders of subscribers."""

from __future__ import annotations

from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.subscribers import service


def subscriber_by_id(ctx: Context) -> DataLoader[int, Any]:
    """Subscribers by ID for those who may read them (``node``); None for anyone else."""
    fetch = partial(service.get_readable_subscribers_by_ids, ctx.viewer)
    return ctx.loader("subscriber_by_id", fetch)
