"""Compiled execution of queries: a plan per document, run without graphql-core's per-field
machinery, and graphql-core itself whenever the plan meets something it does not handle.

graphql-core executes a field in about ten Python calls (path, info, resolver wrapper,
argument coercion, awaitable checks, completion by type, sub-field collection); a portal
page has ~300 fields, so that machinery cost more than the SQL behind it. The first time a
query document runs, it is walked once, its fields collected as the specification says
(:mod:`schema.selections`: fragments, aliases, ``@skip``/``@include``), into a tree of
:class:`FieldPlan`.
Each plan knows how to get its value — an attribute read for plain fields, the resolver
function called directly for Strawberry resolvers without extensions (their arguments
converted by converters compiled once per field, not by Strawberry's per-call conversion),
Strawberry's full resolver otherwise — and how to complete it (serialise a leaf, build a
list, build an object).

Running a plan (:class:`_Run`) completes the whole tree breadth first: the coroutines of a
level are stepped side by side (no Task each), so every DataLoader sees a level's keys in
one batch, and each is resumed when the future it waits on is done.

Only the happy path is compiled. Any error, a null in a non-null position, a runtime type
the plan does not know, or a resolver that returns an awaitable item: the run stops and the
operation is executed again by graphql-core, which produces the exact errors and partial
data the specification asks for. Queries only read, so running one twice changes nothing;
mutations and subscriptions never take this path. Middleware (extensions with a ``resolve``
hook), ``@defer``/``@stream``, fragment variables and introspection fields keep graphql-core.

Each query's path is told to the ``on_outcome`` of :func:`compiled_executing` (the gateway
counts them in ``tec_compiled_plans_queries``), and a document left to graphql-core is
logged at INFO the first time it is met, with what the plan does not cover.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from functools import partial
from types import CoroutineType
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    OperationType,
    VariableNode,
    Visitor,
    get_argument_values,
    get_nullable_type,
    is_abstract_type,
    visit,
)
from graphql.pyutils import Path

from schema.compat_asyncio import claims_future
from schema.compat_graphql import (
    complete_response,
    resolve_info_builder,
    schema_memo,
)
from schema.plans import PlansByDocument
from schema.selections import Selections, Unsupported
from schema.strawberry_compat import (
    ExecutionContext,
    SourceOnly,
    definition_of,
    direct_call,
    direct_call_with_arguments,
    has_exception_handlers,
    plain_attribute,
    strawberry_schema_of,
)

logger = logging.getLogger("tec.execution")
PLAN_CACHE_SIZE = 512

Complete = Callable[["_Run", Any, Path], Any]


class Fallback(Exception):
    """This run met something only graphql-core handles right (an error, a null…)."""


class FieldPlan:
    """One response key of one selection set: how to get its value and complete it."""

    __slots__ = (
        "args",
        "attr",
        "call",
        "call_with",
        "complete",
        "field_def",
        "key",
        "nodes",
        "resolve",
        "typename",
    )

    def __init__(self, key: str) -> None:
        self.key = key
        self.attr: str | None = None  # a plain attribute read (Strawberry's default resolver)
        self.typename: str | None = None  # ``__typename``
        # A direct resolver call (strawberry_compat.direct_call).
        self.call: Callable[..., Any] | SourceOnly | None = None
        # A direct resolver call with arguments (strawberry_compat.direct_call_with_arguments).
        self.call_with: Callable[..., Any] | None = None
        self.resolve: Callable[..., Any] | None = None  # Strawberry's resolver (with args)
        self.args: dict[str, Any] | None = None  # static arguments; None: per request
        self.field_def: GraphQLField | None = None
        self.nodes: list[Any] = []
        self.complete: Complete = _identity


class ObjectPlan:
    """The fields selected on one object type."""

    __slots__ = ("fields", "type", "type_name")

    def __init__(self, type_: GraphQLObjectType) -> None:
        self.type = type_
        self.type_name = type_.name
        self.fields: list[FieldPlan] = []


def _identity(run: _Run, value: Any, path: Path) -> Any:
    return value


class _Compiler:
    """Builds the plan of one operation (see :func:`compile_operation`)."""

    def __init__(self, context: ExecutionContext, switches: dict[str, Any]) -> None:
        # What field collection needs, not the request's context: a plan (and the compiler
        # an abstract field keeps for runtime types seen later) outlives its first request.
        self.operation_node = context.operation
        self.selections = Selections(context.schema, context.fragment_definitions, switches)
        self.schema = context.schema
        strawberry_schema = self.strawberry_schema = strawberry_schema_of(self.schema)
        self.info_class = strawberry_schema.config.info_class
        self.handlers = has_exception_handlers(strawberry_schema)
        self.types_by_class = _types_by_class(self.schema)

    def operation(self) -> ObjectPlan:
        root_type = self.schema.get_root_type(OperationType.QUERY)
        if root_type is None:
            raise Unsupported("no query type")
        fields = self.selections.fields(root_type, [self.operation_node.selection_set])
        return self.object_plan(root_type, fields)

    def object_plan(
        self, type_: GraphQLObjectType, fields: dict[str, list[FieldNode]]
    ) -> ObjectPlan:
        plan = ObjectPlan(type_)
        for key, nodes in fields.items():
            plan.fields.append(self.field_plan(type_, key, nodes))
        return plan

    def field_plan(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        first = nodes[0]
        name = first.name.value
        plan = FieldPlan(key)
        if name == "__typename":
            plan.typename = parent.name
            return plan
        if name.startswith("__"):
            raise Unsupported("introspection")
        field_def = parent.fields.get(name)
        if field_def is None:
            raise Unsupported(f"unknown field {name}")
        plan.field_def = field_def
        plan.nodes = nodes
        self.resolver(plan, field_def, first)
        plan.complete = self.completer(field_def.type, nodes)
        return plan

    def resolver(self, plan: FieldPlan, field_def: GraphQLField, node: Any) -> None:
        resolve = field_def.resolve
        field = definition_of(field_def)
        if resolve is None or field is None:
            raise Unsupported("a field without a Strawberry resolver")
        attr = None if self.handlers else plain_attribute(field)
        if attr is not None:
            plan.attr = attr
            return
        plan.call = None if self.handlers else direct_call(field, self.info_class)
        if plan.call is None:
            plan.resolve = resolve
            if not self.handlers:
                plan.call_with = direct_call_with_arguments(
                    field, self.info_class, self.strawberry_schema
                )
            if not (field_def.args or node.arguments):
                plan.args = {}
            elif not _uses_variables(node):
                plan.args = get_argument_values(field_def, node, None)

    def completer(self, type_: Any, nodes: list[FieldNode]) -> Complete:
        """How to complete a value of ``type_``; null checks are fused into each kind, as
        a page has hundreds of values and every call counts."""
        required = isinstance(type_, GraphQLNonNull)
        if required:
            type_ = type_.of_type
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return _leaf(type_, required)
        if isinstance(type_, GraphQLList):
            return self.list_completer(type_, nodes, required)
        if isinstance(type_, GraphQLObjectType):
            sub = self.object_plan(type_, self.subfields(type_, nodes))

            def complete_object(run: _Run, value: Any, path: Path) -> Any:
                if value is None:
                    if required:
                        raise Fallback("null in a non-null field")
                    return None
                return run.object(sub, value, path)

            return complete_object
        if is_abstract_type(type_):
            abstract = self.abstract(type_, nodes)

            def complete_abstract(run: _Run, value: Any, path: Path) -> Any:
                if value is None:
                    if required:
                        raise Fallback("null in a non-null field")
                    return None
                return abstract(run, value, path)

            return complete_abstract
        raise Unsupported(f"type {type_}")

    def list_completer(
        self, type_: GraphQLList, nodes: list[FieldNode], required: bool
    ) -> Complete:
        item = self.completer(type_.of_type, nodes)
        leaves = isinstance(get_nullable_type(type_.of_type), GraphQLScalarType | GraphQLEnumType)

        def complete_list(run: _Run, value: Any, path: Path) -> Any:
            if value is None:
                if required:
                    raise Fallback("null in a non-null field")
                return None
            if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
                raise Fallback("not a list")
            if leaves:  # no resolver below: no paths to build
                return [item(run, v, path) for v in value]
            return [item(run, v, Path(path, i, None)) for i, v in enumerate(value)]

        return complete_list

    def abstract(self, type_: Any, nodes: list[FieldNode]) -> Complete:
        """Interfaces and unions: the runtime type is the GraphQL type of the value's
        Strawberry class; its plan is compiled the first time that type shows up."""
        possible = {t.name for t in self.schema.get_possible_types(type_)}
        plans: dict[type, ObjectPlan] = {}
        types_by_class = self.types_by_class

        def complete_abstract(run: _Run, value: Any, path: Path) -> Any:
            plan = plans.get(type(value))
            if plan is None:
                runtime = types_by_class.get(type(value))
                if runtime is None or runtime.name not in possible:
                    raise Fallback("unknown runtime type")
                try:
                    plan = self.object_plan(runtime, self.subfields(runtime, nodes))
                except Unsupported as error:
                    raise Fallback(str(error)) from error
                plans[type(value)] = plan
            return run.object(plan, value, path)

        return complete_abstract

    def subfields(
        self, type_: GraphQLObjectType, nodes: list[FieldNode]
    ) -> dict[str, list[FieldNode]]:
        return self.selections.fields(type_, [node.selection_set for node in nodes])


_INT_RANGE = range(-(2**31), 2**31)  # GraphQL's Int: 32 bits (what serialize_int checks)


def _leaf(type_: GraphQLScalarType | GraphQLEnumType, required: bool) -> Complete:
    serialize = type_.serialize
    if type_ is GraphQLInt:
        # Counts and totals: an int of the range serialises as itself.
        def itself(value: Any) -> bool:
            return type(value) is int and value in _INT_RANGE
    elif type_ is GraphQLString or type_ is GraphQLID:

        def itself(value: Any) -> bool:
            return type(value) is str
    else:

        def itself(value: Any) -> bool:
            return False

    def leaf(run: _Run, value: Any, path: Path) -> Any:
        if itself(value):
            return value
        if value is None:
            if required:
                raise Fallback("null in a non-null field")
            return None
        return serialize(value)

    return leaf


def _types_by_class(schema: Any) -> dict[type, GraphQLObjectType]:
    return schema_memo(schema, "types_by_class", partial(_object_types_by_class, schema))


def _object_types_by_class(schema: Any) -> dict[type, GraphQLObjectType]:
    found = {}
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType):
            origin = getattr(definition_of(type_), "origin", None)
            if isinstance(origin, type):
                found[origin] = type_
    return found


class _ArgumentsVisitor(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_variable(self, node: VariableNode, *_: Any) -> Any:
        self.found = True
        return self.BREAK


def _uses_variables(node: Any) -> bool:
    visitor = _ArgumentsVisitor()
    for argument in node.arguments or ():
        visit(argument, visitor)
    return visitor.found


class _Run:
    """One execution of a plan: objects completed breadth first, awaitables by level."""

    __slots__ = ("arguments", "build_info", "ctx", "pending")

    def __init__(self, ctx: ExecutionContext) -> None:
        self.ctx = ctx
        self.build_info = resolve_info_builder(ctx)
        self.pending: list[tuple[Any, dict[str, Any], FieldPlan, Path]] = []
        self.arguments: dict[int, dict[str, Any]] = {}

    def object(self, plan: ObjectPlan, source: Any, path: Path | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in plan.fields:
            attr = field.attr
            if attr is not None:
                out[field.key] = field.complete(self, getattr(source, attr), path)
                continue
            if field.typename is not None:
                out[field.key] = field.typename
                continue
            field_path = Path(path, field.key, plan.type_name)
            call = field.call
            if type(call) is SourceOnly:
                value = call.func(source)
            elif call is not None:
                value = call(source, partial(self.info, field, plan, field_path))
            elif field.call_with is not None:
                args = field.args if field.args is not None else self.args_of(field)
                value = field.call_with(source, partial(self.info, field, plan, field_path), args)
            else:
                args = field.args if field.args is not None else self.args_of(field)
                info = self.info(field, plan, field_path)
                value = field.resolve(source, info, **args)  # type: ignore[misc]
            if _awaitable(value):
                out[field.key] = None  # keeps the key's place; filled when awaited
                self.pending.append((value, out, field, field_path))
            else:
                out[field.key] = field.complete(self, value, field_path)
        return out

    def info(self, field: FieldPlan, plan: ObjectPlan, path: Path) -> Any:
        return self.build_info(field.field_def, field.nodes, plan.type, path)

    def args_of(self, field: FieldPlan) -> dict[str, Any]:
        found = self.arguments.get(id(field))
        if found is None:
            found = self.arguments[id(field)] = get_argument_values(
                field.field_def,  # type: ignore[arg-type]
                field.nodes[0],
                self.ctx.variable_values,
                None,
                self.ctx.hide_suggestions,
            )
        return found

    async def run(self, plan: ObjectPlan, root_value: Any) -> dict[str, Any]:
        try:
            data = self.object(plan, root_value, None)
            while self.pending:
                level, self.pending = self.pending, []
                await self.settle(level)
            return data
        except BaseException:
            for entry in self.pending:
                _close(entry[0])
            raise

    async def settle(self, level: list[tuple[Any, dict[str, Any], FieldPlan, Path]]) -> None:
        """Run a level's awaitables side by side, without a Task each.

        Every coroutine is stepped until it waits on a future (typically a DataLoader's),
        so the loaders see all the keys of the level before their batch runs; each one
        is resumed once its future is done, as a Task would."""
        waiting: list[tuple[tuple[Any, dict[str, Any], FieldPlan, Path], Any]] = []
        try:
            for entry in level:
                if not inspect.iscoroutine(entry[0]):
                    entry = (_awaited(entry[0]), *entry[1:])
                self.step(entry, waiting)
            while waiting:
                # Resume whichever is ready: one may wait on a lock another one holds.
                if not any(future.done() for _, future in waiting):
                    await asyncio.wait({f for _, f in waiting}, return_when=FIRST_COMPLETED)
                ready = [pair for pair in waiting if pair[1].done()]
                waiting = [pair for pair in waiting if not pair[1].done()]
                for entry, _future in ready:
                    self.step(entry, waiting)
        except Exception:
            # The others may be in the middle of a statement: closing them there would
            # hand their pooled connection back busy. They run to their end, unread.
            await _drain(waiting)
            for entry in level:
                _close(entry[0])
            raise
        except BaseException:
            for entry, _future in waiting:
                _close(entry[0])
            for entry in level:
                _close(entry[0])
            raise

    def step(self, entry: tuple[Any, dict[str, Any], FieldPlan, Path], waiting: list) -> None:
        coroutine, out, field, path = entry
        try:
            yielded = coroutine.send(None)
        except StopIteration as done:
            out[field.key] = field.complete(self, done.value, path)
            return
        except Exception as error:
            raise Fallback("a resolver failed") from error
        except asyncio.CancelledError as error:  # what it awaited was cancelled, not us
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            raise Fallback("a resolver was cancelled") from error
        if claims_future(yielded):
            waiting.append((entry, yielded))
        elif yielded is None:  # a bare yield (asyncio.sleep(0)): resume on the next turn
            soon = asyncio.get_running_loop().create_future()
            soon.get_loop().call_soon(soon.set_result, None)
            waiting.append((entry, soon))
        else:
            raise Fallback(f"a resolver awaited {type(yielded).__name__}")


async def _drain(waiting: list[tuple[Any, Any]]) -> None:
    """Step the coroutines of ``waiting`` (each with the future it waits on) to their end,
    whatever they return or raise."""
    while waiting:
        if not any(future.done() for _, future in waiting):
            await asyncio.wait({f for _, f in waiting}, return_when=FIRST_COMPLETED)
        ready = [pair for pair in waiting if pair[1].done()]
        waiting = [pair for pair in waiting if not pair[1].done()]
        for entry, _future in ready:
            try:
                yielded = entry[0].send(None)
            except (Exception, asyncio.CancelledError):  # finished, one way or another
                continue
            if claims_future(yielded):
                waiting.append((entry, yielded))
            else:
                soon = asyncio.get_running_loop().create_future()
                soon.get_loop().call_soon(soon.set_result, None)
                waiting.append((entry, soon))


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


_NEVER_AWAITABLE = (list, tuple, dict, str, int, float, bool, type(None))


def _awaitable(value: Any) -> bool:
    if type(value) is CoroutineType or isinstance(value, asyncio.Future):
        return True
    return not isinstance(value, _NEVER_AWAITABLE) and inspect.isawaitable(value)


def _close(awaitable: Any) -> None:
    if inspect.iscoroutine(awaitable):
        awaitable.close()


def _plans(schema: Any) -> PlansByDocument[ObjectPlan]:
    return schema_memo(schema, "plans", _plan_cache)


def _plan_cache() -> PlansByDocument[ObjectPlan]:
    return PlansByDocument(
        logger,
        "compiled plans: operation %s goes to graphql-core: %s is not planned",
        PLAN_CACHE_SIZE,
    )


Outcome = Callable[[str, str], None]
"""Told ``(path, reason)`` of every operation: ``("plan", "")``, or ``("graphql-core",
why)`` with ``why`` one of ``operation`` (not a query, or executed serially or with
middleware), ``unsupported`` (the document has something the plan does not cover),
``error`` (the run met an error, a null or a type it does not know: graphql-core answers
again, with the errors the specification asks for)."""


class CompiledExecutionContext(ExecutionContext):
    """Strawberry's execution context, running queries through their compiled plan."""

    on_outcome: Outcome | None = None

    def execute_operation(self, serially: bool | None = None) -> Any:
        if (
            self.operation.operation is not OperationType.QUERY
            or serially
            or self.abort_signal is not None
            or (self.middleware_manager and self.middleware_manager.middlewares)
        ):
            self._outcome("graphql-core", "operation")
            return super().execute_operation(serially)
        plan = _plans(self.schema).get(self, lambda switches: _Compiler(self, switches).operation())
        if isinstance(plan, str):
            self._outcome("graphql-core", "unsupported")
            return super().execute_operation(serially)
        return self._execute_plan(plan, serially)

    async def _execute_plan(self, plan: ObjectPlan, serially: bool | None) -> Any:
        try:
            data = await _Run(self).run(plan, self.root_value)
        except Exception as error:  # graphql-core answers it, errors and all
            logger.debug("compiled plan handed over to graphql-core: %r", error)
            self._outcome("graphql-core", "error")
            result = super().execute_operation(serially)
            return await result if inspect.isawaitable(result) else result
        self._outcome("plan", "")
        return complete_response(self, data)

    def _outcome(self, path: str, reason: str) -> None:
        if self.on_outcome is not None:
            self.on_outcome(path, reason)


def compiled_executing(on_outcome: Outcome | None = None) -> type[CompiledExecutionContext]:
    """:class:`CompiledExecutionContext`, telling ``on_outcome`` each query's path."""
    if on_outcome is None:
        return CompiledExecutionContext
    return type(
        "ReportingCompiledExecutionContext",
        (CompiledExecutionContext,),
        {"on_outcome": staticmethod(on_outcome)},
    )
