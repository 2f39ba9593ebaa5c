"""The outbox consumer: the only writer of the search index.

Writes record outbox rows (topic ``search``) in their own transaction; this consumer
claims them oldest first (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
workers share the work without applying a row twice at once), re-reads the current state
of each entity and applies it: visible content is upserted, anything else is deleted. A
change to a theme, territory or organisation re-indexes every document showing it.
Re-reading makes applying idempotent, so a row applied twice does no harm.

When the engine fails, the whole batch stays pending with ``attempts`` + 1 and
``next_attempt_at`` pushed back exponentially (capped); the consumer waits for the
oldest row, so rows are applied in order and nothing is lost however long the engine is
down. Scheduled content has no write at its publication time: the consumer sweeps for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tortoise import connections
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from search.documents import (
    affected_documents,
    all_documents,
    count_indexable,
    document_types,
    linked_types,
    load_documents,
    parent_types,
    parse_document_id,
    published_between,
    searchable_types,
)
from search.port import Progress, SearchEngine, SearchUnavailable
from services.clock import Clock, system_clock
from services.compat_tortoise import in_own_context
from services.outbox.models import OutboxEntry
from services.outbox.service import SEARCH

logger = logging.getLogger("tec.search.consumer")


def _facet_of(entity_type: str) -> str:
    """The facet field documents show ``entity_type`` in (``themes`` for ``theme``)."""
    for searchable in searchable_types().values():
        for field, facet in searchable.facets.items():
            if facet.linked == entity_type:
                return field
    raise LookupError(entity_type)


def backoff(attempts: int, *, maximum: float = 300.0) -> float:
    """Seconds before retrying a batch that failed ``attempts`` times: 1, 2, 4… capped."""
    return min(maximum, 2.0 ** max(0, attempts - 1))


def _pending() -> Q:
    return Q(topic=SEARCH, processed_at__isnull=True)


async def _indexed_with(engine: SearchEngine, field: str, ids: list[int]) -> dict[str, set[int]]:
    """Documents the index shows with these linked ids (also finds links already deleted
    from the database, e.g. when a theme is deleted with its links), however many: the
    engine fetches them by filter, not by paging a search."""
    found: dict[str, set[int]] = defaultdict(set)
    for doc_id in await engine.ids_with(field, ids):
        doc_type, pk = parse_document_id(doc_id)
        found[doc_type].add(pk)
    return found


async def apply_changes(
    engine: SearchEngine, changes: list[tuple[str, int]], *, now: dt.datetime
) -> int:
    """Bring the index in line with the database for these ``(entity type, id)`` changes;
    returns how many documents were written or deleted."""
    targets: dict[str, set[int]] = defaultdict(set)
    linked: dict[str, set[int]] = defaultdict(set)
    for entity_type, entity_id in changes:
        # A theme is a document and is shown in other documents: both apply.
        if entity_type in document_types():
            targets[entity_type].add(entity_id)
        if entity_type in linked_types() or entity_type in parent_types():
            linked[entity_type].add(entity_id)
        # Other types (voting rounds…) are not searchable: nothing to do.
    for entity_type, ids in linked.items():
        sources = [await affected_documents(entity_type, ids)]
        if entity_type in linked_types():
            sources.append(await _indexed_with(engine, _facet_of(entity_type), sorted(ids)))
        for source in sources:
            for doc_type, pks in source.items():
                targets[doc_type] |= pks
    written = 0
    for doc_type in document_types():
        pks = sorted(targets.get(doc_type, ()))
        for start in range(0, len(pks), 500):
            documents, deletions = await load_documents(doc_type, pks[start : start + 500], now=now)
            await engine.delete(deletions)
            await engine.upsert(documents)
            written += len(documents) + len(deletions)
    return written


def _supports_skip_locked() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def drain_once(
    engine: SearchEngine,
    *,
    batch_size: int = 200,
    max_backoff: float = 300.0,
    clock: Clock = system_clock,
) -> int:
    """Apply the oldest pending outbox rows (one batch); returns how many rows were
    settled (applied or failed), 0 when nothing was due."""
    now = clock()
    shared = _supports_skip_locked()
    # PostgreSQL: claim the rows for the batch (workers skip each other's). SQLite has one
    # consumer and one connection, which a transaction would hold for the whole batch.
    async with in_transaction() if shared else contextlib.nullcontext():
        query = OutboxEntry.filter(_pending()).order_by("id").limit(batch_size)
        if shared:
            query = query.select_for_update(skip_locked=True)
        rows = await query
        if not rows:
            return 0
        # In order: when the oldest row waits for its retry time, everything waits.
        if rows[0].next_attempt_at is not None and rows[0].next_attempt_at > now:
            return 0
        ids = [r.id for r in rows]
        generation = getattr(engine, "generation", None)
        try:
            await apply_changes(engine, [(r.entity_type, r.entity_id) for r in rows], now=now)
        except Exception as error:
            attempts = max(r.attempts for r in rows) + 1
            retry_at = now + dt.timedelta(seconds=backoff(attempts, maximum=max_backoff))
            logger.warning(
                "search index: %d changes not applied (%r); retry at %s",
                len(rows),
                error,
                retry_at.isoformat(),
            )
            await OutboxEntry.filter(id__in=ids).update(
                attempts=attempts,
                next_attempt_at=retry_at,
                last_error=(str(error) or repr(error))[:1000],
            )
            return len(rows)
        if getattr(engine, "generation", None) != generation:
            # A rebuild swapped the index meanwhile: apply these rows again to the new one.
            return 0
        await OutboxEntry.filter(id__in=ids).update(
            processed_at=clock(), last_error=None, next_attempt_at=None
        )
        return len(rows)


async def reindex(
    engine: SearchEngine,
    *,
    progress: Progress | None = None,
    replay_grace: float = 1.0,
    clock: Clock = system_clock,
) -> int:
    """Rebuild the index from the database beside the live one and swap them; then replay
    the changes recorded meanwhile (they may have gone to the old index)."""
    mark = await OutboxEntry.filter(topic=SEARCH).order_by("-id").first()
    mark_id = mark.id if mark else 0
    total = await engine.rebuild(all_documents(now=clock()), progress=progress)
    # A consumer checks for a swap just before settling a batch: after this pause, every
    # row it applied to the old index is settled and can be replayed.
    await asyncio.sleep(replay_grace)
    await OutboxEntry.filter(topic=SEARCH, id__gt=mark_id).update(
        processed_at=None, attempts=0, next_attempt_at=None
    )
    return total


async def needs_rebuild(engine: SearchEngine, *, clock: Clock = system_clock) -> bool:
    """True when the index misses documents that no pending change will bring: a new or
    emptied index, or data loaded without outbox rows (``tec demo``)."""
    if await OutboxEntry.filter(_pending()).exists():
        return False
    return await engine.count() != await count_indexable(now=clock())


@dataclass
class IndexLag:
    pending: int
    failing: int
    oldest_pending_at: dt.datetime | None
    lag_seconds: float
    last_error: str | None


async def get_index_lag(*, now: dt.datetime | None = None) -> IndexLag:
    """How far the index is behind the database: the oldest change not yet applied."""
    now = now or system_clock()
    pending = OutboxEntry.filter(_pending())
    oldest = await pending.order_by("id").first()
    failing = await OutboxEntry.filter(_pending(), attempts__gt=0).order_by("-id").first()
    return IndexLag(
        pending=await pending.count(),
        failing=await OutboxEntry.filter(_pending(), attempts__gt=0).count(),
        oldest_pending_at=oldest.created_at if oldest else None,
        lag_seconds=max(0.0, (now - oldest.created_at).total_seconds()) if oldest else 0.0,
        last_error=failing.last_error if failing else None,
    )


class OutboxConsumer:
    """Drains the outbox into ``engine`` until stopped (``tec worker``, or a task inside
    ``tec serve`` for the embedded engine)."""

    def __init__(
        self,
        engine: SearchEngine,
        *,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        max_backoff: float = 300.0,
        on_rebuild: Callable[[], Awaitable[None]] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.on_rebuild = on_rebuild
        self.clock = clock
        self._checked = False
        self._swept_until = clock() - dt.timedelta(days=1)

    async def _is_writer(self) -> bool:
        acquire = getattr(self.engine, "try_acquire_writer", None)
        return True if acquire is None else bool(await acquire())

    async def sweep_scheduled(self) -> int:
        """Index content whose scheduled publication time has passed since last sweep."""
        now = self.clock()
        due = await published_between(self._swept_until, now)
        changes = [(t, pk) for t, pks in due.items() for pk in pks]
        if changes:
            await apply_changes(self.engine, changes, now=now)
        self._swept_until = now
        return len(changes)

    async def run_once(self) -> int:
        """One round: the start-up completeness check, the sweep, one batch."""
        if not self._checked:
            if await needs_rebuild(self.engine, clock=self.clock):
                logger.info("search index incomplete: rebuilding it from the database")
                await reindex(self.engine, replay_grace=0, clock=self.clock)
            self._checked = True
        await self.sweep_scheduled()
        return await drain_once(
            self.engine,
            batch_size=self.batch_size,
            max_backoff=self.max_backoff,
            clock=self.clock,
        )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            settled = 0
            try:
                if await self._is_writer():
                    settled = await in_own_context(self.run_once)
            except SearchUnavailable as error:
                logger.warning("search engine unavailable: %s; retrying", error.message)
            except Exception:
                logger.exception("search consumer round failed; retrying")
            if settled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_interval)


def parse_ids(ids: list[str]) -> list[tuple[str, int]]:
    """``(type, pk)`` of document ids (for tools and tests)."""
    return [parse_document_id(i) for i in ids]
