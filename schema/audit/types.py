"""The GraphQL ``AuditEntry`` type."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from schema.accounts.types import Account
from services.accounts.service import display_name_of
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
    operator: str | None = strawberry.field(
        description="Who ran the operators' command `tec` that made the change: "
        "`tec (<system user>@<host>)`; null for changes made through the API and for the "
        "platform's scheduled work."
    )
    actor_pk: strawberry.Private[int | None]
    api_key_pk: strawberry.Private[int | None]
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
            operator=m.actor_name,
            id_value=m.id,
            actor_pk=m.actor_account_id,  # type: ignore[attr-defined]
            api_key_pk=m.actor_api_key_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(
        description="Who made the change, to show: the author's account name (followed by "
        "`via tec (alice@host)` when an operator who named their account with `tec --as` "
        "ran the command), the operator (`tec (alice@host)`), `clé API <prefix>`, or "
        "`plateforme` for the scheduled work (closing a round, a scheduled newsletter)."
    )
    async def actor_name(self, info: strawberry.Info) -> str:
        from schema.accounts.loaders import account_by_id, api_key_prefix_by_id

        if self.actor_pk is not None:
            found = await account_by_id(info.context).load(self.actor_pk)
            if found is not None:
                name = display_name_of(found)
                return f"{name} via {self.operator}" if self.operator else name
        if self.operator:
            return self.operator
        if self.api_key_pk is not None:
            prefix = await api_key_prefix_by_id(info.context).load(self.api_key_pk)
            return f"clé API {prefix}" if prefix else "clé API révoquée et supprimée"
        if self.actor_role == "SYSTEM":
            return "plateforme"
        if self.actor_role == "ADMIN":
            # An administrator without an account nor a name: the `tec` command before it
            # named its operators.
            return "tec (opérateur non nommé)"
        return "compte supprimé"

    @strawberry.field(
        description="The account that made the change: the author's, or the one an operator "
        "named with `tec --as` (null for an API key, an unnamed operator, the platform)."
    )
    async def actor(self, info: strawberry.Info) -> Account | None:
        from schema.accounts.loaders import account_by_id

        if self.actor_pk is None:
            return None
        found = await account_by_id(info.context).load(self.actor_pk)
        return Account.from_model(found) if found else None
