"""Territory queries."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

import strawberry

from schema import registry
from schema.caching import public_read
from schema.compiler.coverage import compiled_table, filter_argument, order_argument
from schema.relay import After, Before, Connection, First, Last, connection, page_request
from schema.territories.loaders import territory_by_id
from schema.territories.types import Territory, TerritoryLevelEnum
from services.territories import service
from services.territories.models import Territory as TerritoryModel
from services.viewer import Viewer


@strawberry.enum(description="Sort orders of territories.")
class TerritoryOrder(enum.Enum):
    NAME = strawberry.enum_value("NAME", description="Alphabetical order (accents ignored).")


@strawberry.input(description="Conditions on territories.")
class TerritoryFilter:
    levels: list[TerritoryLevelEnum] | None = strawberry.field(
        default=None, description="Levels of local authority (any of)."
    )


def service_filter(flt: TerritoryFilter | None) -> service.TerritoryFilter:
    """The service's filter for the GraphQL one."""
    return service.TerritoryFilter(levels=(flt.levels or ()) if flt else ())


@registry.query
@strawberry.type
class TerritoryQueries:
    @public_read(description="Territories (local authorities), alphabetically.")
    async def territories(
        self,
        info: strawberry.Info,
        filter: Annotated[
            TerritoryFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        order: Annotated[
            TerritoryOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Territory]:
        page = await service.list_territories(
            flt=service_filter(filter),
            order=order.value if order else None,
            page=page_request(info, first, after, last, before),
        )
        return connection(page, Territory.from_model)

    @public_read(description="The territory with this slug, or null.")
    async def territory(
        self, slug: Annotated[str, strawberry.argument(description="Slug of the territory.")]
    ) -> Territory | None:
        found = await service.get_territory_by_slug(slug)
        return Territory.from_model(found) if found else None


registry.node_type("Territory", Territory, territory_by_id)


def _listed(viewer: Viewer, args: dict[str, Any], now: dt.datetime) -> Any:
    flt = service_filter(filter_argument(TerritoryFilter, args))
    return service.territories_queryset(flt=flt, order=order_argument(args))


compiled_table(
    "Territory",
    TerritoryModel,
    listed=("territories", _listed),
    by_slug=("territory", lambda viewer, slug: service.territory_by_slug_queryset(slug)),
    by_id=lambda viewer, pk: service.territory_by_id_queryset(pk),
)
