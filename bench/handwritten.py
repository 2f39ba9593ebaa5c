"""The reference: the portal's data and a resource page from hand-written Starlette
endpoints, the gateway's JSON.

SQL statements written by hand (four for the portal, five for the resource page),
straight on the driver (aiosqlite or asyncpg), rows turned into dictionaries and
``json.dumps``: what a team would write without GraphQL. ``/portal`` answers the portal
query (``?first=100``: a page of 100), ``/resource/<slug>`` the resource page. The driver
runs it beside the gateway and reports gateway / hand-written.

    BENCH_DATABASE_URL=sqlite://var/bench/bench.sqlite3 \\
        uvicorn --factory bench.handwritten:create_app --port 8100
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.dataset import EVENTS_FROM
from services.labels import label
from services.resources.models import ResourceKind
from services.resources.service import RELATED_WINDOW

_RESOURCES = """SELECT id, slug, title, kind, published_at FROM resource
WHERE status = 'PUBLISHED' AND published_at IS NOT NULL AND published_at <= {now}
ORDER BY published_at DESC, id DESC LIMIT 20"""
_ORGANIZATIONS = """SELECT l.resource_id, o.name FROM resource_organization l
JOIN organization o ON o.id = l.organization_id WHERE l.resource_id {in_ids} ORDER BY o.slug"""
_THEMES = """SELECT l.resource_id, t.title FROM resource_theme l
JOIN theme t ON t.id = l.theme_id WHERE l.resource_id {in_ids} AND t.status = 'PUBLISHED'
AND (t.published_at IS NULL OR t.published_at <= {now}) ORDER BY t.slug"""
_EVENTS = """SELECT id, slug, title, starts_at, ends_at, city, online FROM event
WHERE status = 'PUBLISHED' AND (published_at IS NULL OR published_at <= {now})
AND ends_at >= {start} AND starts_at >= {earliest} ORDER BY starts_at, id LIMIT 10"""
# The earliest start of an event running at {start}: {start} minus the longest span of any
# event, one step from the end of the index of spans (services/events/service.py).
_EARLIEST_SQLITE = """datetime(julianday({start})
  - (SELECT max(julianday(ends_at) - julianday(starts_at)) FROM event) - 1.0 / 86400)"""
_EARLIEST_POSTGRES = """(({start}::timestamptz AT TIME ZONE 'UTC')
  - (SELECT max(ends_at - starts_at) FROM event)) AT TIME ZONE 'UTC'"""


_PAGE = """SELECT id, title, summary, body, kind, url, published_at FROM resource
WHERE slug = {slug} AND status = 'PUBLISHED' AND (published_at IS NULL OR published_at <= {now})"""
_PAGE_THEMES = """SELECT t.id, t.slug, t.title FROM resource_theme l
JOIN theme t ON t.id = l.theme_id WHERE l.resource_id = {id} AND t.status = 'PUBLISHED'
AND (t.published_at IS NULL OR t.published_at <= {now}) ORDER BY t.slug"""
_PAGE_ORGANIZATIONS = """SELECT o.id, o.slug, o.name FROM resource_organization l
JOIN organization o ON o.id = l.organization_id WHERE l.resource_id = {id} ORDER BY o.slug"""
_PAGE_TERRITORIES = """SELECT t.id, t.slug, t.name FROM resource_territory l
JOIN territory t ON t.id = l.territory_id WHERE l.resource_id = {id} ORDER BY t.slug"""
# The five published resources sharing the most themes, among the RELATED_WINDOW most
# recently added of each theme; then newest publication, then highest id. CROSS JOIN:
# SQLite joins in the order written (the bounds, a range of links each, their resources
# by key).
_RELATED = """WITH bound AS (
  SELECT o.theme_id, COALESCE((SELECT x.resource_id FROM resource_theme x
    WHERE x.theme_id = o.theme_id ORDER BY x.resource_id DESC LIMIT 1 OFFSET {last}), 0) AS low
  FROM resource_theme o WHERE o.resource_id = {id}
)
SELECT r.id, r.slug, r.title FROM bound CROSS JOIN resource_theme l CROSS JOIN resource r
WHERE l.theme_id = bound.theme_id AND l.resource_id >= bound.low AND r.id = l.resource_id
AND l.resource_id <> {id2} AND r.status = 'PUBLISHED' AND r.published_at IS NOT NULL
AND r.published_at <= {now}
GROUP BY r.id, r.slug, r.title, r.published_at
ORDER BY COUNT(*) DESC, r.published_at DESC, r.id DESC LIMIT 5""".replace(
    "{last}", str(RELATED_WINDOW - 1)
)


def _gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _iso(value: Any) -> str:
    if isinstance(value, str):  # SQLite keeps aware datetimes as text
        value = dt.datetime.fromisoformat(value)
    return value.isoformat()


class _SQLite:
    earliest = _EARLIEST_SQLITE

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: Any = None

    async def open(self) -> None:
        import aiosqlite

        self.conn = await aiosqlite.connect(self.path)

    async def close(self) -> None:
        await self.conn.close()

    async def fetch(self, sql: str, **params: Any) -> list[Any]:
        values: list[Any] = []

        class _Marks(dict):
            def __missing__(self, name: str) -> str:
                if name == "in_ids":
                    values.extend(params["ids"])
                    return "IN (" + ",".join("?" * len(params["ids"])) + ")"
                values.append(params[name])
                return "?"

        async with self.conn.execute(sql.format_map(_Marks()), values) as cursor:
            return list(await cursor.fetchall())

    @staticmethod
    def instant(value: dt.datetime) -> Any:
        return value.astimezone(dt.UTC).isoformat(sep=" ")


class _Postgres:
    earliest = _EARLIEST_POSTGRES

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=5)

    async def close(self) -> None:
        await self.pool.close()

    async def fetch(self, sql: str, **params: Any) -> list[Any]:
        values: list[Any] = []

        class _Marks(dict):
            def __missing__(self, name: str) -> str:
                values.append(params["ids" if name == "in_ids" else name])
                mark = f"${len(values)}"
                return f"= ANY({mark}::int[])" if name == "in_ids" else mark

        query = sql.format_map(_Marks())
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(query, *values))

    @staticmethod
    def instant(value: dt.datetime) -> Any:
        return value


async def portal_data(db: Any, first: int = 20) -> dict[str, Any]:
    """The portal's answer, exactly as the gateway shapes it."""
    now = db.instant(dt.datetime.now(dt.UTC))
    rows = await db.fetch(_RESOURCES.replace("LIMIT 20", f"LIMIT {int(first)}"), now=now)
    ids = [r[0] for r in rows]
    organizations: dict[int, list[dict[str, str]]] = defaultdict(list)
    themes: dict[int, list[dict[str, str]]] = defaultdict(list)
    if ids:
        for rid, name in await db.fetch(_ORGANIZATIONS, ids=ids):
            organizations[rid].append({"name": name})
        for rid, title in await db.fetch(_THEMES, now=now, ids=ids):
            themes[rid].append({"title": title})
    start = db.instant(dt.datetime.fromisoformat(EVENTS_FROM))
    events = await db.fetch(_EVENTS.replace("{earliest}", db.earliest), now=now, start=start)
    return {
        "data": {
            "resources": {
                "edges": [
                    {
                        "node": {
                            "id": _gid("Resource", r[0]),
                            "slug": r[1],
                            "title": r[2],
                            "kind": r[3],
                            "publishedAt": _iso(r[4]),
                            "organizations": organizations[r[0]],
                            "themes": themes[r[0]],
                        }
                    }
                    for r in rows
                ]
            },
            "events": {
                "edges": [
                    {
                        "node": {
                            "id": _gid("Event", e[0]),
                            "slug": e[1],
                            "title": e[2],
                            "startsAt": _iso(e[3]),
                            "endsAt": _iso(e[4]),
                            "city": e[5],
                            "online": bool(e[6]),
                        }
                    }
                    for e in events
                ]
            },
        }
    }


async def resource_page_data(db: Any, slug: str) -> dict[str, Any]:
    """The resource page's answer, exactly as the gateway shapes it."""
    now = db.instant(dt.datetime.now(dt.UTC))
    found = await db.fetch(_PAGE, slug=slug, now=now)
    if not found:
        return {"data": {"resource": None}}
    pk, title, summary, body, kind, url, published_at = found[0]
    themes = await db.fetch(_PAGE_THEMES, id=pk, now=now)
    organizations = await db.fetch(_PAGE_ORGANIZATIONS, id=pk)
    territories = await db.fetch(_PAGE_TERRITORIES, id=pk)
    related = await db.fetch(_RELATED, id=pk, id2=pk, now=now)
    return {
        "data": {
            "resource": {
                "id": _gid("Resource", pk),
                "title": title,
                "summary": summary,
                "body": body,
                "kind": kind,
                "kindLabel": label(ResourceKind(kind)),
                "url": url,
                "publishedAt": _iso(published_at) if published_at is not None else None,
                "themes": [
                    {"id": _gid("Theme", t[0]), "slug": t[1], "title": t[2]} for t in themes
                ],
                "organizations": [
                    {"id": _gid("Organization", o[0]), "slug": o[1], "name": o[2]}
                    for o in organizations
                ],
                "territories": [
                    {"id": _gid("Territory", t[0]), "slug": t[1], "name": t[2]} for t in territories
                ],
                "related": [
                    {"id": _gid("Resource", r[0]), "slug": r[1], "title": r[2]} for r in related
                ],
            }
        }
    }


def create_app(database_url: str | None = None) -> Starlette:
    """The reference endpoint on ``database_url`` (default ``BENCH_DATABASE_URL``)."""
    url = database_url or os.environ["BENCH_DATABASE_URL"]
    if url.startswith("sqlite://"):
        db: Any = _SQLite(url.removeprefix("sqlite://"))
    else:
        db = _Postgres(url.replace("postgres://", "postgresql://", 1))

    async def portal(request: Request) -> Response:
        first = int(request.query_params.get("first", "20"))
        body = json.dumps(await portal_data(db, first), separators=(",", ":"))
        return Response(body, media_type="application/json")

    async def resource_page(request: Request) -> Response:
        data = await resource_page_data(db, request.path_params["slug"])
        return Response(json.dumps(data, separators=(",", ":")), media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    return Starlette(
        routes=[
            Route("/portal", portal, methods=["GET", "POST"]),
            Route("/resource/{slug}", resource_page, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
