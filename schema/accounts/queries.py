"""Account queries."""

from __future__ import annotations

import strawberry

from schema import registry
from schema.accounts.loaders import account_by_id, readable_account_by_id
from schema.accounts.types import Account


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


registry.other_node_type(Account, readable_account_by_id)
