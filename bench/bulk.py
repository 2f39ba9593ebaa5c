"""The benchmark's dataset at any size, written in bulk: 10,000 to 1,000,000 resources in
seconds, on PostgreSQL or SQLite.

Same shape as :mod:`bench.dataset` (one resource in fifty a draft, 2 themes, 1–2
organisations and 1–2 territories each, one event per ten resources with an organiser, a
theme and a territory; 40 organisations, 24 themes, 300 territories; the same slugs, the
same fixed dates), without the ORM:

- the texts are a pool of 1,024 titles, summaries and bodies drawn from the seeded
  generator of :mod:`bench.dataset`, copied in with ``COPY`` (PostgreSQL,
  ``copy_records_to_table``) or ``executemany`` (SQLite), like the organisations, themes
  and territories;
- the resources, events and their links are made by the database itself, one
  ``INSERT … SELECT`` per table over ``generate_series`` (PostgreSQL) or a recursive
  common table expression (SQLite): no row crosses the socket. Which texts, themes,
  organisations and territories a row gets is a fixed arithmetic hash of its id, so the
  same size always gives the same rows, on both databases.

The schema is the migrations' (indexes included); ``ANALYZE`` runs at the end, as
autovacuum would on a real database.

    python -m bench.bulk --database-url postgres://…/bench --resources 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from bench.dataset import _CITIES, NEWEST, SEED, _sentence
from services.content import Audience
from services.events.models import EventFormat
from services.organizations.models import OrganizationKind
from services.resources.models import ResourceKind

ORGANIZATIONS, THEMES, TERRITORIES = 40, 24, 300
POOL = 1024
"""Distinct texts: rows pick theirs by a hash of their id."""
CREATED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
EVENTS_START = dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC)
EVENT_SPAN_HOURS = 4 * 365 * 24

TABLES = (
    "organization",
    "theme",
    "territory",
    "resource",
    "resource_theme",
    "resource_organization",
    "resource_territory",
    "event",
    "event_organizer",
    "event_theme",
    "event_territory",
)


def _h(salt: int) -> str:
    """A deterministic pseudo-random non-negative integer of the row ``s.i`` (same value on
    both databases: 64-bit integer arithmetic)."""
    return f"((s.i * 2654435761 + {salt * 40503 + 12345}) % 1000003)"


class _Dialect:
    """What differs between the two databases in the generating statements."""

    def __init__(self, name: str) -> None:
        self.name = name

    def series(self, n: int) -> tuple[str, str]:
        """(prefix, source) of a statement reading the rows ``s.i`` = 1..n."""
        if self.name == "postgres":
            return "", f"generate_series(1, {n}) AS s(i)"
        return (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ",
            "s",
        )

    def instant(self, value: dt.datetime, hours: str = "0") -> str:
        """``value`` plus ``hours`` (an SQL integer expression) hours, as the ORM stores it."""
        if self.name == "postgres":
            return f"(TIMESTAMPTZ '{value.isoformat()}' + ({hours}) * INTERVAL '1 hour')"
        base = value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"(strftime('%Y-%m-%d %H:%M:%S', '{base}', ({hours}) || ' hours') || '+00:00')"

    def value(self, value: Any) -> Any:
        if self.name == "sqlite" and isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat(sep=" ")
        if self.name == "sqlite" and isinstance(value, bool):
            return int(value)
        return value


def _pool(short: bool) -> list[tuple[Any, ...]]:
    """(n, title, summary, body, resource kind, audience, event title, event summary, city,
    event format, online) of each text of the pool: drawn from the seeded generator;
    ``short``: summaries and bodies of a few words (rows a tenth as large)."""
    rng = random.Random(SEED)
    rows = []
    for n in range(POOL):
        online = rng.random() < 0.4
        rows.append(
            (
                n,
                _sentence(rng, 5),
                _sentence(rng, 3 if short else 25),
                f"<p>{_sentence(rng, 4 if short else 80)}</p>",
                rng.choice(list(ResourceKind)).value,
                rng.choice(list(Audience)).value,
                _sentence(rng, 4),
                _sentence(rng, 3 if short else 20),
                None if online else rng.choice(_CITIES),
                rng.choice(list(EventFormat)).value,
                online,
            )
        )
    return rows


_POOL_TABLE = """CREATE TABLE bench_text (n INTEGER PRIMARY KEY, title TEXT, summary TEXT,
body TEXT, kind TEXT, audience TEXT, event_title TEXT, event_summary TEXT, city TEXT,
format TEXT, online BOOLEAN)"""
_POOL_COLUMNS = (
    "n",
    "title",
    "summary",
    "body",
    "kind",
    "audience",
    "event_title",
    "event_summary",
    "city",
    "format",
    "online",
)


def _small_tables() -> dict[str, tuple[Sequence[str], list[tuple[Any, ...]]]]:
    """Organisations, themes and territories: ``{table: (columns, rows)}``."""
    rng = random.Random(SEED + 1)
    organizations = [
        (
            i,
            CREATED,
            CREATED,
            f"organisation-{i}",
            f"Organisation {i} — {_sentence(rng, 2)}",
            rng.choice(list(OrganizationKind)).value,
            _sentence(rng, 12),
        )
        for i in range(1, ORGANIZATIONS + 1)
    ]
    themes = [
        (
            i,
            CREATED,
            CREATED,
            f"theme-{i}",
            "PUBLISHED",
            NEWEST - dt.timedelta(days=400 + i),
            f"Thème {i} : {_sentence(rng, 3)}",
            _sentence(rng, 30),
            False,
            False,
            1,
        )
        for i in range(1, THEMES + 1)
    ]
    territories = [
        (i, CREATED, CREATED, f"territoire-{i}", f"Commune {i}", "COMMUNE", f"{10000 + i}")
        for i in range(1, TERRITORIES + 1)
    ]
    stamps = ("id", "created_at", "updated_at", "slug")
    return {
        "organization": ((*stamps, "name", "kind", "description"), organizations),
        "theme": (
            (
                *stamps,
                "status",
                "published_at",
                "title",
                "introduction",
                "is_next",
                "is_vote_candidate",
                "version",
            ),
            themes,
        ),
        "territory": ((*stamps, "name", "level", "insee_code"), territories),
    }


def _statements(d: _Dialect, resources: int, events: int) -> list[tuple[str, str]]:
    """``(table, statement)`` of every generated table, in order."""
    created = d.instant(CREATED)
    prefix, series = d.series(resources)
    draft = "s.i % 50 = 0"
    statements = [
        (
            "resource",
            f"{prefix}INSERT INTO resource (id, created_at, updated_at, slug, status,"
            " published_at, title, summary, body, kind, url, audience, version)"
            f" SELECT s.i, {created}, {created}, 'ressource-' || s.i,"
            f" CASE WHEN {draft} THEN 'DRAFT' ELSE 'PUBLISHED' END,"
            f" CASE WHEN {draft} THEN NULL ELSE {d.instant(NEWEST, '-s.i')} END,"
            " x.title || ' (' || s.i || ')', x.summary, x.body, x.kind,"
            " 'https://example.org/ressources/' || s.i, x.audience, 1"
            f" FROM {series} JOIN bench_text x ON x.n = {_h(1)} % {POOL}",
        )
    ]
    # Two distinct themes, one or two distinct organisations and territories per resource:
    # the second is the first moved by 1..count-1 places.
    links = (
        ("resource_theme", "theme_id", THEMES, "1 = 1"),
        ("resource_organization", "organization_id", ORGANIZATIONS, f"{_h(5)} % 2 = 0"),
        ("resource_territory", "territory_id", TERRITORIES, f"{_h(8)} % 2 = 0"),
    )
    for number, (table, column, count, second) in enumerate(links):
        first = f"(1 + {_h(10 + 3 * number)} % {count})"
        other = f"(1 + ({first} + {_h(11 + 3 * number)} % {count - 1}) % {count})"
        for k, (target, where) in enumerate(((first, "1 = 1"), (other, second))):
            statements.append(
                (
                    table,
                    f"{prefix}INSERT INTO {table} (id, created_at, updated_at, resource_id,"
                    f" {column}) SELECT 2 * s.i - {1 - k}, {created}, {created}, s.i, {target}"
                    f" FROM {series} WHERE {where}",
                )
            )
    prefix, series = d.series(events)
    starts = f"(CAST(s.i AS BIGINT) * {EVENT_SPAN_HOURS}) / {events}"
    statements.append(
        (
            "event",
            f"{prefix}INSERT INTO event (id, created_at, updated_at, slug, status, published_at,"
            " title, summary, starts_at, ends_at, all_day, city, online, format,"
            " registration_url, version)"
            f" SELECT s.i, {created}, {created}, 'evenement-' || s.i, 'PUBLISHED',"
            f" {d.instant(NEWEST, '-720')}, x.event_title || ' (' || s.i || ')',"
            f" x.event_summary, {d.instant(EVENTS_START, starts)},"
            f" {d.instant(EVENTS_START, starts + ' + 2')}, {d.value(False)}, x.city, x.online,"
            f" x.format, 'https://example.org/inscription/' || s.i, 1"
            f" FROM {series} JOIN bench_text x ON x.n = {_h(20)} % {POOL}",
        )
    )
    for number, (table, column, count) in enumerate(
        (
            ("event_organizer", "organization_id", ORGANIZATIONS),
            ("event_theme", "theme_id", THEMES),
            ("event_territory", "territory_id", TERRITORIES),
        )
    ):
        statements.append(
            (
                table,
                f"{prefix}INSERT INTO {table} (id, created_at, updated_at, event_id, {column})"
                f" SELECT s.i, {created}, {created}, s.i, 1 + {_h(21 + number)} % {count}"
                f" FROM {series}",
            )
        )
    return statements


def _sqlite(path: str, resources: int, events: int, short: bool, log: Any) -> None:
    d = _Dialect("sqlite")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # No journal while loading (a failed load leaves a file to delete, not to repair):
        # in WAL mode every page would be written twice. WAL again afterwards.
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MB while loading
        conn.execute("BEGIN")
        conn.execute("DROP TABLE IF EXISTS bench_text")
        conn.execute(_POOL_TABLE)
        marks = ", ".join("?" * len(_POOL_COLUMNS))
        conn.executemany(
            f"INSERT INTO bench_text VALUES ({marks})",
            [tuple(d.value(v) for v in row) for row in _pool(short)],
        )
        for table, (columns, rows) in _small_tables().items():
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)})"
                f" VALUES ({', '.join('?' * len(columns))})",
                [tuple(d.value(v) for v in row) for row in rows],
            )
        for table, sql in _statements(d, resources, events):
            started = time.monotonic()
            conn.execute(sql)
            log(f"{table}: {time.monotonic() - started:.1f}s")
        conn.execute("DROP TABLE bench_text")
        conn.execute("COMMIT")
        started = time.monotonic()
        # Statistics from a sample of each index: as good for the planner, and quick.
        conn.execute("PRAGMA analysis_limit = 2000")
        conn.execute("ANALYZE")
        log(f"ANALYZE: {time.monotonic() - started:.1f}s")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


_PG_INDEXES = """
SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', t.relname, c.conname) AS "drop",
       format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, c.conname,
              pg_get_constraintdef(c.oid)) AS "create"
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
WHERE c.contype = 'u' AND t.relname = ANY($1::text[])
UNION ALL
SELECT format('DROP INDEX %I', i.relname), pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relname = ANY($1::text[]) AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
"""


async def _postgres(url: str, resources: int, events: int, short: bool, log: Any) -> None:
    import asyncpg

    d = _Dialect("postgres")
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        # Foreign keys hold by construction: not checked row by row (their triggers off).
        await conn.execute("SET session_replication_role = replica")
        async with conn.transaction():
            # Indexes are built once at the end (from sorted data) rather than row by row.
            rebuild = await conn.fetch(_PG_INDEXES, list(TABLES))
            for row in rebuild:
                await conn.execute(row["drop"])
            await conn.execute("DROP TABLE IF EXISTS bench_text")
            await conn.execute(_POOL_TABLE)
            await conn.copy_records_to_table(
                "bench_text", records=_pool(short), columns=_POOL_COLUMNS
            )
            for table, (columns, rows) in _small_tables().items():
                await conn.copy_records_to_table(table, records=rows, columns=columns)
            for table, sql in _statements(d, resources, events):
                started = time.monotonic()
                await conn.execute(sql)
                log(f"{table}: {time.monotonic() - started:.1f}s")
            await conn.execute("DROP TABLE bench_text")
            started = time.monotonic()
            for row in rebuild:
                await conn.execute(row["create"])
            log(f"indexes: {time.monotonic() - started:.1f}s")
            # Explicit ids leave the sequences behind: move them past the rows.
            for table in TABLES:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
        await conn.execute("SET session_replication_role = DEFAULT")
        started = time.monotonic()
        # Fresh statistics, as autovacuum would gather them; VACUUM also sets the
        # visibility map, without which no index-only scan is chosen.
        await conn.execute("VACUUM ANALYZE")
        log(f"VACUUM ANALYZE: {time.monotonic() - started:.1f}s")
    finally:
        await conn.close()


async def generate(
    url: str,
    *,
    resources: int,
    events: int | None = None,
    short: bool = False,
    log: Any = None,
) -> dict:
    """Write the dataset into the migrated, empty database at ``url``; the row counts.
    ``short``: summaries and bodies of a few words (query plans, not payloads)."""
    n_events = events if events is not None else max(10, resources // 10)
    say = log or (lambda message: None)
    if url.startswith("sqlite://"):
        await asyncio.to_thread(
            _sqlite, url.removeprefix("sqlite://"), resources, n_events, short, say
        )
    else:
        await _postgres(url, resources, n_events, short, say)
    return {
        "resources": resources,
        "events": n_events,
        "themes": THEMES,
        "organizations": ORGANIZATIONS,
        "territories": TERRITORIES,
    }


async def build(url: str, *, resources: int, short: bool = False, log: Any = None) -> dict:
    """Migrate the empty database at ``url`` and write the dataset into it."""
    from services import db
    from services.settings import Settings

    await db.migrate(Settings(database_url=url).database)
    return await generate(url, resources=resources, short=short, log=log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a migrated, empty database")
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--short", action="store_true", help="texts of a few words")
    args = parser.parse_args()
    started = time.monotonic()
    counts = asyncio.run(
        build(args.database_url, resources=args.resources, short=args.short, log=print)
    )
    print(counts, f"in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
