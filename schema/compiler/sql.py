"""The SQL statement of a plan: one ``SELECT`` whose columns are the root fields' JSON.

The rows come from the services' own query sets — the filters, the visibility of the
viewer, the keyset bounds and order of the page — whose statements Tortoise writes
(kept per shape, ``services.statements.queryset_statement``); they are embedded as derived
tables, their placeholders renumbered. Around them, PostgreSQL builds the JSON with
``json_build_object``/``json_agg``, SQLite with ``json_object``/``json_group_array``;
children through a link table are correlated subqueries. Tables and columns come from
the models' metadata. Each aggregate reads a derived table already in its order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from schema.compiler.plan import (
    Children,
    Column,
    ConnectionPlan,
    Constant,
    LookupPlan,
    ObjectPlan,
    OperationPlan,
)
from services.compat_tortoise import column_of, pk_column, table_name
from services.links import Linked
from services.pagination import Ordering

Slot = tuple[str, Any]
"""What an embedded statement is: ``("page" | "whole" | "lookup", root index)`` or
``("child", Linked)``."""

_DOLLAR = re.compile(r"\$(\d+)")


class Dialect:
    """The JSON functions and placeholders of one database."""

    def __init__(self, name: str) -> None:
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

    def renumber(self, sql: str, offset: int) -> str:
        """``sql`` with its placeholders numbered from ``offset + 1``."""
        if self.postgres:
            return _DOLLAR.sub(lambda m: f"${int(m.group(1)) + offset}", sql)
        parts = sql.split("?")
        out = [parts[0]]
        for i, part in enumerate(parts[1:], start=1):
            out.append(f"?{offset + i}{part}")
        return "".join(out)


def slots(plan: OperationPlan) -> list[Slot]:
    """The embedded statements of ``plan``, in the order :class:`Builder` embeds them."""
    found: list[Slot] = []

    def children(obj: ObjectPlan) -> None:
        for child in obj.nested():
            found.append(("child", child.linked))
            children(child.plan)

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
    return found


class Builder:
    """Writes the statement of a plan around embedded statements (their SQL and number
    of values, in :func:`slots` order)."""

    def __init__(self, dialect: Dialect, embedded: Sequence[tuple[str, int]]) -> None:
        self.dialect = dialect
        self.embedded = embedded
        self.next_slot = 0
        self.offset = 0
        self.aliases = 0

    def slot(self) -> str:
        sql, count = self.embedded[self.next_slot]
        self.next_slot += 1
        renumbered = self.dialect.renumber(sql, self.offset)
        self.offset += count
        return renumbered

    def alias(self) -> str:
        self.aliases += 1
        return f"_q{self.aliases}"

    def operation(
        self, plan: OperationPlan, orderings: Sequence[Ordering | None]
    ) -> tuple[str, list[tuple[int, str]]]:
        """``(sql, columns)``: ``columns`` says, for each column of the row, which root it
        answers and what it holds (``rows``, ``count`` or ``object``)."""
        selected: list[str] = []
        columns: list[tuple[int, str]] = []
        for index, root in enumerate(plan.roots):
            if isinstance(root, ConnectionPlan):
                ordering = orderings[index]
                assert ordering is not None
                if root.rows:
                    selected.append(self.page(root, ordering))
                    columns.append((index, "rows"))
                if root.count:
                    w = self.alias()
                    selected.append(f"(SELECT count(*) FROM ({self.slot()}) AS {w})")
                    columns.append((index, "count"))
            elif isinstance(root, LookupPlan):
                r = self.alias()
                source = self.slot()
                selected.append(f"(SELECT {self.object(root.plan, r)} FROM ({source}) AS {r})")
                columns.append((index, "object"))
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
        return self.dialect.obj(pairs)

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
