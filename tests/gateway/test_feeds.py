"""The iCalendar feeds calendar applications subscribe to.

The demo events date from 2016–2022 and the feeds only show what is coming and what
ended within the past year, so these tests create their own upcoming events."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.content import ContentStatus
from services.events.models import Event, EventFormat, EventTheme
from services.themes.models import Theme
from tests.unique import unique_tag

PARIS = ZoneInfo("Europe/Paris")
THEME = "le-passage-a-l-action"


@pytest.fixture
async def upcoming():
    """A timed event, an all-day one (on a theme), and a draft, all in the coming weeks."""
    tag = unique_tag(10)
    day = (dt.datetime.now(PARIS) + dt.timedelta(days=30)).date()
    timed_start = dt.datetime.combine(day, dt.time(18, 30), PARIS)
    allday_start = dt.datetime.combine(day + dt.timedelta(days=7), dt.time(9), PARIS)
    created = [
        await Event.create(
            slug=f"afterwork-{tag}",
            title="Afterwork de la participation",
            summary="Un verre, des idées.",
            starts_at=timed_start,
            ends_at=timed_start + dt.timedelta(hours=2),
            city="Nantes",
            format=EventFormat.AFTERWORK,
            registration_url="https://example.org/inscription",
            status=ContentStatus.PUBLISHED,
        ),
        await Event.create(
            slug=f"rencontres-{tag}",
            title="Rencontres de deux jours",
            starts_at=allday_start,
            ends_at=allday_start + dt.timedelta(days=1, hours=9),
            all_day=True,
            online=True,
            format=EventFormat.CONFERENCE,
            status=ContentStatus.PUBLISHED,
        ),
        await Event.create(
            slug=f"brouillon-{tag}",
            title="Brouillon secret",
            starts_at=timed_start,
            ends_at=timed_start + dt.timedelta(hours=1),
            status=ContentStatus.DRAFT,
        ),
    ]
    theme = await Theme.get(slug=THEME)
    await EventTheme.create(event=created[1], theme=theme)
    try:
        yield {"timed": created[0], "all_day": created[1], "draft": created[2]}
    finally:
        for event in created:
            await event.delete()


def _events(body: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


async def test_agenda_feed_is_a_valid_calendar(client, upcoming):
    response = await client.get("/events.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert calendar["PRODID"]
    vevents = calendar.walk("VEVENT")
    assert vevents
    for vevent in vevents:
        for prop in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
            assert prop in vevent, (prop, vevent)
    assert calendar.walk("VTIMEZONE")
    uids = [str(v["UID"]) for v in vevents]
    assert len(uids) == len(set(uids))


async def test_a_timed_event_is_in_paris_time(client, upcoming):
    events = _events((await client.get("/events.ics")).content)
    timed = upcoming["timed"]
    vevent = next(v for v in events.values() if str(v["SUMMARY"]) == timed.title)
    start = vevent["DTSTART"]
    assert start.params["TZID"] == "Europe/Paris"
    assert start.dt.hour == 18 and start.dt.minute == 30
    assert start.dt == timed.starts_at
    assert vevent["DTEND"].dt - start.dt == dt.timedelta(hours=2)
    assert str(vevent["LOCATION"]) == "Nantes"
    assert "https://example.org/inscription" in str(vevent["DESCRIPTION"])


async def test_an_all_day_event_spans_whole_days(client, upcoming):
    events = _events((await client.get("/events.ics")).content)
    all_day = upcoming["all_day"]
    vevent = next(v for v in events.values() if str(v["SUMMARY"]) == all_day.title)
    start, end = vevent["DTSTART"].dt, vevent["DTEND"].dt
    assert type(start) is dt.date and type(end) is dt.date
    first_day = all_day.starts_at.astimezone(PARIS).date()
    assert start == first_day
    # Two days, DTEND exclusive: the day after the last one.
    assert end == first_day + dt.timedelta(days=2)
    assert str(vevent["LOCATION"]) == "En ligne"


async def test_drafts_and_old_events_stay_out_of_the_feed(client, upcoming):
    body = (await client.get("/events.ics")).content
    assert b"Brouillon secret" not in body
    for vevent in _events(body).values():
        end = vevent.get("DTEND", vevent["DTSTART"]).dt
        if type(end) is dt.date:
            end = dt.datetime.combine(end, dt.time(), PARIS)
        assert end >= dt.datetime.now(dt.UTC) - dt.timedelta(days=366)


async def test_theme_feed_holds_only_that_theme(client, upcoming):
    response = await client.get(f"/themes/{THEME}/events.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    summaries = {str(v["SUMMARY"]) for v in _events(response.content).values()}
    assert upcoming["all_day"].title in summaries
    assert upcoming["timed"].title not in summaries
    other = await client.get("/themes/la-democratie-culturelle/events.ics")
    assert other.status_code == 200
    assert upcoming["all_day"].title not in {
        str(v["SUMMARY"]) for v in _events(other.content).values()
    }


async def test_unknown_theme_feed_is_404(client):
    response = await client.get("/themes/no-such-theme/events.ics")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_empty_feed_is_still_a_calendar(client):
    response = await client.get("/themes/la-democratie-culturelle/events.ics")
    calendar = Calendar.from_ical(response.content)
    assert calendar.walk("VEVENT") == []
