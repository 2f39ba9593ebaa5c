"""Fixtures of the search tests: an embedded engine in a temporary directory, built from
the demo database, and helpers that write content the way the write API does (the row
and its outbox entry in one transaction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from search.consumer import drain_once, reindex
from search.documents import all_documents
from search.port import SearchRequest
from search.tantivy_engine import TantivyEngine
from services.content import ContentStatus
from services.outbox.models import OutboxEntry
from services.outbox.service import SEARCH, record_changes
from services.resources.models import Resource, ResourceTheme


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
async def engine(database: Any, tmp_path: Path) -> AsyncIterator[TantivyEngine]:
    """An embedded engine holding every indexable document of the database, with the
    outbox drained (rows left by other tests are applied first)."""
    built = TantivyEngine(tmp_path / "index", writer_heap_mb=32)
    await built.open()
    await reindex(built, replay_grace=0)
    await drain_all(built)
    yield built
    await built.close()


async def drain_all(engine: Any, *, rounds: int = 50) -> None:
    """Apply every pending outbox row (fails the test if the engine keeps refusing)."""
    for _ in range(rounds):
        if not await OutboxEntry.filter(topic=SEARCH, processed_at__isnull=True).exists():
            return
        await OutboxEntry.filter(topic=SEARCH, processed_at__isnull=True).update(
            next_attempt_at=None
        )
        await drain_once(engine, max_backoff=0.01)
    raise AssertionError("the outbox did not drain")


async def indexed_ids(engine: Any) -> list[str]:
    """Every document id in the index, duplicates included."""
    seen: list[str] = []
    offset = 0
    while True:
        result = await engine.search(SearchRequest(limit=100, offset=offset))
        seen += [f"{h.type}-{h.pk}" for h in result.hits]
        offset += len(result.hits)
        if not result.hits or offset >= result.total:
            return seen


async def assert_converged(engine: Any) -> None:
    """The index holds exactly the indexable documents of the database, once each, with
    their current titles."""
    expected: dict[str, str] = {}
    async for batch in all_documents(now=now()):
        expected.update({d["id"]: d["title"] for d in batch})
    found = await indexed_ids(engine)
    assert len(found) == len(set(found)), "duplicates in the index"
    assert set(found) == set(expected)
    assert await engine.count() == len(expected)


async def create_resource(
    slug: str,
    *,
    title: str,
    status: ContentStatus = ContentStatus.PUBLISHED,
    published_at: dt.datetime | None = None,
    summary: str = "",
    theme_ids: tuple[int, ...] = (),
) -> Resource:
    """Create a resource and its outbox row in one transaction, like the write API."""
    async with in_transaction():
        resource = await Resource.create(
            slug=slug,
            title=title,
            summary=summary,
            status=status,
            published_at=published_at or (now() - dt.timedelta(minutes=1)),
        )
        for theme_id in theme_ids:
            await ResourceTheme.create(resource_id=resource.id, theme_id=theme_id)
        await record_changes("resource", [resource.id])
    return resource


async def update(row: Any, entity_type: str, **changes: Any) -> None:
    """Update a row and record the change in one transaction."""
    async with in_transaction():
        for name, value in changes.items():
            setattr(row, name, value)
        await row.save()
        await record_changes(entity_type, [row.id])


async def delete(row: Any, entity_type: str) -> None:
    async with in_transaction():
        pk = row.id
        await row.delete()
        await record_changes(entity_type, [pk])


@pytest.fixture
async def cleanup() -> AsyncIterator[list[Any]]:
    """Rows a test created, deleted afterwards (other tests count the demo data)."""
    rows: list[Any] = []
    yield rows
    for row in rows:
        async with in_transaction():
            await type(row).filter(id=row.id).delete()
            await record_changes(type(row).__name__.lower(), [row.id])
