"""Events of the demo data, with their organisers, themes and territories."""

from __future__ import annotations

from typing import Any

from services.content import ContentStatus
from services.demo.rows import DemoRun, when
from services.events.models import Event, EventOrganizer, EventTerritory, EventTheme


async def load_demo_event(entry: dict[str, Any], run: DemoRun) -> Event:
    event = await run.upsert(
        Event,
        entry["slug"],
        {
            "title": entry["title"],
            "summary": entry.get("summary") or "",
            "starts_at": when(entry["starts_at"]),
            "ends_at": when(entry["ends_at"]),
            "all_day": bool(entry.get("all_day")),
            "city": entry.get("city"),
            "online": bool(entry.get("online")),
            "format": entry["format"],
            "registration_url": entry.get("registration_url"),
            "status": ContentStatus.PUBLISHED,
            "published_at": when(entry.get("published_at") or entry["starts_at"]),
        },
    )
    for slug in entry.get("organizers", []):
        await run.link(EventOrganizer, event=event, organization=run.row("Organization", slug))
    for slug in entry.get("themes", []):
        await run.link(EventTheme, event=event, theme=run.row("Theme", slug))
    for slug in entry.get("territories", []):
        await run.link(EventTerritory, event=event, territory=run.row("Territory", slug))
    return event
