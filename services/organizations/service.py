"""Reading organisations and the roles they play."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from services.organizations.models import (
    Organization,
    OrganizationKind,
    OrganizationRole,
    OrganizationRoleLink,
)
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.statements import instances_by_ids

ORDERINGS: dict[str, Ordering] = {
    "NAME": Ordering((SortKey("slug", False, "str"), SortKey("id", False, "int"))),
}


@dataclass(frozen=True)
class OrganizationFilter:
    kinds: Sequence[OrganizationKind] = ()
    roles: Sequence[OrganizationRole] = ()


def organizations_queryset(
    *, flt: OrganizationFilter, order: str | None
) -> tuple[QuerySet[Organization], Ordering]:
    """The organisations under ``flt``, and the order they are listed in."""
    condition = Q()
    if flt.kinds:
        condition &= Q(kind__in=list(flt.kinds))
    if flt.roles:
        ids = Subquery(
            OrganizationRoleLink.filter(role__in=list(flt.roles)).values("organization_id")
        )
        condition &= Q(id__in=ids)
    return Organization.filter(condition), ORDERINGS[order or "NAME"]


async def list_organizations(
    *, flt: OrganizationFilter, order: str | None, page: PageRequest
) -> Page[Organization]:
    queryset, ordering = organizations_queryset(flt=flt, order=order)
    return await paginate(queryset, ordering, page)


def organization_by_slug_queryset(slug: str) -> QuerySet[Organization]:
    """The organisation with this slug (at most one row)."""
    return Organization.filter(slug=slug).limit(1)


async def get_organization_by_slug(slug: str) -> Organization | None:
    return await organization_by_slug_queryset(slug).first()


def organization_by_id_queryset(pk: int) -> QuerySet[Organization]:
    """The organisation ``pk`` (at most one row)."""
    return Organization.filter(id=pk).limit(1)


async def get_organizations_by_ids(ids: Sequence[int]) -> dict[int, Organization]:
    return await instances_by_ids(Organization, Q(), ids)


async def get_roles_by_organization_ids(
    ids: Sequence[int],
) -> dict[int, list[OrganizationRole]]:
    grouped: dict[int, list[OrganizationRole]] = defaultdict(list)
    for link in await OrganizationRoleLink.filter(organization_id__in=list(ids)).order_by("role"):
        grouped[link.organization_id].append(link.role)
    return grouped
