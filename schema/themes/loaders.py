"""DataLoaders of themes, one per access path."""

from __future__ import annotations

from functools import partial

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.themes import service


def theme_by_id(ctx: Context) -> DataLoader[int, object]:
    return ctx.loader("theme_by_id", partial(service.get_themes_by_ids, ctx.viewer))
