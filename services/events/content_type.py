"""The event of the agenda as a content type: its fields and rules, declared once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.events.demo import load_demo_event
from services.events.models import Event, EventFormat, EventOrganizer, EventTerritory, EventTheme
from services.fields import Changes, Cleaning, Field, Fields, Link, links_field, slug_field
from services.organizations.models import Organization
from services.registry import ContentType, Demo, register
from services.territories.models import Territory
from services.themes.models import Theme
from services.validation import (
    SUMMARY_MAX,
    TITLE_MAX,
    check_period,
    optional_text,
    require_aware,
    text,
    web_address,
)

CITY_MAX = 120


def _aware(value: dt.datetime, cleaning: Cleaning) -> dt.datetime:
    return require_aware(value, field=cleaning.field)


def _period(changes: Changes, current: Any) -> None:
    """The end does not come before the start, whichever of the two changes."""
    values = changes.values
    check_period(
        values.get("starts_at", current.starts_at if current is not None else None),
        values.get("ends_at", current.ends_at if current is not None else None),
        field="ends_at",
    )


EVENT = register(
    ContentType(
        name="Event",
        model=Event,
        label="Événement",
        definite="l'événement",
        entity="event",
        demo=Demo("events", load_demo_event, after=("Organization", "Theme", "Territory")),
        publishable=True,
        fields=Fields(
            Field("title", str, "Title (≤ 300).", required=True, clean=text(TITLE_MAX)),
            slug_field(),
            Field(
                "summary",
                str,
                "Plain-text description (≤ 2,000).",
                clean=text(SUMMARY_MAX, required=False),
            ),
            Field(
                "starts_at",
                dt.datetime,
                "Start, with a UTC offset (e.g. 2026-03-12T18:30:00+01:00).",
                required=True,
                clean=_aware,
            ),
            Field(
                "ends_at",
                dt.datetime,
                "End, with a UTC offset, not before the start.",
                required=True,
                clean=_aware,
            ),
            Field("all_day", bool, "True when no time of day is announced."),
            Field(
                "city",
                str,
                "City where it takes place (≤ 120); null removes it.",
                nullable=True,
                clean=optional_text(CITY_MAX),
            ),
            Field("online", bool, "True when it happens online."),
            Field("format", EventFormat, "Format of the event (OTHER when omitted)."),
            Field(
                "registration_url",
                str,
                "Where to register (http or https only); null removes it.",
                nullable=True,
                clean=web_address,
            ),
            links_field(
                "organizers",
                "IDs of the organising organisations",
                target=Organization,
                link=Link(EventOrganizer, "event_id", "organization_id"),
            ),
            links_field(
                "themes",
                "IDs of its themes",
                target=Theme,
                link=Link(EventTheme, "event_id", "theme_id"),
            ),
            links_field(
                "territories",
                "IDs of the territories where it takes place",
                target=Territory,
                link=Link(EventTerritory, "event_id", "territory_id"),
            ),
        ),
        check=_period,
    )
)
