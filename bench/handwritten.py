"""The reference: the portal's data from a hand-written Starlette endpoint, same JSON.

Four SQL statements written by hand, straight on the driver (aiosqlite or asyncpg), rows
turned into dictionaries and ``json.dumps``: what a team would write without GraphQL.
The driver runs it beside the gateway and reports gateway / hand-written.

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
AND ends_at >= {start} ORDER BY starts_at, id LIMIT 10"""


def _gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _iso(value: Any) -> str:
    if isinstance(value, str):  # SQLite keeps aware datetimes as text
        value = dt.datetime.fromisoformat(value)
    return value.isoformat()


class _SQLite:
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


async def portal_data(db: Any) -> dict[str, Any]:
    """The portal's answer, exactly as the gateway shapes it."""
    now = db.instant(dt.datetime.now(dt.UTC))
    rows = await db.fetch(_RESOURCES, now=now)
    ids = [r[0] for r in rows]
    organizations: dict[int, list[dict[str, str]]] = defaultdict(list)
    themes: dict[int, list[dict[str, str]]] = defaultdict(list)
    if ids:
        for rid, name in await db.fetch(_ORGANIZATIONS, ids=ids):
            organizations[rid].append({"name": name})
        for rid, title in await db.fetch(_THEMES, now=now, ids=ids):
            themes[rid].append({"title": title})
    start = db.instant(dt.datetime.fromisoformat(EVENTS_FROM))
    events = await db.fetch(_EVENTS, now=now, start=start)
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


def create_app(database_url: str | None = None) -> Starlette:
    """The reference endpoint on ``database_url`` (default ``BENCH_DATABASE_URL``)."""
    url = database_url or os.environ["BENCH_DATABASE_URL"]
    if url.startswith("sqlite://"):
        db: Any = _SQLite(url.removeprefix("sqlite://"))
    else:
        db = _Postgres(url.replace("postgres://", "postgresql://", 1))

    async def portal(request: Request) -> Response:
        body = json.dumps(await portal_data(db), separators=(",", ":"))
        return Response(body, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    return Starlette(routes=[Route("/portal", portal, methods=["GET", "POST"])], lifespan=lifespan)
