"""DataLoaders of resources and of what a resource links to."""

from __future__ import annotations

import enum
from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.pagination import PageRequest
from services.resources import service


def resource_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("resource_by_id", partial(service.get_resources_by_ids, ctx.viewer))


def themes_by_resource_id(ctx: Context) -> DataLoader[int, list[Any]]:
    fetch = partial(service.get_themes_by_resource_ids, ctx.viewer)
    return ctx.loader("themes_by_resource_id", fetch, default=list)


def territories_by_resource_id(ctx: Context) -> DataLoader[int, list[Any]]:
    fetch = service.get_territories_by_resource_ids
    return ctx.loader("territories_by_resource_id", fetch, default=list)


def organizations_by_resource_id(ctx: Context) -> DataLoader[int, list[Any]]:
    fetch = service.get_organizations_by_resource_ids
    return ctx.loader("organizations_by_resource_id", fetch, default=list)


def resource_pages_by_theme_id(
    ctx: Context, order: enum.Enum | None, request: PageRequest
) -> DataLoader[int, Any]:
    return ctx.page_loader(
        "resource_pages_by_theme_id", service.get_resource_pages_by_theme_ids, order, request
    )


def resource_pages_by_territory_id(
    ctx: Context, order: enum.Enum | None, request: PageRequest
) -> DataLoader[int, Any]:
    return ctx.page_loader(
        "resource_pages_by_territory_id",
        service.get_resource_pages_by_territory_ids,
        order,
        request,
    )


def resource_pages_by_organization_id(
    ctx: Context, order: enum.Enum | None, request: PageRequest
) -> DataLoader[int, Any]:
    return ctx.page_loader(
        "resource_pages_by_organization_id",
        service.get_resource_pages_by_organization_ids,
        order,
        request,
    )


def related_by_resource_id(ctx: Context, limit: int) -> DataLoader[int, list[Any]]:
    fetch = partial(service.get_related_by_resource_ids, ctx.viewer, limit=limit)
    return ctx.loader(("related_by_resource_id", limit), fetch, default=list)
