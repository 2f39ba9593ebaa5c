"""The GraphQL ``Account`` type."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.directives import VIEWER_DEPENDENT
from schema.enums import mirror
from schema.payloads import UserError
from schema.relay import Node
from services.accounts.models import Account as AccountModel
from services.policy import is_allowed
from services.viewer import Role

RoleEnum = mirror(Role, "Role of an account (ANONYMOUS: nobody signed in).")

if TYPE_CHECKING:
    from schema.organizations.types import Organization
    from schema.territories.types import Territory


@strawberry.type(
    description="A person who signs in: administrator, editor, member of a local "
    "authority or of a partner organisation."
)
class Account(Node):
    display_name: str = strawberry.field(description="Name shown to others.")
    role: RoleEnum = strawberry.field(description="Role, which decides what the account may do.")
    email_address: strawberry.Private[str]
    territory_pk: strawberry.Private[int | None]
    organization_pk: strawberry.Private[int | None]
    # True when answering the person themself (sign-in), before their token is in use.
    own: strawberry.Private[bool] = False

    @classmethod
    def from_model(cls, m: AccountModel) -> Account:
        return cls(
            pk=m.id,
            display_name=m.display_name,
            role=m.role,
            email_address=m.email,
            territory_pk=m.territory_id,  # type: ignore[attr-defined]
            organization_pk=m.organization_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(
        description="E-mail address (private: the account itself and editors).",
        directives=[VIEWER_DEPENDENT],
    )
    def email(self, info: strawberry.Info) -> str | None:
        viewer = info.context.viewer
        if self.own or viewer.account_id == self.pk or is_allowed(viewer, "account.read_email"):
            return self.email_address
        return None

    @strawberry.field(description="The local authority a member acts for.")
    async def territory(
        self, info: strawberry.Info
    ) -> Annotated[Territory, strawberry.lazy("schema.territories.types")] | None:
        from schema.territories.loaders import territory_by_id
        from schema.territories.types import Territory

        if self.territory_pk is None:
            return None
        found = await territory_by_id(info.context).load(self.territory_pk)
        return Territory.from_model(found) if found else None

    @strawberry.field(description="The partner organisation a member belongs to.")
    async def organization(
        self, info: strawberry.Info
    ) -> Annotated[Organization, strawberry.lazy("schema.organizations.types")] | None:
        from schema.organizations.loaders import organization_by_id
        from schema.organizations.types import Organization

        if self.organization_pk is None:
            return None
        found = await organization_by_id(info.context).load(self.organization_pk)
        return Organization.from_model(found) if found else None


@strawberry.type(
    description="A new session: keep the token and send it as `Authorization: Bearer <token>`."
)
class SignInPayload:
    token: str | None = strawberry.field(
        default=None, description="Bearer token (shown once, stored hashed); null when refused."
    )
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the token expires."
    )
    account: Account | None = strawberry.field(
        default=None, description="The signed-in account; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="What was refused; empty on success."
    )
