"""DataLoaders of accounts."""

from __future__ import annotations

from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import Context
from services.accounts import admin, service


def account_by_id(ctx: Context) -> DataLoader[int, Any]:
    return ctx.loader("account_by_id", service.get_accounts_by_ids)


def api_key_prefix_by_id(ctx: Context) -> DataLoader[int, str | None]:
    return ctx.loader("api_key_prefix_by_id", service.get_api_key_prefixes_by_ids)


def active_sessions_by_account(ctx: Context) -> DataLoader[int, int]:
    return ctx.loader("active_sessions_by_account", admin.count_active_tokens, default=0)


def readable_account_by_id(ctx: Context) -> DataLoader[int, Any]:
    """Accounts the viewer may look up by ID (``node``): their own, or any for editors."""
    fetch = partial(service.get_readable_accounts_by_ids, ctx.viewer)
    return ctx.loader("readable_account_by_id", fetch)
