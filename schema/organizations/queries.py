"""Organisation queries."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

import strawberry

from schema import registry
from schema.caching import public_read
from schema.compiler.coverage import compiled_table, filter_argument, order_argument
from schema.organizations.loaders import organization_by_id
from schema.organizations.types import Organization, OrganizationKindEnum, OrganizationRoleEnum
from schema.relay import After, Before, Connection, First, Last, connection, page_request
from services.organizations import service
from services.organizations.models import Organization as OrganizationModel
from services.viewer import Viewer


@strawberry.enum(description="Sort orders of organisations.")
class OrganizationOrder(enum.Enum):
    NAME = strawberry.enum_value("NAME", description="Alphabetical order (accents ignored).")


@strawberry.input(description="Conditions on organisations.")
class OrganizationFilter:
    kinds: list[OrganizationKindEnum] | None = strawberry.field(
        default=None, description="Kinds of organisation (any of)."
    )
    roles: list[OrganizationRoleEnum] | None = strawberry.field(
        default=None, description="Roles played (any of)."
    )


def service_filter(flt: OrganizationFilter | None) -> service.OrganizationFilter:
    """The service's filter for the GraphQL one."""
    return service.OrganizationFilter(
        kinds=(flt.kinds or ()) if flt else (), roles=(flt.roles or ()) if flt else ()
    )


@registry.query
@strawberry.type
class OrganizationQueries:
    @public_read(description="Organisations, alphabetically.")
    async def organizations(
        self,
        info: strawberry.Info,
        filter: Annotated[
            OrganizationFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        order: Annotated[
            OrganizationOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Organization]:
        page = await service.list_organizations(
            flt=service_filter(filter),
            order=order.value if order else None,
            page=page_request(info, first, after, last, before),
        )
        return connection(page, Organization.from_model)

    @public_read(description="The organisation with this slug, or null.")
    async def organization(
        self, slug: Annotated[str, strawberry.argument(description="Slug of the organisation.")]
    ) -> Organization | None:
        found = await service.get_organization_by_slug(slug)
        return Organization.from_model(found) if found else None


registry.node_type("Organization", Organization, organization_by_id)


def _listed(viewer: Viewer, args: dict[str, Any], now: dt.datetime) -> Any:
    flt = service_filter(filter_argument(OrganizationFilter, args))
    return service.organizations_queryset(flt=flt, order=order_argument(args))


compiled_table(
    "Organization",
    OrganizationModel,
    listed=("organizations", _listed),
    by_slug=("organization", lambda viewer, slug: service.organization_by_slug_queryset(slug)),
    by_id=lambda viewer, pk: service.organization_by_id_queryset(pk),
)
