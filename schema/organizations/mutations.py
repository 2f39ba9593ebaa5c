"""Organisation mutations: editors create, change and delete organisations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.enums import OrganizationKindEnum, OrganizationRoleEnum
from schema.organizations.types import Organization
from schema.relay import Deleted, decode_id
from services.errors import BadUserInput
from services.organizations import editing

OrganizationID = Annotated[
    strawberry.ID, strawberry.argument(description="ID of the organisation.")
]


@strawberry.input(
    description="Fields of an organisation. On update, omitted fields are left as they are."
)
class OrganizationInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Full name (≤ 200).")
    slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="URL name (a-z, 0-9, dashes); generated from the name when omitted.",
    )
    acronym: str | None = strawberry.field(
        default=strawberry.UNSET, description="Acronym (≤ 30), e.g. ANCT; null removes it."
    )
    kind: OrganizationKindEnum | None = strawberry.field(
        default=strawberry.UNSET, description="Kind of organisation (OTHER when omitted)."
    )
    website: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Home page (http or https only, ≤ 500); null removes it.",
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Short plain-text presentation (≤ 2,000)."
    )
    roles: list[OrganizationRoleEnum] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Roles it plays on the platform (replaces the list).",
    )


_FIELDS = ("name", "slug", "acronym", "kind", "website", "description", "roles")
_NULLABLE = ("acronym", "website")


def to_changes(data: OrganizationInput) -> editing.OrganizationChanges:
    """The service's change set; null is refused where a value is required."""
    changes = editing.OrganizationChanges()
    for name in _FIELDS:
        value = getattr(data, name)
        if value is strawberry.UNSET:
            continue
        if value is None and name == "roles":
            value = []
        elif value is None and name not in _NULLABLE:
            raise BadUserInput(f"« {name} » ne peut pas être null.", field=name)
        setattr(changes, name, value)
    return changes


def organization_pk(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Organization")


@strawberry.type
class OrganizationMutations:
    @strawberry.mutation(description="Create an organisation (editors); it is public at once.")
    async def create_organization(
        self,
        info: strawberry.Info,
        input: Annotated[OrganizationInput, strawberry.argument(description="Its fields.")],
    ) -> Organization:
        found = await editing.create_organization(info.context.viewer, changes=to_changes(input))
        return Organization.from_model(found)

    @strawberry.mutation(
        description="Change an organisation (editors). Organisations carry no version: "
        "the last write wins."
    )
    async def update_organization(
        self,
        info: strawberry.Info,
        id: OrganizationID,
        input: Annotated[OrganizationInput, strawberry.argument(description="Fields to change.")],
    ) -> Organization:
        found = await editing.update_organization(
            info.context.viewer, organization_pk(id), changes=to_changes(input)
        )
        return Organization.from_model(found)

    @strawberry.mutation(
        description="Delete an organisation for good (editors); CONFLICT while accounts, "
        "active API keys, shared projects or contributions refer to it."
    )
    async def delete_organization(self, info: strawberry.Info, id: OrganizationID) -> Deleted:
        await editing.delete_organization(info.context.viewer, organization_pk(id))
        return Deleted(id=id)
