"""The GraphQL ``Territory`` type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.enums import mirror
from schema.relay import Node, children_field
from schema.territories import loaders
from services.labels import label
from services.territories.models import Territory as TerritoryModel
from services.territories.models import TerritoryLevel

TerritoryLevelEnum = mirror(TerritoryLevel, "Level of a local authority.")

if TYPE_CHECKING:
    from schema.projects.types import Membership


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

    resources = children_field(
        "Published resources concerning this territory, newest first.",
        node="schema.resources.types.Resource",
        orders="schema.resources.types.ResourceOrder",
        pages="schema.resources.loaders.resource_pages_by_territory_id",
    )

    @strawberry.field(description="The shared projects this territory takes part in or observes.")
    async def memberships(
        self, info: strawberry.Info
    ) -> list[Annotated[Membership, strawberry.lazy("schema.projects.types")]]:
        from schema.projects.types import Membership

        rows = await loaders.memberships_by_territory_id(info.context).load(self.pk)
        return [Membership.from_model(m) for m in rows]
