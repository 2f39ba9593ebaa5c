"""The GraphQL ``Organization`` type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.enums import mirror
from schema.organizations import loaders
from schema.relay import After, Before, Connection, First, Last, Node, child_connection
from services.labels import label
from services.organizations.models import Organization as OrganizationModel
from services.organizations.models import OrganizationKind, OrganizationRole

OrganizationKindEnum = mirror(OrganizationKind, "Legal or institutional kind of organisation.")
OrganizationRoleEnum = mirror(OrganizationRole, "Role an organisation plays on the platform.")

if TYPE_CHECKING:
    from schema.events.types import Event, EventOrder
    from schema.resources.types import Resource, ResourceOrder


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

    @strawberry.field(description="Published resources of this organisation, newest first.")
    async def resources(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order: Annotated[
            Annotated[ResourceOrder, strawberry.lazy("schema.resources.types")] | None,
            strawberry.argument(description="Sort order."),
        ] = None,
    ) -> Connection[Annotated[Resource, strawberry.lazy("schema.resources.types")]]:
        from schema.resources.loaders import resource_pages_by_organization_id
        from schema.resources.types import Resource

        return await child_connection(
            info,
            resource_pages_by_organization_id,
            self.pk,
            Resource.from_model,
            order=order,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(description="Events this organisation organises, soonest first.")
    async def events(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order: Annotated[
            Annotated[EventOrder, strawberry.lazy("schema.events.types")] | None,
            strawberry.argument(description="Sort order."),
        ] = None,
    ) -> Connection[Annotated[Event, strawberry.lazy("schema.events.types")]]:
        from schema.events.loaders import event_pages_by_organization_id
        from schema.events.types import Event

        return await child_connection(
            info,
            event_pages_by_organization_id,
            self.pk,
            Event.from_model,
            order=order,
            first=first,
            after=after,
            last=last,
            before=before,
        )
