"""What the services assume of Tortoise beyond its public API
(``services/compat_tortoise.py``, and ``file_outside_transaction`` of
``services/compat_tortoise_sqlite.py``), one test per assumption: an upgrade that breaks
one fails here, by name."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import os

import pytest
from tortoise import Tortoise, fields
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from services.compat_tortoise import (
    INSTANCE_STATE,
    QUERYSET_BEYOND_PLAIN,
    QUERYSET_NOT_IN_STATEMENT,
    QUERYSET_SHAPE,
    ModelWithoutComments,
    SqlAround,
    column_of,
    db_columns,
    forget_prepared_sql,
    model_builder,
    model_db,
    pk_column,
    plain_models,
    plain_queryset_parts,
    q_parts,
    related_model,
    statement,
    statements_logged_to,
    table_name,
    value_converters,
)
from services.compat_tortoise_sqlite import file_outside_transaction
from services.resources.models import Resource, ResourceTheme
from services.themes.models import Theme


def _models() -> list[type]:
    return list(Tortoise.apps["models"].values())


def _slots(cls: type) -> set[str]:
    return {name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ())}


# --- Statements ----------------------------------------------------------------------------


async def test_every_model_is_made_without_reading_its_source(database, monkeypatch):
    assert [m.__name__ for m in _models() if not issubclass(m, ModelWithoutComments)] == []

    def read(obj: object) -> str:
        raise AssertionError(f"Tortoise read the source of {obj}")

    monkeypatch.setattr(inspect, "getsource", read)

    class Probe(ModelWithoutComments):
        #: A comment Tortoise would have read.
        name = fields.CharField(max_length=10)

    assert Probe._meta.fields_map["name"].docstring is None


async def test_a_statement_is_the_sql_tortoise_sends_with_its_values(database):
    def query() -> QuerySet[Resource]:
        return Resource.filter(slug__startswith="a", id__gte=2).order_by("-id").limit(3)

    db, sql, values = statement(query())
    assert db is model_db(Resource)
    assert sql == query().sql()  # Tortoise's public rendering of the same statement
    assert list(values) == ["a%", 2, 3]
    _, rows = await db.execute_query(sql, values)
    assert [row["id"] for row in rows] == [r.id for r in await query()]


def _around(dialect: str, mark: str) -> str:
    return f"{mark} || '-{dialect}'"


async def test_sql_around_a_value_is_written_in_place_with_the_value_bound_there(database):
    query = Resource.filter(id__gte=2, slug__gte=SqlAround("a", _around), version__gte=1)
    db, sql, values = statement(query.order_by("id").limit(3))
    dialect = db.capabilities.dialect
    mark = "$2" if dialect == "postgres" else "?"
    assert f"\"slug\">=({mark} || '-{dialect}')" in sql, sql
    assert list(values) == [2, "a", 1, 3]
    _, rows = await db.execute_query(sql, values)
    expected = Resource.filter(id__gte=2, slug__gte=f"a-{dialect}", version__gte=1)
    assert [row["id"] for row in rows] == [r.id for r in await expected.order_by("id").limit(3)]


async def test_a_values_list_statement_selects_those_columns(database):
    query = Resource.filter(id__lte=3).order_by("id").values_list("id", "slug")
    db, sql, values = statement(query)
    _, rows = await db.execute_query(sql, values)
    expected = await Resource.filter(id__lte=3).order_by("id").values_list("id", "slug")
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]


async def test_inside_a_transaction_statements_run_on_its_connection(database):
    outside = model_db(Resource)
    async with in_transaction() as connection:
        assert model_db(Resource) is connection and connection is not outside
        assert statement(Resource.filter(id=1))[0] is connection
    assert model_db(Resource) is outside


def test_every_queryset_slot_is_classified():
    shape, beyond, rest = QUERYSET_SHAPE, set(QUERYSET_BEYOND_PLAIN), QUERYSET_NOT_IN_STATEMENT
    assert not (shape & beyond or shape & rest or beyond & rest)
    unclassified = _slots(QuerySet) - (shape | beyond | rest)
    assert not unclassified, (
        f"QuerySet has new state {sorted(unclassified)}: classify it in "
        "services/compat_tortoise.py (does it change the statement?)"
    )
    gone = (shape | beyond | rest) - _slots(QuerySet)
    assert not gone, f"QuerySet no longer has {sorted(gone)}: see services/compat_tortoise.py"


async def test_a_plain_queryset_reads_as_its_parts(database):
    queryset = (
        Resource.filter(slug="s")
        .exclude(kind="GUIDE")
        .filter(Q(id=1) | Q(id=2))
        .order_by("-published_at", "id")
        .offset(4)
        .limit(3)
        .distinct()
    )
    parts = plain_queryset_parts(queryset)
    assert parts is not None
    assert [q_parts(q)[:3] for q in parts.where] == [
        ("AND", False, {"slug": "s"}),
        ("AND", True, {"kind": "GUIDE"}),
        ("OR", False, {}),
    ]
    assert [q_parts(child)[2] for child in q_parts(parts.where[2])[3]] == [{"id": 1}, {"id": 2}]
    assert [name for name, _ in parts.orderings] == ["published_at", "id"]
    assert (parts.limit, parts.offset, parts.distinct) == (3, 4, True)
    assert plain_queryset_parts(Resource.all()) == ((), (), None, None, False)


async def test_querysets_beyond_plain_are_recognised(database):
    beyond = {
        "annotate": Resource.annotate(n=Count("id")),
        "annotated filter": Resource.annotate(n=Count("id")).filter(n__gt=1),
        "group_by": Resource.all().group_by("kind"),
        "select_related": ResourceTheme.all().select_related("resource"),
        "prefetch_related": Resource.all().prefetch_related("contributed_by"),
        "only": Resource.all().only("id"),
    }
    for name, queryset in beyond.items():
        assert plain_queryset_parts(queryset) is None, name
    # Index hints and row locks, where the database takes them; elsewhere Tortoise drops
    # them, and the queryset stays plain.
    capabilities = Resource.all().capabilities
    for queryset, taken in (
        (Resource.all().force_index("x"), capabilities.support_index_hint),
        (Resource.all().use_index("x"), capabilities.support_index_hint),
        (Resource.all().select_for_update(), capabilities.support_for_update),
    ):
        assert (plain_queryset_parts(queryset) is None) is taken
    async with in_transaction() as connection:
        bound = Resource.all().using_db(connection)
        assert plain_queryset_parts(bound) is not None  # the model's connection here
    assert plain_queryset_parts(bound) is None  # another connection than the model's


async def test_models_are_plain_unless_tortoise_adds_to_them(database):
    assert plain_models(Resource.filter(id=1).order_by("id").limit(2))
    assert not plain_models(ResourceTheme.all().select_related("resource"))
    assert not plain_models(Resource.all().prefetch_related("contributed_by"))
    assert not plain_models(Resource.annotate(n=Count("id")))
    assert not plain_models(Resource.all().only("id"))


def test_a_q_is_its_join_negation_filters_and_children():
    assert sorted(_slots(Q)) == ["_is_negated", "children", "filters", "join_type"]
    assert q_parts(Q(slug="s")) == ("AND", False, {"slug": "s"}, ())
    assert q_parts(~Q(slug="s"))[:3] == ("AND", True, {"slug": "s"})
    assert q_parts(~~Q(slug="s"))[1] is False
    either = Q(Q(id=1), Q(id=2), join_type="OR")
    assert q_parts(either) == ("OR", False, {}, (Q(id=1), Q(id=2)))


# --- Models' metadata ----------------------------------------------------------------------


async def test_metadata_names_the_columns_of_every_table(database):
    assert related_model(ResourceTheme, "resource") is Resource
    for model in _models():
        described = model.describe(serializable=True)
        assert pk_column(model) == described["pk_field"]["db_column"], model.__name__
        assert table_name(model) == described["table"], model.__name__
        db = model_db(model)
        sql = f'SELECT * FROM "{described["table"]}" LIMIT 1'
        columns = [column for _, column in db_columns(model)]
        _, rows = await db.execute_query(sql)
        if rows:
            assert sorted(columns) == sorted(dict(rows[0])), model.__name__


# --- Opening a database -------------------------------------------------------------------


async def test_tortoise_keeps_a_tables_insert_by_connection_name_until_forgotten(database):
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    db = model_db(ResourceTheme)
    db.executor_class(model=ResourceTheme, db=db)
    key = (db.connection_name, ResourceTheme._meta.schema, ResourceTheme._meta.db_table)
    assert key in EXECUTOR_CACHE
    # The connection's name, not its database: the key a PostgreSQL connection named
    # « default » would find SQLite's INSERT under.
    assert "INSERT INTO" in EXECUTOR_CACHE[key][1]
    forget_prepared_sql()
    assert key not in EXECUTOR_CACHE
    db.executor_class(model=ResourceTheme, db=db)  # prepared again on the next use
    assert key in EXECUTOR_CACHE


async def test_metadata_names_tables_and_the_columns_of_fields_and_relations(database):
    for model in _models():
        described = model.describe(serializable=True)
        assert table_name(model) == described["table"], model.__name__
        for data_field in described["data_fields"]:
            assert column_of(model, data_field["name"]) == data_field["db_column"]
        for relation in described["fk_fields"]:
            source = relation["raw_field"]
            assert column_of(model, relation["name"]) == column_of(model, source)


async def test_value_converters_turn_raw_values_into_what_the_builder_makes(database):
    checked = 0
    for model in _models():
        db = model_db(model)
        _, rows = await db.execute_query(f'SELECT * FROM "{table_name(model)}" LIMIT 20')
        converters = value_converters(model)
        columns = dict(db_columns(model))
        build = model_builder(model)
        for row in rows:
            built = build(dict(row))
            for attribute, convert in converters.items():
                raw = row[columns[attribute]]
                value = raw if convert is None else convert(raw)
                assert value == getattr(built, attribute), (model.__name__, attribute)
                checked += 1
    assert checked > 1000


def test_value_converters_read_dates_and_times_as_json_writes_them():
    converters = value_converters(Resource)
    assert converters["published_at"]("2025-12-31T12:00:00.5+01:00") == dt.datetime(
        2025, 12, 31, 11, 0, 0, 500000, tzinfo=dt.UTC
    )
    assert converters["published_at"](None) is None
    assert converters["kind"]("GUIDE").value == "GUIDE"
    assert converters["title"] is None
    assert value_converters(Theme)["month"]("2021-07-01") == dt.date(2021, 7, 1)
    assert value_converters(Theme)["month"](dt.date(2021, 7, 1)) == dt.date(2021, 7, 1)


# --- Model instances from raw rows ---------------------------------------------------------


async def test_init_from_db_sets_the_fields_and_this_state_only(database):
    checked = 0
    for model in _models():
        db = model_db(model)
        _, rows = await db.execute_query(f'SELECT * FROM "{model._meta.db_table}" LIMIT 1')
        for row in rows:
            built = model._init_from_db(**dict(row))
            state = set(vars(built)) - {attribute for attribute, _ in db_columns(model)}
            assert state == set(INSTANCE_STATE), model.__name__
            checked += 1
    assert checked > 10


def test_every_column_is_converted_one_way():
    for model in _models():
        meta = model._meta
        ways = [meta.db_native_fields, meta.db_default_fields, meta.db_complex_fields]
        converted = [column for way in ways for column, _, _ in way]
        assert sorted(converted) == sorted(c for _, c in db_columns(model)), model.__name__


async def test_model_builder_makes_what_tortoise_makes_for_every_model(database):
    checked = 0
    for model in _models():
        db = model_db(model)
        _, rows = await db.execute_query(f'SELECT * FROM "{model._meta.db_table}" LIMIT 40')
        build = model_builder(model)
        for row in rows:
            mine, theirs = build(dict(row)), model._init_from_db(**dict(row))
            assert type(mine) is type(theirs)
            assert vars(mine) == vars(theirs), model.__name__
            written = {k: v.isoformat() for k, v in vars(mine).items() if hasattr(v, "isoformat")}
            assert written == {
                k: v.isoformat() for k, v in vars(theirs).items() if hasattr(v, "isoformat")
            }
            checked += 1
    assert checked > 200


def test_model_builder_converts_datetimes_and_enums_like_tortoise():
    build = model_builder(Resource)
    base = {column: None for column in Resource._meta.db_fields}
    base.update(id=1, slug="s", title="t", summary="", body="", kind="GUIDE", audience="ALL")
    base.update(status="PUBLISHED", version=1)
    for written in (
        "2025-12-31 11:00:00+00:00",
        "2025-12-31T12:00:00+01:00",
        "2025-12-31 11:00:00",
        dt.datetime(2025, 12, 31, 11, tzinfo=dt.UTC),
        dt.datetime(2025, 12, 31, 12, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    ):
        row = {**base, "created_at": written, "updated_at": written, "published_at": written}
        mine, theirs = build(dict(row)), Resource._init_from_db(**dict(row))
        assert vars(mine) == vars(theirs), written
        assert mine.published_at.isoformat() == theirs.published_at.isoformat()
        assert mine.kind is theirs.kind


# --- SQLite ---------------------------------------------------------------------------------


async def test_a_transaction_connection_is_not_read_as_the_sqlite_file(database):
    db = model_db(Resource)
    if db.capabilities.dialect != "sqlite":
        assert file_outside_transaction(db) is None
        pytest.skip("the rest is SQLite's")
    filename = file_outside_transaction(db)
    assert filename is not None and os.path.exists(filename)
    async with in_transaction():
        assert file_outside_transaction(model_db(Resource)) is None


async def test_a_begin_that_fails_leaves_the_task_on_the_transaction_and_in_own_context_contains_it(
    database, monkeypatch
):
    """``in_own_context``: on PostgreSQL, ``in_transaction()`` points the task's context
    at the transaction before ``BEGIN`` and does not reset it when ``BEGIN`` fails; a round
    run through ``in_own_context`` keeps that out of the worker's own context."""
    from tortoise import connections

    from services.compat_tortoise import in_own_context

    outside = connections.get("default")
    if outside.capabilities.dialect != "postgres":
        pytest.skip("the pooled transaction context is PostgreSQL's")
    wrapper = type(outside._in_transaction().client)

    async def refuse(self) -> None:
        raise OSError("the database restarts")

    monkeypatch.setattr(wrapper, "begin", refuse)

    async def round_() -> object:
        with pytest.raises(OSError):
            async with in_transaction():
                pass
        left = connections.get("default")
        await left._parent._pool.release(left._connection)  # give the connection back
        return left

    left = await in_own_context(round_)
    assert left is not outside, "Tortoise resets the context now: in_own_context may go"
    assert connections.get("default") is outside


async def test_every_statement_is_logged_with_its_sql_and_values(database):
    """Statement counts (tests/sqlcount.py) and query plans (bench/plans.py) read the
    records of ``tortoise.db_client``: one per statement, its SQL and values as arguments."""

    class Kept(logging.Handler):
        def __init__(self) -> None:
            super().__init__(level=logging.DEBUG)
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    kept = Kept()
    with statements_logged_to(kept):
        await Theme.filter(slug="aucune-thematique-de-ce-nom").first()
    [record] = [r for r in kept.records if isinstance(r.args, tuple) and len(r.args) == 2]
    sql, values = record.args
    assert sql.lstrip().upper().startswith("SELECT") and '"theme"' in sql
    assert list(values) == ["aucune-thematique-de-ce-nom", 1]
