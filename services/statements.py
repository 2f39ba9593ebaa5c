"""Statements kept by shape: the SQL Tortoise writes for a query, reused with new values.

Building a query through Tortoise (resolving filters, joins, rendering the SQL) costs
several times running it on the hot paths of a page — a DataLoader batch of link rows, a
page of a list. ``shaped_rows`` lets Tortoise write the statement the first time a shape
is seen and keeps its SQL; later calls with the same shape run that SQL with the values
the caller lists. The first time, the caller's values are compared with the ones Tortoise
bound, in order and by type: if they differ, the shape is never reused and every call
goes through Tortoise. The comparison waits for a call whose values are all distinct, so
that two equal values cannot hide a different order. A wrong reuse cannot happen silently.

``queryset_rows`` does the same for a plain queryset (filters, order, limit), its shape
read from its ``Q`` tree: pages of every list go through it, and ``instances_by_ids``
(rows by id for the DataLoaders of search hits and nodes) builds model instances from
its rows without Tortoise's per-row machinery.

On SQLite, kept statements outside a transaction run on the event loop's thread through a
read-only connection of its own (:func:`_inline_reader`).
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from services.compat_tortoise import (
    SqlAround,
    model_builder,
    model_db,
    plain_queryset_parts,
    q_parts,
    statement,
)
from services.compat_tortoise_sqlite import file_outside_transaction

MAX_SHAPES = 2048
M = TypeVar("M", bound=Model)
_UNUSABLE = ""
_shapes: OrderedDict[Hashable, str] = OrderedDict()


async def raw_rows(query: Any) -> list[Any]:
    """The database rows of a Tortoise query, as the driver returns them.

    Same statement as awaiting the query, without Tortoise's per-row machinery
    (``select_related`` and ``values_list`` building cost ten times the statement on
    pages of links); callers build models with ``compat_tortoise.model_builder``, which
    converts the raw values exactly as Tortoise does."""
    db, sql, params = statement(query)
    _, rows = await db.execute_query(sql, params)
    return list(rows)


async def shaped_rows(
    model: type[Model],
    shape: Hashable,
    values: Sequence[Any],
    build: Callable[[], QuerySet[Any]],
) -> list[Any]:
    """Rows of the query ``build()`` makes, whose SQL depends only on ``shape`` and whose
    bound values are ``values`` in order (see the module docstring)."""
    db = model_db(model)
    key = (db.capabilities.dialect, model, shape)
    sql = _shapes.get(key)
    if sql is None:
        chosen, sql, bound = statement(build())
        if _distinct(values):
            _remember(key, sql if _same(bound, values) else _UNUSABLE)
        _, rows = await chosen.execute_query(sql, bound)
        return list(rows)
    if sql == _UNUSABLE:
        return await raw_rows(build())
    _shapes.move_to_end(key)
    return await read_rows(db, sql, values)


async def read_rows(db: Any, sql: str, values: Sequence[Any]) -> list[Any]:
    """The rows of a short read ``sql`` on ``db`` (on SQLite outside a transaction,
    through :func:`_inline_reader`)."""
    reader = _inline_reader(db)
    if reader is not None:
        db.log.debug("%s: %s", sql, values)  # logged like Tortoise's (statement counts)
        try:
            return reader.execute(sql, values).fetchall()
        except sqlite3.OperationalError:  # busy or locked: Tortoise's connection waits
            pass
    _, rows = await db.execute_query(sql, list(values))
    return list(rows)


_readers = threading.local()


def _inline_reader(db: Any) -> sqlite3.Connection | None:
    """A read-only connection of this thread to the SQLite file behind ``db``, or None.

    Kept statements are short bounded reads (a page, a batch of links): on SQLite they
    run right here, on the event loop's thread, instead of going through aiosqlite's one
    worker thread (a queue, a thread switch and a wake-up of the loop each, most of the
    cost of such a read under load). In WAL mode a reader never waits for a writer and
    sees every transaction committed before it starts. Inside a transaction ``db`` is
    the transaction's connection, and reads go through it."""
    filename = file_outside_transaction(db)
    return None if filename is None else reader_for(filename)


def reader_for(filename: str) -> sqlite3.Connection:
    """This thread's read-only connection to the SQLite file ``filename`` (a new one when
    the file was replaced since: a connection keeps reading the file it opened)."""
    found = getattr(_readers, "by_file", None)
    if found is None:
        found = _readers.by_file = {}
    info = os.stat(filename)
    # An inode can be reused at once by a new file; with the change time it cannot (that
    # time also moves when a checkpoint writes the file: a new connection then, harmless).
    identity = (info.st_dev, info.st_ino, info.st_ctime_ns)
    kept = found.get(filename)
    if kept is not None and kept[0] == identity:
        return kept[1]
    if kept is not None:
        kept[1].close()
    uri = f"{Path(filename).resolve().as_uri()}?mode=ro"
    # No busy wait here: this connection runs on the event loop's thread, where waiting
    # would stall every request of the process. A read refused as busy (rare in WAL mode)
    # goes through Tortoise's connection, which waits off the loop (see shaped_rows).
    reader = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=0)
    reader.row_factory = sqlite3.Row
    found[filename] = (identity, reader)
    return reader


def _same(bound: Sequence[Any], values: Sequence[Any]) -> bool:
    return len(bound) == len(values) and all(
        type(a) is type(b) and a == b for a, b in zip(bound, values, strict=True)
    )


def _distinct(values: Sequence[Any]) -> bool:
    try:
        return len({(type(v), v) for v in values}) == len(values)
    except TypeError:  # unhashable: cannot tell
        return False


def _remember(key: Hashable, sql: str) -> None:
    _shapes[key] = sql
    while len(_shapes) > MAX_SHAPES:
        _shapes.popitem(last=False)


def padded(ids: Sequence[int]) -> list[int]:
    """``ids`` padded to the next power of two with ids no row has (-1, -2…), so an
    ``IN (…)`` list has few distinct shapes."""
    if not ids:
        return []
    size = 1
    while size < len(ids):
        size *= 2
    return [*ids, *range(-1, -1 - (size - len(ids)), -1)]


_PLAIN = (str, int, float, dt.datetime, dt.date)


class _Opaque(Exception):
    """A queryset whose shape cannot be read: Tortoise runs it every time."""


async def queryset_rows(queryset: QuerySet[Any]) -> list[Any]:
    """:func:`raw_rows` of a plain queryset, its SQL kept per shape (module docstring)."""
    try:
        values: list[Any] = []
        shape = _queryset_shape(queryset, values)
    except _Opaque:
        return await raw_rows(queryset)
    return await shaped_rows(queryset.model, shape, values, lambda: queryset)


async def instances_by_ids(model: type[M], condition: Q, ids: Sequence[int]) -> dict[int, M]:
    """``{id: instance}`` of the rows of ``model`` meeting ``condition`` whose id is in
    ``ids`` (those it does not meet are left out): the same instances as
    ``model.filter(condition, id__in=ids)``, through the statement kept for the shape (the
    ids padded, so batches of any size share a few shapes) and built from raw rows
    (``compat_tortoise.model_builder``). A hot path: a page of search hits loads each
    kind of hit this way, as ``node``/``nodes`` do."""
    if not ids:
        return {}
    build = model_builder(model)
    rows = await queryset_rows(model.filter(condition, id__in=padded(list(ids))))
    return {r.id: r for r in (build(dict(row)) for row in rows)}


def queryset_statement(queryset: QuerySet[Any]) -> tuple[Any, str, list[Any]]:
    """``(connection, sql, values)`` of a plain queryset, its SQL kept per shape like
    :func:`queryset_rows` (module docstring), for a statement that embeds it."""
    try:
        values: list[Any] = []
        shape = _queryset_shape(queryset, values)
    except _Opaque:
        return statement(queryset)
    db = model_db(queryset.model)
    key = (db.capabilities.dialect, queryset.model, shape)
    sql = _shapes.get(key)
    if sql is None or sql == _UNUSABLE:
        chosen, written, bound = statement(queryset)
        if sql is None and _distinct(values):
            _remember(key, written if _same(bound, values) else _UNUSABLE)
        return chosen, written, bound
    _shapes.move_to_end(key)
    return db, sql, values


def _queryset_shape(queryset: QuerySet[Any], values: list[Any]) -> Hashable:
    parts = plain_queryset_parts(queryset)
    if parts is None:
        raise _Opaque
    where = tuple(_q_shape(q, values) for q in parts.where)
    for bound in (parts.limit, parts.offset):
        if bound is not None:
            values.append(bound)
    return (
        "queryset",
        where,
        parts.orderings,
        parts.limit is not None,
        parts.offset is not None,
        parts.distinct,
    )


def _q_shape(q: Q, values: list[Any]) -> Hashable:
    join_type, negated, q_filters, q_children = q_parts(q)
    filters = []
    for key, value in q_filters.items():
        if key.endswith("__isnull") or value is None:
            filters.append((key, repr(value)))  # part of the SQL, not a bound value
        elif isinstance(value, SqlAround):  # its SQL is the render's, around one value
            filters.append((key, SqlAround, value.render, type(value.value)))
            values.append(_bound(value.value))
        elif isinstance(value, list | tuple | set | frozenset):
            items = list(value)
            filters.append((key, len(items), tuple(type(v) for v in items)))
            values.extend(_bound(v) for v in items)
        else:
            filters.append((key, type(value)))
            values.append(_bound(value))
    children = tuple(_q_shape(child, values) for child in q_children)
    return (join_type, negated, tuple(filters), children)


def _bound(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, _PLAIN):
        raise _Opaque
    return value
