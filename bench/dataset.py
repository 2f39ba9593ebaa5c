"""A deterministic benchmark dataset: N resources (10,000 by default) with their themes,
organisations and territories, plus events, written through the ORM on SQLite or PostgreSQL.

The same seed always gives the same rows (titles, dates, links), so that two runs and two
machines measure the same thing. Dates are fixed (not relative to today) and all in the
past for resources, spread over 2024-2028 for events: the portal query asks for events
from :data:`EVENTS_FROM`.

    python -m bench.dataset --database-url sqlite://var/bench/bench.sqlite3 --resources 10000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random

from tortoise import connections

from services import db
from services.content import Audience, ContentStatus
from services.events.models import Event, EventFormat, EventOrganizer, EventTerritory, EventTheme
from services.organizations.models import Organization, OrganizationKind
from services.resources.models import (
    Resource,
    ResourceKind,
    ResourceOrganization,
    ResourceTerritory,
    ResourceTheme,
)
from services.settings import Settings
from services.territories.models import Territory, TerritoryLevel
from services.themes.models import Theme

SEED = 20261126
NEWEST = dt.datetime(2025, 12, 31, 12, 0, tzinfo=dt.UTC)
"""Publication time of the newest resource; older ones go back one hour each."""
EVENTS_FROM = "2026-01-01T00:00:00+00:00"
"""The portal query's « next events » start here (fixed, so the answer is stable)."""

_WORDS = (
    "participation",
    "citoyenne",
    "budget",
    "participatif",
    "concertation",
    "démocratie",
    "culturelle",
    "sanitaire",
    "jeunesse",
    "adolescents",
    "habitants",
    "quartier",
    "conseil",
    "atelier",
    "diagnostic",
    "coopération",
    "territoire",
    "commune",
    "intercommunalité",
    "évaluation",
    "transition",
    "écologique",
    "mobilité",
    "alimentation",
    "numérique",
    "inclusion",
    "médiation",
    "jury",
    "convention",
    "assemblée",
)
_CITIES = ("Niort", "Bourges", "Guichen", "Mantes-la-Jolie", "Lyon", "Nantes", "Lille", "Brest")


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:]


async def _bulk(model: type, rows: list) -> None:
    await model.bulk_create(rows, batch_size=1000)  # type: ignore[attr-defined]


async def generate(*, resources: int = 10_000, events: int | None = None) -> dict[str, int]:
    """Write the dataset into the open (migrated, empty) database; the row counts."""
    rng = random.Random(SEED)
    n_events = events if events is not None else max(10, resources // 10)
    n_orgs, n_themes, n_territories = 40, 24, 300

    await _bulk(
        Organization,
        [
            Organization(
                id=i,
                slug=f"organisation-{i}",
                name=f"Organisation {i} — {_sentence(rng, 2)}",
                kind=rng.choice(list(OrganizationKind)),
                description=_sentence(rng, 12),
            )
            for i in range(1, n_orgs + 1)
        ],
    )
    await _bulk(
        Theme,
        [
            Theme(
                id=i,
                slug=f"theme-{i}",
                title=f"Thème {i} : {_sentence(rng, 3)}",
                introduction=_sentence(rng, 30),
                status=ContentStatus.PUBLISHED,
                published_at=NEWEST - dt.timedelta(days=400 + i),
            )
            for i in range(1, n_themes + 1)
        ],
    )
    await _bulk(
        Territory,
        [
            Territory(
                id=i,
                slug=f"territoire-{i}",
                name=f"Commune {i}",
                level=TerritoryLevel.COMMUNE,
                insee_code=f"{10000 + i}",
            )
            for i in range(1, n_territories + 1)
        ],
    )
    resource_rows, theme_links, org_links, territory_links = [], [], [], []
    for i in range(1, resources + 1):
        # One in fifty is a draft: the public lists must skip them.
        draft = i % 50 == 0
        resource_rows.append(
            Resource(
                id=i,
                slug=f"ressource-{i}",
                title=f"{_sentence(rng, 5)} ({i})",
                summary=_sentence(rng, 25),
                body=f"<p>{_sentence(rng, 80)}</p>",
                kind=rng.choice(list(ResourceKind)),
                url=f"https://example.org/ressources/{i}",
                audience=rng.choice(list(Audience)),
                status=ContentStatus.DRAFT if draft else ContentStatus.PUBLISHED,
                published_at=None if draft else NEWEST - dt.timedelta(hours=i),
            )
        )
        for theme in rng.sample(range(1, n_themes + 1), 2):
            theme_links.append(ResourceTheme(resource_id=i, theme_id=theme))
        for org in rng.sample(range(1, n_orgs + 1), rng.randint(1, 2)):
            org_links.append(ResourceOrganization(resource_id=i, organization_id=org))
        for territory in rng.sample(range(1, n_territories + 1), rng.randint(1, 2)):
            territory_links.append(ResourceTerritory(resource_id=i, territory_id=territory))
    await _bulk(Resource, resource_rows)
    await _bulk(ResourceTheme, theme_links)
    await _bulk(ResourceOrganization, org_links)
    await _bulk(ResourceTerritory, territory_links)

    start = dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC)
    span_hours = 4 * 365 * 24
    event_rows, event_orgs, event_themes, event_territories = [], [], [], []
    for i in range(1, n_events + 1):
        starts = start + dt.timedelta(hours=(i * span_hours) // n_events)
        online = rng.random() < 0.4
        event_rows.append(
            Event(
                id=i,
                slug=f"evenement-{i}",
                title=f"{_sentence(rng, 4)} ({i})",
                summary=_sentence(rng, 20),
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2),
                city=None if online else rng.choice(_CITIES),
                online=online,
                format=rng.choice(list(EventFormat)),
                registration_url=f"https://example.org/inscription/{i}",
                status=ContentStatus.PUBLISHED,
                published_at=NEWEST - dt.timedelta(days=30),
            )
        )
        event_orgs.append(EventOrganizer(event_id=i, organization_id=rng.randint(1, n_orgs)))
        event_themes.append(EventTheme(event_id=i, theme_id=rng.randint(1, n_themes)))
        event_territories.append(
            EventTerritory(event_id=i, territory_id=rng.randint(1, n_territories))
        )
    await _bulk(Event, event_rows)
    await _bulk(EventOrganizer, event_orgs)
    await _bulk(EventTheme, event_themes)
    await _bulk(EventTerritory, event_territories)
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        # Explicit ids leave PostgreSQL's sequences behind: move them past the rows.
        for table in (
            "organization",
            "theme",
            "territory",
            "resource",
            "event",
            "resource_theme",
            "resource_organization",
            "resource_territory",
            "event_organizer",
            "event_theme",
            "event_territory",
        ):
            await conn.execute_script(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    # Fresh statistics, as autovacuum would gather them on a real database: without them
    # PostgreSQL plans the portal's « newest first » as a sort of the whole table.
    await conn.execute_script("ANALYZE")
    return {
        "resources": resources,
        "events": n_events,
        "themes": n_themes,
        "organizations": n_orgs,
        "territories": n_territories,
    }


async def build(settings: Settings, *, resources: int = 10_000) -> dict[str, int]:
    """Migrate the (empty) database of ``settings`` and write the dataset into it."""
    await db.migrate(settings.database)
    async with db.database(settings.database):
        return await generate(resources=resources)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--resources", type=int, default=10_000)
    args = parser.parse_args()
    counts = asyncio.run(build(Settings(database_url=args.database_url), resources=args.resources))
    print(counts)


if __name__ == "__main__":
    main()
