"""Statements kept by shape (services/statements.py): reused only when provably right."""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise.expressions import Q

from services import statements
from services.concepts import service as concepts_service
from services.concepts.models import Concept
from services.content import ContentStatus
from services.events import service as events_service
from services.events.models import Event
from services.organizations import service as organizations_service
from services.organizations.models import Organization
from services.projects import service as projects_service
from services.projects.models import SharedProject
from services.resources import service
from services.resources import service as resources_service
from services.resources.models import Resource
from services.statements import padded, queryset_rows, raw_rows
from services.themes import service as themes_service
from services.themes.models import Theme
from services.viewer import ANONYMOUS, Role, Viewer, visible
from tests.sqlcount import count_queries

EDITOR = Viewer(role=Role.EDITOR, account_id=1)


@pytest.fixture(autouse=True)
def fresh_shapes(monkeypatch):
    monkeypatch.setattr(statements, "_shapes", type(statements._shapes)())


async def _both_ways(queryset):
    """The rows through the shape cache and straight through Tortoise, as dicts."""
    kept = [dict(r) for r in await queryset_rows(queryset)]
    plain = [dict(r) for r in await raw_rows(queryset)]
    return kept, plain


async def test_a_shape_is_reused_with_new_values(database):
    def newest(after: dt.datetime, limit: int):
        return (
            Resource.filter(visible(ANONYMOUS), published_at__lt=after)
            .order_by("-published_at", "-id")
            .limit(limit)
        )

    first, plain = await _both_ways(newest(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), 5))
    assert first == plain and len(first) == 5
    assert len(statements._shapes) == 1
    assert next(iter(statements._shapes.values())) != statements._UNUSABLE
    # Same shape, other values: the kept SQL answers what Tortoise would.
    cut = first[2]["published_at"]
    cut = dt.datetime.fromisoformat(cut) if isinstance(cut, str) else cut
    second, plain = await _both_ways(newest(cut, 3))
    assert second == plain
    assert len(second) == 3 and second[0]["id"] not in [r["id"] for r in first[:3]]
    assert len(statements._shapes) == 1


async def test_values_tortoise_transforms_make_the_shape_unusable(database):
    # icontains binds "%budget%", not the value the caller wrote: never reused.
    query = Resource.filter(title__icontains="budget").order_by("id")
    kept, plain = await _both_ways(query)
    assert kept == plain
    assert list(statements._shapes.values()) == [statements._UNUSABLE]
    again, plain = await _both_ways(Resource.filter(title__icontains="guide").order_by("id"))
    assert again == plain


async def test_equal_values_wait_for_a_call_that_proves_the_order(database):
    # Two equal values could hide swapped positions: nothing is kept from that call.
    same = Resource.filter(Q(id__gte=3) | Q(version__gte=3)).order_by("id")
    kept, plain = await _both_ways(same)
    assert kept == plain
    assert not statements._shapes
    distinct = Resource.filter(Q(id__gte=5) | Q(version__gte=2)).order_by("id")
    kept, plain = await _both_ways(distinct)
    assert kept == plain
    assert len(statements._shapes) == 1


async def test_the_agenda_from_an_instant_is_kept_and_right(database):
    """``from`` binds the instant twice (the end, and the bound on the start written
    around it): as a datetime and as UTC text, two values the shape tells apart."""

    def agenda(instant: dt.datetime):
        flt = events_service.EventFilter(ends_after=instant)
        queryset, _ = events_service.events_queryset(ANONYMOUS, flt=flt, order=None)
        return queryset.order_by("starts_at", "id").limit(5)

    paris = dt.timezone(dt.timedelta(hours=2))
    for instant in (dt.datetime(2022, 9, 1, tzinfo=paris), dt.datetime(2021, 1, 1, tzinfo=dt.UTC)):
        kept, plain = await _both_ways(agenda(instant))
        assert kept == plain and kept
    assert len(statements._shapes) == 1
    assert statements._UNUSABLE not in statements._shapes.values()


async def test_filters_through_relations_are_kept_and_right(database):
    for slug in ("jeunesse", "sante", "nope"):
        query = Resource.filter(theme_links__theme__slug=slug).order_by("id")
        kept, plain = await _both_ways(query)
        assert kept == plain
    assert len(statements._shapes) == 1


async def test_querysets_with_select_related_go_through_tortoise(database):
    joined = Resource.filter(id__gte=1).select_related("contributor_territory").limit(2)
    assert len(await queryset_rows(joined)) == 2
    assert not statements._shapes


def test_padded_lists_have_few_shapes_and_no_real_ids():
    assert padded([]) == []
    assert padded([7]) == [7]
    assert padded([7, 8, 9]) == [7, 8, 9, -1]
    assert padded(list(range(1, 18))) == [*range(1, 18), *range(-1, -16, -1)]
    assert len({len(padded(list(range(1, n + 1)))) for n in range(1, 101)}) == 8


async def test_link_loaders_follow_the_viewer_through_one_kept_statement(database):
    resources = await Resource.filter(status=ContentStatus.PUBLISHED).order_by("id").limit(6)
    ids = [r.id for r in resources]
    with count_queries() as counted:
        public = await service.get_themes_by_resource_ids(ANONYMOUS, ids)
        public_again = await service.get_themes_by_resource_ids(ANONYMOUS, list(reversed(ids)))
        everything = await service.get_themes_by_resource_ids(EDITOR, ids)
    assert len(counted) == 3
    key = lambda grouped: {k: [t.id for t in v] for k, v in grouped.items()}  # noqa: E731
    assert key(public) == key(public_again)
    for resource_id, themes in public.items():
        assert {t.id for t in themes} <= {t.id for t in everything[resource_id]}
        assert all(t.status == ContentStatus.PUBLISHED for t in themes)
    assert -1 not in public and all(k in ids for k in everything)


async def test_sqlite_reads_run_inline_and_see_every_commit(database):
    from tortoise.transactions import in_transaction

    db = Resource._meta.db
    if db.capabilities.dialect != "sqlite":
        pytest.skip("the inline reader is SQLite's (PostgreSQL reads through asyncpg)")

    def page():
        return Resource.filter(id__gte=1).order_by("id").limit(3)

    await queryset_rows(page())  # the shape is kept: the next reads run inline
    with count_queries() as counted:
        assert await queryset_rows(page())
    assert len(counted) == 1  # logged like Tortoise's own statements
    assert statements._inline_reader(db) is not None
    first = await Resource.filter(id__gte=1).order_by("id").first()
    outside = statements.reader_for(db.filename)
    try:
        # A commit through Tortoise's connection is seen by the very next inline read.
        await Resource.filter(id=first.id).update(title="Relu juste après l'écriture")
        rows = await queryset_rows(page())
        assert rows[0]["title"] == "Relu juste après l'écriture"
        # Inside a transaction, reads go through the transaction and see its writes,
        # which the inline reader does not see before the commit.
        async with in_transaction() as connection:
            await Resource.filter(id=first.id).using_db(connection).update(title="Pas encore")
            assert statements._inline_reader(Resource._meta.db) is None
            rows = await queryset_rows(page())
            assert rows[0]["title"] == "Pas encore"
            seen = outside.execute('SELECT title FROM "resource" WHERE id = ?', [first.id])
            assert seen.fetchone()[0] == "Relu juste après l'écriture"
            await connection.rollback()
        rows = await queryset_rows(page())
        assert rows[0]["title"] == "Relu juste après l'écriture"
    finally:
        await Resource.filter(id=first.id).update(title=first.title)


def test_a_replaced_sqlite_file_gets_a_new_reader(tmp_path):
    import sqlite3

    path = tmp_path / "replaced.sqlite3"
    with sqlite3.connect(path) as first:
        first.execute("CREATE TABLE t (v TEXT)")
        first.execute("INSERT INTO t VALUES ('old')")
    assert statements.reader_for(str(path)).execute("SELECT v FROM t").fetchone()[0] == "old"
    path.unlink()
    with sqlite3.connect(path) as second:
        second.execute("CREATE TABLE t (v TEXT)")
        second.execute("INSERT INTO t VALUES ('new')")
    assert statements.reader_for(str(path)).execute("SELECT v FROM t").fetchone()[0] == "new"


def test_the_inline_reader_never_waits_on_the_event_loop(tmp_path):
    # Busy (rare for a WAL reader), it fails at once and the read goes through
    # Tortoise's connection, which waits off the loop.
    import sqlite3

    path = tmp_path / "busy.sqlite3"
    with sqlite3.connect(path) as made:
        made.execute("CREATE TABLE t (v TEXT)")
    reader = statements.reader_for(str(path))
    assert reader.execute("PRAGMA busy_timeout").fetchone()[0] == 0


def _fields(instance):
    """Every column's value of a model instance, as the model holds it."""
    return {name: getattr(instance, name) for name in instance._meta.db_fields}


def _everyone(viewer):
    return Q()


BY_IDS = [
    pytest.param(resources_service.get_resources_by_ids, Resource, visible, id="resources"),
    pytest.param(events_service.get_events_by_ids, Event, visible, id="events"),
    pytest.param(themes_service.get_themes_by_ids, Theme, visible, id="themes"),
    pytest.param(concepts_service.get_concepts_by_ids, Concept, visible, id="concepts"),
    pytest.param(
        projects_service.get_shared_projects_by_ids,
        SharedProject,
        projects_service._visible,
        id="projects",
    ),
    pytest.param(
        lambda viewer, ids: organizations_service.get_organizations_by_ids(ids),
        Organization,
        _everyone,
        id="organizations",
    ),
]


@pytest.mark.parametrize(("by_ids", "model", "condition"), BY_IDS)
async def test_rows_by_id_are_the_instances_tortoise_builds(database, by_ids, model, condition):
    # The loaders of search hits and nodes: one kept statement per call, raw rows built
    # into the instances Tortoise builds, what the viewer may not see left out.
    ids = [m.id for m in await model.all().order_by("id")]
    assert ids, f"the demo has no {model.__name__}"
    wanted = [*ids, max(ids) + 1000]
    seen = {}
    for viewer in (ANONYMOUS, EDITOR):
        expected = {m.id: m for m in await model.filter(condition(viewer), id__in=wanted)}
        with count_queries() as counted:
            found = await by_ids(viewer, wanted)
            again = await by_ids(viewer, list(reversed(wanted[:3])))
        assert len(counted) == 2
        assert {k: _fields(v) for k, v in found.items()} == {
            k: _fields(v) for k, v in expected.items()
        }
        assert all(type(v) is model and v._saved_in_db for v in found.values())
        assert set(again) == set(wanted[:3]) & set(expected)
        seen[viewer] = set(found)
    assert seen[ANONYMOUS] <= seen[EDITOR]
    assert statements._UNUSABLE not in statements._shapes.values()
    assert await by_ids(ANONYMOUS, []) == {}
