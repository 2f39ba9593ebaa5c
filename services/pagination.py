"""Keyset pagination shared by every list: ``first``/``after`` forward, ``last``/``before``
backward, over a stable sort order.

A cursor is an opaque, versioned encoding of the sort-key values of a row, of the sort
order and of the list it came from; the next page is ``WHERE (k1, id) > (v1, last_id)`` in
the sort direction, the previous one the same condition reversed, read in the reversed
order and handed back in the list's order. A page costs the same at row 10 and at row
10,000 and never skips or repeats a row when content is added meanwhile.

The size of the whole list (``totalCount``) is a :class:`Count`: the list's own filter
without order, bounds or limit, counted only when someone asks, and by one statement per
list however many pages of it ask (:func:`count_statements` answers a batch).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from services.compat_tortoise import model_builder, plain_models, statement
from services.errors import BadUserInput
from services.statements import queryset_rows

M = TypeVar("M", bound=Model)

_CURSOR_PREFIX = "k2:"


def _parse_datetime(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _parse_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "int": int,
    "str": str,
    "datetime": _parse_datetime,
    "date": _parse_date,
}


@dataclass(frozen=True)
class SortKey:
    """One column of a sort order; the last key of every order must be unique (the id)."""

    field: str
    descending: bool = False
    kind: str = "str"

    def encode(self, value: Any) -> Any:
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        if hasattr(value, "value"):  # enums
            return value.value
        return value


@dataclass(frozen=True)
class Ordering:
    """A named sort order: its keys, and whether rows lacking the first key are left out."""

    keys: tuple[SortKey, ...]
    require_first_key: bool = False


@dataclass(frozen=True)
class PageRequest:
    """Which page: ``first`` rows after ``after``, or the ``last`` rows before ``before``.

    Exactly one of ``first`` and ``last`` is set (``schema.relay.page_request`` checks what
    callers send); either cursor may bound either direction. ``scope`` names the list the
    cursors belong to: a cursor of another list is refused."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None
    scope: str = ""
    same_list: Callable[[], Hashable] | None = field(
        default=None, compare=False, hash=False, repr=False
    )
    """Says, when called, which list this is (its arguments but the page's): two pages of
    the same list share their count. None: their count statements tell."""

    def __post_init__(self) -> None:
        if (self.first is None) == (self.last is None):
            raise ValueError("a page request has either first or last")

    @property
    def backward(self) -> bool:
        return self.last is not None

    @property
    def size(self) -> int:
        return self.last if self.last is not None else self.first  # type: ignore[return-value]


CountStatement = tuple[Any, str, tuple[Any, ...]]
"""(connection, SQL, values) of a count: equal statements count the same rows."""


@dataclass(frozen=True)
class Count:
    """How to count the whole list a page was cut from, run only when asked for: the
    size is either ``known`` already (lists cut in memory) or that of ``queryset``."""

    queryset: QuerySet[Any] | None = None
    known: int | None = None

    def statement(self) -> CountStatement:
        """The ``SELECT COUNT(*)`` of the list, without order or limit."""
        assert self.queryset is not None
        db, sql, values = statement(self.queryset.count())
        return (db, sql, tuple(values))


async def count_statements(statements: Sequence[CountStatement]) -> dict[CountStatement, int]:
    """The counts of a batch of :meth:`Count.statement` (a per-request loader calls this)."""

    async def run(found: CountStatement) -> int:
        db, sql, values = found
        _, rows = await db.execute_query(sql, list(values))
        return int(rows[0][0])

    counts = await asyncio.gather(*(run(s) for s in statements))
    return dict(zip(statements, counts, strict=True))


@dataclass
class Page(Generic[M]):
    """One page of rows, in the list's order, with what Relay's ``pageInfo`` needs."""

    items: list[M]
    ordering: Ordering
    has_next_page: bool
    has_previous_page: bool
    count: Count
    scope: str = ""
    same_list: Callable[[], Hashable] | None = None

    def cursor(self, item: M) -> str:
        return encode_cursor(self.ordering, item, scope=self.scope)

    @property
    def start_cursor(self) -> str | None:
        return self.cursor(self.items[0]) if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursor(self.items[-1]) if self.items else None


def _signature(ordering: Ordering) -> str:
    return ",".join(("-" if k.descending else "") + k.field for k in ordering.keys)


def encode_cursor(ordering: Ordering, item: Model, *, scope: str = "") -> str:
    return cursor_of_values(ordering, [getattr(item, key.field) for key in ordering.keys], scope)


def cursor_of_values(ordering: Ordering, values: Sequence[Any], scope: str = "") -> str:
    """The cursor of a row whose sort-key values (as its model holds them) are ``values``."""
    values = [key.encode(value) for key, value in zip(ordering.keys, values, strict=True)]
    # The list and the order travel with the values: a cursor of another list or of
    # another order is refused instead of silently starting somewhere else.
    payload = [scope, _signature(ordering), *values]
    raw = _CURSOR_PREFIX + json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(
    ordering: Ordering, cursor: str, *, scope: str = "", field: str = "after"
) -> list[Any]:
    """Values of the sort keys in ``cursor``; a clear ``BAD_USER_INPUT`` (on ``field``)
    when it is not a cursor of this list in this order."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError("unknown cursor version")
        payload = json.loads(raw.removeprefix(_CURSOR_PREFIX))
        if not isinstance(payload, list) or payload[:2] != [scope, _signature(ordering)]:
            raise ValueError("cursor of another list or sort order")
        values = payload[2:]
        if len(values) != len(ordering.keys):
            raise ValueError("cursor does not match this sort order")
        return [
            None if v is None else PARSERS[key.kind](v)
            for key, v in zip(ordering.keys, values, strict=True)
        ]
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, json.JSONDecodeError):
        raise BadUserInput(
            f"Curseur invalide dans « {field} » : reprenez la pagination avec un curseur "
            "renvoyé par l'API pour cette liste (pageInfo.startCursor ou endCursor) et le "
            "même ordre de tri.",
            field=field,
        ) from None


def _beyond_condition(keys: Sequence[SortKey], values: Sequence[Any], *, before: bool) -> Q:
    """(k1, k2, …) strictly after (v1, v2, …) in the direction of each key, or strictly
    before it when ``before``."""
    clauses = []
    for i, key in enumerate(keys):
        equal = {k.field: v for k, v in zip(keys[:i], values[:i], strict=True)}
        op = "lt" if key.descending != before else "gt"
        clauses.append(Q(**equal, **{f"{key.field}__{op}": values[i]}))
    return Q(*clauses, join_type="OR")


def order_fields(ordering: Ordering, *, reverse: bool = False) -> list[str]:
    return [("-" if k.descending != reverse else "") + k.field for k in ordering.keys]


async def paginate(queryset: QuerySet[M], ordering: Ordering, request: PageRequest) -> Page[M]:
    """Fetch one page of ``queryset`` in ``ordering`` (one SQL statement; the count of the
    whole list is one more, run only if asked for)."""
    page, whole = page_querysets(queryset, ordering, request)
    rows = await _fetch(page)
    return page_from_rows(rows, ordering, request, Count(queryset=whole))


def page_querysets(
    queryset: QuerySet[M], ordering: Ordering, request: PageRequest
) -> tuple[QuerySet[M], QuerySet[M]]:
    """``(page, whole)``: the rows of the page read in the request's direction, one more
    than asked (:func:`page_from_rows` cuts it), and the whole list the page is cut from
    (no bounds, order or limit). A cursor of another list or order is ``BAD_USER_INPUT``."""
    bounded, whole = bounded_querysets(queryset, ordering, request)
    ordered = bounded.order_by(*order_fields(ordering, reverse=request.backward))
    return ordered.limit(request.size + 1), whole


def bounded_querysets(
    queryset: QuerySet[M], ordering: Ordering, request: PageRequest
) -> tuple[QuerySet[M], QuerySet[M]]:
    """``(bounded, whole)``: the rows beyond the request's cursors, unordered and
    unlimited, and the whole list (:func:`page_querysets`, which orders and cuts the
    first)."""
    if ordering.require_first_key:
        queryset = queryset.filter(**{f"{ordering.keys[0].field}__isnull": False})
    whole = queryset
    for cursor, before in ((request.after, False), (request.before, True)):
        if cursor:
            field_name = "before" if before else "after"
            values = decode_cursor(ordering, cursor, scope=request.scope, field=field_name)
            queryset = queryset.filter(_beyond_condition(ordering.keys, values, before=before))
    return queryset, whole


def page_from_rows(
    rows: Sequence[M], ordering: Ordering, request: PageRequest, count: Count
) -> Page[M]:
    """The page of ``rows`` read in the direction of ``request`` (one row more than asked:
    whether it is there tells if the list goes on that way). Beyond a cursor the page was
    asked from, rows are taken to exist: the cursor's own row, at least."""
    size = request.size
    more = len(rows) > size
    items = list(rows[:size])
    after, before = request.after is not None, request.before is not None
    if request.backward:
        items.reverse()
        has_previous, has_next = more or after, before
    else:
        has_previous, has_next = after, more or before
    return Page(
        items=items,
        ordering=ordering,
        has_next_page=has_next,
        has_previous_page=has_previous,
        scope=request.scope,
        count=count,
        same_list=request.same_list,
    )


def page_of(rows: Sequence[M], ordering: Ordering, request: PageRequest) -> Page[M]:
    """Cut a page out of rows already sorted in ``ordering`` (for batched child lists)."""
    window = list(rows)
    for cursor, before in ((request.after, False), (request.before, True)):
        if cursor:
            field_name = "before" if before else "after"
            values = decode_cursor(ordering, cursor, scope=request.scope, field=field_name)
            marker = tuple(values)
            window = [row for row in window if _is_after(ordering.keys, row, marker, before=before)]
    if request.backward:
        window.reverse()
    return page_from_rows(window[: request.size + 1], ordering, request, Count(known=len(rows)))


def _is_after(
    keys: Sequence[SortKey], row: Model, marker: tuple[Any, ...], *, before: bool = False
) -> bool:
    """Whether ``row`` comes strictly after ``marker`` (strictly before it when ``before``)."""
    for key, value in zip(keys, marker, strict=True):
        current = getattr(row, key.field)
        if current == value:
            continue
        return (current < value) == (key.descending != before)
    return False


async def _fetch(queryset: QuerySet[M]) -> list[M]:
    """The rows of a plain queryset through :func:`model_builder`; others through Tortoise."""
    if not plain_models(queryset):
        return list(await queryset)
    build = model_builder(queryset.model)
    return [build(dict(row)) for row in await queryset_rows(queryset)]
