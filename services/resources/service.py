"""Reading resources: lists with filters and keyset pages, lookups, related content."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from services.compat_tortoise import db_columns, model_builder, pk_column, statement, table_name
from services.content import Audience, ContentStatus
from services.links import Linked, pages_by_parent
from services.organizations.models import Organization
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.resources.models import (
    Resource,
    ResourceKind,
    ResourceOrganization,
    ResourceTerritory,
    ResourceTheme,
)
from services.statements import instances_by_ids, padded
from services.territories.models import Territory
from services.themes.models import Theme
from services.viewer import Viewer, visible

PARIS = ZoneInfo("Europe/Paris")

ORDERINGS: dict[str, Ordering] = {
    "NEWEST": Ordering(
        (SortKey("published_at", True, "datetime"), SortKey("id", True, "int")),
        require_first_key=True,
    ),
    "OLDEST": Ordering(
        (SortKey("published_at", False, "datetime"), SortKey("id", False, "int")),
        require_first_key=True,
    ),
    "TITLE": Ordering((SortKey("slug", False, "str"), SortKey("id", False, "int"))),
    "RECENTLY_UPDATED": Ordering(
        (SortKey("updated_at", True, "datetime"), SortKey("id", True, "int"))
    ),
}


@dataclass(frozen=True)
class ResourceFilter:
    """Every condition is optional; lists mean « any of »."""

    theme_ids: Sequence[int] = ()
    kinds: Sequence[ResourceKind] = ()
    territory_ids: Sequence[int] = ()
    organization_ids: Sequence[int] = ()
    years: Sequence[int] = ()
    audiences: Sequence[Audience] = ()
    statuses: Sequence[ContentStatus] = field(default_factory=tuple)


def _year_range(year: int) -> Q:
    start = dt.datetime(year, 1, 1, tzinfo=PARIS)
    end = dt.datetime(year + 1, 1, 1, tzinfo=PARIS)
    return Q(published_at__gte=start, published_at__lt=end)


def _condition(viewer: Viewer, flt: ResourceFilter) -> Q:
    condition = visible(viewer)
    if flt.statuses and viewer.sees_unpublished:
        condition &= Q(status__in=list(flt.statuses))
    if flt.kinds:
        condition &= Q(kind__in=list(flt.kinds))
    if flt.audiences:
        condition &= Q(audience__in=list(flt.audiences))
    if flt.years:
        condition &= Q(*(_year_range(y) for y in flt.years), join_type="OR")
    # Link filters become IN (subquery) so that a resource matching twice is listed once.
    if flt.theme_ids:
        ids = Subquery(ResourceTheme.filter(theme_id__in=list(flt.theme_ids)).values("resource_id"))
        condition &= Q(id__in=ids)
    if flt.territory_ids:
        ids = Subquery(
            ResourceTerritory.filter(territory_id__in=list(flt.territory_ids)).values("resource_id")
        )
        condition &= Q(id__in=ids)
    if flt.organization_ids:
        ids = Subquery(
            ResourceOrganization.filter(organization_id__in=list(flt.organization_ids)).values(
                "resource_id"
            )
        )
        condition &= Q(id__in=ids)
    return condition


def default_order(viewer: Viewer, flt: ResourceFilter) -> str:
    """Newest published first; for editors looking at unpublished states, last updated first."""
    unpublished = [s for s in flt.statuses if s != ContentStatus.PUBLISHED]
    return "RECENTLY_UPDATED" if viewer.sees_unpublished and unpublished else "NEWEST"


def resources_queryset(
    viewer: Viewer, *, flt: ResourceFilter, order: str | None
) -> tuple[QuerySet[Resource], Ordering]:
    """The resources ``viewer`` may see under ``flt``, and the order they are listed in."""
    return Resource.filter(_condition(viewer, flt)), ORDERINGS[order or default_order(viewer, flt)]


async def list_resources(
    viewer: Viewer, *, flt: ResourceFilter, order: str | None, page: PageRequest
) -> Page[Resource]:
    """One page of the resources ``viewer`` may see, filtered and sorted."""
    queryset, ordering = resources_queryset(viewer, flt=flt, order=order)
    return await paginate(queryset, ordering, page)


async def list_feed_resources(
    viewer: Viewer,
    *,
    theme_id: int | None = None,
    organization_id: int | None = None,
    kind: ResourceKind | None = None,
    limit: int,
) -> list[Resource]:
    """The ``limit`` newest resources ``viewer`` sees, for an RSS or Atom feed: all of them,
    or those of one theme, organisation or kind. Newest publication first; like the
    ``NEWEST`` order, it leaves out resources without a publication time. One statement."""
    flt = ResourceFilter(
        theme_ids=() if theme_id is None else (theme_id,),
        organization_ids=() if organization_id is None else (organization_id,),
        kinds=() if kind is None else (kind,),
    )
    page = await paginate(
        Resource.filter(_condition(viewer, flt)), ORDERINGS["NEWEST"], PageRequest(first=limit)
    )
    return page.items


def resource_by_slug_queryset(viewer: Viewer, slug: str) -> QuerySet[Resource]:
    """The resource with this slug if ``viewer`` may see it (at most one row)."""
    return Resource.filter(visible(viewer), slug=slug).limit(1)


async def get_resource_by_slug(viewer: Viewer, slug: str) -> Resource | None:
    return await resource_by_slug_queryset(viewer, slug).first()


async def get_resources_by_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, Resource]:
    return await instances_by_ids(Resource, visible(viewer), ids)


THEMES = Linked(ResourceTheme, parent="resource", child="theme", order=("slug",), visible=True)
"""A resource's themes (those the viewer may see), by slug."""
TERRITORIES = Linked(ResourceTerritory, parent="resource", child="territory", order=("slug",))
"""The territories a resource concerns, by slug."""
ORGANIZATIONS = Linked(
    ResourceOrganization, parent="resource", child="organization", order=("slug",)
)
"""The organisations behind a resource, by slug."""


async def get_themes_by_resource_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, list[Theme]]:
    return await THEMES.children(ids, viewer)


async def get_territories_by_resource_ids(ids: Sequence[int]) -> dict[int, list[Territory]]:
    return await TERRITORIES.children(ids)


async def get_organizations_by_resource_ids(ids: Sequence[int]) -> dict[int, list[Organization]]:
    return await ORGANIZATIONS.children(ids)


async def _pages_through(
    link: type,
    parent: str,
    viewer: Viewer,
    ids: Sequence[int],
    order: str | None,
    page: PageRequest,
) -> dict[int, Page[Resource]]:
    return await pages_by_parent(
        link,
        parent=parent,
        child="resource",
        parent_ids=ids,
        child_condition=visible(viewer, "resource__"),
        ordering=ORDERINGS[order or "NEWEST"],
        request=page,
    )


async def get_resource_pages_by_theme_ids(
    viewer: Viewer, ids: Sequence[int], *, order: str | None, page: PageRequest
) -> dict[int, Page[Resource]]:
    """A page of each theme's resources (reverse relation), one statement for all themes."""
    return await _pages_through(ResourceTheme, "theme", viewer, ids, order, page)


async def get_resource_pages_by_territory_ids(
    viewer: Viewer, ids: Sequence[int], *, order: str | None, page: PageRequest
) -> dict[int, Page[Resource]]:
    return await _pages_through(ResourceTerritory, "territory", viewer, ids, order, page)


async def get_resource_pages_by_organization_ids(
    viewer: Viewer, ids: Sequence[int], *, order: str | None, page: PageRequest
) -> dict[int, Page[Resource]]:
    return await _pages_through(ResourceOrganization, "organization", viewer, ids, order, page)


async def get_related_by_resource_ids(
    viewer: Viewer, ids: Sequence[int], *, limit: int
) -> dict[int, list[Resource]]:
    """For each resource, the ``limit`` resources ``viewer`` may see that share the most
    themes with it: most shared themes first, then newest publication (unpublished ones
    last), then highest id.

    One statement for all the resources asked about, counted and ranked in the database:
    the links of their themes (read through the (theme, resource) index), kept when
    :func:`~services.viewer.visible` keeps their resource, grouped and counted per pair,
    numbered per resource by ``ROW_NUMBER()``, cut at ``limit``. Only the winners' rows
    leave the database."""
    if not ids or limit <= 0:
        return {}
    anchors = padded(list(ids))
    now = viewer.as_of or dt.datetime.now(dt.UTC)
    own_themes = Subquery(ResourceTheme.filter(resource_id__in=anchors).values("theme_id"))
    candidates = ResourceTheme.filter(
        visible(viewer, "resource__", now), theme_id__in=own_themes
    ).values_list("theme_id", "resource_id", "resource__published_at")
    db, inner, values = statement(candidates)
    columns = [column for _, column in db_columns(Resource)]
    mark = _placeholders(db.capabilities.dialect, first=len(values) + 1)
    link, resource = table_name(ResourceTheme), table_name(Resource)
    selected = ", ".join(f'"{resource}"."{column}"' for column in columns)
    anchor_marks = ", ".join(next(mark) for _ in anchors)
    sql = f"""WITH "candidate" ("theme_id", "resource_id", "published_at") AS ({inner}),
"ranked" AS (
  SELECT "own"."resource_id" AS "anchor", "candidate"."resource_id" AS "other",
    ROW_NUMBER() OVER (
      PARTITION BY "own"."resource_id"
      ORDER BY COUNT(*) DESC, "candidate"."published_at" IS NULL,
        "candidate"."published_at" DESC, "candidate"."resource_id" DESC
    ) AS "position"
  FROM "{link}" AS "own"
  JOIN "candidate" ON "candidate"."theme_id" = "own"."theme_id"
    AND "candidate"."resource_id" <> "own"."resource_id"
  WHERE "own"."resource_id" IN ({anchor_marks})
  GROUP BY "own"."resource_id", "candidate"."resource_id", "candidate"."published_at"
)
SELECT "ranked"."anchor", {selected}
FROM "ranked" JOIN "{resource}" ON "{resource}"."{pk_column(Resource)}" = "ranked"."other"
WHERE "ranked"."position" <= {next(mark)}
ORDER BY "ranked"."anchor", "ranked"."position"
"""
    _, rows = await db.execute_query(sql, [*values, *anchors, limit])
    build = model_builder(Resource)
    related: dict[int, list[Resource]] = {}
    for anchor, *row in map(tuple, rows):
        related.setdefault(anchor, []).append(build(dict(zip(columns, row, strict=True))))
    return related


def _placeholders(dialect: str, *, first: int) -> Iterator[str]:
    """The driver's marks for the values bound after the first ``first - 1``."""
    number = first
    while True:
        yield f"${number}" if dialect == "postgres" else "?"
        number += 1
