"""Batched loading through link tables (resource ↔ theme, event ↔ organiser…).

Each function answers for many parents in one SQL statement, so that GraphQL
DataLoaders stay N+1-free whatever the page size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from tortoise.expressions import Q
from tortoise.models import Model

from services.pagination import Ordering, Page, PageRequest, page_of


async def children_by_parent(
    link: type[Model],
    *,
    parent: str,
    child: str,
    parent_ids: Sequence[int],
    child_condition: Q | None = None,
    child_order: Iterable[str] = ("id",),
) -> dict[int, list[Any]]:
    """``{parent_id: [child, …]}`` through ``link`` (one statement with a join)."""
    condition = Q(**{f"{parent}_id__in": list(parent_ids)})
    if child_condition is not None:
        condition &= child_condition
    rows = (
        await link.filter(condition)
        .select_related(child)
        .order_by(
            *(f"{'-' if f.startswith('-') else ''}{child}__{f.lstrip('-')}" for f in child_order)
        )
    )
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, f"{parent}_id")].append(getattr(row, child))
    return grouped


async def pages_by_parent(
    link: type[Model],
    *,
    parent: str,
    child: str,
    parent_ids: Sequence[int],
    child_condition: Q,
    ordering: Ordering,
    request: PageRequest,
) -> dict[int, Page[Any]]:
    """One page of children per parent, all parents answered by one statement.

    ``child_condition`` is written through the link (``resource__status=…``)."""
    condition = child_condition
    if ordering.require_first_key:
        condition &= Q(**{f"{child}__{ordering.keys[0].field}__isnull": False})
    grouped = await children_by_parent(
        link,
        parent=parent,
        child=child,
        parent_ids=parent_ids,
        child_condition=condition,
        child_order=[("-" if k.descending else "") + k.field for k in ordering.keys],
    )
    return {pid: page_of(grouped.get(pid, []), ordering, request) for pid in parent_ids}
