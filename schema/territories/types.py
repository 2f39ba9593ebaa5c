"""The GraphQL ``Territory`` type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.enums import mirror
from schema.relay import After, Before, Connection, First, Last, Node, child_connection
from schema.territories import loaders
from services.labels import label
from services.territories.models import Territory as TerritoryModel
from services.territories.models import TerritoryLevel

TerritoryLevelEnum = mirror(TerritoryLevel, "Level of a local authority.")

if TYPE_CHECKING:
    from schema.projects.types import Membership
    from schema.resources.types import Resource, ResourceOrder


@strawberry.type(description="A local authority: commune, EPCI, département, région, métropole.")
class Territory(Node):
    slug: str = strawberry.field(description="Unique, URL-friendly name.")
    name: str = strawberry.field(description="Name, e.g. « Niort ».")
    level: TerritoryLevelEnum = strawberry.field(description="Level of the local authority.")
    insee_code: str | None = strawberry.field(
        description="Official code (INSEE code of a commune, number of a département) if known."
    )

    @classmethod
    def from_model(cls, m: TerritoryModel) -> Territory:
        return cls(pk=m.id, slug=m.slug, name=m.name, level=m.level, insee_code=m.insee_code)

    @strawberry.field(description="French label of the level.")
    def level_label(self) -> str:
        return label(self.level)

    @strawberry.field(description="Published resources concerning this territory, newest first.")
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
        from schema.resources.loaders import resource_pages_by_territory_id
        from schema.resources.types import Resource

        return await child_connection(
            info,
            resource_pages_by_territory_id,
            self.pk,
            Resource.from_model,
            order=order,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(description="The shared projects this territory takes part in or observes.")
    async def memberships(
        self, info: strawberry.Info
    ) -> list[Annotated[Membership, strawberry.lazy("schema.projects.types")]]:
        from schema.projects.types import Membership

        rows = await loaders.memberships_by_territory_id(info.context).load(self.pk)
        return [Membership.from_model(m) for m in rows]
