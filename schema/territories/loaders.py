"""DataLoaders of territories."""

from __future__ import annotations

from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.projects import service as projects
from services.territories import service


def territory_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("territory_by_id", service.get_territories_by_ids)


def memberships_by_territory_id(ctx: Context) -> DataLoader[int, list[Any]]:
    fetch = partial(projects.get_memberships_by_territory_ids, ctx.viewer)
    return ctx.loader("memberships_by_territory_id", fetch, default=list)
