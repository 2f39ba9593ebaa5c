"""Reading themes: the theme of the month, the announced next theme, vote candidates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import Q

from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.themes.models import Theme
from services.viewer import Viewer, visible

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


async def list_themes(
    viewer: Viewer, *, flt: ThemeFilter, order: str | None, page: PageRequest
) -> Page[Theme]:
    condition = visible(viewer)
    if flt.is_vote_candidate is not None:
        condition &= Q(is_vote_candidate=flt.is_vote_candidate)
    if flt.was_theme_of_the_month is not None:
        condition &= Q(month__isnull=not flt.was_theme_of_the_month)
    return await paginate(Theme.filter(condition), ORDERINGS[order or "TITLE"], page)


async def get_theme_by_slug(viewer: Viewer, slug: str) -> Theme | None:
    return await Theme.filter(visible(viewer), slug=slug).first()


async def get_themes_by_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, Theme]:
    return {t.id: t for t in await Theme.filter(visible(viewer), id__in=list(ids))}


async def get_current_theme(viewer: Viewer, *, today: dt.date) -> Theme | None:
    """The theme of the month: the latest one whose month has begun."""
    month = today.replace(day=1)
    return await Theme.filter(visible(viewer), month__lte=month).order_by("-month").first()


async def get_next_theme(viewer: Viewer) -> Theme | None:
    """The theme announced for the coming issue, so that people can contribute to it."""
    return await Theme.filter(visible(viewer), is_next=True).order_by("-id").first()
