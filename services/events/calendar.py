"""The agenda as an iCalendar (RFC 5545) feed that calendar applications subscribe to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, vText
from icalendar import Event as ICalEvent

from services.events.models import EVENT_TIMEZONE, Event
from services.labels import label

PARIS = ZoneInfo(EVENT_TIMEZONE)
PRODID = "-//Territoires en Commun//Agenda//FR"


def render_calendar(
    events: Iterable[Event],
    *,
    name: str,
    base_url: str,
    domain: str = "territoires-en-commun.fr",
    now: dt.datetime | None = None,
) -> bytes:
    """An iCalendar document of ``events``; times in Europe/Paris, all-day events as dates."""
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", EVENT_TIMEZONE)
    events = list(events)
    if events:
        first = min(e.starts_at for e in events)
        last = max(e.ends_at for e in events)
        cal.add_component(
            Timezone.from_tzid(EVENT_TIMEZONE, first_date=first.date(), last_date=last.date())
        )
    for event in events:
        cal.add_component(_vevent(event, base_url=base_url, domain=domain, stamp=stamp))
    return cal.to_ical()


def _vevent(event: Event, *, base_url: str, domain: str, stamp: dt.datetime) -> ICalEvent:
    item = ICalEvent()
    item.add("uid", f"event-{event.id}@{domain}")
    item.add("dtstamp", stamp)
    item.add("summary", event.title)
    starts, ends = event.starts_at.astimezone(PARIS), event.ends_at.astimezone(PARIS)
    if event.all_day:
        item.add("dtstart", starts.date())
        # DTEND of an all-day event is exclusive: the day after the last day.
        item.add("dtend", ends.date() + dt.timedelta(days=1))
    else:
        item.add("dtstart", starts)
        item.add("dtend", ends)
    description = event.summary
    if event.registration_url:
        description = f"{description}\n\nInscription : {event.registration_url}".strip()
    if description:
        item.add("description", description)
    location = "En ligne" if event.online and not event.city else (event.city or "")
    if location:
        item["location"] = vText(location)
    item.add("categories", [label(event.format)])
    item.add("url", event.registration_url or f"{base_url}/graphql")
    item.add("last-modified", event.updated_at.astimezone(dt.UTC))
    item.add("status", "CONFIRMED")
    return item
