"""A root list keeps its statements per viewer and arguments: the next request with the
same ones builds no query set, and reads the list at its own time, where the values held
the first request's."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from schema import build_schema
from schema.compiler import run
from schema.context import Context
from services.content import ContentStatus
from services.resources.models import Resource, ResourceKind
from services.viewer import Role, Viewer

NEWEST = "{ resources(first: 1, order: NEWEST) { nodes { slug } } }"
SCHEDULED = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
BEFORE = SCHEDULED - dt.timedelta(days=1)
AFTER = SCHEDULED + dt.timedelta(days=1)


@pytest.fixture
def compiled(database):
    outcomes: list[tuple[str, str]] = []
    schema = build_schema(
        database.replace(read_compiler=True),
        read_compiler_outcome=lambda path, reason: outcomes.append((path, reason)),
    )
    return schema, outcomes


@pytest.fixture
async def scheduled():
    """A resource published on :data:`SCHEDULED`, later than any other."""
    resource = await Resource.create(
        slug="kept-pages-scheduled",
        title="Programmée",
        kind=ResourceKind.GUIDE,
        status=ContentStatus.PUBLISHED,
        published_at=SCHEDULED,
    )
    yield resource
    await resource.delete()


async def _newest(schema, settings, now: dt.datetime, viewer: Viewer = Viewer()) -> str:
    result = await schema.execute(
        NEWEST, context_value=Context(settings=settings, viewer=viewer, now=now)
    )
    assert result.errors is None, result.errors
    return json.dumps(result.data)


async def test_the_same_list_asked_again_is_read_at_the_new_requests_time(
    database, compiled, scheduled
):
    schema, outcomes = compiled
    before = await _newest(schema, database, BEFORE)
    after = await _newest(schema, database, AFTER)
    again = await _newest(schema, database, BEFORE)
    assert scheduled.slug not in before
    assert scheduled.slug in after
    assert again == before
    assert outcomes == [("compiled", "")] * 3


async def test_the_same_list_asked_again_builds_no_query_set(
    database, compiled, scheduled, monkeypatch
):
    schema, outcomes = compiled
    built: list[dt.datetime] = []
    statements = run._root_statements

    def counting(root, viewer, args, now, settings, query_name):
        built.append(now)
        return statements(root, viewer, args, now, settings, query_name)

    monkeypatch.setattr(run, "_root_statements", counting)
    await _newest(schema, database, BEFORE)
    first = len(built)
    assert BEFORE in built and len(set(built)) == 2  # at the request's time and another
    await _newest(schema, database, AFTER)
    await _newest(schema, database, AFTER + dt.timedelta(hours=1))
    assert len(built) == first
    # Another viewer's are its own.
    editor = Viewer(role=Role.EDITOR, account_id=1)
    await _newest(schema, database, AFTER, editor)
    assert len(built) > first
    assert outcomes == [("compiled", "")] * 4


def test_the_positions_of_the_time_are_those_holding_each_build_s_time():
    db = object()
    now = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
    probe = now + dt.timedelta(seconds=1)
    sql = 'SELECT 1 WHERE "published_at" <= ? AND "kind" = ?'
    assert run._time_positions(
        (db, sql, [now, "GUIDE"]), (db, sql, [probe, "GUIDE"]), now, probe
    ) == (0,)
    assert run._time_positions((db, sql, ["GUIDE"]), (db, sql, ["GUIDE"]), now, probe) == ()
    # A value computed from the time, not the time itself: built at every request.
    day = dt.timedelta(days=1)
    assert run._time_positions((db, sql, [now - day]), (db, sql, [probe - day]), now, probe) is None
    # Statements that differ otherwise: built at every request.
    assert run._time_positions((db, sql, [now]), (db, sql + " ", [probe]), now, probe) is None
    assert run._time_positions((db, sql, [now, 1]), (db, sql, [probe, 2]), now, probe) is None
    assert run._time_positions((db, sql, [now]), (object(), sql, [probe]), now, probe) is None
    assert run._time_positions((db, sql, [1]), (db, sql, [1.0]), now, probe) is None
