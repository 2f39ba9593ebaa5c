"""The SQL statement of a plan: one ``SELECT`` whose columns are the root fields' JSON.

The rows come from the services' own query sets — the filters, the visibility of the
viewer, the keyset bounds and order of the page — whose statements Tortoise writes
(kept per shape, ``services.statements.queryset_statement``); they are embedded as derived
tables, their placeholders renumbered. Around them, PostgreSQL builds the JSON with
``json_build_object``/``json_agg``, SQLite with ``json_object``/``json_group_array``;
children through a link table are correlated subqueries. Tables and columns come from
the models' metadata. Each aggregate reads a derived table already in its order.

Each statement has one plan on PostgreSQL, whatever its values: page sizes are written
into its SQL (:func:`literal_limit`), the other values read through scalar subqueries
(:func:`unplanned_casts`), so PostgreSQL keeps the generic plan of the prepared statement
instead of planning it again at every execution.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from schema.compiler.plan import (
    Children,
    Column,
    ConnectionPlan,
    Constant,
    LookupPlan,
    LookupsPlan,
    ObjectPlan,
    OperationPlan,
    Pages,
    Related,
)
from services.compat_tortoise import column_of, pk_column, table_name
from services.links import Linked
from services.pagination import Ordering

Slot = tuple[str, Any]
"""What an embedded statement is: ``("page" | "whole" | "lookup", root index)`` (a
lookup of ``nodes``: ``(root index, position)``),
``("child", Linked)``, ``("related", Related)`` (with the limit written after it),
``("pages", Pages)`` (the rows beyond the cursors, with the page's size and one written
after it) or ``("pages_whole", Pages)``."""

_DOLLAR = re.compile(r"\$(\d+)")


def literal_limit(sql: str, values: list[Any]) -> tuple[str, list[Any]]:
    """``(sql, values)`` of a statement Tortoise wrote, its trailing ``LIMIT`` written as
    the integer it binds (the last value) instead of a placeholder; any other statement
    as it is.

    A page's size is part of its plan: PostgreSQL estimates a ``LIMIT`` it cannot read
    at a tenth of the rows, so the generic plan of a prepared statement whose limit is a
    placeholder reads the whole list and sorts it, costs more than a plan made for the
    values, and PostgreSQL plans the statement again at every execution. Written in the
    SQL, the sizes make statements of their own: as many as the sizes the services
    accept (``checked_page_request``), in the compiler's bounded cache of statements
    and asyncpg's per connection."""
    head, found, tail = sql.rpartition(" LIMIT ")
    if not found or not values or type(values[-1]) is not int:
        return sql, values
    if tail != f"${len(values)}" and tail != "?":
        return sql, values
    return f"{head} LIMIT {values[-1]}", values[:-1]


def unplanned_casts(values: Sequence[Any]) -> tuple[str | None, ...]:
    """For each of a statement's ``values``, the type PostgreSQL reads it as through a
    scalar subquery, ``(SELECT $n::<type>)``, or None for a value of another type, left
    a plain placeholder. The cast is the placeholder's own type, so the value is sent as
    it was (an instant, aware or not, as a ``timestamptz``).

    PostgreSQL plans a prepared statement for its values five times, then keeps a
    generic plan, made without them, once it costs no more than those did; otherwise it
    plans again at every execution (0.5 to 1 ms for the portal, as much as a third of
    its database time). Plans made for the values win on estimates alone: « published
    at or before now » keeps every row and the published status nearly every one, which
    makes a page of the newest resources look cheaper than the generic plan's guesses (a
    third of the rows for an instant, an even share of the statuses). Through a scalar
    subquery a value is one no plan reads in advance, so the plans made for the values
    are the generic plan, estimated alike, and it is kept from the sixth execution on: a
    compiled statement's plan depends on its SQL only, page sizes included
    (:func:`literal_limit`). The comparisons keep their rows: instants are compared as
    ``timestamptz``, the type of every instant column; texts with ``varchar`` columns as
    text, as a placeholder's would be; integers as ``bigint``, which compares with
    integers of every width."""
    return tuple(_CASTS.get(type(value)) for value in values)


_CASTS: dict[type, str] = {
    str: "text",
    int: "bigint",
    bool: "boolean",
    dt.datetime: "timestamptz",
    dt.date: "date",
}
"""The types :func:`unplanned_casts` reads through a subquery, by the value's Python
type (which alone decides it: a statement is kept per its values' types)."""


class Dialect:
    """The JSON functions and placeholders of one database."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.postgres = name == "postgres"

    def obj(self, pairs: Sequence[tuple[str, str]]) -> str:
        inner = ", ".join(f"'{key}', {value}" for key, value in pairs)
        return f"json_build_object({inner})" if self.postgres else f"json_object({inner})"

    def array(self, values: Sequence[str]) -> str:
        inner = ", ".join(values)
        return f"json_build_array({inner})" if self.postgres else f"json_array({inner})"

    def agg(self, value: str) -> str:
        if self.postgres:
            return f"coalesce(json_agg({value}), '[]'::json)"
        return f"json_group_array({value})"

    def embed(self, select: str) -> str:
        """A subquery's JSON as a value of an enclosing object (SQLite passes JSON
        through subqueries as text: ``json()`` makes it JSON again)."""
        return f"({select})" if self.postgres else f"json(({select}))"

    def column(self, value: str) -> str:
        """A JSON column of the statement's row. PostgreSQL sends it as UTF-8 bytes
        (``bytea``), which Python parses as they come, instead of text the driver decodes
        into a string that the parser encodes back into UTF-8."""
        return f"convert_to(({value})::text, 'UTF8')" if self.postgres else value

    def renumber(self, sql: str, offset: int, values: Sequence[Any] = ()) -> str:
        """``sql`` with its placeholders numbered from ``offset + 1``; on PostgreSQL,
        each read through a scalar subquery as :func:`unplanned_casts` says of its value
        (``values`` are the statement's)."""
        if self.postgres:
            casts = unplanned_casts(values)

            def renumbered(match: re.Match[str]) -> str:
                number = int(match.group(1))
                mark = f"${number + offset}"
                cast = casts[number - 1] if number <= len(casts) else None
                return mark if cast is None else f"(SELECT {mark}::{cast})"

            return _DOLLAR.sub(renumbered, sql)
        parts = sql.split("?")
        out = [parts[0]]
        for i, part in enumerate(parts[1:], start=1):
            out.append(f"?{offset + i}{part}")
        return "".join(out)


def slots(plan: OperationPlan) -> list[Slot]:
    """The embedded statements of ``plan``, in the order :class:`Builder` embeds them."""
    found: list[Slot] = []

    def children(obj: ObjectPlan) -> None:
        for child in obj.fields:
            if isinstance(child, Related):
                found.append(("related", child))
                children(child.plan)
            elif isinstance(child, Children):
                found.append(("child", child.linked))
                children(child.plan)
            elif isinstance(child, Pages):
                if child.plan.rows:
                    found.append(("pages", child))
                    for page_object in child.plan.objects:
                        children(page_object)
                if child.plan.count:
                    found.append(("pages_whole", child))

    for index, root in enumerate(plan.roots):
        if isinstance(root, ConnectionPlan):
            if root.rows:
                found.append(("page", index))
                for obj in root.objects:
                    children(obj)
            if root.count:
                found.append(("whole", index))
        elif isinstance(root, LookupPlan):
            found.append(("lookup", index))
            children(root.plan)
        elif isinstance(root, LookupsPlan):
            for position, item in enumerate(root.items):
                if item is not None:
                    found.append(("lookup", (index, position)))
                    children(item.plan)
    return found


class Builder:
    """Writes the statement of a plan around embedded statements (their SQL, values and
    the limit written after them, in :func:`slots` order)."""

    def __init__(
        self,
        dialect: Dialect,
        embedded: Sequence[tuple[str, Sequence[Any], int | None]],
        orderings: dict[int, tuple[Ordering, bool]] | None = None,
    ) -> None:
        self.dialect = dialect
        self.embedded = embedded
        self.orderings = orderings or {}
        """``(ordering, backward)`` of each :class:`Pages` (by ``id``) of this request."""
        self.next_slot = 0
        self.offset = 0
        self.aliases = 0

    def slot(self) -> str:
        sql, values, _ = self.embedded[self.next_slot]
        self.next_slot += 1
        renumbered = self.dialect.renumber(sql, self.offset, values)
        self.offset += len(values)
        return renumbered

    def slot_and_limit(self) -> tuple[str, str]:
        """The next slot, and the limit written after it (a child page's size and one,
        the number of ``related`` resources): an integer in the SQL, as a root page's is
        (:func:`literal_limit`)."""
        limit = self.embedded[self.next_slot][2]
        assert type(limit) is int, "a limit is an integer checked by the services"
        return self.slot(), str(limit)

    def alias(self) -> str:
        self.aliases += 1
        return f"_q{self.aliases}"

    def operation(
        self, plan: OperationPlan, orderings: Sequence[Ordering | None]
    ) -> tuple[str, list[tuple[int, str]]]:
        """``(sql, columns)``: ``columns`` says, for each column of the row, which root it
        answers and what it holds (``rows``, ``count``, ``object`` or ``objects``)."""
        selected: list[str] = []
        columns: list[tuple[int, str]] = []
        for index, root in enumerate(plan.roots):
            if isinstance(root, ConnectionPlan):
                ordering = orderings[index]
                assert ordering is not None
                if root.rows:
                    selected.append(self.dialect.column(self.page(root, ordering)))
                    columns.append((index, "rows"))
                if root.count:
                    w = self.alias()
                    selected.append(f"(SELECT count(*) FROM ({self.slot()}) AS {w})")
                    columns.append((index, "count"))
            elif isinstance(root, LookupPlan):
                r = self.alias()
                source = self.slot()
                found = f"(SELECT {self.object(root.plan, r)} FROM ({source}) AS {r})"
                selected.append(self.dialect.column(found))
                columns.append((index, "object"))
            elif isinstance(root, LookupsPlan):
                values = []
                for item in root.items:
                    if item is None:
                        values.append("NULL")
                        continue
                    r = self.alias()
                    source = self.slot()
                    obj = self.object(item.plan, r)
                    values.append(self.dialect.embed(f"SELECT {obj} FROM ({source}) AS {r}"))
                selected.append(self.dialect.array(values))
                columns.append((index, "objects"))
        assert self.next_slot == len(self.embedded), "slots out of step with the builder"
        return "SELECT " + ", ".join(selected or ["1"]), columns

    def page(self, root: ConnectionPlan, ordering: Ordering) -> str:
        r = self.alias()
        source = self.slot()
        values = [self.object(obj, r) for obj in root.objects]
        if root.cursors:
            values += [f'{r}."{column_of(root.model, key.field)}"' for key in ordering.keys]
        row = self.dialect.array(values)
        return f"(SELECT {self.dialect.agg(row)} FROM ({source}) AS {r})"

    def object(self, plan: ObjectPlan, alias: str) -> str:
        pairs: list[tuple[str, str]] = []
        for field in plan.fields:
            if isinstance(field, Column):
                pairs.append((field.key, f'{alias}."{field.column}"'))
            elif isinstance(field, Constant):
                pairs.append((field.key, f"'{field.value}'"))
            elif isinstance(field, Children):
                pairs.append((field.key, self.children(field, plan, alias)))
            elif isinstance(field, Related):
                pairs.append((field.key, self.related(field, plan, alias)))
            elif isinstance(field, Pages):
                pairs.append((field.key, self.pages(field, plan, alias)))
        return self.dialect.obj(pairs)

    def pages(self, field: Pages, parent: ObjectPlan, parent_alias: str) -> str:
        """``{"rows": [...], "count": n}`` of one parent's page (each as selected)."""
        linked = field.pages.linked
        child = linked.child_model
        connection = field.plan
        ordering, backward = self.orderings[id(field)]
        pairs: list[tuple[str, str]] = []

        def through(t: str, link: str) -> str:
            return (
                f'JOIN "{table_name(linked.link)}" AS {link} '
                f'ON {link}."{column_of(linked.link, linked.child)}" = {t}."{pk_column(child)}" '
                f'WHERE {link}."{column_of(linked.link, linked.parent)}" = '
                f'{parent_alias}."{pk_column(parent.model)}"'
            )

        if connection.rows:
            t, link, r = self.alias(), self.alias(), self.alias()
            source, limit = self.slot_and_limit()
            order = ", ".join(
                f'{t}."{column_of(child, key.field)}"'
                + (" DESC" if key.descending != backward else "")
                for key in ordering.keys
            )
            inner = (
                f"SELECT {t}.* FROM ({source}) AS {t} {through(t, link)} "
                f"ORDER BY {order} LIMIT {limit}"
            )
            values = [self.object(obj, r) for obj in connection.objects]
            if connection.cursors:
                values += [f'{r}."{column_of(child, key.field)}"' for key in ordering.keys]
            agg = self.dialect.agg(self.dialect.array(values))
            pairs.append(("rows", self.dialect.embed(f"SELECT {agg} FROM ({inner}) AS {r}")))
        if connection.count:
            t, link = self.alias(), self.alias()
            source = self.slot()
            pairs.append(("count", f"(SELECT count(*) FROM ({source}) AS {t} {through(t, link)})"))
        return self.dialect.obj(pairs)

    def related(self, field: Related, parent: ObjectPlan, parent_alias: str) -> str:
        c = self.alias()
        candidates, limit = self.slot_and_limit()
        ranking = field.ranking
        own = column_of(*ranking.anchor)
        anchor = f'"own"."{own}" = {parent_alias}."{pk_column(parent.model)}"'
        agg = self.dialect.agg(self.object(field.plan, c))
        inner = ranking.statement(candidates, anchor, limit, dialect=self.dialect.name)
        return self.dialect.embed(f"SELECT {agg} FROM ({inner}) AS {c}")

    def children(self, field: Children, parent: ObjectPlan, parent_alias: str) -> str:
        linked: Linked = field.linked
        child = linked.child_model
        t, link, c = self.alias(), self.alias(), self.alias()
        source = self.slot()
        order = ", ".join(
            f'{t}."{column_of(child, name.lstrip("-"))}"' + (" DESC" if name[0] == "-" else "")
            for name in linked.order
        )
        inner = (
            f"SELECT {t}.* FROM ({source}) AS {t} "
            f'JOIN "{table_name(linked.link)}" AS {link} '
            f'ON {link}."{column_of(linked.link, linked.child)}" = {t}."{pk_column(child)}" '
            f'WHERE {link}."{column_of(linked.link, linked.parent)}" = '
            f'{parent_alias}."{pk_column(parent.model)}" ORDER BY {order}'
        )
        agg = self.dialect.agg(self.object(field.plan, c))
        return self.dialect.embed(f"SELECT {agg} FROM ({inner}) AS {c}")
