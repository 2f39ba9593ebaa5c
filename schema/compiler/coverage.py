"""What the read compiler answers, declared by each domain package next to its root fields
and node type, and gathered here (the way :mod:`schema.registry` gathers those).

A domain makes a GraphQL object type readable straight from its model's table with
:func:`compiled_table`: the root fields listing it and looking it up by slug, how
``node(id:)`` selects its row, which of its fields list the children of a link table,
which are private, which are ranked by a statement of the services. The connections of
its rows under another type's (``Theme.resources``, served by the resources domain) are
declared with :func:`compiled_connection`. :mod:`schema.compiler.plan` reads nothing
else: a type or root field declared nowhere goes to the ordinary executor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from tortoise.models import Model

from schema.strawberry_compat import input_from_arguments
from services.links import Linked, LinkedPages
from services.viewer import Viewer

Source = Callable[[Viewer, dict[str, Any], dt.datetime], Any]
"""How the service selects a root field's rows from the viewer, the field's arguments and
the request's time (``Context.now``): ``(query set, ordering)`` for a connection, a query
set of at most one row for a lookup (or an awaitable of one, when the service decides in
Python which row it is). It reads nothing else, the clock included: the compiler keeps a
root list's statements per viewer and arguments and puts each request's time into them
(``run.ReadCompiler._root_page``)."""


@dataclass(frozen=True)
class Private:
    """A private field: the model's ``attribute`` it shows, and the schema's own rule
    telling whether a viewer reads it on every object (a viewer it does not let goes to
    the ordinary executor, which applies the field's per-object rule)."""

    attribute: str
    reads_every: Callable[[Viewer], bool]


@dataclass(frozen=True)
class Ranking:
    """A field listing objects that a statement of the services ranks for each parent
    (``Resource.related``), with a ``first`` argument."""

    candidates: Callable[[Viewer, dt.datetime], Any]
    """The query set of the rows it may list, for a viewer at an instant."""
    statement: Callable[..., str]
    """``statement(candidates_sql, anchors, limit, dialect=…)``: the ranked rows, column
    ``"anchor"`` first, then every column of the table, for the parents ``anchors`` (a
    condition on :attr:`anchor`) keeps."""
    anchor: tuple[type[Model], str]
    """``(model, attribute)``: the column of the statement's ``"own"`` rows holding the
    parent's id."""
    check_limit: Callable[[Any], None]
    """Refuses a ``first`` the resolver refuses (``DomainError`` or ``ValueError``)."""


@dataclass(frozen=True)
class Table:
    """A GraphQL object type read from the rows of ``model``'s table."""

    type_name: str
    model: type[Model]
    by_id: Callable[[Viewer, int], Any] | None = None
    """How the service selects the row of an id for ``node(id:)`` and ``nodes(ids:)``, the
    one the type's loader reads (at most one row); None: not answered there."""
    links: Mapping[str, Linked] = field(default_factory=dict)
    """Fields listing the children of a link table, as the services declare them."""
    private: Mapping[str, Private] = field(default_factory=dict)
    ranked: Mapping[str, Ranking] = field(default_factory=dict)


@dataclass(frozen=True)
class Root:
    """A root field: a list read as a connection, or a lookup of at most one row."""

    kind: Literal["connection", "lookup"]
    source: Source


def filter_argument(input_type: type, args: dict[str, Any]) -> Any:
    """A root field's ``filter`` argument as its resolver receives it (an instance of the
    Strawberry input ``input_type``, or None), from the arguments graphql-core coerced."""
    raw = args.get("filter")
    return None if raw is None else input_from_arguments(input_type, raw)


def order_argument(args: dict[str, Any]) -> str | None:
    """A root field's ``order`` argument as the services take it (the enum's value)."""
    order = args.get("order")
    return order.value if order else None


_TABLES: dict[str, Table] = {}
_ROOTS: dict[str, Root] = {}
_CONNECTIONS: dict[tuple[str, str], LinkedPages] = {}


def compiled_table(
    type_name: str,
    model: type[Model],
    *,
    listed: tuple[str, Source] | None = None,
    by_slug: tuple[str, Callable[[Viewer, str], Any]] | None = None,
    lookups: Mapping[str, Source] | None = None,
    by_id: Callable[[Viewer, int], Any] | None = None,
    links: Mapping[str, Linked] | None = None,
    private: Mapping[str, Private] | None = None,
    ranked: Mapping[str, Ranking] | None = None,
) -> Table:
    """Let the compiler read the GraphQL type ``type_name`` from ``model``'s table, and
    answer the root fields ``listed`` (its name and how the service selects the rows of
    the list), ``by_slug`` (its name and the service's query set of the row of a slug, for
    a viewer) and ``lookups`` (other root fields answering one row or null, by name)."""
    if listed is not None:
        _root(listed[0], "connection", listed[1])
    if by_slug is not None:
        _root(by_slug[0], "lookup", partial(_by_slug, by_slug[1]))
    for name, source in (lookups or {}).items():
        _root(name, "lookup", source)
    table = Table(
        type_name,
        model,
        by_id,
        dict(links or {}),
        dict(private or {}),
        dict(ranked or {}),
    )
    _TABLES[type_name] = table
    return table


def _by_slug(
    select: Callable[[Viewer, str], Any], viewer: Viewer, args: dict[str, Any], now: dt.datetime
) -> Any:
    return select(viewer, args["slug"])


def _root(name: str, kind: Literal["connection", "lookup"], source: Source) -> None:
    """Let the compiler answer the root field ``name`` from the rows ``source`` selects."""
    _ROOTS[name] = Root(kind, source)


def compiled_connection(type_name: str, name: str, pages: LinkedPages) -> None:
    """Let the compiler answer the field ``name`` of ``type_name``, a connection of the
    children of a link table, as the services declare it (``pages``)."""
    _CONNECTIONS[(type_name, name)] = pages


def connection_of(type_name: str, name: str) -> LinkedPages | None:
    """The connection declared for the field ``name`` of ``type_name``, or None."""
    _discover()
    return _CONNECTIONS.get((type_name, name))


def tables() -> dict[str, Table]:
    """``{GraphQL type name: table}`` of every type declared, in the order of
    declaration."""
    _discover()
    return _TABLES


def roots() -> dict[str, Root]:
    """``{root field name: root}`` of every root field declared."""
    _discover()
    return _ROOTS


def _discover() -> None:
    from schema import registry

    registry.discover()
