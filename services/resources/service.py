"""Reading resources: lists with filters and keyset pages, lookups, related content."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from services.compat_tortoise import column_of, db_columns, model_builder, pk_column, table_name
from services.content import Audience, ContentStatus
from services.errors import BadUserInput
from services.links import Linked, LinkedPages
from services.organizations.models import Organization
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.resources.models import (
    Resource,
    ResourceKind,
    ResourceOrganization,
    ResourceTerritory,
    ResourceTheme,
)
from services.statements import instances_by_ids, padded, queryset_statement
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


def _condition(viewer: Viewer, flt: ResourceFilter, now: dt.datetime | None = None) -> Q:
    condition = visible(viewer, now=now)
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
    viewer: Viewer, *, flt: ResourceFilter, order: str | None, now: dt.datetime | None = None
) -> tuple[QuerySet[Resource], Ordering]:
    """The resources ``viewer`` may see under ``flt`` at ``now`` (:func:`visible`), and the
    order they are listed in."""
    return (
        Resource.filter(_condition(viewer, flt, now)),
        ORDERINGS[order or default_order(viewer, flt)],
    )


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


def resource_by_id_queryset(viewer: Viewer, pk: int) -> QuerySet[Resource]:
    """The resource ``pk`` if ``viewer`` may see it (at most one row)."""
    return Resource.filter(visible(viewer), id=pk).limit(1)


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


THEME_RESOURCES = LinkedPages(
    Linked(ResourceTheme, parent="theme", child="resource", visible=True), ORDERINGS, "NEWEST"
)
"""A theme's resources (those the viewer may see), newest first by default."""
TERRITORY_RESOURCES = LinkedPages(
    Linked(ResourceTerritory, parent="territory", child="resource", visible=True),
    ORDERINGS,
    "NEWEST",
)
"""The resources concerning a territory."""
ORGANIZATION_RESOURCES = LinkedPages(
    Linked(ResourceOrganization, parent="organization", child="resource", visible=True),
    ORDERINGS,
    "NEWEST",
)
"""The resources an organisation is behind."""


async def get_resource_pages_by_theme_ids(
    viewer: Viewer, ids: Sequence[int], *, order: str | None, page: PageRequest
) -> dict[int, Page[Resource]]:
    """A page of each theme's resources (reverse relation), one statement for all themes."""
    return await THEME_RESOURCES.pages(viewer, ids, order=order, page=page)


async def get_resource_pages_by_territory_ids(
    viewer: Viewer, ids: Sequence[int], *, order: str | None, page: PageRequest
) -> dict[int, Page[Resource]]:
    return await TERRITORY_RESOURCES.pages(viewer, ids, order=order, page=page)


async def get_resource_pages_by_organization_ids(
    viewer: Viewer, ids: Sequence[int], *, order: str | None, page: PageRequest
) -> dict[int, Page[Resource]]:
    return await ORGANIZATION_RESOURCES.pages(viewer, ids, order=order, page=page)


RELATED_MAX = 20
"""The most related resources a field may ask for."""


def check_related_limit(limit: int) -> None:
    """``BAD_USER_INPUT`` unless ``limit`` related resources may be asked for."""
    if not 0 <= limit <= RELATED_MAX:
        raise BadUserInput(f"« first » doit être compris entre 0 et {RELATED_MAX}.", field="first")


RELATED_WINDOW = 500
"""``related`` looks for candidates among this many most recently added resources of each
theme (by id): the work of a page does not grow with the catalogue. Small enough that a
catalogue of a few thousand resources already fills the window of a common theme, so a
page costs the same from there on."""


def related_candidates(viewer: Viewer, now: dt.datetime) -> QuerySet[Resource]:
    """The resources that may be listed as related for ``viewer`` at ``now``."""
    return Resource.filter(visible(viewer, "", now))


def related_sql(candidates: str, anchors: str, limit: str, window: int = 0, *, dialect: str) -> str:
    """The statement ranking related resources: for each anchor resource that
    ``anchors`` (a condition on ``"own"."resource_id"``) keeps, the rows of the resources
    of ``candidates`` (the SQL of :func:`related_candidates`) that share the most themes
    with it, at most ``limit`` (a placeholder) per anchor: most shared themes first, then
    newest publication (unpublished ones last), then highest id. Columns: ``"anchor"``,
    then every column of the resource table; ordered by anchor and rank.

    Candidates are looked for among the ``window`` (by default :data:`RELATED_WINDOW`)
    most recently added resources of each theme of the anchor (highest ids, visible or
    not), read from the end of the (theme, resource) index: so a page costs the same at
    any size of the catalogue. PostgreSQL reads each window with ``LATERAL … LIMIT``,
    which also tells its planner how few rows come (with a bound it cannot estimate, it
    reads the whole resource table to join them); SQLite, which has no ``LATERAL``,
    finds the lowest id of each window one step down the index and reads the theme's
    links from there, a range of the same index. Those links are
    joined to the candidates, grouped and counted per pair, numbered per anchor by
    ``ROW_NUMBER()`` and cut at ``limit``: only the winners' rows leave the database."""
    window = int(window or RELATED_WINDOW)
    link, resource = table_name(ResourceTheme), table_name(Resource)
    pk = pk_column(Resource)
    theme, parent = column_of(ResourceTheme, "theme_id"), column_of(ResourceTheme, "resource_id")
    selected = ", ".join(f'"{resource}"."{column}"' for _, column in db_columns(Resource))
    published = f'"candidate"."{column_of(Resource, "published_at")}"'
    if dialect == "postgres":
        shared = f"""JOIN LATERAL (
    SELECT "newest"."{parent}" FROM "{link}" AS "newest"
    WHERE "newest"."{theme}" = "own"."{theme}"
    ORDER BY "newest"."{parent}" DESC LIMIT {window}
  ) AS "shared" ON "shared"."{parent}" <> "own"."{parent}\""""
    else:
        shared = f"""JOIN "{link}" AS "shared" ON "shared"."{theme}" = "own"."{theme}"
    AND "shared"."{parent}" <> "own"."{parent}"
    AND "shared"."{parent}" >= COALESCE((
      SELECT "newest"."{parent}" FROM "{link}" AS "newest"
      WHERE "newest"."{theme}" = "own"."{theme}"
      ORDER BY "newest"."{parent}" DESC LIMIT 1 OFFSET {window - 1}), 0)"""
    return f"""SELECT "ranked"."anchor", {selected}
FROM (
  SELECT "own"."{parent}" AS "anchor", "candidate"."{pk}" AS "other",
    ROW_NUMBER() OVER (
      PARTITION BY "own"."{parent}"
      ORDER BY COUNT(*) DESC, {published} IS NULL, {published} DESC, "candidate"."{pk}" DESC
    ) AS "position"
  FROM "{link}" AS "own"
  {shared}
  JOIN ({candidates}) AS "candidate" ON "candidate"."{pk}" = "shared"."{parent}"
  WHERE {anchors}
  GROUP BY "own"."{parent}", "candidate"."{pk}", {published}
) AS "ranked"
JOIN "{resource}" ON "{resource}"."{pk}" = "ranked"."other"
WHERE "ranked"."position" <= {limit}
ORDER BY "ranked"."anchor", "ranked"."position"
"""


async def get_related_by_resource_ids(
    viewer: Viewer, ids: Sequence[int], *, limit: int, window: int = RELATED_WINDOW
) -> dict[int, list[Resource]]:
    """For each resource, the ``limit`` resources ``viewer`` may see that share the most
    themes with it (:func:`related_sql`), one statement for all the resources asked about."""
    if not ids or limit <= 0:
        return {}
    anchors = padded(list(ids))
    now = viewer.as_of or dt.datetime.now(dt.UTC)
    db, inner, values = queryset_statement(related_candidates(viewer, now))
    mark = _placeholders(db.capabilities.dialect, first=len(values) + 1)
    marks = ", ".join(next(mark) for _ in anchors)
    condition = f'"own"."{column_of(ResourceTheme, "resource_id")}" IN ({marks})'
    sql = related_sql(inner, condition, next(mark), window, dialect=db.capabilities.dialect)
    _, rows = await db.execute_query(sql, [*values, *anchors, limit])
    columns = [column for _, column in db_columns(Resource)]
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
