"""Batched loading through link tables (resource ↔ theme, event ↔ organiser…).

Each function answers for many parents in one SQL statement, so that GraphQL
DataLoaders stay N+1-free whatever the page size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from services.compat_tortoise import db_columns, model_builder, pk_column, related_model
from services.pagination import Ordering, Page, PageRequest, page_of
from services.statements import padded, raw_rows, shaped_rows
from services.viewer import Viewer, visible, visible_values


@dataclass(frozen=True)
class Linked:
    """The children a parent reaches through a link table (a resource's themes…): one
    declaration for the batched loader and for the read compiler (``schema.compiler``)."""

    link: type[Model]
    parent: str
    """Relation of ``link`` to the parent (``resource``)."""
    child: str
    """Relation of ``link`` to the child (``theme``)."""
    order: tuple[str, ...] = ("id",)
    """Fields of the child the list is sorted on."""
    visible: bool = False
    """Whether only the children the viewer may see are listed (publishable children)."""

    @property
    def child_model(self) -> type[Model]:
        return related_model(self.link, self.child)

    def child_queryset(self, viewer: Viewer, now: dt.datetime) -> QuerySet[Any]:
        """The children ``viewer`` may reach this way, at ``now``, whatever their parent."""
        return self.child_model.filter(visible(viewer, "", now) if self.visible else Q())

    async def children(
        self, parent_ids: Sequence[int], viewer: Viewer | None = None
    ) -> dict[int, list[Any]]:
        """``{parent_id: [child, …]}`` (:func:`children_by_parent`)."""
        return await children_by_parent(
            self.link,
            parent=self.parent,
            child=self.child,
            parent_ids=parent_ids,
            visible_to=viewer if self.visible else None,
            child_order=self.order,
        )


@dataclass(frozen=True, eq=False)
class LinkedPages:
    """A parent's children through a link table read as a connection (a theme's
    resources…): those the viewer may see (``linked.visible``), in one of the child's
    orders. One declaration for the batched page loader and for the read compiler."""

    linked: Linked
    orderings: Mapping[str, Ordering] = field(hash=False, compare=False)
    default: str
    """The order when none is asked for."""

    def ordering(self, order: str | None) -> Ordering:
        return self.orderings[order or self.default]

    async def pages(
        self, viewer: Viewer, parent_ids: Sequence[int], *, order: str | None, page: PageRequest
    ) -> dict[int, Page[Any]]:
        """One page of each parent's children (:func:`pages_by_parent`)."""
        linked = self.linked
        return await pages_by_parent(
            linked.link,
            parent=linked.parent,
            child=linked.child,
            parent_ids=parent_ids,
            child_condition=visible(viewer, f"{linked.child}__") if linked.visible else Q(),
            ordering=self.ordering(order),
            request=page,
        )


async def children_by_parent(
    link: type[Model],
    *,
    parent: str,
    child: str,
    parent_ids: Sequence[int],
    child_condition: Q | None = None,
    visible_to: Viewer | None = None,
    child_order: Iterable[str] = ("id",),
) -> dict[int, list[Any]]:
    """``{parent_id: [child, …]}`` through ``link`` (one statement with a join); a child
    under several parents is the same instance in each list.

    ``visible_to`` keeps the children that viewer may see; that statement's SQL is kept
    per shape (``services.statements``). Other conditions go in ``child_condition``."""
    child_model = related_model(link, child)
    columns = db_columns(child_model)
    order = tuple(child_order)
    ids = padded(list(parent_ids))
    now = (visible_to.as_of if visible_to else None) or dt.datetime.now(dt.UTC)

    def build() -> Any:
        condition = Q(**{f"{parent}_id__in": ids})
        if visible_to is not None:
            condition &= visible(visible_to, f"{child}__", now)
        if child_condition is not None:
            condition &= child_condition
        return (
            link.filter(condition)
            .order_by(
                *(f"{'-' if f.startswith('-') else ''}{child}__{f.lstrip('-')}" for f in order)
            )
            .values_list(f"{parent}_id", *(f"{child}__{name}" for name, _ in columns))
        )

    if child_condition is None:
        sees_all = visible_to is None or visible_to.sees_unpublished
        shape = ("children", parent, child, order, len(ids), sees_all)
        values = [*ids, *(visible_values(visible_to, now) if visible_to else [])]
        rows = await shaped_rows(link, shape, values, build)
    else:
        rows = await raw_rows(build())
    # A child linked to several parents is built once and shared (results are read-only).
    grouped: dict[int, list[Any]] = defaultdict(list)
    build_child = model_builder(child_model)
    names = [column for _, column in columns]
    pk = 1 + names.index(pk_column(child_model))
    built: dict[Any, Any] = {}
    for row in rows:
        found = built.get(row[pk])
        if found is None:
            found = built[row[pk]] = build_child(dict(zip(names, row[1:], strict=True)))
        grouped[row[0]].append(found)
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
