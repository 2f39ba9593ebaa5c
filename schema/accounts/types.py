"""The GraphQL ``Account`` type."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.directives import VIEWER_DEPENDENT
from schema.enums import mirror
from schema.payloads import UserError
from schema.relay import Node
from services.accounts.models import Account as AccountModel
from services.accounts.models import ApiKey as ApiKeyModel
from services.accounts.service import display_name_of
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
    is_active: strawberry.Private[bool] = True
    last_login: strawberry.Private[dt.datetime | None] = None
    created: strawberry.Private[dt.datetime | None] = None
    # True when answering the person themself (sign-in), before their token is in use.
    own: strawberry.Private[bool] = False

    @classmethod
    def from_model(cls, m: AccountModel) -> Account:
        return cls(
            pk=m.id,
            display_name=display_name_of(m),
            role=m.role,
            email_address=m.email,
            territory_pk=m.territory_id,  # type: ignore[attr-defined]
            organization_pk=m.organization_id,  # type: ignore[attr-defined]
            is_active=m.is_active,
            last_login=m.last_login_at,
            created=m.created_at,
        )

    def _managed_by(self, info: strawberry.Info) -> bool:
        viewer = info.context.viewer
        return self.own or viewer.account_id == self.pk or is_allowed(viewer, "account.list")

    @strawberry.field(
        description="E-mail address (private: the account itself and editors).",
        directives=[VIEWER_DEPENDENT],
    )
    def email(self, info: strawberry.Info) -> str | None:
        viewer = info.context.viewer
        if self.own or viewer.account_id == self.pk or is_allowed(viewer, "account.read_email"):
            return self.email_address
        return None

    @strawberry.field(
        description="False once deactivated: it cannot sign in and its tokens are refused "
        "(the account itself and administrators; null for others).",
        directives=[VIEWER_DEPENDENT],
    )
    def active(self, info: strawberry.Info) -> bool | None:
        return self.is_active if self._managed_by(info) else None

    @strawberry.field(
        description="Last successful sign-in (the account itself and administrators).",
        directives=[VIEWER_DEPENDENT],
    )
    def last_sign_in_at(self, info: strawberry.Info) -> dt.datetime | None:
        return self.last_login if self._managed_by(info) else None

    @strawberry.field(
        description="When the account was created (the account itself and administrators).",
        directives=[VIEWER_DEPENDENT],
    )
    def created_at(self, info: strawberry.Info) -> dt.datetime | None:
        return self.created if self._managed_by(info) else None

    @strawberry.field(
        description="Sessions (bearer tokens) still usable: neither revoked nor expired "
        "(administrators; null for others).",
        directives=[VIEWER_DEPENDENT],
    )
    async def active_sessions(self, info: strawberry.Info) -> int | None:
        from schema.accounts.loaders import active_sessions_by_account

        if not is_allowed(info.context.viewer, "account.list"):
            return None
        return await active_sessions_by_account(info.context).load(self.pk)

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


@strawberry.enum(description="What an API key may do.")
class ApiKeyScope(enum.Enum):
    READ = strawberry.enum_value("READ", description="Read published content.")
    CONTRIBUTE = strawberry.enum_value(
        "CONTRIBUTE", description="Contribute resources for editors to review."
    )


@strawberry.type(
    description="A partner organisation's API key (`tec apikey create`): its secret is never "
    "shown again, the prefix identifies it."
)
class ApiKey:
    prefix: str = strawberry.field(
        description="First 8 characters after `tec_k_`: names the key (`tec apikey revoke`)."
    )
    name: str = strawberry.field(description="What the key is for.")
    scopes: list[ApiKeyScope] = strawberry.field(description="What the key may do.")
    created_at: dt.datetime = strawberry.field(description="When it was created.")
    last_used_at: dt.datetime | None = strawberry.field(
        description="Last request sent with it, to the minute (null: never used)."
    )
    revoked_at: dt.datetime | None = strawberry.field(
        description="When it was revoked (null: still valid)."
    )
    organization_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: ApiKeyModel) -> ApiKey:
        return cls(
            prefix=m.prefix,
            name=m.name,
            scopes=[ApiKeyScope[s] for s in sorted(m.scope_set)],
            created_at=m.created_at,
            last_used_at=m.last_used_at,
            revoked_at=m.revoked_at,
            organization_pk=m.organization_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The organisation the key belongs to.")
    async def organization(
        self, info: strawberry.Info
    ) -> Annotated[Organization, strawberry.lazy("schema.organizations.types")] | None:
        from schema.organizations.loaders import organization_by_id
        from schema.organizations.types import Organization

        found = await organization_by_id(info.context).load(self.organization_pk)
        return Organization.from_model(found) if found else None


@strawberry.type(description="Sessions ended by `revokeTokens`.")
class RevokeTokensResult:
    account: Account = strawberry.field(description="The account whose sessions ended.")
    revoked: int = strawberry.field(description="How many tokens were still usable.")


@strawberry.type(description="A password-reset link sent by `resetPassword`.")
class PasswordResetSent:
    account: Account = strawberry.field(description="The account the link is for.")
    expires_at: dt.datetime = strawberry.field(
        description="Until when the link works (once); the current password works until then."
    )
