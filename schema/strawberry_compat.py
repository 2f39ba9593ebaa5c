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
from dataclasses import MISSING
from typing import Any, Generic

from graphql import GraphQLSchema
from strawberry import Schema
from strawberry.http.typevars import Context, RootValue
from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema import validate_document as _validate_document
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET
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


def validate_document(schema: GraphQLSchema, document: Any, rules: tuple[Any, ...]) -> Any:
    """The validation errors of ``document`` as Strawberry finds them
    (``strawberry.schema.schema.validate_document``, what its ``ValidationCache``
    caches)."""
    return _validate_document(schema, document, rules)


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
    return _direct(field, info_class)


def direct_call_with_arguments(
    field: Any, info_class: type, schema: Schema
) -> Callable[..., Any] | None:
    """Like :func:`direct_call`, for a field with arguments and no extension (permission
    classes are extensions: such fields keep Strawberry's path): ``call(source, raw_info,
    raw_args)``, ``raw_args`` the values graphql-core coerced, converted as Strawberry's
    ``convert_arguments`` converts them (:func:`compiled_arguments`). None when an
    argument's type is one it does not compile."""
    if field.base_resolver is None or field.extensions or not field.arguments:
        return None
    convert = compiled_arguments(field, schema)
    if convert is None:
        return None
    call = _direct(field, info_class)
    func = call.func if isinstance(call, SourceOnly) else None

    def call_with(source: Any, raw_info: Callable[[], Any], raw_args: dict[str, Any]) -> Any:
        if func is not None:
            return func(source, **convert(raw_args))
        return call(source, raw_info, **convert(raw_args))  # type: ignore[operator]

    return call_with


def compiled_arguments(
    field: Any, schema: Schema
) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """``convert(raw_args)``: what ``strawberry.types.arguments.convert_arguments`` makes
    of the arguments graphql-core coerced for ``field`` (keyword arguments of its
    resolver), with a converter compiled once per argument instead of reading the types
    on every call. None when a type is one it leaves to Strawberry (``Maybe``, global
    IDs, inputs with ``from_input``, unions…)."""
    config, scalars = schema.config, schema.schema_converter.scalar_registry
    try:
        converters = [
            (
                config.name_converter.from_argument(a),
                a.python_name,
                _converter(a.type, config, scalars),
            )
            for a in field.arguments
        ]
    except _NotCompiled:
        return None

    def convert(raw_args: dict[str, Any]) -> dict[str, Any]:
        return {
            python: convert(raw_args[name])
            for name, python, convert in converters
            if name in raw_args
        }

    return convert


class _NotCompiled(Exception):
    """An argument type :func:`_converter` leaves to Strawberry."""


def _same(value: Any) -> Any:
    return value


def _converter(type_: Any, config: Any, scalars: Any) -> Callable[[Any], Any]:
    """What ``strawberry.types.arguments.convert_argument`` does with a value of ``type_``
    (``None`` stays ``None``, ``UNSET`` stays ``UNSET``), decided once."""
    if isinstance(type_, StrawberryMaybe) or type_ is GlobalID:
        raise _NotCompiled(str(type_))
    if isinstance(type_, StrawberryOptional):
        return _converter(type_.of_type, config, scalars)
    if isinstance(type_, LazyType):
        return _converter(type_.resolve_type(), config, scalars)
    if isinstance(type_, StrawberryList):
        item = _converter(type_.of_type, config, scalars)
        if item is _same:  # leaves: the list copied (graphql-core shares defaults)

            def copied(value: Any) -> Any:
                return value if value is None or value is UNSET else list(value)

            return copied

        def each(value: Any) -> Any:
            return value if value is None or value is UNSET else [item(v) for v in value]

        return each
    if (
        isinstance(type_, StrawberryEnumDefinition)
        or has_enum_definition(type_)
        or is_scalar(type_, scalars)
    ):
        return _same
    if has_object_definition(type_):
        definition = type_.__strawberry_definition__
        if not definition.is_input or definition.from_input is not None:
            raise _NotCompiled(str(type_))
        defaults = {
            f.python_name: None
            for f in definition.fields
            if f.default_value is MISSING and f.default_factory is MISSING
        }
        fields = [
            (
                config.name_converter.from_field(f),
                f.python_name,
                _converter(f.resolve_type(type_definition=definition), config, scalars),
            )
            for f in definition.fields
        ]

        def build(value: Any) -> Any:
            if value is None or value is UNSET:
                return value
            kwargs = dict(defaults)
            for name, python, convert in fields:
                if name in value:
                    kwargs[python] = convert(value[name])
            return type_(**kwargs)

        return build
    raise _NotCompiled(str(type_))


def _direct(field: Any, info_class: type) -> Callable[..., Any] | SourceOnly:
    resolver = field.base_resolver
    func = resolver.wrapped_func
    positional = resolver.self_parameter is not None
    source_names = [
        p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None
    ]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    if info_name is None and not source_names and positional:
        return SourceOnly(func)

    def call(source: Any, raw_info: Callable[[], Any], **arguments: Any) -> Any:
        kwargs = dict.fromkeys(source_names, source)
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=raw_info(), _field=field)
        kwargs.update(arguments)
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
