"""The places the services reach past Tortoise's public API, fenced in one module.

Tortoise (pinned in pyproject.toml) is used here beyond what it documents, for speed on
the hot paths of a page (``services/statements.py``, ``services/pagination.py``,
``services/links.py``): the statement a query would send, read before it is sent; the
parts of a plain queryset, read to key its statement by shape; models' metadata; model
instances built from raw rows as ``Model._init_from_db`` builds them; and, when a
database is opened, the statements Tortoise prepared for the previous one, forgotten. Each
function here states the assumption it makes; ``tests/compat/test_tortoise.py`` checks
each one, so a Tortoise upgrade that breaks one fails there, by name, instead of
silently giving other rows or other instances. (The SQLite backend has its own fence,
``services/compat_tortoise_sqlite.py``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any, NamedTuple, TypeVar

from tortoise import timezone
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.expressions import Expression, Q, RawSQL, ResolveContext, ResolveResult, Value
from tortoise.fields import DateField, DatetimeField
from tortoise.models import Model, ModelMeta
from tortoise.queryset import QuerySet

T = TypeVar("T")

# --- Model classes -------------------------------------------------------------------------


class _ModelMetaWithoutComments(ModelMeta):
    """Tortoise reads the source of every model class it makes, for ``#:`` comments to use
    as field descriptions, unless the class body sets ``_no_comments``: the services write
    no such comments, and reading the source (the module's syntax tree, once per class)
    was about a third of the start of every process that imports the models."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        attrs.setdefault("_no_comments", True)
        return super().__new__(mcs, name, bases, attrs)


class ModelWithoutComments(Model, metaclass=_ModelMetaWithoutComments):
    """Abstract base of the services' models: a Tortoise model whose class is made without
    reading its source."""

    class Meta:
        abstract = True


# --- Models' metadata ----------------------------------------------------------------------


def model_db(model: type[Model]) -> BaseDBAsyncClient:
    """The connection Tortoise runs a query of ``model`` on when the query was given none:
    the model's connection in the current context (a transaction's, inside one)."""
    return model._meta.db


def related_model(model: type[Model], field: str) -> type[Model]:
    """The model a relation field of ``model`` points to."""
    return model._meta.fields_map[field].related_model


def db_columns(model: type[Model]) -> list[tuple[str, str]]:
    """``(attribute, column)`` of every column of ``model``'s table, in table order."""
    return list(model._meta.fields_db_projection.items())


def table_name(model: type[Model]) -> str:
    """The table of ``model``."""
    return model._meta.db_table


def pk_column(model: type[Model]) -> str:
    """The column of ``model``'s primary key."""
    return model._meta.db_pk_column


def column_of(model: type[Model], attribute: str) -> str:
    """The column of ``model`` behind ``attribute`` (a field, or a relation's ``_id``)."""
    meta = model._meta
    if attribute in meta.fk_fields:
        attribute = meta.fields_map[attribute].source_field
    return meta.fields_db_projection[attribute]


# --- Statements ----------------------------------------------------------------------------


def statement(query: Any) -> tuple[BaseDBAsyncClient, str, list[Any]]:
    """``(connection, sql, values)``: the statement awaiting ``query`` (a queryset, or a
    ``values_list``/``values`` query) sends, with its bound values, and the connection
    it runs on."""
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, values = query.query.get_parameterized_sql()
    return query._db, sql, values


class SqlAround(Expression):
    """A filter value written in SQL around one bound value: for
    ``Q(starts_at__gte=SqlAround(value, render))`` Tortoise writes the column, the
    operator, then ``(render(dialect, mark))``, where ``dialect`` is the connection's
    (``"postgres"`` or ``"sqlite"``) and ``mark`` the placeholder it binds ``value`` to,
    at that place among the statement's values, as it binds a plain value of a filter
    (but without the field's conversion: a value the driver takes as it is). ``render``
    is part of the statement's shape (``services/statements.py``): a function of the
    module level whose SQL depends on its arguments only.

    Tortoise resolves an expression given as a filter's value into a term and puts that
    term in the criterion as it is; the term here is a ``RawSQL`` whose text is written
    when the statement is, around the placeholder of the value's own term."""

    def __init__(self, value: Any, render: Callable[[str, str], str]) -> None:
        self.value = value
        self.render = render

    def resolve(self, resolve_context: ResolveContext) -> ResolveResult:
        return ResolveResult(
            term=_RenderedAround(Value(self.value).resolve(resolve_context).term, self.render)
        )


class _RenderedAround(RawSQL):
    def __init__(self, value: Any, render: Callable[[str, str], str]) -> None:
        super().__init__("")
        self.value_term = value
        self.render = render

    def get_sql(self, ctx: Any) -> str:
        mark = self.value_term.get_sql(ctx)
        dialect = "postgres" if ctx.dialect.value == "postgresql" else ctx.dialect.value
        return f"({self.render(dialect, mark)})"


class QuerysetParts(NamedTuple):
    """What a plain queryset's statement is made of (:func:`plain_queryset_parts`)."""

    where: tuple[Q, ...]  # ANDed
    orderings: tuple[tuple[str, Any], ...]
    limit: int | None
    offset: int | None
    distinct: bool


# Every slot of a QuerySet, by what it does to the statement (``tests/compat`` checks
# that the three sets cover all of them: a new one must be classified here).
QUERYSET_SHAPE = frozenset({"_q_objects", "_orderings", "_limit", "_offset", "_distinct"})
# Set (truthy), they make the queryset more than a plain one: Tortoise runs it.
QUERYSET_BEYOND_PLAIN = (
    "_annotations",
    "_custom_filters",
    "_group_bys",
    "_having",
    "_select_related",
    "_prefetch_map",
    "_fields_for_select",
    "_force_indexes",
    "_use_indexes",
    "_select_for_update",
)
# The rest: fixed by the model or the connection, derived from the slots above (the
# ``select_for_update`` options, the joins and builder ``_make_query`` fills), or how
# rows are handed back.
QUERYSET_NOT_IN_STATEMENT = frozenset(
    {
        "fields",
        "model",
        "query",
        "_db",  # checked apart: see plain_queryset_parts
        "_capabilities",
        "_joined_tables",
        "_select_related_idx",
        "_prefetch_queries",
        "_single",
        "_raise_does_not_exist",
        "_filter_kwargs",
        "_select_for_update_nowait",
        "_select_for_update_skip_locked",
        "_select_for_update_of",
        "_select_for_update_no_key",
    }
)


def plain_queryset_parts(queryset: QuerySet[Any]) -> QuerysetParts | None:
    """The parts of a queryset made only of filters, order, limit, offset and
    ``distinct``, to run on :func:`model_db`; None for any other queryset."""
    if any(getattr(queryset, name) for name in QUERYSET_BEYOND_PLAIN):
        return None
    chosen = queryset._db
    if chosen is not None and chosen is not model_db(queryset.model):
        return None
    return QuerysetParts(
        where=tuple(queryset._q_objects),
        orderings=tuple(queryset._orderings),
        limit=queryset._limit,
        offset=queryset._offset,
        distinct=queryset._distinct,
    )


def q_parts(q: Q) -> tuple[str, bool, dict[str, Any], tuple[Q, ...]]:
    """``(join type, negated, filters, children)`` of a ``Q``: all its statement depends
    on."""
    return q.join_type, q._is_negated, q.filters, q.children


def plain_models(queryset: QuerySet[Any]) -> bool:
    """Whether awaiting ``queryset`` makes its models from its rows alone (no
    ``select_related``, ``prefetch_related``, annotations or ``only``)."""
    return not (
        queryset._select_related
        or queryset._prefetch_map
        or queryset._annotations
        or queryset._fields_for_select
    )


# --- Model instances from raw rows ---------------------------------------------------------

#: What ``Model._init_from_db`` sets on an instance besides its fields' values.
INSTANCE_STATE = ("_partial", "_saved_in_db", "_custom_generated_pk", "_await_when_save")


def model_builder(model: type[Model]) -> Callable[[dict[str, Any]], Any]:
    """``build(row)``: a model instance from a raw row (column → driver value), the same
    instance ``Model._init_from_db`` makes, several times faster.

    Tortoise converts each value through the field, re-reading its time-zone settings for
    every datetime and parsing SQLite's ISO text with a pure-Python parser (~15 µs each);
    here the settings are read once per call, ``datetime.fromisoformat`` (C) parses, and
    enum members come from a map of the enum's values."""
    meta = model._meta
    plain, converted, others = _conversions(model)
    state = {
        "_partial": False,
        "_saved_in_db": True,
        "_custom_generated_pk": meta.db_pk_column not in meta.generated_db_fields,
    }
    new = model.__new__

    def build(row: dict[str, Any]) -> Any:
        instance = new(model)
        values = instance.__dict__
        values.update(state)
        values["_await_when_save"] = {}
        for key, attr in plain:
            values[attr] = row[key]
        for key, attr, convert in converted:
            value = row[key]
            values[attr] = None if value is None else convert(value)
        for key, attr, convert in others:
            values[attr] = convert(row[key])
        return instance

    return build


Conversion = tuple[str, str, Callable[[Any], Any]]


def _conversions(
    model: type[Model],
) -> tuple[list[tuple[str, str]], list[Conversion], list[Conversion]]:
    """How Tortoise turns ``model``'s raw values into attributes: ``(column, attribute)``
    kept as they are, ``(column, attribute, convert)`` of non-null values (null stays
    null), and ``(column, attribute, convert)`` that convert null too."""
    meta = model._meta
    use_tz, zone = timezone.get_use_tz(), timezone.get_default_timezone()
    zone_is_utc = dt.datetime(2000, 1, 1, tzinfo=zone).utcoffset() == dt.timedelta(0) and (
        dt.datetime(2000, 7, 1, tzinfo=zone).utcoffset() == dt.timedelta(0)
    )
    plain = [(key, attr) for key, attr, _ in meta.db_native_fields]
    converted: list[Conversion] = [
        (key, attr, field.field_type) for key, attr, field in meta.db_default_fields
    ]
    others: list[Conversion] = []
    for key, attr, field in meta.db_complex_fields:
        if isinstance(field, DatetimeField):
            converted.append((key, attr, partial(_to_datetime, field, use_tz, zone, zone_is_utc)))
        elif isinstance(getattr(field, "enum_type", None), enum.EnumMeta):
            members = {member.value: member for member in field.enum_type}
            converted.append((key, attr, partial(_to_member, members, field)))
        else:
            others.append((key, attr, field.to_python_value))
    return plain, converted, others


def enum_of(model: type[Model], attribute: str) -> type[enum.Enum] | None:
    """The enumeration the column behind ``attribute`` holds the values of, if any."""
    found = getattr(model._meta.fields_map.get(attribute), "enum_type", None)
    return found if isinstance(found, enum.EnumMeta) else None


def value_converters(model: type[Model]) -> dict[str, Callable[[Any], Any] | None]:
    """``{attribute: convert}``: how :func:`model_builder` turns a raw value of each
    column into the attribute's value; None where the raw value is kept as it is. Raw
    values read from JSON (dates and times as ISO text) convert the same way."""
    plain, converted, others = _conversions(model)
    fields_map = model._meta.fields_map
    found: dict[str, Callable[[Any], Any] | None] = {
        # A driver that hands back dates (asyncpg) leaves them as they are; JSON has text.
        attr: partial(_unless_null, _to_date) if type(fields_map[attr]) is DateField else None
        for _, attr in plain
    }
    for _, attr, convert in converted:
        found[attr] = partial(_unless_null, convert)
    for _, attr, convert in others:
        found[attr] = convert
    return found


def _to_date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _unless_null(convert: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else convert(value)


def _to_datetime(
    field: DatetimeField, use_tz: bool, zone: dt.tzinfo, zone_is_utc: bool, value: Any
) -> Any:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return field.to_python_value(value)
    elif not isinstance(value, dt.datetime):
        return field.to_python_value(value)
    if not use_tz:
        return value.replace(tzinfo=None) if value.tzinfo is not None else value
    if value.tzinfo is dt.UTC and zone_is_utc:
        return value  # the same instant, already in the zone's offset
    if value.tzinfo is None or value.utcoffset() is None:
        return timezone.make_aware(value)
    return value.astimezone(zone)


def keeps_utc(convert: Callable[[Any], Any] | None) -> bool:
    """Whether ``convert`` (of :func:`value_converters`) is a datetime column's that keeps
    an instant given in UTC as it is: Tortoise uses time zones and its zone is UTC. ISO
    text with a ``+00:00`` offset then becomes a datetime in ``datetime.UTC``."""
    if not (isinstance(convert, partial) and convert.func is _unless_null):
        return False
    inner = convert.args[0]
    if not (isinstance(inner, partial) and inner.func is _to_datetime):
        return False
    _, use_tz, _, zone_is_utc = inner.args
    return bool(use_tz and zone_is_utc)


def _to_member(members: dict[Any, Any], field: Any, value: Any) -> Any:
    member = members.get(value)
    return member if member is not None else field.to_python_value(value)


# --- Opening a database -------------------------------------------------------------------


def forget_prepared_sql() -> None:
    """Forget the SQL Tortoise prepared for the tables of earlier connections.

    Tortoise keeps each table's INSERT, DELETE and UPDATE statements in
    ``tortoise.backends.base.executor.EXECUTOR_CACHE``, keyed by connection *name* and
    table, never cleared. Every database here opens as ``default``: a process that opens
    SQLite, then PostgreSQL (the benchmark's dataset builder, a test on both), would
    send SQLite's statements to PostgreSQL. Opening a database calls this first; the
    cache fills again on the next write."""
    EXECUTOR_CACHE.clear()


# --- Long-running workers ------------------------------------------------------------------


async def in_own_context(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work()`` in a task of its own, so that what Tortoise leaves in the context
    does not outlive it. ``TransactionContextPooled.__aenter__`` points the context at the
    transaction's connection *before* ``BEGIN``; when ``BEGIN`` fails (the database
    restarting) the context is never reset, and every later query of that task runs on a
    connection already back in the pool. A worker's loop runs each round through here."""
    return await asyncio.create_task(work())


# --- Observing the statements sent ------------------------------------------------------


@contextlib.contextmanager
def statements_logged_to(handler: logging.Handler) -> Iterator[None]:
    """Inside the block, ``handler`` receives every statement Tortoise sends: its clients
    log each one at DEBUG to ``tortoise.db_client``, the SQL and its values as the
    record's arguments (statement counts in tests, query plans in the benchmark)."""
    logger = logging.getLogger("tortoise.db_client")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
