"""The GraphQL ``AuditEntry`` type."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from schema.accounts.types import Account
from services.audit.models import AuditEntry as AuditModel


@strawberry.type(
    description="One write: who, when, what, and the before/after of the fields it changed."
)
class AuditEntry:
    at: dt.datetime = strawberry.field(description="When (UTC).")
    action: str = strawberry.field(description="What, e.g. `resource.update`.")
    actor_role: str = strawberry.field(description="Role of the author at that time.")
    entity_type: str = strawberry.field(description="Type of the changed object, e.g. Resource.")
    entity_id: int = strawberry.field(description="Database key of the changed object.")
    changes: JSON = strawberry.field(
        description="`{field: [before, after]}` of the changed fields (no secret is recorded)."
    )
    actor_pk: strawberry.Private[int | None]
    id_value: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: AuditModel) -> AuditEntry:
        return cls(
            at=m.at,
            action=m.action,
            actor_role=m.actor_role,
            entity_type=m.entity_type,
            entity_id=m.entity_id,
            changes=m.changes,
            id_value=m.id,
            actor_pk=m.actor_account_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The account that made the change (null for an API key).")
    async def actor(self, info: strawberry.Info) -> Account | None:
        from schema.accounts.loaders import account_by_id

        if self.actor_pk is None:
            return None
        found = await account_by_id(info.context).load(self.actor_pk)
        return Account.from_model(found) if found else None
