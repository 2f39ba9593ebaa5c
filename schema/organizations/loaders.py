"""DataLoaders of organisations."""

from __future__ import annotations

from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.organizations import service


def organization_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("organization_by_id", service.get_organizations_by_ids)


def roles_by_organization_id(ctx: Context) -> DataLoader[int, list[Any]]:
    return ctx.loader(
        "roles_by_organization_id", service.get_roles_by_organization_ids, default=list
    )
