"""What compiled execution assumes of graphql-core beyond its public API
(``schema/compat_graphql.py``), one test per assumption: an upgrade that breaks one
fails here, by name."""

from __future__ import annotations

import gc
import inspect
import weakref

from graphql import (
    ExecutionResult,
    GraphQLArgument,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    execute,
    parse,
)
from graphql.execution import Executor, VariableValues
from graphql.pyutils import Path

from schema.compat_graphql import (
    complete_response,
    resolve_info_builder,
    schema_memo,
)

ITEM = GraphQLObjectType(
    "Item",
    {"name": GraphQLField(GraphQLString), "rank": GraphQLField(GraphQLInt)},
)
QUERY = GraphQLObjectType(
    "Query",
    {
        "items": GraphQLField(
            GraphQLList(ITEM),
            args={"first": GraphQLArgument(GraphQLInt)},
            resolve=lambda *_, **__: [{"name": "a", "rank": 1}],
        ),
        "hello": GraphQLField(GraphQLString, resolve=lambda *_: "bonjour"),
    },
)
SCHEMA = GraphQLSchema(QUERY)

DOCUMENT = """
query($skip: Boolean!) {
  hello
  salut: hello
  hello @skip(if: $skip)
  items(first: 2) { ...Names rank }
  hidden: hello @include(if: false)
}
fragment Names on Item { name label: name }
"""


def _executor(document: str = DOCUMENT) -> Executor:
    built = Executor.build(SCHEMA, parse(document), raw_variable_values={"skip": True})
    assert isinstance(built, Executor), built
    return built


def test_the_executor_carries_what_compiled_execution_reads():
    executor = _executor()
    assert executor.schema is SCHEMA
    assert isinstance(executor.operation, OperationDefinitionNode)
    assert set(executor.fragment_definitions) == {"Names"}
    assert isinstance(executor.variable_values, VariableValues)
    assert executor.variable_values.coerced == {"skip": True}
    assert executor.hide_suggestions is False
    assert executor.abort_signal is None
    assert executor.middleware_manager is None
    assert executor.root_value is None


def test_resolve_info_is_built_for_a_field_its_nodes_parent_and_path():
    executor = _executor()
    build = resolve_info_builder(executor)
    assert list(inspect.signature(build).parameters) == [
        "field_def",
        "field_nodes",
        "parent_type",
        "path",
    ]
    node = executor.operation.selection_set.selections[0]
    path = Path(None, "hello", "Query")
    info = build(QUERY.fields["hello"], [node], QUERY, path)
    assert info.field_name == "hello" and info.field_nodes == [node]
    assert info.parent_type is QUERY and info.path is path
    assert info.schema is SCHEMA and info.operation is executor.operation


def test_a_response_is_completed_with_the_errors_the_executor_collected():
    result = complete_response(_executor(), {"hello": "bonjour"})
    assert result == ExecutionResult({"hello": "bonjour"}, None)


def test_execution_goes_through_the_executor_class_execute_operation():
    """The hook compiled execution overrides (``CompiledExecutionContext``)."""
    seen = []

    class Recording(Executor):
        def execute_operation(self, serially=None):
            seen.append(serially)
            return super().execute_operation(serially)

    result = execute(SCHEMA, parse("{ hello }"), executor_class=Recording)
    assert result == ExecutionResult({"hello": "bonjour"}, None)
    assert seen == [None]


def test_a_memo_lives_as_long_as_its_schema():
    made = []

    def make() -> list[str]:
        made.append("once")
        return made

    schema = GraphQLSchema(QUERY)
    assert schema_memo(schema, "thing", make) is schema_memo(schema, "thing", make)
    assert made == ["once"]
    other = GraphQLSchema(QUERY)
    assert schema_memo(other, "thing", list) == []  # one memo per schema, by identity
    gone = weakref.ref(other)
    del other
    gc.collect()
    assert gone() is None  # the memo does not keep its schema alive
