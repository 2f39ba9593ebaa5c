"""What the gateway assumes of Strawberry beyond its public API
(``schema/strawberry_compat.py``), one test per assumption: an upgrade that breaks one
fails here, by name."""

from __future__ import annotations

import contextlib
import enum
import json
from typing import Any

import httpx
import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema, parse
from graphql.execution import Executor
from graphql.pyutils import Path
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.tools import merge_types

from schema.compat_graphql import resolve_info_builder
from schema.strawberry_compat import (
    ExecutionContext,
    GuardedTransportWSHandler,
    SourceOnly,
    compiled_arguments,
    definition_of,
    describe_enum_values,
    describe_type,
    direct_call,
    direct_call_with_arguments,
    graphql_core_schema,
    has_exception_handlers,
    input_field_names,
    plain_attribute,
    strawberry_schema_of,
    type_name,
    validate_document,
)


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def upper(self) -> str:
        return self.name.upper()

    @strawberry.field
    def with_info(self, info: strawberry.Info) -> str:
        return f"{self.name} as {info.field_name}"

    @strawberry.field
    def from_root(root: Item) -> str:
        return f"root {root.name}"

    @strawberry.field
    def from_parent(self, parent: strawberry.Parent[Item], info: strawberry.Info) -> str:
        return f"parent {parent.name} {info.path.key}"

    @strawberry.field
    def repeated(self, times: int) -> str:
        return self.name * times


@strawberry.type
class Query:
    @strawberry.field
    def item(self) -> Item:
        return Item(name="a")

    @strawberry.field
    async def hello(self) -> str:
        return "bonjour"


SCHEMA = strawberry.Schema(query=Query)


def _field_def(type_name: str, field: str) -> Any:
    return graphql_core_schema(SCHEMA).type_map[type_name].fields[field]  # type: ignore[union-attr]


# --- The graphql-core schema --------------------------------------------------------------


def test_the_graphql_core_schema_and_its_link_back():
    built = graphql_core_schema(SCHEMA)
    assert isinstance(built, GraphQLSchema)
    assert strawberry_schema_of(built) is SCHEMA


def test_graphql_core_types_and_fields_link_to_their_strawberry_definitions():
    built = graphql_core_schema(SCHEMA)
    item = built.type_map["Item"]
    assert isinstance(item, GraphQLObjectType) and definition_of(item).origin is Item
    field = definition_of(item.fields["withInfo"])
    assert field.python_name == "with_info"
    assert definition_of(built.type_map["__Type"]) is None  # introspection: not Strawberry's


def test_a_document_is_validated_as_strawberry_validates_it():
    from graphql import specified_rules

    built = graphql_core_schema(SCHEMA)
    assert validate_document(built, parse("{ item { name } }"), tuple(specified_rules)) == []
    (error,) = validate_document(built, parse("{ item { nope } }"), tuple(specified_rules))
    assert "nope" in error.message


async def test_validation_is_kept_per_parsed_document():
    from strawberry.extensions import ParserCache

    from schema.validation_cache import DocumentValidationCache

    # The parser cache hands back the same document for the same text.
    cache, parser = DocumentValidationCache(maxsize=2), ParserCache(maxsize=8)
    schema = strawberry.Schema(query=Query, extensions=[lambda: parser, lambda: cache])
    for _ in range(3):
        assert (await schema.execute("{ item { name } }")).data == {"item": {"name": "a"}}
    assert len(cache.entries) == 1
    bad = await schema.execute("{ item { nope } }")
    assert bad.errors and "nope" in bad.errors[0].message
    await schema.execute("{ hello }")
    assert len(cache.entries) == 2  # bounded: the oldest left
    assert all(
        document.loc.source.body != "{ item { name } }" for _, document, _ in cache.entries.values()
    )


def test_exception_handlers_are_seen():
    class Oops(Exception):
        pass

    @strawberry.type
    class Refused:
        reason: str

    class Handler(strawberry.ExceptionHandler[Oops, Refused]):
        def handle(self, exception: Oops, *, field: Any, info: Any) -> Refused:
            return Refused(reason="non")

    handled = strawberry.Schema(query=Query, exception_handlers=[Handler()])
    assert has_exception_handlers(handled)
    assert not has_exception_handlers(SCHEMA)


# --- Calling resolvers as Strawberry does --------------------------------------------------


def test_a_plain_field_is_an_attribute_of_the_source():
    assert plain_attribute(definition_of(_field_def("Item", "name"))) == "name"
    assert plain_attribute(definition_of(_field_def("Item", "upper"))) is None


def test_a_schema_with_another_default_resolver_has_no_plain_attributes():
    def lookup(source: Any, name: str) -> Any:  # pragma: no cover - never called here
        return source[name]

    other = strawberry.Schema(query=Query, config=StrawberryConfig(default_resolver=lookup))
    field = definition_of(graphql_core_schema(other).type_map["Item"].fields["name"])  # type: ignore[union-attr]
    assert plain_attribute(field) is None


def _raw_info(field: str) -> Any:
    """graphql-core's info for ``item { <field> }``, as Strawberry's executor builds it."""
    executor = ExecutionContext.build(
        graphql_core_schema(SCHEMA), parse(f"{{ item {{ {field} }} }}")
    )
    assert isinstance(executor, Executor), executor
    node = executor.operation.selection_set.selections[0].selection_set.selections[0]  # type: ignore[union-attr]
    item_type = graphql_core_schema(SCHEMA).type_map["Item"]
    path = Path(Path(None, "item", "Query"), field, "Item")
    return resolve_info_builder(executor)(_field_def("Item", field), [node], item_type, path)


@pytest.mark.parametrize("name", ["upper", "withInfo", "fromRoot", "fromParent"])
def test_a_direct_call_answers_what_strawberrys_resolver_answers(name):
    field_def = _field_def("Item", name)
    source = Item(name="x")
    raw_info = _raw_info(name)
    call = direct_call(definition_of(field_def), SCHEMA.config.info_class)
    assert call is not None
    direct = call.func(source) if isinstance(call, SourceOnly) else call(source, lambda: raw_info)
    assert direct == field_def.resolve(source, raw_info)


def test_only_a_self_only_resolver_is_called_with_the_source_alone():
    info_class = SCHEMA.config.info_class
    upper = direct_call(definition_of(_field_def("Item", "upper")), info_class)
    assert isinstance(upper, SourceOnly)
    for name in ("withInfo", "fromRoot", "fromParent"):
        call = direct_call(definition_of(_field_def("Item", name)), info_class)
        assert callable(call) and not isinstance(call, SourceOnly), name


def test_a_resolver_with_arguments_is_left_to_strawberry():
    field = definition_of(_field_def("Item", "repeated"))
    assert direct_call(field, SCHEMA.config.info_class) is None


def test_a_resolver_with_arguments_is_called_with_them_converted():
    field_def = _field_def("Item", "repeated")
    call = direct_call_with_arguments(definition_of(field_def), SCHEMA.config.info_class, SCHEMA)
    assert call is not None
    raw_info = _raw_info("repeated")
    direct = call(Item(name="ab"), lambda: raw_info, {"times": 3})
    assert direct == field_def.resolve(Item(name="ab"), raw_info, times=3) == "ababab"


def _sample(type_: Any, depth: int = 0) -> Any:
    """A value graphql-core could have coerced for an input of ``type_`` (lists of two,
    input objects with every field), or ``_NO_SAMPLE``."""
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLList,
        GraphQLNonNull,
        GraphQLScalarType,
    )

    if isinstance(type_, GraphQLNonNull):
        return _sample(type_.of_type, depth)
    if isinstance(type_, GraphQLList):
        item = _sample(type_.of_type, depth)
        return _NO_SAMPLE if item is _NO_SAMPLE else [item, _sample(type_.of_type, depth)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values.values())).value
    if isinstance(type_, GraphQLScalarType):
        return {"String": "texte", "ID": "UmVzb3VyY2U6MQ==", "Int": 3, "Boolean": True}.get(
            type_.name, 1.5 if type_.name == "Float" else _NO_SAMPLE
        )
    if isinstance(type_, GraphQLInputObjectType) and depth < 3:
        found = {}
        for name, field in type_.fields.items():
            value = _sample(field.type, depth + 1)
            if value is _NO_SAMPLE:
                if isinstance(field.type, GraphQLNonNull):
                    return _NO_SAMPLE
                value = None
            found[name] = value
        return found
    return _NO_SAMPLE


_NO_SAMPLE = object()


def _gateway_schema() -> Any:
    from schema import build_schema

    return build_schema()


def test_compiled_arguments_are_what_strawberry_converts():
    # Every field of the gateway's schema with arguments: each argument present (a sample
    # value, or null), then each absent.
    from strawberry.types.arguments import convert_arguments

    schema = _gateway_schema()
    compared = 0
    for type_ in graphql_core_schema(schema).type_map.values():
        for field_def in getattr(type_, "fields", {}).values():
            field = definition_of(field_def)
            if field is None or not getattr(field_def, "args", None):
                continue
            convert = compiled_arguments(field, schema)
            if convert is None:
                continue
            raw = {name: _sample(arg.type) for name, arg in field_def.args.items()}
            raw = {k: (None if v is _NO_SAMPLE else v) for k, v in raw.items()}
            for values in (raw, *({k: v for k, v in raw.items() if k != n} for n in raw)):
                expected = convert_arguments(
                    values, field.arguments, schema.schema_converter.scalar_registry, schema.config
                )
                found = convert(values)
                assert found == expected, (type_.name, field_def)
                assert [type(v) for v in found.values()] == [type(v) for v in expected.values()]
                compared += 1
    assert compared > 100


def test_the_search_filter_is_built_as_strawberry_builds_it():
    from strawberry.types.arguments import convert_arguments

    schema = _gateway_schema()
    field = schema.get_field_for_type("search", "Query")
    raw = {
        "query": "budget",
        "filter": {"kinds": ["GUIDE"], "years": [2021, 2022], "themes": None},
        "facets": ["THEME"],
    }
    raw["filter"]["kinds"] = [
        next(iter(graphql_core_schema(schema).type_map["ResourceKind"].values.values())).value
    ]
    found = compiled_arguments(field, schema)(raw)
    expected = convert_arguments(
        raw, field.arguments, schema.schema_converter.scalar_registry, schema.config
    )
    assert found == expected
    assert found["filter"].years is not raw["filter"]["years"]  # lists are copied


def test_arguments_of_a_type_it_does_not_compile_are_left_to_strawberry():
    @strawberry.type
    class WithId:
        @strawberry.field
        def item(self, id: strawberry.relay.GlobalID) -> str:
            return str(id)

    schema = strawberry.Schema(query=WithId)
    field = schema.get_field_for_type("item", "WithId")
    assert compiled_arguments(field, schema) is None
    assert direct_call_with_arguments(field, schema.config.info_class, schema) is None


# --- Execution ------------------------------------------------------------------------------


async def test_strawberry_executes_through_the_execution_context_class_it_is_given():
    assert issubclass(ExecutionContext, Executor)
    seen = []

    class Recording(ExecutionContext):
        def execute_operation(self, serially: bool | None = None) -> Any:
            seen.append(self.operation.operation.value)
            return super().execute_operation(serially)

    schema = strawberry.Schema(query=Query, execution_context_class=Recording)
    result = await schema.execute("{ hello item { upper } }")
    assert result.errors is None and result.data == {"hello": "bonjour", "item": {"upper": "A"}}
    assert seen == ["query"]


# --- Descriptions --------------------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


ColourEnum = strawberry.enum(Colour, description="A colour.")


@strawberry.type
class Palette:
    @strawberry.field
    def colour(self) -> ColourEnum:  # type: ignore[valid-type]
        return Colour.RED


def test_descriptions_set_on_definitions_reach_the_schema():
    describe_enum_values(ColourEnum, lambda name: f"The colour {name.lower()}.")
    root = merge_types("Root", (Palette,))
    describe_type(root, "The entry point.")
    sdl = str(strawberry.Schema(query=root))
    assert '"""The entry point."""\ntype Root {' in sdl
    assert '"""The colour red."""\n  RED' in sdl and '"""The colour blue."""\n  BLUE' in sdl


# --- The graphql-transport-ws handler -------------------------------------------------------

EVENTS: list[tuple[str, Any]] = []


class Guarded(GuardedTransportWSHandler[Any, None]):
    async def admit_connection(self, payload: dict[str, Any]) -> bool:
        EVENTS.append(("connection", payload))
        if payload.get("refuse"):
            self.stop_init_timeout()
            task = self.connection_init_timeout_task
            EVENTS.append(("timeout stopped", task is not None and task.cancelling() > 0))
            await self.close(4403, "REFUSED")
            return False
        return True

    async def admit_subscribe(self, message: Any) -> bool:
        EVENTS.append(("subscribe", message["id"]))
        if message["id"] == "refused":
            await self.send_error(message["id"], [{"message": "non"}])
            return False
        if message["id"] == "invalid":
            await self.refuse_message("Invalid subscribe message")
            return False
        return True


class View(GraphQL[Any, None]):
    graphql_transport_ws_handler_class = Guarded


@contextlib.asynccontextmanager
async def _socket() -> Any:
    EVENTS.clear()
    view = View(
        strawberry.Schema(query=Query),
        graphql_ide=None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )
    async with (
        ASGIWebSocketTransport(app=view) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        aconnect_ws("/graphql", client, subprotocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL]) as ws,
    ):
        yield ws


async def _send(ws: Any, message: dict[str, Any]) -> None:
    await ws.send_text(json.dumps(message))


async def _closed_with(ws: Any) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        await ws.receive_text()
    return closed.value.code


async def test_an_admitted_connection_is_acknowledged_and_runs_admitted_operations():
    async with _socket() as ws:
        await _send(ws, {"type": "connection_init", "payload": {"authorization": "x"}})
        assert json.loads(await ws.receive_text()) == {"type": "connection_ack"}
        await _send(ws, {"id": "refused", "type": "subscribe", "payload": {"query": "{ hello }"}})
        assert json.loads(await ws.receive_text()) == {
            "id": "refused",
            "type": "error",
            "payload": [{"message": "non"}],
        }
        await _send(ws, {"id": "1", "type": "subscribe", "payload": {"query": "{ hello }"}})
        assert json.loads(await ws.receive_text()) == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"hello": "bonjour"}},
        }
        assert json.loads(await ws.receive_text()) == {"id": "1", "type": "complete"}
        await _send(ws, {"type": "connection_init", "payload": {}})
        assert await _closed_with(ws) == 4429  # a second connection_init: Strawberry's
    assert EVENTS == [
        ("connection", {"authorization": "x"}),
        ("subscribe", "refused"),
        ("subscribe", "1"),
    ]


async def test_a_refused_connection_is_closed_by_the_hook_and_stops_waiting():
    async with _socket() as ws:
        await _send(ws, {"type": "connection_init", "payload": {"refuse": True}})
        assert await _closed_with(ws) == 4403
    assert EVENTS == [("connection", {"refuse": True}), ("timeout stopped", True)]


async def test_a_payload_that_is_no_object_is_refused_by_strawberry():
    async with _socket() as ws:
        await _send(ws, {"type": "connection_init", "payload": "x"})
        assert await _closed_with(ws) == 4400
    assert EVENTS == []


async def test_a_subscribe_before_the_acknowledgement_is_refused_by_strawberry():
    async with _socket() as ws:
        await _send(ws, {"id": "1", "type": "subscribe", "payload": {"query": "{ hello }"}})
        assert await _closed_with(ws) == 4401
    assert EVENTS == []


async def test_a_subscribe_the_hook_finds_invalid_closes_the_socket():
    async with _socket() as ws:
        await _send(ws, {"type": "connection_init"})
        assert json.loads(await ws.receive_text()) == {"type": "connection_ack"}
        await _send(ws, {"id": "invalid", "type": "subscribe", "payload": {"query": "{ x }"}})
        assert await _closed_with(ws) == 4400


def test_type_names_and_input_field_names_are_the_schema_names():
    @strawberry.input(name="RenamedInput")
    class SomeInput:
        starts_on: int = 0
        named: int = strawberry.field(default=0, name="otherName")

    @strawberry.enum
    class Colour(enum.Enum):
        RED = "RED"

    assert type_name(SomeInput) == "RenamedInput"
    assert input_field_names(SomeInput()) == ["startsOn", "otherName"]
    assert input_field_names(Colour.RED) == []
    assert input_field_names("text") == [] and input_field_names([SomeInput()]) == []


def test_an_input_is_built_from_the_values_graphql_core_coerced_by_graphql_name():
    from graphql import get_argument_values

    from schema import build_schema
    from schema.events.types import EventFilter
    from schema.strawberry_compat import graphql_core_schema, input_from_arguments

    core = graphql_core_schema(build_schema())
    field = core.query_type.fields["events"]
    node = parse(
        '{ events(filter: {from: "2021-01-01T00:00:00+00:00", online: true}) { totalCount } }'
    )
    coerced = get_argument_values(field, node.definitions[0].selection_set.selections[0], None)
    built = input_from_arguments(EventFilter, coerced["filter"])
    assert isinstance(built, EventFilter)
    assert built.from_.year == 2021 and built.online is True and built.cities is None
