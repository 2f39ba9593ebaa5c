"""Reading the agenda: events by date range, place, format and theme."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from services.compat_tortoise import SqlAround, column_of, table_name
from services.errors import BadUserInput
from services.events.models import Event, EventFormat, EventOrganizer, EventTerritory, EventTheme
from services.links import Linked, LinkedPages
from services.organizations.models import Organization
from services.pagination import Ordering, Page, PageRequest, SortKey, paginate
from services.statements import instances_by_ids
from services.territories.models import Territory
from services.themes.models import Theme
from services.viewer import Viewer, visible

ORDERINGS: dict[str, Ordering] = {
    "STARTS_AT": Ordering((SortKey("starts_at", False, "datetime"), SortKey("id", False, "int"))),
    "STARTS_AT_DESC": Ordering(
        (SortKey("starts_at", True, "datetime"), SortKey("id", True, "int"))
    ),
}


@dataclass(frozen=True)
class EventFilter:
    """``ends_after``/``starts_before`` select events overlapping a period."""

    ends_after: dt.datetime | None = None
    starts_before: dt.datetime | None = None
    online: bool | None = None
    cities: Sequence[str] = ()
    formats: Sequence[EventFormat] = ()
    theme_ids: Sequence[int] = ()
    organizer_ids: Sequence[int] = ()

    def check(self) -> None:
        for name in ("ends_after", "starts_before"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise BadUserInput(
                    "Date sans fuseau horaire : écrivez par ex. 2022-09-27T18:30:00+02:00.",
                    field=name,
                )
        if self.ends_after and self.starts_before and self.starts_before < self.ends_after:
            raise BadUserInput(
                "Période vide : « from » doit précéder « to ».", field="starts_before"
            )


def _earliest_start(dialect: str, instant: str) -> str:
    """SQL: ``instant`` (a placeholder, UTC text) minus the longest span of any event
    (``ends_at - starts_at``), read from the end of the index of spans (migration
    0012). No event running at or after ``instant`` starts before it: its start is its
    end minus its own span. A subquery, read in the statement's own snapshot: every event
    committed before the statement counts, whatever is written meanwhile, and a deleted
    one no longer does. No event at all: null (and no row).

    PostgreSQL subtracts in UTC (a difference of instants counts days of 24 hours, which
    a time zone with daylight saving would stretch). SQLite keeps instants as UTC text:
    ``julianday`` counts days, ``datetime()`` writes the bound back as text cut to the
    second, one second lower (so its rounding to the millisecond never lifts the bound
    above an event's start); text without an offset sorts before the same second stored
    with its ``+00:00``."""
    table, starts, ends = (
        table_name(Event),
        column_of(Event, "starts_at"),
        column_of(Event, "ends_at"),
    )
    if dialect == "postgres":
        longest = f'SELECT max("s"."{ends}" - "s"."{starts}") FROM "{table}" AS "s"'
        utc = f"({instant}::text::timestamptz AT TIME ZONE 'UTC')"
        return f"({utc} - ({longest})) AT TIME ZONE 'UTC'"
    span = f'julianday("s"."{ends}") - julianday("s"."{starts}")'
    longest = f'SELECT max({span}) FROM "{table}" AS "s"'
    return f"datetime(julianday({instant}) - ({longest}) - 1.0 / 86400)"


def running_at_or_after(instant: dt.datetime) -> Q:
    """Events that end at or after ``instant``, as a condition that bounds their start
    too (:func:`_earliest_start`): read in order of start, the (status, starts_at) index
    is walked from there, not from the first event ever."""
    # The instant is bound a second time, as UTC text: a value the statement's shape can
    # tell from the first (services/statements.py keeps a shape whose values differ).
    utc = instant.astimezone(dt.UTC).isoformat(sep=" ")
    return Q(ends_at__gte=instant, starts_at__gte=SqlAround(utc, _earliest_start))


def _condition(viewer: Viewer, flt: EventFilter, now: dt.datetime | None = None) -> Q:
    flt.check()
    condition = visible(viewer, now=now)
    if flt.ends_after is not None:
        condition &= running_at_or_after(flt.ends_after)
    if flt.starts_before is not None:
        condition &= Q(starts_at__lt=flt.starts_before)
    if flt.online is not None:
        condition &= Q(online=flt.online)
    if flt.cities:
        condition &= Q(*(Q(city__iexact=c) for c in flt.cities), join_type="OR")
    if flt.formats:
        condition &= Q(format__in=list(flt.formats))
    if flt.theme_ids:
        ids = Subquery(EventTheme.filter(theme_id__in=list(flt.theme_ids)).values("event_id"))
        condition &= Q(id__in=ids)
    if flt.organizer_ids:
        ids = Subquery(
            EventOrganizer.filter(organization_id__in=list(flt.organizer_ids)).values("event_id")
        )
        condition &= Q(id__in=ids)
    return condition


def events_queryset(
    viewer: Viewer, *, flt: EventFilter, order: str | None, now: dt.datetime | None = None
) -> tuple[QuerySet[Event], Ordering]:
    """The events ``viewer`` may see under ``flt`` at ``now`` (:func:`visible`), and the
    order they are listed in."""
    return Event.filter(_condition(viewer, flt, now)), ORDERINGS[order or "STARTS_AT"]


async def list_events(
    viewer: Viewer, *, flt: EventFilter, order: str | None, page: PageRequest
) -> Page[Event]:
    """One page of the agenda, soonest first unless asked otherwise."""
    queryset, ordering = events_queryset(viewer, flt=flt, order=order)
    return await paginate(queryset, ordering, page)


async def list_events_for_calendar(
    viewer: Viewer, *, flt: EventFilter, limit: int = 1000
) -> list[Event]:
    """Events for a calendar feed, soonest first, capped at ``limit``."""
    return await Event.filter(_condition(viewer, flt)).order_by("starts_at", "id").limit(limit)


def event_by_slug_queryset(viewer: Viewer, slug: str) -> QuerySet[Event]:
    """The event with this slug if ``viewer`` may see it (at most one row)."""
    return Event.filter(visible(viewer), slug=slug).limit(1)


async def get_event_by_slug(viewer: Viewer, slug: str) -> Event | None:
    return await event_by_slug_queryset(viewer, slug).first()


def event_by_id_queryset(viewer: Viewer, pk: int) -> QuerySet[Event]:
    """The event ``pk`` if ``viewer`` may see it (at most one row)."""
    return Event.filter(visible(viewer), id=pk).limit(1)


async def get_events_by_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, Event]:
    return await instances_by_ids(Event, visible(viewer), ids)


ORGANIZERS = Linked(EventOrganizer, parent="event", child="organization", order=("slug",))
"""The organisations organising an event, by slug."""
THEMES = Linked(EventTheme, parent="event", child="theme", order=("slug",), visible=True)
"""An event's themes (those the viewer may see), by slug."""
TERRITORIES = Linked(EventTerritory, parent="event", child="territory", order=("slug",))
"""The territories an event concerns, by slug."""


async def get_organizers_by_event_ids(ids: Sequence[int]) -> dict[int, list[Organization]]:
    return await ORGANIZERS.children(ids)


async def get_themes_by_event_ids(viewer: Viewer, ids: Sequence[int]) -> dict[int, list[Theme]]:
    return await THEMES.children(ids, viewer)


async def get_territories_by_event_ids(ids: Sequence[int]) -> dict[int, list[Territory]]:
    return await TERRITORIES.children(ids)


THEME_EVENTS = LinkedPages(
    Linked(EventTheme, parent="theme", child="event", visible=True), ORDERINGS, "STARTS_AT"
)
"""A theme's events (those the viewer may see), soonest first by default."""
ORGANIZATION_EVENTS = LinkedPages(
    Linked(EventOrganizer, parent="organization", child="event", visible=True),
    ORDERINGS,
    "STARTS_AT",
)
"""The events an organisation organises."""


async def get_event_pages_by_theme_ids(
    viewer: Viewer, ids: Sequence[int], *, order: str | None, page: PageRequest
) -> dict[int, Page[Event]]:
    return await THEME_EVENTS.pages(viewer, ids, order=order, page=page)


async def get_event_pages_by_organization_ids(
    viewer: Viewer, ids: Sequence[int], *, order: str | None, page: PageRequest
) -> dict[int, Page[Event]]:
    return await ORGANIZATION_EVENTS.pages(viewer, ids, order=order, page=page)
