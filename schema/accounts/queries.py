"""Account queries: one's own account; accounts and API keys (administrators)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema import registry
from schema.accounts.loaders import account_by_id, readable_account_by_id
from schema.accounts.types import Account, ApiKey, RoleEnum
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection,
    decode_id,
    page_request,
)
from services.accounts import admin


@strawberry.input(description="Conditions on accounts; every one given must hold.")
class AccountFilter:
    roles: list[RoleEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only these roles."
    )
    organization: strawberry.ID | None = strawberry.field(
        default=None, description="Only members of this organisation (ID)."
    )
    territory: strawberry.ID | None = strawberry.field(
        default=None, description="Only members of this local authority (territory ID)."
    )
    active: bool | None = strawberry.field(
        default=None, description="True: active accounts only; false: deactivated ones only."
    )
    text: str | None = strawberry.field(
        default=None, description="Part of the e-mail address or of the name, in any case."
    )


@strawberry.input(description="Conditions on API keys.")
class ApiKeyFilter:
    organization: strawberry.ID | None = strawberry.field(
        default=None, description="Only the keys of this organisation (ID)."
    )
    include_revoked: bool = strawberry.field(
        default=False, description="Revoked keys too (left out by default)."
    )


def _account_filter(flt: AccountFilter | None) -> admin.AccountFilter:
    if flt is None:
        return admin.AccountFilter()
    return admin.AccountFilter(
        roles=list(flt.roles or ()),
        organization_id=(
            decode_id(flt.organization, "Organization", "organization")
            if flt.organization
            else None
        ),
        territory_id=decode_id(flt.territory, "Territory", "territory") if flt.territory else None,
        active=flt.active,
        text=flt.text or "",
    )


@registry.query
@strawberry.type
class AccountQueries:
    @strawberry.field(
        description="The signed-in account, or null for anonymous callers and API keys."
    )
    async def me(self, info: strawberry.Info) -> Account | None:
        account_id = info.context.viewer.account_id
        if account_id is None:
            return None
        found = await account_by_id(info.context).load(account_id)
        return Account.from_model(found) if found else None

    @strawberry.field(description="Accounts, by e-mail address (administrators).")
    async def accounts(
        self,
        info: strawberry.Info,
        filter: Annotated[
            AccountFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Account]:
        ctx = info.context
        page = await admin.list_accounts(
            ctx.viewer,
            flt=_account_filter(filter),
            page=page_request(info, first, after, last, before),
        )
        return connection(page, Account.from_model)

    @strawberry.field(description="One account (administrators).")
    async def account(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="ID of the account.")],
    ) -> Account:
        found = await admin.get_account(info.context.viewer, decode_id(id, "Account"))
        return Account.from_model(found)

    @strawberry.field(
        description="Partner API keys, newest first, with scopes and last use (administrators)."
    )
    async def api_keys(
        self,
        info: strawberry.Info,
        filter: Annotated[
            ApiKeyFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ApiKey]:
        ctx = info.context
        flt = filter or ApiKeyFilter()
        page = await admin.list_api_keys(
            ctx.viewer,
            flt=admin.ApiKeyFilter(
                organization_id=(
                    decode_id(flt.organization, "Organization", "organization")
                    if flt.organization
                    else None
                ),
                include_revoked=flt.include_revoked,
            ),
            page=page_request(info, first, after, last, before),
        )
        return connection(page, ApiKey.from_model)


registry.other_node_type(Account, readable_account_by_id)
