"""DataLoaders of shared projects and their parts."""

from __future__ import annotations

from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.projects import service


def shared_project_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader(
        "shared_project_by_id", partial(service.get_shared_projects_by_ids, ctx.viewer)
    )


def memberships_by_project_id(ctx: Context) -> DataLoader[int, list[Any]]:
    return ctx.loader(
        "memberships_by_project_id", service.get_memberships_by_project_ids, default=list
    )


def stages_by_project_id(ctx: Context) -> DataLoader[int, list[Any]]:
    return ctx.loader("stages_by_project_id", service.get_stages_by_project_ids, default=list)


def providers_by_project_id(ctx: Context) -> DataLoader[int, list[Any]]:
    return ctx.loader("providers_by_project_id", service.get_providers_by_project_ids, default=list)


def membership_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("membership_by_id", partial(service.get_memberships_by_ids, ctx.viewer))


def news_by_project_id(ctx: Context) -> DataLoader[int, list[Any]]:
    return ctx.loader("news_by_project_id", service.get_news_by_project_ids, default=list)


def resources_by_project_id(ctx: Context) -> DataLoader[int, list[Any]]:
    fetch = partial(service.get_resources_by_project_ids, ctx.viewer)
    return ctx.loader("resources_by_project_id", fetch, default=list)
