"""The outbox consumer: what reaches the index, renames, failures and recovery.

Writes are made like the write API makes them (row + outbox entry in one transaction);
failures are real: an engine that raises for a while, or an engine that is closed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from search.consumer import OutboxConsumer, backoff, drain_once, get_index_lag, reindex
from search.port import Facet, SearchFilter, SearchRequest, SearchUnavailable
from search.tantivy_engine import TantivyEngine
from services.content import ContentStatus
from services.outbox.models import OutboxEntry
from services.outbox.service import SEARCH, record_changes
from services.territories.models import Territory
from services.themes.models import Theme
from tests.clock import FakeClock
from tests.search.conftest import (
    assert_converged,
    create_resource,
    delete,
    drain_all,
    now,
    update,
)


async def theme_labels(engine: Any, theme_id: int) -> list[str | None]:
    """The labels the index gives ``theme_id`` as a facet value (one, when consistent)."""
    result = await engine.search(
        SearchRequest(filter=SearchFilter(themes=[theme_id]), facets=[Facet.THEME], limit=0)
    )
    return [c.label for c in result.facets[Facet.THEME] if c.value == str(theme_id)]


async def found(engine: Any, query: str) -> set[int]:
    result = await engine.search(SearchRequest(query=query, limit=100))
    return {h.pk for h in result.hits if h.type == "resource"}


async def test_only_published_content_reaches_the_index(engine, cleanup):
    draft = await create_resource("s-draft", title="Zibeline brouillon", status=ContentStatus.DRAFT)
    submitted = await create_resource(
        "s-submitted", title="Zibeline proposée", status=ContentStatus.SUBMITTED
    )
    scheduled = await create_resource(
        "s-scheduled", title="Zibeline programmée", published_at=now() + dt.timedelta(days=3)
    )
    published = await create_resource("s-published", title="Zibeline publiée")
    cleanup += [draft, submitted, scheduled, published]
    await drain_all(engine)
    assert await found(engine, "zibeline") == {published.id}
    await assert_converged(engine)

    await update(draft, "resource", status=ContentStatus.PUBLISHED, published_at=now())
    await update(published, "resource", status=ContentStatus.ARCHIVED)
    await drain_all(engine)
    assert await found(engine, "zibeline") == {draft.id}

    await delete(draft, "resource")
    await drain_all(engine)
    assert await found(engine, "zibeline") == set()
    await assert_converged(engine)


async def test_scheduled_content_appears_when_its_time_comes(engine, cleanup):
    clock = FakeClock()
    soon = await create_resource(
        "s-soon", title="Quokka programmé", published_at=clock() + dt.timedelta(minutes=5)
    )
    cleanup.append(soon)
    consumer = OutboxConsumer(engine, poll_interval=0.05, clock=clock)
    await consumer.run_once()
    assert await found(engine, "quokka") == set()
    clock.advance(minutes=4, seconds=59)
    await consumer.run_once()
    assert await found(engine, "quokka") == set()
    clock.advance(seconds=2)
    await consumer.run_once()  # no write at publication time: the sweep finds it
    assert await found(engine, "quokka") == {soon.id}


async def test_renaming_a_theme_or_territory_reindexes_every_document_showing_it(engine, cleanup):
    # A theme of its own: what other tests link to the demo's themes does not count.
    theme = await Theme.create(
        slug="s-theme",
        title="Thème du castor",
        status=ContentStatus.PUBLISHED,
        published_at=now() - dt.timedelta(days=1),
    )
    await record_changes("theme", [theme.id])
    linked = await create_resource("s-linked", title="Ressource liée", theme_ids=(theme.id,))
    also = await create_resource("s-also", title="Autre ressource", theme_ids=(theme.id,))
    scheduled = await create_resource(
        "s-later",
        title="Ressource programmée",
        published_at=now() + dt.timedelta(days=3),
        theme_ids=(theme.id,),
    )
    cleanup.extend([linked, also, scheduled, theme])
    await drain_all(engine)
    assert await found(engine, "ornithorynque") == set()
    old_title = theme.title
    try:
        await update(theme, "theme", title="Ornithorynque et participation")
        await drain_all(engine)
        # Every published resource showing the theme; not the one still to come.
        assert await found(engine, "ornithorynque") == {linked.id, also.id}
        # The facet label follows too: on the theme's own document and on those linked.
        assert await theme_labels(engine, theme.id) == ["Ornithorynque et participation"]
    finally:
        await update(theme, "theme", title=old_title)
        await drain_all(engine)
    assert await found(engine, "ornithorynque") == set()
    assert await theme_labels(engine, theme.id) == [old_title]

    territory = await Territory.create(slug="s-territoire", name="Tamarinville", level="COMMUNE")
    from services.resources.models import ResourceTerritory

    await ResourceTerritory.create(resource_id=linked.id, territory_id=territory.id)
    await record_changes("resource", [linked.id])
    await drain_all(engine)
    assert await found(engine, "tamarinville") == {linked.id}
    await update(territory, "territory", name="Pangolinville")
    await drain_all(engine)
    assert await found(engine, "tamarinville") == set()
    assert await found(engine, "pangolinville") == {linked.id}
    # Deleting it deletes the links too: the index still knows whom it showed.
    await delete(territory, "territory")
    await drain_all(engine)
    assert await found(engine, "pangolinville") == set()
    await assert_converged(engine)


class FlakyEngine:
    """Wraps a real engine and makes every write (and search) fail while ``down``."""

    def __init__(self, inner: TantivyEngine) -> None:
        self.inner = inner
        self.down = False
        self.failures = 0
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _check(self) -> None:
        if self.down:
            self.failures += 1
            raise SearchUnavailable("engine down (test)")

    async def upsert(self, documents: Any) -> None:
        self._check()
        await self.inner.upsert(documents)

    async def delete(self, ids: Any) -> None:
        self._check()
        await self.inner.delete(ids)

    async def search(self, request: SearchRequest) -> Any:
        self._check()
        return await self.inner.search(request)

    async def ids_with(self, field: str, values: Any) -> list[str]:
        self._check()
        return await self.inner.ids_with(field, values)


async def test_engine_down_during_writes_then_the_index_converges(engine, cleanup):
    flaky = FlakyEngine(engine)
    flaky.down = True
    rows = [await create_resource(f"s-down-{i}", title=f"Capybara {i}") for i in range(5)]
    cleanup += rows
    await update(rows[0], "resource", title="Capybara renommé")
    await update(rows[1], "resource", status=ContentStatus.DRAFT)
    theme = await Theme.filter(status=ContentStatus.PUBLISHED).first()
    await update(theme, "theme", title=theme.title)

    clock = FakeClock()
    settled = await drain_once(flaky, max_backoff=60, clock=clock)
    assert settled > 0 and flaky.failures > 0
    pending = await OutboxEntry.filter(topic=SEARCH, processed_at__isnull=True)
    assert pending and all(r.attempts == 1 and r.last_error for r in pending)
    # The first retry comes one second later.
    assert {r.next_attempt_at for r in pending} == {clock() + dt.timedelta(seconds=1)}
    # In order: while the oldest row waits for its retry, nothing is applied.
    clock.advance(0.9)
    assert await drain_once(flaky, max_backoff=60, clock=clock) == 0
    lag = await get_index_lag()
    assert lag.pending == len(pending) and lag.failing == len(pending)
    assert lag.lag_seconds >= 0 and "engine down" in lag.last_error

    clock.advance(0.2)
    await drain_once(flaky, max_backoff=60, clock=clock)  # still down: second attempt
    retried = await OutboxEntry.filter(topic=SEARCH, processed_at__isnull=True)
    assert {r.attempts for r in retried} == {2}
    # The pause doubles at each failure.
    assert {r.next_attempt_at for r in retried} == {clock() + dt.timedelta(seconds=2)}

    flaky.down = False
    clock.advance(1.9)
    assert await drain_once(flaky, max_backoff=60, clock=clock) == 0  # not yet
    clock.advance(0.2)
    assert await drain_once(flaky, max_backoff=60, clock=clock) > 0
    await drain_all(flaky)
    assert await found(engine, "capybara") == {r.id for r in rows if r is not rows[1]}
    assert (await get_index_lag()).pending == 0
    await assert_converged(engine)


async def test_closed_engine_then_reopened_converges(engine, cleanup):
    await engine.close()
    row = await create_resource("s-closed", title="Axolotl fermé")
    cleanup.append(row)
    await drain_once(engine, max_backoff=0.01)
    assert (
        await OutboxEntry.get(topic=SEARCH, entity_id=row.id, entity_type="resource")
    ).attempts == 1
    await engine.open()
    await drain_all(engine)
    assert await found(engine, "axolotl") == {row.id}
    await assert_converged(engine)


def test_backoff_grows_and_is_capped():
    assert [backoff(n, maximum=10) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 4, 8, 10, 10]


async def test_reindex_replays_changes_made_during_the_rebuild(engine, cleanup):
    from search.documents import all_documents

    row = await create_resource("s-replay", title="Okapi")
    cleanup.append(row)
    await drain_all(engine)

    original = engine.rebuild

    async def rebuild_with_a_write_in_the_middle(batches: Any, **kw: Any) -> int:
        async def interleaved() -> Any:
            first = True
            async for batch in batches:
                yield batch
                if first:
                    first = False
                    # A write and its application to the *old* index, mid-rebuild.
                    await update(row, "resource", title="Okapi renommé zèbre")
                    await drain_once(engine)

        return await original(interleaved(), **kw)

    engine.rebuild = rebuild_with_a_write_in_the_middle  # type: ignore[method-assign]
    try:
        await reindex(engine, replay_grace=0)
    finally:
        del engine.rebuild
    assert all_documents  # documents are read at the start of the rebuild
    await drain_all(engine)
    assert await found(engine, "zebre") == {row.id}
    await assert_converged(engine)


async def test_consumer_rebuilds_an_empty_index_at_start(database, tmp_path):
    fresh = TantivyEngine(tmp_path / "fresh", writer_heap_mb=32)
    await fresh.open()
    try:
        assert await fresh.count() == 0
        await drain_all(fresh)
        stop = asyncio.Event()
        task = asyncio.create_task(OutboxConsumer(fresh, poll_interval=0.05).run(stop))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await fresh.count():
                break
        stop.set()
        await task
        await assert_converged(fresh)
    finally:
        await fresh.close()


async def test_one_writer_per_index_directory(engine):
    assert await engine.try_acquire_writer()
    other = TantivyEngine(engine.root, writer_heap_mb=32)
    await other.open()
    try:
        assert not await other.try_acquire_writer()
        # A reader in another engine (process) still answers and sees the writer's commits.
        assert (await other.search(SearchRequest(filter=SearchFilter(types=["resource"])))).total
    finally:
        await other.close()
