"""Reading themes: the theme of the month, the announced next theme, vote candidates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.statements import instances_by_ids
from services.themes.models import Theme
from services.viewer import Viewer, visible

PARIS = ZoneInfo("Europe/Paris")
ORDERINGS: dict[str, Ordering] = {
    "TITLE": Ordering((SortKey("slug", False, "str"), SortKey("id", False, "int"))),
    "MONTH": Ordering(
        (SortKey("month", True, "date"), SortKey("id", True, "int")), require_first_key=True
    ),
}


@dataclass(frozen=True)
class ThemeFilter:
    is_vote_candidate: bool | None = None
    was_theme_of_the_month: bool | None = None


def themes_queryset(
    viewer: Viewer, *, flt: ThemeFilter, order: str | None, now: dt.datetime | None = None
) -> tuple[QuerySet[Theme], Ordering]:
    """The themes ``viewer`` may see under ``flt`` at ``now`` (:func:`visible`), and the
    order they are listed in."""
    condition = visible(viewer, now=now)
    if flt.is_vote_candidate is not None:
        condition &= Q(is_vote_candidate=flt.is_vote_candidate)
    if flt.was_theme_of_the_month is not None:
        condition &= Q(month__isnull=not flt.was_theme_of_the_month)
    return Theme.filter(condition), ORDERINGS[order or "TITLE"]


async def list_themes(
    viewer: Viewer, *, flt: ThemeFilter, order: str | None, page: PageRequest
) -> Page[Theme]:
    queryset, ordering = themes_queryset(viewer, flt=flt, order=order)
    return await paginate(queryset, ordering, page)


def theme_by_slug_queryset(viewer: Viewer, slug: str) -> QuerySet[Theme]:
    """The theme with this slug if ``viewer`` may see it (at most one row)."""
    return Theme.filter(visible(viewer), slug=slug).limit(1)


async def get_theme_by_slug(viewer: Viewer, slug: str) -> Theme | None:
    return await theme_by_slug_queryset(viewer, slug).first()


def theme_by_id_queryset(viewer: Viewer, pk: int) -> QuerySet[Theme]:
    """The theme ``pk`` if ``viewer`` may see it (at most one row)."""
    return Theme.filter(visible(viewer), id=pk).limit(1)


async def get_themes_by_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, Theme]:
    return await instances_by_ids(Theme, visible(viewer), ids)


def current_theme_queryset(viewer: Viewer, *, today: dt.date) -> QuerySet[Theme]:
    """The theme of the month (at most one row): the latest one whose month has begun."""
    month = today.replace(day=1)
    return Theme.filter(visible(viewer), month__lte=month).order_by("-month").limit(1)


async def get_current_theme(viewer: Viewer, *, today: dt.date) -> Theme | None:
    return await current_theme_queryset(viewer, today=today).first()


async def next_theme_queryset(viewer: Viewer, *, today: dt.date) -> QuerySet[Theme]:
    """:func:`get_next_theme` as a query set of at most one row: the theme's, or none
    (ids start at 1) when there is no next theme."""
    found = await get_next_theme(viewer, today=today)
    return Theme.filter(id=found.id if found is not None else 0)


async def get_next_theme(viewer: Viewer, *, today: dt.date | None = None) -> Theme | None:
    """The theme announced for the coming issue on ``today`` (Paris; the present by
    default), so that people can contribute to it: the latest announcement made by then
    (``announced_in`` at the latest that month; a theme marked ``is_next`` without a month
    of announcement counts as announced when it was last changed), unless that theme's
    own month has begun. A newsletter of 2022-11 therefore finds the theme announced in
    2022-09 for 2022-11 no longer « next », and none announced since."""
    month = (today or dt.datetime.now(PARIS).date()).replace(day=1)
    rows = await Theme.filter(
        visible(viewer), Q(announced_in__lte=month) | Q(is_next=True, announced_in__isnull=True)
    )
    announced = [(t, _announced(t)) for t in rows]
    latest = max(
        ((t, when) for t, when in announced if when <= month),
        key=lambda found: (found[1], found[0].is_next, found[0].id),
        default=None,
    )
    if latest is None or (latest[0].month is not None and latest[0].month <= month):
        return None
    return latest[0]


def _announced(theme: Theme) -> dt.date:
    if theme.announced_in is not None:
        return theme.announced_in
    return theme.updated_at.astimezone(PARIS).date().replace(day=1)
