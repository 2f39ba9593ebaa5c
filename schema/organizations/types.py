"""The GraphQL ``Organization`` type."""

from __future__ import annotations

import strawberry

from schema.enums import mirror
from schema.organizations import loaders
from schema.relay import Node, children_field
from services.labels import label
from services.organizations.models import Organization as OrganizationModel
from services.organizations.models import OrganizationKind, OrganizationRole

OrganizationKindEnum = mirror(OrganizationKind, "Legal or institutional kind of organisation.")
OrganizationRoleEnum = mirror(OrganizationRole, "Role an organisation plays on the platform.")


@strawberry.type(
    description="An organisation: co-animator of Territoires en Commun, provider of a "
    "shared project, source of resources, event organiser."
)
class Organization(Node):
    slug: str = strawberry.field(description="Unique, URL-friendly name.")
    name: str = strawberry.field(description="Full name.")
    acronym: str | None = strawberry.field(description="Acronym, e.g. ANCT.")
    kind: OrganizationKindEnum = strawberry.field(description="Kind of organisation.")
    website: str | None = strawberry.field(description="Home page.")
    description: str = strawberry.field(description="Short presentation, in French.")

    @classmethod
    def from_model(cls, m: OrganizationModel) -> Organization:
        return cls(
            pk=m.id,
            slug=m.slug,
            name=m.name,
            acronym=m.acronym,
            kind=m.kind,
            website=m.website,
            description=m.description,
        )

    @strawberry.field(description="French label of the kind.")
    def kind_label(self) -> str:
        return label(self.kind)

    @strawberry.field(description="Roles the organisation plays on the platform.")
    async def roles(self, info: strawberry.Info) -> list[OrganizationRoleEnum]:
        return await loaders.roles_by_organization_id(info.context).load(self.pk)

    resources = children_field(
        "Published resources of this organisation, newest first.",
        node="schema.resources.types.Resource",
        orders="schema.resources.types.ResourceOrder",
        pages="schema.resources.loaders.resource_pages_by_organization_id",
    )

    events = children_field(
        "Events this organisation organises, soonest first.",
        node="schema.events.types.Event",
        orders="schema.events.types.EventOrder",
        pages="schema.events.loaders.event_pages_by_organization_id",
    )
