"""Events running at or after an instant (the agenda's ``from``): the start is bounded by
the instant minus the longest span of any event, read in the same statement from the
index of spans, so the list is read from near the instant, and it is exactly what the
naive condition (``ends_at >= from``, in order of start) selects, for every viewer, on
both databases, whatever was written concurrently."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from services.compat_tortoise import statement
from services.content import ContentStatus
from services.events.models import Event
from services.events.service import EventFilter, events_queryset, list_events
from services.pagination import PageRequest
from services.viewer import Role, Viewer, visible
from tests.unique import unique_tag

ANONYMOUS = Viewer()
EDITOR = Viewer(role=Role.EDITOR)
BASE = dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC)
"""Later than the demo's events: the lists below hold this module's events first."""


@pytest.fixture
async def made(database) -> AsyncIterator[list[int]]:
    """Ids of the events a test makes, deleted afterwards (the demo's count stays)."""
    ids: list[int] = []
    yield ids
    await Event.filter(id__in=ids).delete()


async def _event(made: list[int], starts: dt.datetime, ends: dt.datetime, **values) -> Event:
    values.setdefault("status", ContentStatus.PUBLISHED)
    event = await Event.create(
        slug=f"overlap-{unique_tag()}", title="Événement", starts_at=starts, ends_at=ends, **values
    )
    made.append(event.id)
    return event


async def _listed(viewer: Viewer, instant: dt.datetime) -> list[int]:
    """Ids of the events ``viewer`` gets for ``from: instant``, through the service's
    pages (the statement kept per shape), soonest first."""
    page = await list_events(
        viewer, flt=EventFilter(ends_after=instant), order=None, page=PageRequest(first=500)
    )
    return [e.id for e in page.items]


async def _naive(viewer: Viewer, instant: dt.datetime) -> list[int]:
    rows = Event.filter(visible(viewer), ends_at__gte=instant).order_by("starts_at", "id")
    return [e.id for e in await rows.limit(500)]


async def test_an_event_longer_than_all_others_is_still_found(made):
    instant = BASE + dt.timedelta(days=400)
    for day in range(30):
        start = instant - dt.timedelta(days=15) + dt.timedelta(days=day)
        await _event(made, start, start + dt.timedelta(hours=2))
    # A year-long exhibition opened long before: the only event that old still running.
    longest = await _event(made, BASE, instant + dt.timedelta(days=1))
    found = await _listed(ANONYMOUS, instant)
    assert found[0] == longest.id
    assert found == await _naive(ANONYMOUS, instant)
    # Lengthened by an update, a short past event is found as well; shortened, it is not.
    past = await _event(made, BASE + dt.timedelta(days=1), BASE + dt.timedelta(days=2))
    assert past.id not in await _listed(ANONYMOUS, instant)
    await Event.filter(id=past.id).update(ends_at=instant + dt.timedelta(days=500))
    assert (await _listed(ANONYMOUS, instant))[:2] == [longest.id, past.id]
    await Event.filter(id=past.id).update(ends_at=instant - dt.timedelta(seconds=1))
    assert past.id not in await _listed(ANONYMOUS, instant)


async def test_a_long_draft_is_found_for_editors_only(made):
    instant = BASE + dt.timedelta(days=900)
    draft = await _event(made, BASE, instant + dt.timedelta(hours=1), status=ContentStatus.DRAFT)
    public = await _event(made, instant, instant + dt.timedelta(hours=1))
    assert await _listed(EDITOR, instant) == [draft.id, public.id]
    assert await _listed(ANONYMOUS, instant) == [public.id]


async def test_the_bounds_are_inclusive_to_the_microsecond(made):
    """The longest event starts exactly at ``from`` minus its span, and ends at ``from``
    exactly; ``from`` given in another offset."""
    starts = BASE + dt.timedelta(days=1200, microseconds=999_999)
    ends = starts + dt.timedelta(days=3000, seconds=1, microseconds=1)
    longest = await _event(made, starts, ends)
    paris = dt.timezone(dt.timedelta(hours=2))
    assert await _listed(ANONYMOUS, ends.astimezone(paris)) == [longest.id]
    assert longest.id not in await _listed(ANONYMOUS, ends + dt.timedelta(microseconds=1))


async def test_the_bound_does_not_depend_on_the_sessions_time_zone(made):
    """On PostgreSQL, a span counted in days (``ends_at - starts_at``) subtracted in a
    session's zone with daylight saving would lose an hour across the change."""
    # The longest event, so its own span is the bound: from a winter to a summer in Paris.
    starts = dt.datetime(2040, 1, 10, 12, 0, tzinfo=dt.UTC)
    ends = dt.datetime(2060, 7, 10, 12, 0, tzinfo=dt.UTC)
    longest = await _event(made, starts, ends)
    instant = ends
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            await connection.execute_script("SET LOCAL TIME ZONE 'Europe/Paris'")
        queryset, _ = events_queryset(ANONYMOUS, flt=EventFilter(ends_after=instant), order=None)
        found = [e.id for e in await queryset.using_db(connection)]
    assert found == [longest.id]


async def test_the_list_equals_the_naive_condition_on_random_data(made):
    """Seeded random events (spans from a minute to two years, statuses, scheduled
    publications, shared instants) and instants (events' own bounds, shifted by a
    microsecond, in other offsets): the same events in the same order for an anonymous
    reader and an editor, through the service and through the read compiler's query set."""
    rng = random.Random(20261203)
    origin = BASE + dt.timedelta(days=2000)
    statuses = [ContentStatus.PUBLISHED] * 4 + [ContentStatus.DRAFT, ContentStatus.ARCHIVED]
    spans = [
        dt.timedelta(minutes=1),
        dt.timedelta(hours=2),
        dt.timedelta(days=3),
        dt.timedelta(days=40),
        dt.timedelta(days=730),
    ]
    bounds = []
    for _ in range(120):
        starts = origin + dt.timedelta(
            hours=rng.randrange(0, 24 * 365), microseconds=rng.choice([0, 0, 1, 500_000])
        )
        span = rng.choice(spans) * rng.random()
        event = await _event(
            made,
            starts,
            starts + span,
            status=rng.choice(statuses),
            published_at=rng.choice([None, origin, origin + dt.timedelta(days=10**4)]),
        )
        bounds += [event.starts_at, event.ends_at]
    zones = [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5))]
    instants = [
        (rng.choice(bounds) + dt.timedelta(microseconds=rng.choice([-1, 0, 1]))).astimezone(
            rng.choice(zones)
        )
        for _ in range(40)
    ]
    checked = 0
    for instant in instants:
        for viewer in (ANONYMOUS, EDITOR):
            expected = await _naive(viewer, instant)
            assert await _listed(viewer, instant) == expected, (viewer.role, instant)
            queryset, _ = events_queryset(viewer, flt=EventFilter(ends_after=instant), order=None)
            compiled = await queryset.order_by("starts_at", "id").limit(500)
            assert [e.id for e in compiled] == expected, (viewer.role, instant)
            checked += bool(expected)
    assert checked > 40, "too few instants with events to compare"


async def test_concurrent_writes_never_hide_a_committed_event(made):
    """Writers create events of random spans (some longer than any before) and lengthen
    or shorten others, each in a transaction of its own, while readers list: every event
    whose creation was committed before a read began, and that still runs at or after
    ``from``, is in that read; once the writes are done the list is the naive one."""
    rng = random.Random(7)
    instant = BASE + dt.timedelta(days=5000)
    committed: dict[int, dt.datetime] = {}  # id -> ends_at, once its creation committed
    moving: set[int] = set()  # ids whose end a writer changes: not checked
    problems: list[str] = []

    async def create(span: dt.timedelta) -> None:
        ends = instant + dt.timedelta(hours=rng.randrange(-48, 48))
        async with in_transaction():
            row = await Event.create(
                slug=f"overlap-{unique_tag()}",
                title="Concurrent",
                starts_at=ends - span,
                ends_at=ends,
                status=ContentStatus.DRAFT,
            )
            made.append(row.id)
        committed[row.id] = row.ends_at

    async def reshape(pk: int, span: dt.timedelta) -> None:
        moving.add(pk)
        async with in_transaction():
            row = await Event.select_for_update().get(id=pk)
            await Event.filter(id=pk).update(ends_at=row.starts_at + span)

    async def read() -> None:
        before = {pk: ends for pk, ends in committed.items() if pk not in moving}
        found = set(await _listed(EDITOR, instant))
        missing = {pk for pk, ends in before.items() if ends >= instant and pk not in moving}
        missing -= found
        if missing:
            problems.append(f"committed and running, not listed: {sorted(missing)}")

    await asyncio.gather(*(create(dt.timedelta(hours=1)) for _ in range(4)))
    first = list(committed)
    writes = [create(dt.timedelta(days=rng.choice([1, 30, 400, 4000]))) for _ in range(12)]
    writes += [
        reshape(pk, rng.choice([dt.timedelta(minutes=5), dt.timedelta(days=900)]))
        for pk in first[:3]
    ]
    work = writes + [read() for _ in range(12)]
    rng.shuffle(work)
    await asyncio.gather(*work)
    assert problems == []
    assert await _listed(EDITOR, instant) == await _naive(EDITOR, instant)


async def test_the_list_reads_the_longest_span_from_its_index_and_starts_near_from(database):
    """The plan: the longest span one step down the index of spans, the events by the
    (status, start) index from the bound on."""
    instant = BASE
    queryset, _ = events_queryset(ANONYMOUS, flt=EventFilter(ends_after=instant), order=None)
    _, sql, values = statement(queryset.order_by("starts_at", "id").limit(10))
    connection = connections.get("default")
    if connection.capabilities.dialect == "sqlite":
        _, rows = await connection.execute_query(f"EXPLAIN QUERY PLAN {sql}", values)
        plan = "\n".join(row["detail"] for row in rows)
        assert "USING INDEX idx_event_span" in plan, plan
        assert "starts_at>?" in plan, plan
        return
    async with in_transaction() as transaction:
        # A table this small is read whole when allowed: forbid it to see the indexes.
        await transaction.execute_script("SET LOCAL enable_seqscan = off")
        _, rows = await transaction.execute_query(f"EXPLAIN {sql}", values)
    plan = "\n".join(row["QUERY PLAN"] for row in rows)
    assert "Index Scan Backward using idx_event_span" in plan, plan
    assert "starts_at >=" in plan.split("Index Cond:")[-1], plan
