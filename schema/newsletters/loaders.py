"""DataLoaders of newsletter issues and templates."""

from __future__ import annotations

from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.newsletters import service


def issue_by_id(ctx: Context) -> DataLoader[int, Any]:
    """Issues by ID, of any status, for those who compose newsletters (``node``)."""
    fetch = partial(service.get_readable_issues_by_ids, ctx.viewer)
    return ctx.loader("issue_by_id", fetch)


def template_by_id(ctx: Context) -> DataLoader[int, Any]:
    """Stored templates by ID, for those who compose newsletters (``node``)."""
    fetch = partial(service.get_readable_templates_by_ids, ctx.viewer)
    return ctx.loader("template_by_id", fetch)
