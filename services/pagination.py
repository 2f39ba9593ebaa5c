"""Keyset pagination shared by every list: ``first``/``after`` over a stable sort order.

A cursor is an opaque, versioned encoding of the sort-key values of the last row seen;
the next page is ``WHERE (k1, id) < (v1, last_id)`` in the sort direction, so a page
costs the same at row 10 and at row 10,000 and never skips or repeats a row when
content is added meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from services.compat_tortoise import model_builder, plain_models
from services.errors import BadUserInput
from services.statements import queryset_rows

M = TypeVar("M", bound=Model)

_CURSOR_PREFIX = "k1:"


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
    first: int
    after: str | None = None


@dataclass
class Page(Generic[M]):
    """One page of rows with what Relay's ``pageInfo`` needs."""

    items: list[M]
    ordering: Ordering
    has_next_page: bool
    has_previous_page: bool

    def cursor(self, item: M) -> str:
        return encode_cursor(self.ordering, item)

    @property
    def start_cursor(self) -> str | None:
        return self.cursor(self.items[0]) if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursor(self.items[-1]) if self.items else None


def _signature(ordering: Ordering) -> str:
    return ",".join(("-" if k.descending else "") + k.field for k in ordering.keys)


def encode_cursor(ordering: Ordering, item: Model) -> str:
    values = [key.encode(getattr(item, key.field)) for key in ordering.keys]
    # The order's signature travels with the values: a cursor of another order is refused.
    payload = [_signature(ordering), *values]
    raw = _CURSOR_PREFIX + json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(ordering: Ordering, cursor: str) -> list[Any]:
    """Values of the sort keys in ``cursor``; a clear ``BAD_USER_INPUT`` when it is not ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError("unknown cursor version")
        payload = json.loads(raw.removeprefix(_CURSOR_PREFIX))
        if not isinstance(payload, list) or payload[:1] != [_signature(ordering)]:
            raise ValueError("cursor of another sort order")
        values = payload[1:]
        if len(values) != len(ordering.keys):
            raise ValueError("cursor does not match this sort order")
        return [
            None if v is None else PARSERS[key.kind](v)
            for key, v in zip(ordering.keys, values, strict=True)
        ]
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, json.JSONDecodeError):
        raise BadUserInput(
            "Curseur invalide : reprenez la pagination avec un curseur renvoyé par l'API "
            "(pageInfo.endCursor) et le même ordre de tri.",
            field="after",
        ) from None


def _after_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> Q:
    """(k1, k2, …) strictly after (v1, v2, …) in the direction of each key."""
    clauses = []
    for i, key in enumerate(keys):
        equal = {k.field: v for k, v in zip(keys[:i], values[:i], strict=True)}
        op = "lt" if key.descending else "gt"
        clauses.append(Q(**equal, **{f"{key.field}__{op}": values[i]}))
    return Q(*clauses, join_type="OR")


def order_fields(ordering: Ordering) -> list[str]:
    return [("-" if k.descending else "") + k.field for k in ordering.keys]


async def paginate(queryset: QuerySet[M], ordering: Ordering, request: PageRequest) -> Page[M]:
    """Fetch one page of ``queryset`` in ``ordering`` (one SQL statement)."""
    if ordering.require_first_key:
        queryset = queryset.filter(**{f"{ordering.keys[0].field}__isnull": False})
    if request.after:
        queryset = queryset.filter(
            _after_condition(ordering.keys, decode_cursor(ordering, request.after))
        )
    rows = await _fetch(queryset.order_by(*order_fields(ordering)).limit(request.first + 1))
    return Page(
        items=list(rows[: request.first]),
        ordering=ordering,
        has_next_page=len(rows) > request.first,
        has_previous_page=request.after is not None,
    )


def page_of(rows: Sequence[M], ordering: Ordering, request: PageRequest) -> Page[M]:
    """Cut a page out of rows already sorted in ``ordering`` (for batched child lists)."""
    start = 0
    if request.after:
        values = decode_cursor(ordering, request.after)
        marker = tuple(values)
        for start, row in enumerate(rows):  # noqa: B007
            if _is_after(ordering.keys, row, marker):
                break
        else:
            start = len(rows)
    window = list(rows[start : start + request.first + 1])
    return Page(
        items=window[: request.first],
        ordering=ordering,
        has_next_page=len(window) > request.first,
        has_previous_page=request.after is not None,
    )


def _is_after(keys: Sequence[SortKey], row: Model, marker: tuple[Any, ...]) -> bool:
    for key, value in zip(keys, marker, strict=True):
        current = getattr(row, key.field)
        if current == value:
            continue
        return current < value if key.descending else current > value
    return False


async def _fetch(queryset: QuerySet[M]) -> list[M]:
    """The rows of a plain queryset through :func:`model_builder`; others through Tortoise."""
    if not plain_models(queryset):
        return list(await queryset)
    build = model_builder(queryset.model)
    return [build(dict(row)) for row in await queryset_rows(queryset)]
