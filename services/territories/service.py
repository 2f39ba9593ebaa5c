"""Reading territories (local authorities)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.territories.models import Territory, TerritoryLevel

ORDERINGS: dict[str, Ordering] = {
    "NAME": Ordering((SortKey("slug", False, "str"), SortKey("id", False, "int"))),
}


@dataclass(frozen=True)
class TerritoryFilter:
    levels: Sequence[TerritoryLevel] = ()


def territories_queryset(
    *, flt: TerritoryFilter, order: str | None
) -> tuple[QuerySet[Territory], Ordering]:
    """The territories under ``flt``, and the order they are listed in."""
    condition = Q(level__in=list(flt.levels)) if flt.levels else Q()
    return Territory.filter(condition), ORDERINGS[order or "NAME"]


async def list_territories(
    *, flt: TerritoryFilter, order: str | None, page: PageRequest
) -> Page[Territory]:
    queryset, ordering = territories_queryset(flt=flt, order=order)
    return await paginate(queryset, ordering, page)


def territory_by_slug_queryset(slug: str) -> QuerySet[Territory]:
    """The territory with this slug (at most one row)."""
    return Territory.filter(slug=slug).limit(1)


async def get_territory_by_slug(slug: str) -> Territory | None:
    return await territory_by_slug_queryset(slug).first()


def territory_by_id_queryset(pk: int) -> QuerySet[Territory]:
    """The territory ``pk`` (at most one row)."""
    return Territory.filter(id=pk).limit(1)


async def get_territories_by_ids(ids: Sequence[int]) -> dict[int, Territory]:
    return {t.id: t for t in await Territory.filter(id__in=list(ids))}
