"""Running a plan: the arguments through the services, one statement, the JSON finished.

The arguments of each root field, ``related`` and children's connection go through the
same functions its resolver calls (the filter, the page request and its cursors, the size
check, the service's query set): an argument they refuse (a bad cursor, ``first`` too
large) hands the operation to the ordinary executor, which answers the exact error. A
root list does so the first time a viewer sends it a set of arguments, then reuses its
statements with the request's time (:meth:`ReadCompiler._root_page`).

The embedded statements, the viewer's visibility included, are those the
services would run; the statement around them is kept per plan, embedded SQL, page
sizes, the types of its values and the order and direction of each children's
connection. The database answers JSON; Python only finishes the values that need it
(global IDs, dates, enumerated values and their labels) and assembles each connection,
root or child (cursors, ``pageInfo``), with the functions of ``services.pagination``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

import orjson
from graphql import get_argument_values

from schema.compiler.plan import (
    ConnectionPlan,
    Constant,
    LookupPlan,
    LookupsPlan,
    ObjectPlan,
    OperationPlan,
    Pages,
    Planner,
    Related,
    Unsupported,
    located,
)
from schema.compiler.sql import Builder, Dialect, literal_limit, slots
from schema.plans import PlansByDocument, put_bounded
from schema.relay import checked_page_request
from services.compat_tortoise import model_db, value_converters
from services.db import is_too_complex
from services.errors import DomainError
from services.links import Linked
from services.pagination import (
    Count,
    Ordering,
    PageRequest,
    bounded_querysets,
    cursor_of_values,
    page_from_rows,
    page_querysets,
)
from services.statements import queryset_statement, read_rows
from services.viewer import Viewer, visible_values

logger = logging.getLogger("tec.read_compiler")
CACHE_SIZE = 512

Outcome = Callable[[str, str], None]
"""Told ``(path, reason)`` of every query: ``("compiled", "")`` or ``("fallback", why)``
with ``why`` one of ``unsupported``, ``arguments``, ``private`` (a private field the
viewer does not read on every object), ``error`` (the services or the compiler itself
failed: logged at WARNING with its traceback), ``database``."""


class _Fallback(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReadCompiler:
    """Plans and statements of one schema, kept per document (bounded)."""

    def __init__(self, on_outcome: Outcome | None = None, size: int = CACHE_SIZE) -> None:
        self.on_outcome = on_outcome
        self.size = size
        self.plans: PlansByDocument[OperationPlan] = PlansByDocument(
            logger,
            "read compiler: operation %s goes to the ordinary executor: %s is not compiled",
            size,
        )
        # Keyed by the plan's id, which is reused once the plan is dropped from
        # ``plans``: an entry holds its plan and answers only while it is that plan.
        self.statements: OrderedDict[Hashable, tuple[OperationPlan, str, list[tuple[int, str]]]] = (
            OrderedDict()
        )
        self.key_converters: dict[tuple[Any, Ordering], list[Any]] = {}
        self.children: dict[tuple[Linked, bool, str], str] = {}

    def outcome(self, path: str, reason: str = "") -> None:
        if self.on_outcome is not None:
            self.on_outcome(path, reason)

    def plan_for(self, ctx: Any) -> OperationPlan | str:
        """The plan of the executor's operation, or why there is none (logged at INFO
        the first time a document is met)."""

        def plan(switches: dict[str, Any]) -> OperationPlan:
            planner = Planner(ctx.schema, ctx.operation, ctx.fragment_definitions, switches)
            return prepared(planner.plan())

        return self.plans.get(ctx, plan)

    async def run(self, ctx: Any, plan: OperationPlan) -> dict[str, Any] | None:
        """The operation's data, or None when the ordinary executor must answer."""
        try:
            data = await self._run(ctx, plan)
        except _Fallback as fallback:
            self.outcome("fallback", fallback.reason)
            return None
        except Exception:  # a bug of the compiler: the ordinary executor still answers
            logger.warning("read compiler: failed, the ordinary executor answers", exc_info=True)
            self.outcome("fallback", "error")
            return None
        self.outcome("compiled")
        return data

    async def _run(self, ctx: Any, plan: OperationPlan) -> dict[str, Any]:
        context = ctx.context_value
        viewer: Viewer = context.viewer
        now = viewer.as_of or dt.datetime.now(dt.UTC)
        query_name = ctx.schema.query_type.name
        for reads_every in plan.guards:
            if not reads_every(viewer):
                raise _Fallback("private")
        planned = plan
        if plan.has_nodes:
            try:
                plan = located(plan, ctx.variable_values, prepared)
            except Unsupported as error:
                raise _Fallback("unsupported") from error
            except (DomainError, ValueError, TypeError) as error:
                raise _Fallback("arguments") from error
        pages: dict[int, tuple[Any, Any, Ordering, PageRequest]] = {}
        lookups: dict[Any, Any] = {}
        try:
            for index, root in enumerate(plan.roots):
                if isinstance(root, Constant):
                    continue
                args = get_argument_values(root.field, root.node, ctx.variable_values)
                if isinstance(root, LookupPlan):
                    lookups[index] = await _maybe_awaited(root.source(viewer, args, context.now))
                    continue
                if isinstance(root, LookupsPlan):
                    for position, item in enumerate(root.items):
                        if item is not None:
                            lookups[(index, position)] = item.source(viewer, args, context.now)
                    continue
                pages[index] = self._root_page(root, args, context, query_name)
        except (DomainError, ValueError, TypeError) as error:
            logger.debug("read compiler: arguments for the ordinary executor: %r", error)
            raise _Fallback("arguments") from error
        except Exception as error:  # a bug: the ordinary executor answers, errors and all
            logger.warning("read compiler: the services failed: %r", error)
            raise _Fallback("error") from error
        nested: dict[int, tuple[Ordering, PageRequest, Any, Any]] = {}
        embedded = self._embedded(plan, pages, lookups, viewer, now, ctx, nested)
        db = embedded[0][0] if embedded else None
        orderings = tuple(pages[i][2] if i in pages else None for i in range(len(plan.roots)))
        directions = {key: (found[0], found[1].backward) for key, found in nested.items()}
        values = [value for _, _, bound, _ in embedded for value in bound]
        key = (
            id(planned),
            plan.types,
            orderings,
            tuple(sorted(directions.items())),
            tuple(map(type, values)),  # what the values are read as (sql.unplanned_casts)
            *((sql, limit) for _, sql, _, limit in embedded),
        )
        found = self.statements.get(key)
        if found is None or found[0] is not planned:
            dialect = Dialect(db.capabilities.dialect if db is not None else "sqlite")
            parts = [(sql, bound, limit) for _, sql, bound, limit in embedded]
            found = (planned, *Builder(dialect, parts, directions).operation(plan, orderings))
            put_bounded(self.statements, key, found, self.size)
        else:
            self.statements.move_to_end(key)
        _, sql, columns = found
        if sql is None:  # too complex for the database (below): not tried again
            raise _Fallback("database")
        row: Any = (None,) * len(columns)  # nothing to read: every ``nodes`` item null
        if db is not None:
            try:
                rows = await read_rows(db, sql, values)
            except Exception as error:  # the ordinary executor answers, errors and all
                if not is_too_complex(error):
                    logger.warning("read compiler: statement failed: %r", error)
                    raise _Fallback("database") from error
                put_bounded(self.statements, key, (planned, None, columns), self.size)
                name = ctx.operation.name.value if ctx.operation.name else "(anonymous)"
                logger.info(
                    "read compiler: operation %s goes to the ordinary executor: its "
                    "statement is too complex for the database (%s)",
                    name,
                    error,
                )
                raise _Fallback("database") from error
            row = rows[0]
        return self._data(plan, row, columns, pages, nested)

    def _embedded(
        self,
        plan: OperationPlan,
        pages: dict[int, tuple[Any, Any, Ordering, PageRequest]],
        lookups: dict[Any, Any],
        viewer: Viewer,
        now: dt.datetime,
        ctx: Any,
        nested: dict[int, tuple[Ordering, PageRequest, Any, Any]],
    ) -> list[tuple[Any, str, list[Any], int | None]]:
        """``(connection, sql, values, limit)`` of each statement the plan embeds, in
        order: ``limit`` is the one the statement around it writes after it (a child
        page's size and one, the number of ``related`` resources), or None. A limit of
        the statement itself (a root page's) is written in its SQL
        (``sql.literal_limit``)."""
        children: dict[Any, tuple[Any, str, list[Any]]] = {}
        embedded = []
        for kind, detail in plan.embedded:
            limit = None
            if kind == "child":
                statement = children.get(detail)
                if statement is None:
                    statement = children[detail] = self._child_statement(detail, viewer, now)
            elif kind in ("pages", "pages_whole"):
                found = nested.get(id(detail))
                if found is None:
                    found = nested[id(detail)] = _child_page(detail, ctx, viewer, now)
                _, request, bounded, whole = found
                if kind == "pages":
                    statement = queryset_statement(bounded)
                    limit = request.size + 1
                else:
                    statement = queryset_statement(whole)
            elif kind == "related":
                limit = _related_limit(detail, ctx.variable_values)
                statement = queryset_statement(detail.ranking.candidates(viewer, now))
            elif kind == "lookup":
                statement = queryset_statement(lookups[detail])
            else:
                page, whole, _, _ = pages[detail]
                statement = page if kind == "page" else whole
            db, sql, values = statement
            embedded.append((db, *literal_limit(sql, values), limit))
        dbs = {id(db) for db, _, _, _ in embedded}
        if len(dbs) > 1:
            raise _Fallback("database")
        return embedded

    def _root_page(
        self, root: ConnectionPlan, args: dict[str, Any], context: Any, query_name: str
    ) -> RootPage:
        """``(page, whole, ordering, request)`` of a root list in this request (its
        ``context``: viewer, time and settings): its arguments checked as its resolver
        does, the statements of the page and of the whole list (each None when the plan
        reads no rows, no count).

        A source selects its rows from the viewer, the arguments and the request's time
        alone (:data:`schema.compiler.coverage.Source`): its statements for one viewer
        and one set of arguments differ from request to request only where its values
        hold that time. The first request of each (viewer, arguments) builds them at its
        time and at another: when they differ exactly at values equal to each time, the
        statements are kept with those positions, and the next requests put their own
        time there instead of building query sets. Otherwise they are built every time."""
        viewer, now, settings = context.viewer, context.now, context.settings
        key = (viewer, repr(args))
        kept = root.kept_pages.get(key)
        if kept is not None:
            root.kept_pages.move_to_end(key)
            if kept is not _BUILT_EACH_TIME:
                page, whole, at, ordering, request = kept
                return (_at(page, at[0], now), _at(whole, at[1], now), ordering, request)

        def built_at(instant: dt.datetime) -> RootPage:
            return _root_statements(root, viewer, args, instant, settings, query_name)

        page, whole, ordering, request = built_at(now)
        if kept is _BUILT_EACH_TIME:
            return page, whole, ordering, request
        at = _kept_root_page(built_at, now, (page, whole))
        if at is None:  # the first statements may be Tortoise's, the next ones kept
            page, whole, ordering, request = built_at(now)
            at = _kept_root_page(built_at, now, (page, whole))
        put_bounded(
            root.kept_pages,
            key,
            _BUILT_EACH_TIME if at is None else (page, whole, at, ordering, request),
            KEPT_ARGUMENTS,
        )
        return page, whole, ordering, request

    def _child_statement(
        self, linked: Linked, viewer: Viewer, now: dt.datetime
    ) -> tuple[Any, str, list[Any]]:
        """``(connection, sql, values)`` of ``linked.child_queryset(viewer, now)``. Its
        SQL depends only on the database and on whether the viewer sees unpublished
        content, and its values are those of the viewer's visibility
        (``visible_values``): kept once the statement Tortoise wrote bound exactly them,
        so a request builds no query set for its children."""
        db = model_db(linked.child_model)
        values = visible_values(viewer, now) if linked.visible else []
        key = (linked, viewer.sees_unpublished, db.capabilities.dialect)
        sql = self.children.get(key)
        if sql is not None:
            return db, sql, values
        found = queryset_statement(linked.child_queryset(viewer, now))
        if found[0] is db and list(found[2]) == values:
            self.children[key] = found[1]
        return found

    def _data(
        self,
        plan: OperationPlan,
        row: Any,
        columns: list[tuple[int, str]],
        pages: dict[int, tuple[Any, Any, Ordering, PageRequest]],
        nested: dict[int, tuple[Ordering, PageRequest, Any, Any]],
    ) -> dict[str, Any]:
        found: dict[int, dict[str, Any]] = {}
        for position, (index, what) in enumerate(columns):
            found.setdefault(index, {})[what] = row[position]
        data: dict[str, Any] = {}
        for index, root in enumerate(plan.roots):
            if isinstance(root, Constant):
                data[root.key] = root.value
            elif isinstance(root, LookupPlan):
                text = found[index]["object"]
                data[root.key] = (
                    None if text is None else self._finished(plan, nested, root.plan, _loads(text))
                )
            elif isinstance(root, LookupsPlan):
                text = found.get(index, {}).get("objects")
                values = [None] * len(root.items) if text is None else _loads(text)
                data[root.key] = [
                    None if value is None else self._finished(plan, nested, item.plan, value)  # type: ignore[union-attr]
                    for item, value in zip(root.items, values, strict=True)
                ]
            else:
                _, _, ordering, request = pages[index]
                got = found.get(index, {})
                rows = _loads(got["rows"]) if "rows" in got else []
                count = got.get("count")
                data[root.key] = self.assemble(plan, nested, root, rows, count, ordering, request)
        return data

    def _finished(
        self,
        plan: OperationPlan,
        nested: dict[int, tuple[Ordering, PageRequest, Any, Any]],
        obj: ObjectPlan,
        value: dict[str, Any],
    ) -> dict[str, Any]:
        """``value``, the database's JSON of ``obj``, finished (:func:`finishers`)."""
        finish = plan.finishers[id(obj)]
        return value if finish is None else finish(self, plan, nested, value)

    def assemble(
        self,
        plan: OperationPlan,
        nested: dict[int, tuple[Ordering, PageRequest, Any, Any]],
        root: ConnectionPlan,
        rows: list[Any],
        count: Any,
        ordering: Ordering,
        request: PageRequest,
    ) -> dict[str, Any]:
        """A connection, root or child, of the page ``rows`` (as the database wrote
        them): its objects finished, its edges, cursors and ``pageInfo``."""
        page = page_from_rows(rows, ordering, request, Count(known=0))
        items = page.items
        objects = root.objects
        width = len(objects)
        finishing = [
            (i, finish)
            for i, finish in enumerate(plan.finishers[id(obj)] for obj in objects)
            if finish is not None
        ]
        if finishing:
            for item in items:
                for i, finish in finishing:
                    item[i] = finish(self, plan, nested, item[i])
        converters = self._key_converters(root.model, ordering)

        def cursor(item: list[Any]) -> str:
            values = [
                raw if convert is None else convert(raw)
                for convert, raw in zip(converters, item[width:], strict=True)
            ]
            return cursor_of_values(ordering, values, request.scope)

        out: dict[str, Any] = {}
        for key, kind, detail in root.items:
            if kind == "typename":
                out[key] = detail
            elif kind == "count":
                out[key] = int(count)
            elif kind == "nodes":
                out[key] = [item[detail] for item in items]
            elif kind == "edges":
                out[key] = [_edge(detail, item, cursor) for item in items]
            else:
                out[key] = _page_info(detail, page, items, cursor)
        return out

    def _key_converters(self, model: Any, ordering: Ordering) -> list[Any]:
        found = self.key_converters.get((model, ordering))
        if found is None:
            converters = value_converters(model)
            found = self.key_converters[(model, ordering)] = [
                converters[key.field] for key in ordering.keys
            ]
        return found


Finish = Callable[[ReadCompiler, OperationPlan, dict[int, Any], dict[str, Any]], dict[str, Any]]
"""Finishes an object as the database wrote it into the response's (in place)."""


def prepared(plan: OperationPlan) -> OperationPlan:
    """``plan`` with what its runs read: its embedded statements' slots and the finishers
    of its objects."""
    plan.embedded = slots(plan)
    plan.finishers = finishers(plan)
    return plan


def finishers(plan: OperationPlan) -> dict[int, Finish | None]:
    """How Python finishes each object of ``plan``, by the ``id`` of its
    :class:`ObjectPlan`: its converted values (global IDs, dates, enumerated values and
    labels), then its children's and its connections'; None for an object, children
    included, whose JSON is already the response's."""
    found: dict[int, Finish | None] = {}

    def of(obj: ObjectPlan) -> Finish | None:
        converted = tuple(obj.converted)
        children = []
        for child in obj.nested():
            finish = of(child.plan)
            if finish is not None:
                children.append((child.key, finish))
        connections = tuple(obj.connections())
        for pages in connections:
            for page_object in pages.plan.objects:
                of(page_object)
        found[id(obj)] = None
        if converted or children or connections:
            found[id(obj)] = partial(_finish, converted, tuple(children), connections)
        return found[id(obj)]

    for root in plan.roots:
        if isinstance(root, ConnectionPlan):
            for obj in root.objects:
                of(obj)
        elif isinstance(root, LookupPlan):
            of(root.plan)
        elif isinstance(root, LookupsPlan):
            for item in root.items:
                if item is not None:
                    of(item.plan)
    return found


def _finish(
    converted: tuple[tuple[str, Callable[[Any], Any]], ...],
    children: tuple[tuple[str, Finish], ...],
    connections: tuple[Pages, ...],
    compiler: ReadCompiler,
    plan: OperationPlan,
    nested: dict[int, tuple[Ordering, PageRequest, Any, Any]],
    value: dict[str, Any],
) -> dict[str, Any]:
    for key, convert in converted:
        value[key] = convert(value[key])
    for key, finish in children:
        for item in value[key]:
            finish(compiler, plan, nested, item)
    for pages in connections:
        ordering, request, _, _ = nested[id(pages)]
        got = value[pages.key]
        value[pages.key] = compiler.assemble(
            plan, nested, pages.plan, got.get("rows") or [], got.get("count"), ordering, request
        )
    return value


def _loads(text: str | bytes) -> Any:
    """The JSON the database wrote, as text (SQLite) or UTF-8 bytes (PostgreSQL): parsed
    by orjson, or by ``json`` what orjson refuses (integers beyond 64 bits, lone
    surrogates)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


Statement = tuple[Any, str, list[Any]]
"""``(connection, sql, values)``."""
RootPage = tuple[Statement | None, Statement | None, Ordering, PageRequest]
"""``(page, whole, ordering, request)`` of a root list: the statements of the page and
of the whole list, each None when the plan reads no rows, no count."""
KEPT_ARGUMENTS = 64
"""Sets of arguments (with their viewer) whose statements a root list keeps."""
_BUILT_EACH_TIME: Any = object()
_PROBE = dt.timedelta(seconds=1)


def _root_statements(
    root: ConnectionPlan,
    viewer: Viewer,
    args: dict[str, Any],
    now: dt.datetime,
    settings: Any,
    query_name: str,
) -> RootPage:
    """A root list's statements, built from the service's query sets."""
    queryset, ordering = root.source(viewer, args, now)  # type: ignore[misc]
    request = checked_page_request(
        settings,
        args.get("first"),
        args.get("after"),
        args.get("last"),
        args.get("before"),
        scope=f"{query_name}.{root.node.name.value}",
    )
    page, whole = page_querysets(queryset, ordering, request)
    return (
        queryset_statement(page) if root.rows else None,
        queryset_statement(whole) if root.count else None,
        ordering,
        request,
    )


def _kept_root_page(
    built_at: Callable[[dt.datetime], RootPage],
    now: dt.datetime,
    statements: tuple[Statement | None, Statement | None],
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The positions of the values of ``statements`` (built at ``now``) holding ``now``,
    found by building them again at another time (``built_at``); None when the two builds
    differ anywhere else (:meth:`ReadCompiler._root_page`)."""
    probe = now + _PROBE
    page, whole, _, _ = built_at(probe)
    at = []
    for built, other in zip(statements, (page, whole), strict=True):
        positions = () if built is None else _time_positions(built, other, now, probe)
        if positions is None:
            return None
        at.append(positions)
    return at[0], at[1]


def _time_positions(
    built: Statement, other: Statement, now: dt.datetime, probe: dt.datetime
) -> tuple[int, ...] | None:
    """Where ``built``'s values hold ``now`` and ``other``'s ``probe``, the two statements
    being the same everywhere else; None when they are not."""
    if built[0] is not other[0] or built[1] != other[1] or len(built[2]) != len(other[2]):
        return None
    positions = []
    for position, (value, moved) in enumerate(zip(built[2], other[2], strict=True)):
        if type(value) is type(moved) and value == moved:
            continue
        if not (type(value) is type(now) and value == now and moved == probe):
            return None
        positions.append(position)
    return tuple(positions)


def _at(
    statement: Statement | None, positions: tuple[int, ...], now: dt.datetime
) -> Statement | None:
    """A kept statement with the request's time at ``positions``."""
    if statement is None or not positions:
        return statement
    values = list(statement[2])
    for position in positions:
        values[position] = now
    return statement[0], statement[1], values


def _child_page(
    pages: Pages, ctx: Any, viewer: Viewer, now: dt.datetime
) -> tuple[Ordering, PageRequest, Any, Any]:
    """``(ordering, request, bounded, whole)`` of a :class:`Pages` in this request: its
    arguments checked as its resolver does, its children's query sets as the service's."""
    connection = pages.plan
    try:
        args = get_argument_values(connection.field, connection.node, ctx.variable_values)
        order = args.get("order")
        ordering = pages.pages.ordering(order.value if order else None)
        request = checked_page_request(
            ctx.context_value.settings,
            args.get("first"),
            args.get("after"),
            args.get("last"),
            args.get("before"),
            scope=pages.scope,
        )
        queryset = pages.pages.linked.child_queryset(viewer, now)
        bounded, whole = bounded_querysets(queryset, ordering, request)
    except (DomainError, ValueError, TypeError) as error:
        raise _Fallback("arguments") from error
    return ordering, request, bounded, whole


def _related_limit(related: Related, variables: Any) -> int:
    """How many objects ``related`` asks for, checked as its resolver does."""
    try:
        limit = get_argument_values(related.field, related.node, variables)["first"]
        related.ranking.check_limit(limit)
    except (DomainError, ValueError, TypeError) as error:
        raise _Fallback("arguments") from error
    return limit


def _edge(
    items: list[tuple[str, str, Any]], row: list[Any], cursor: Callable[[Any], str]
) -> dict[str, Any]:
    edge: dict[str, Any] = {}
    for key, kind, detail in items:
        if kind == "typename":
            edge[key] = detail
        elif kind == "cursor":
            edge[key] = cursor(row)
        else:
            edge[key] = row[detail]
    return edge


def _page_info(
    items: list[tuple[str, str, Any]], page: Any, rows: list[Any], cursor: Callable[[Any], str]
) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for key, kind, detail in items:
        if kind == "typename":
            info[key] = detail
        elif kind == "hasNextPage":
            info[key] = page.has_next_page
        elif kind == "hasPreviousPage":
            info[key] = page.has_previous_page
        elif kind == "startCursor":
            info[key] = cursor(rows[0]) if rows else None
        else:
            info[key] = cursor(rows[-1]) if rows else None
    return info


async def _maybe_awaited(found: Any) -> Any:
    """A lookup's query set, from a coroutine when its service decides in Python which row
    it is (``nextTheme``). A query set is awaitable too (that runs it): only a coroutine
    is awaited."""
    return await found if inspect.iscoroutine(found) else found
