"""Resource queries: the filtered, paginated list and the lookup by slug."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from schema import registry
from schema.caching import public_read
from schema.compiler.coverage import (
    Private,
    Ranking,
    compiled_connection,
    compiled_table,
    filter_argument,
    order_argument,
)
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection,
    decode_ids,
    page_request,
)
from schema.resources.loaders import resource_by_id
from schema.resources.types import (
    Resource,
    ResourceFilter,
    ResourceOrder,
    reads_every_rejection_reason,
)
from services.errors import BadUserInput
from services.resources import contributions, service
from services.resources.models import Resource as ResourceModel
from services.resources.models import ResourceTheme
from services.viewer import Viewer

# Years a date can hold on both sides of the Europe/Paris offset (fuzzing found that
# -2205 or 10558 raised inside datetime()).
_YEARS = range(1000, 9999)


def _years(years: list[int] | None) -> tuple[int, ...]:
    for year in years or ():
        if year not in _YEARS:
            raise BadUserInput(
                f"Année invalide : {year} (entre {_YEARS.start} et {_YEARS.stop - 1}).",
                field="filter.years",
            )
    return tuple(years or ())


def service_filter(flt: ResourceFilter | None) -> service.ResourceFilter:
    """The service's filter for the GraphQL one (IDs decoded, years checked)."""
    if flt is None:
        return service.ResourceFilter()
    return service.ResourceFilter(
        theme_ids=decode_ids(flt.themes or (), "Theme", "filter.themes"),
        kinds=flt.kinds or (),
        territory_ids=decode_ids(flt.territories or (), "Territory", "filter.territories"),
        organization_ids=decode_ids(
            flt.organizations or (), "Organization", "filter.organizations"
        ),
        years=_years(flt.years),
        audiences=flt.audiences or (),
        statuses=flt.statuses or (),
    )


@registry.query
@strawberry.type
class ResourceQueries:
    @public_read(description="Resources, newest first; only published ones without rights.")
    async def resources(
        self,
        info: strawberry.Info,
        filter: Annotated[
            ResourceFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        order: Annotated[
            ResourceOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Resource]:
        ctx = info.context
        page = await service.list_resources(
            ctx.viewer,
            flt=service_filter(filter),
            order=order.value if order else None,
            page=page_request(info, first, after, last, before),
        )
        return connection(page, Resource.from_model)

    @public_read(description="The resource with this slug, or null.")
    async def resource(
        self,
        info: strawberry.Info,
        slug: Annotated[str, strawberry.argument(description="Slug of the resource.")],
    ) -> Resource | None:
        found = await service.get_resource_by_slug(info.context.viewer, slug)
        return Resource.from_model(found) if found else None


@registry.query
@strawberry.type
class ContributionQueries:
    @strawberry.field(description="Contributions waiting for moderation, oldest first (editors).")
    async def moderation_queue(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Resource]:
        ctx = info.context
        page = await contributions.list_moderation_queue(
            ctx.viewer, page=page_request(info, first, after, last, before)
        )
        return connection(page, Resource.from_model)

    @strawberry.field(
        description="What you contributed, newest first, with its state and the "
        "reason of a rejection (local authorities and partners)."
    )
    async def my_contributions(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Resource]:
        ctx = info.context
        page = await contributions.list_own_contributions(
            ctx.viewer, page=page_request(info, first, after, last, before)
        )
        return connection(page, Resource.from_model)


registry.node_type("Resource", Resource, resource_by_id)


def _listed(viewer: Viewer, args: dict[str, Any], now: dt.datetime) -> Any:
    flt = service_filter(filter_argument(ResourceFilter, args))
    return service.resources_queryset(viewer, flt=flt, order=order_argument(args), now=now)


compiled_table(
    "Resource",
    ResourceModel,
    listed=("resources", _listed),
    by_slug=("resource", service.resource_by_slug_queryset),
    by_id=service.resource_by_id_queryset,
    links={
        "themes": service.THEMES,
        "territories": service.TERRITORIES,
        "organizations": service.ORGANIZATIONS,
    },
    private={"rejectionReason": Private("rejection_reason", reads_every_rejection_reason)},
    ranked={
        "related": Ranking(
            candidates=service.related_candidates,
            statement=service.related_sql,
            anchor=(ResourceTheme, "resource_id"),
            check_limit=service.check_related_limit,
        )
    },
)
compiled_connection("Theme", "resources", service.THEME_RESOURCES)
compiled_connection("Territory", "resources", service.TERRITORY_RESOURCES)
compiled_connection("Organization", "resources", service.ORGANIZATION_RESOURCES)
