"""Editors' writes on events of the agenda: create (as draft), update, delete."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tortoise.models import Model

from services.audit.service import diff
from services.editing import (
    apply_links,
    check_exist,
    create_draft,
    delete_noted,
    get_for_update,
    note_change,
    update_versioned,
    write_transaction,
)
from services.errors import BadUserInput
from services.events.models import Event, EventFormat, EventOrganizer, EventTerritory, EventTheme
from services.organizations.models import Organization
from services.policy import authorize
from services.territories.models import Territory
from services.themes.models import Theme
from services.validation import (
    SUMMARY_MAX,
    TITLE_MAX,
    check_period,
    check_slug_free,
    clean_slug,
    clean_text,
    clean_url,
    require_aware,
)
from services.viewer import Viewer

_UNSET: Any = object()
CITY_MAX = 120


@dataclass
class EventChanges:
    """Fields to set; ``_UNSET`` (the default) leaves a field as it is."""

    title: str = _UNSET
    slug: str = _UNSET
    summary: str = _UNSET
    starts_at: dt.datetime = _UNSET
    ends_at: dt.datetime = _UNSET
    all_day: bool = _UNSET
    city: str | None = _UNSET
    online: bool = _UNSET
    format: EventFormat = _UNSET
    registration_url: str | None = _UNSET
    organizer_ids: list[int] = _UNSET
    theme_ids: list[int] = _UNSET
    territory_ids: list[int] = _UNSET
    links: dict[str, list[int]] = field(default_factory=dict, init=False)

    def given(self, name: str) -> bool:
        return getattr(self, name) is not _UNSET


async def clean_event_changes(changes: EventChanges, *, current: Event | None) -> dict[str, Any]:
    """Validated column values of ``changes`` (links checked and kept on ``changes.links``).

    ``current`` is the event being updated (None on creation): the period is checked
    with its start or end when only one of them changes."""
    exclude_id = current.id if current is not None else None
    values: dict[str, Any] = {}
    if changes.given("title"):
        values["title"] = clean_text(changes.title, field="title", max_length=TITLE_MAX)
    if changes.given("slug"):
        values["slug"] = clean_slug(changes.slug)
        await check_slug_free(Event, values["slug"], exclude_id=exclude_id)
    if changes.given("summary"):
        values["summary"] = clean_text(
            changes.summary, field="summary", max_length=SUMMARY_MAX, required=False
        )
    for name in ("starts_at", "ends_at"):
        if changes.given(name):
            values[name] = require_aware(getattr(changes, name), field=name)
        elif current is None:
            raise BadUserInput(f"« {name} » est obligatoire.", field=name)
    check_period(
        values.get("starts_at", current.starts_at if current else None),
        values.get("ends_at", current.ends_at if current else None),
        field="ends_at",
    )
    if changes.given("all_day"):
        values["all_day"] = bool(changes.all_day)
    if changes.given("city"):
        values["city"] = (
            clean_text(changes.city or "", field="city", max_length=CITY_MAX, required=False)
            or None
        )
    if changes.given("online"):
        values["online"] = bool(changes.online)
    if changes.given("format"):
        values["format"] = EventFormat(changes.format)
    if changes.given("registration_url"):
        values["registration_url"] = clean_url(changes.registration_url, field="registration_url")
    for name, model in (
        ("organizer_ids", Organization),
        ("theme_ids", Theme),
        ("territory_ids", Territory),
    ):
        if changes.given(name):
            changes.links[name] = await check_exist(model, getattr(changes, name), field=name)
    return values


_LINKS: dict[str, tuple[type[Model], str]] = {
    "organizer_ids": (EventOrganizer, "organization"),
    "theme_ids": (EventTheme, "theme"),
    "territory_ids": (EventTerritory, "territory"),
}


async def _apply_links(event: Event, links: dict[str, list[int]]) -> dict[str, list[Any]]:
    return await apply_links("event", event.id, links, _LINKS)


async def create_event(viewer: Viewer, *, changes: EventChanges) -> Event:
    """A new event, as a draft that only editors see until it is published."""
    authorize(viewer, "event.create")
    if not changes.given("title"):
        changes.title = ""
    async with write_transaction():
        values = await clean_event_changes(changes, current=None)
        event = await create_draft(Event, values)
        link_changes = await _apply_links(event, changes.links)
        await note_change(viewer, "event.create", event, {**diff({}, values), **link_changes})
    return event


async def update_event(
    viewer: Viewer, event_id: int, *, version: int, changes: EventChanges
) -> Event:
    """Change the given fields if the event is still at ``version`` (else CONFLICT)."""
    authorize(viewer, "event.update")
    async with write_transaction():
        event = await get_for_update(Event, event_id, label="Événement", version=version)
        values = await clean_event_changes(changes, current=event)
        link_changes = await _apply_links(event, changes.links)
        return await update_versioned(
            viewer,
            event,
            version=version,
            values=values,
            action="event.update",
            extra_changes=link_changes,
        )


async def delete_event(viewer: Viewer, event_id: int, *, version: int) -> Event:
    """Delete for good (archive instead to keep it for the record)."""
    authorize(viewer, "event.delete")
    async with write_transaction():
        event = await get_for_update(Event, event_id, label="Événement", version=version)
        await delete_noted(viewer, event, action="event.delete", version=version)
    return event
