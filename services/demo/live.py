"""The demo's live layer: content dated relative to the day ``tec demo`` runs, so that the
newsletter of the current month has something to show — an open voting round over the
seeds' candidate themes (with a few votes: a tie, a single vote), a theme announced as the
next one, a few upcoming events on the current, a candidate and the next theme (so the agenda
and those themes' calendar feeds have something coming).

The seeds' history is not touched. Rows are keyed by the month of the run (slugs end in
``-YYYY-MM``) and created only when missing: running again the same month creates
nothing; a later month adds that month's layer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from services.content import ContentStatus
from services.events.models import Event, EventOrganizer, EventTerritory, EventTheme
from services.organizations.models import Organization
from services.territories.models import Territory
from services.themes.models import Theme
from services.votes.models import Candidate, Vote, VotingRound

PARIS = ZoneInfo("Europe/Paris")


def _at(day: dt.date, clock: str) -> dt.datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


async def load_live_demo(data: dict[str, Any], *, today: dt.date) -> dict[str, int]:
    """Create this month's live layer where it is missing; returns rows seen (``Model``)
    and created (``Model+``)."""
    live = data.get("live")
    counts: Counter[str] = Counter()
    if not live:
        return {}
    suffix = f"{today:%Y-%m}"
    published = _at(today - dt.timedelta(days=1), "09:00")
    await _next_theme(live["next_theme"], suffix, today, published, counts)
    await _voting_round(live["voting_round"], suffix, today, counts)
    next_slug = live["next_theme"]["slug"]
    for spec in live["events"]:
        event = await _event(spec, suffix, today, published, counts)
        # This month's next theme is named by its slug without the month.
        slugs = [f"{s}-{suffix}" if s == next_slug else s for s in spec.get("themes", [])]
        for theme in await Theme.filter(slug__in=slugs):
            if not await EventTheme.filter(event=event, theme=theme).exists():
                await EventTheme.create(event=event, theme=theme)
                counts["EventTheme+"] += 1
    return {k: v for k, v in sorted(counts.items()) if v}


async def _next_theme(
    spec: dict[str, Any], suffix: str, today: dt.date, published: dt.datetime, counts: Counter[str]
) -> None:
    slug = f"{spec['slug']}-{suffix}"
    counts["Theme"] += 1
    if await Theme.filter(slug=slug).exists():
        return
    await Theme.filter(is_next=True).update(is_next=False)
    await Theme.create(
        slug=slug,
        title=spec["title"],
        introduction=spec["introduction"],
        announced_in=today.replace(day=1),
        is_next=True,
        status=ContentStatus.PUBLISHED,
        published_at=published,
    )
    counts["Theme+"] += 1


async def _voting_round(
    spec: dict[str, Any], suffix: str, today: dt.date, counts: Counter[str]
) -> None:
    slug = f"{spec['slug']}-{suffix}"
    counts["VotingRound"] += 1
    if await VotingRound.filter(slug=slug).exists():
        return
    opens = _at(today + dt.timedelta(days=spec["opens_in_days"]), "09:00")
    round_ = await VotingRound.create(
        slug=slug,
        title=spec["title"],
        description=spec["description"],
        opens_at=opens,
        closes_at=_at(today + dt.timedelta(days=spec["closes_in_days"]), "23:59"),
        votes_per_territory=spec["votes_per_territory"],
        status=ContentStatus.PUBLISHED,
        published_at=opens,
    )
    counts["VotingRound+"] += 1
    themes = {t.slug: t for t in await Theme.filter(slug__in=spec["candidates"])}
    for candidate in spec["candidates"]:
        await Candidate.create(round=round_, theme=themes[candidate])
        counts["Candidate+"] += 1
    territories = {t.slug: t for t in await Territory.all()}
    for vote in spec["votes"]:
        await Vote.create(
            round=round_, territory=territories[vote["territory"]], theme=themes[vote["theme"]]
        )
        counts["Vote+"] += 1


async def _event(
    spec: dict[str, Any],
    suffix: str,
    today: dt.date,
    published: dt.datetime,
    counts: Counter[str],
) -> Event:
    slug = f"{spec['slug']}-{suffix}"
    counts["Event"] += 1
    found = await Event.filter(slug=slug).first()
    if found is not None:
        return found
    first = today + dt.timedelta(days=spec["in_days"])
    last = first + dt.timedelta(days=spec.get("days", 1) - 1)
    event = await Event.create(
        slug=slug,
        title=spec["title"],
        summary=spec["summary"],
        starts_at=_at(first, spec["starts"]),
        ends_at=_at(last, spec["ends"]),
        all_day=spec["all_day"],
        city=spec["city"],
        online=spec["online"],
        format=spec["format"],
        status=ContentStatus.PUBLISHED,
        published_at=published,
    )
    counts["Event+"] += 1
    for organizer in await Organization.filter(slug__in=spec["organizers"]):
        await EventOrganizer.create(event=event, organization=organizer)
        counts["EventOrganizer+"] += 1
    for territory in await Territory.filter(slug__in=spec["territories"]):
        await EventTerritory.create(event=event, territory=territory)
        counts["EventTerritory+"] += 1
    return event
