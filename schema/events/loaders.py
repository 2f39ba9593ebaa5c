"""DataLoaders of events and of what an event links to."""

from __future__ import annotations

import enum
from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.events import service
from services.pagination import PageRequest


def event_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("event_by_id", partial(service.get_events_by_ids, ctx.viewer))


def organizers_by_event_id(ctx: Context) -> DataLoader[int, list[Any]]:
    return ctx.loader("organizers_by_event_id", service.get_organizers_by_event_ids, default=list)


def themes_by_event_id(ctx: Context) -> DataLoader[int, list[Any]]:
    fetch = partial(service.get_themes_by_event_ids, ctx.viewer)
    return ctx.loader("themes_by_event_id", fetch, default=list)


def territories_by_event_id(ctx: Context) -> DataLoader[int, list[Any]]:
    return ctx.loader("territories_by_event_id", service.get_territories_by_event_ids, default=list)


def event_pages_by_theme_id(
    ctx: Context, order: enum.Enum | None, request: PageRequest
) -> DataLoader[int, Any]:
    return ctx.page_loader(
        "event_pages_by_theme_id", service.get_event_pages_by_theme_ids, order, request
    )


def event_pages_by_organization_id(
    ctx: Context, order: enum.Enum | None, request: PageRequest
) -> DataLoader[int, Any]:
    return ctx.page_loader(
        "event_pages_by_organization_id",
        service.get_event_pages_by_organization_ids,
        order,
        request,
    )
