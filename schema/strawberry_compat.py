"""The places the gateway reaches past Strawberry's public API, fenced in one module.

Strawberry (pinned in pyproject.toml) is used here beyond what it documents: the
graphql-core schema it builds and the links between the two, the calling convention of
its resolvers (compiled execution calls some of them directly), the definitions whose
descriptions the schema fills in, and the state of its graphql-transport-ws handler
(the WebSocket guards). Each function or class here states the assumption it makes;
``tests/compat/test_strawberry.py`` checks each one, so a Strawberry upgrade that breaks
one fails there, by name, instead of silently giving other answers.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Generic

from graphql import GraphQLSchema
from strawberry import Schema
from strawberry.http.typevars import Context, RootValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.utils.str_converters import to_camel_case

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF

#: The execution context Strawberry runs graphql-core with (``execution_context_class``
#: of ``strawberry.Schema`` takes a subclass of it).
ExecutionContext = StrawberryGraphQLCoreExecutionContext


# --- The graphql-core schema --------------------------------------------------------------


def graphql_core_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built (``Schema._schema``)."""
    found = schema._schema
    if not isinstance(found, GraphQLSchema):
        raise TypeError("strawberry.Schema._schema is no longer a graphql-core GraphQLSchema")
    return found


def strawberry_schema_of(schema: GraphQLSchema) -> Schema:
    """The Strawberry schema that built a graphql-core schema (Strawberry's back link,
    ``GraphQLSchema._strawberry_schema``)."""
    found = schema._strawberry_schema  # type: ignore[attr-defined]
    if not isinstance(found, Schema):
        raise TypeError("GraphQLSchema._strawberry_schema is no longer a strawberry.Schema")
    return found


def definition_of(graphql_element: Any) -> Any:
    """The Strawberry definition behind a graphql-core type or field (its
    ``StrawberryObjectDefinition``, ``StrawberryField``…), None for what Strawberry did not
    make (introspection types)."""
    return (graphql_element.extensions or {}).get(_BACKREF)


def has_exception_handlers(schema: Schema) -> bool:
    """Whether the schema turns some resolver exceptions into results: its resolvers
    must then run through Strawberry, which applies them."""
    return bool(schema.exception_handlers)


# --- Calling resolvers as Strawberry does --------------------------------------------------


def plain_attribute(field: Any) -> str | None:
    """The attribute of the source a field's value is, when Strawberry's resolver of the
    field only reads it (no resolver, no extension, the default ``getattr``); else None."""
    if field.is_basic_field and field.default_resolver is getattr:
        return field.python_name
    return None


class SourceOnly:
    """A resolver that takes only ``self``: called with the source, nothing built."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func


def direct_call(field: Any, info_class: type) -> Callable[..., Any] | SourceOnly | None:
    """The resolver of a field without arguments or extensions, called as Strawberry
    would (``self``/``root``/``parent`` = the source, ``info`` = ``info_class`` around
    graphql-core's info), minus its per-call argument conversion and extension chain:
    ``call(source, raw_info)`` with ``raw_info()`` building graphql-core's info, or a
    :class:`SourceOnly`. None for any other field."""
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.arguments:
        return None
    func = resolver.wrapped_func
    positional = resolver.self_parameter is not None
    source_names = [
        p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None
    ]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    if info_name is None and not source_names and positional:
        return SourceOnly(func)

    def call(source: Any, raw_info: Callable[[], Any]) -> Any:
        kwargs = dict.fromkeys(source_names, source)
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=raw_info(), _field=field)
        return func(source, **kwargs) if positional else func(**kwargs)

    return call


# --- Names --------------------------------------------------------------------------------


def type_name(cls: type) -> str:
    """The GraphQL name of the Strawberry type ``cls``."""
    return str(cls.__strawberry_definition__.name)  # type: ignore[attr-defined]


def input_field_names(value: Any) -> list[str]:
    """The GraphQL names of the fields of ``value`` when it is an instance of a Strawberry
    input type (``[]`` for anything else: scalars, enums, lists)."""
    definition = getattr(type(value), "__strawberry_definition__", None)
    if not getattr(definition, "is_input", False):  # enums have a definition too
        return []
    return [
        f.graphql_name or to_camel_case(f.python_name)
        for f in definition.fields  # type: ignore[union-attr]
    ]


def input_from_arguments(cls: type, values: dict[str, Any]) -> Any:
    """An instance of the Strawberry input type ``cls`` from the values graphql-core
    coerced for it (keyed by GraphQL names), as Strawberry hands it to a resolver."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    found = {}
    for f in definition.fields:
        name = f.graphql_name or to_camel_case(f.python_name)
        if name in values:
            found[f.python_name] = values[name]
    return cls(**found)


# --- Descriptions --------------------------------------------------------------------------


def describe_type(cls: type, description: str) -> None:
    """Set the description of a Strawberry type (one ``merge_types`` made) before a
    schema is built from it."""
    cls.__strawberry_definition__.description = description  # type: ignore[attr-defined]


def describe_enum_values(wrapped: type[enum.Enum], describe: Callable[[str], str]) -> None:
    """Set the description of each value of an enum ``strawberry.enum`` wrapped, from
    the value's name, before a schema is built from it."""
    for value in wrapped.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = describe(value.name)


# --- The graphql-transport-ws handler -------------------------------------------------------


class GuardedTransportWSHandler(
    BaseGraphQLTransportWSHandler[Context, RootValue], Generic[Context, RootValue]
):
    """Strawberry's graphql-transport-ws handler with two guard hooks.

    - :meth:`admit_connection` sees the payload of the first ``connection_init`` whose
      payload is an object; True lets Strawberry acknowledge the connection, False leaves
      it unacknowledged (the hook closes the socket). Any other ``connection_init``
      Strawberry refuses itself (4429: a second one, 4400: a payload that is no object).
    - :meth:`admit_subscribe` sees each ``subscribe`` of an acknowledged connection; True
      lets Strawberry run it, False drops it (the hook answers). Before the
      acknowledgement Strawberry closes the socket (4401).
    """

    async def admit_connection(self, payload: dict[str, Any]) -> bool:
        raise NotImplementedError

    async def admit_subscribe(self, message: SubscribeMessage) -> bool:
        raise NotImplementedError

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if self.connection_init_received or not isinstance(payload, dict):
            await super().handle_connection_init(message)  # closes: 4429 or 4400
            return
        if await self.admit_connection(payload):
            await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # closes with 4401
            return
        if await self.admit_subscribe(message):
            await super().handle_subscribe(message)

    def stop_init_timeout(self) -> None:
        """Stop waiting for ``connection_init`` (the socket is being closed)."""
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()

    async def close(self, code: int, reason: str) -> None:
        await self.websocket.close(code=code, reason=reason)

    async def send_error(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        """An ``error`` message for one operation: it ends, the connection stays open."""
        await self.send_message(
            {"id": operation_id, "type": "error", "payload": errors}  # type: ignore[typeddict-item]
        )

    async def refuse_message(self, reason: str) -> None:
        """Close the socket on a message that breaks the protocol (4400)."""
        await self.handle_invalid_message(reason)
