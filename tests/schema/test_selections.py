"""The fields a document selects on a type, collected as the specification's CollectFields
says (schema/selections.py), the way both planners read documents."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    OperationDefinitionNode,
    parse,
)

from schema.selections import Selections, Unsupported

NAMED = GraphQLInterfaceType("Named", {"name": GraphQLField(GraphQLString)})
ITEM = GraphQLObjectType(
    "Item",
    {"name": GraphQLField(GraphQLString), "rank": GraphQLField(GraphQLInt)},
    interfaces=[NAMED],
)
TAG = GraphQLObjectType("Tag", {"name": GraphQLField(GraphQLString)}, interfaces=[NAMED])
THING = GraphQLUnionType("Thing", [ITEM, TAG])
QUERY = GraphQLObjectType(
    "Query",
    {
        "items": GraphQLField(GraphQLList(ITEM), args={"first": GraphQLArgument(GraphQLInt)}),
        "things": GraphQLField(GraphQLList(THING)),
        "hello": GraphQLField(GraphQLString),
    },
)
SCHEMA = GraphQLSchema(QUERY, types=[TAG])


def _selections(document: str, **switches) -> tuple[Selections, OperationDefinitionNode]:
    definitions = parse(document).definitions
    operation = next(d for d in definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in definitions if d is not operation}
    return Selections(SCHEMA, fragments, switches), operation


def _keys(fields) -> dict[str, list[str]]:
    return {key: [node.name.value for node in nodes] for key, nodes in fields.items()}


def test_root_fields_by_response_key_in_document_order_with_skip_and_include():
    selections, operation = _selections(
        """query($skip: Boolean!, $show: Boolean!) {
          hello
          salut: hello
          hello @skip(if: $skip)
          items(first: 2) { rank }
          hidden: hello @include(if: false)
          shown: hello @include(if: $show) @skip(if: false)
        }""",
        skip=True,
        show=True,
    )
    fields = selections.fields(QUERY, [operation.selection_set])
    assert _keys(fields) == {
        "hello": ["hello"],
        "salut": ["hello"],
        "items": ["items"],
        "shown": ["hello"],
    }


def test_fields_merge_across_fragments_inline_fragments_and_the_nodes_of_a_field():
    selections, operation = _selections(
        """{
          items { ...Names rank }
          items { name ... on Item { rank } ... on Named { label: name } }
        }
        fragment Names on Item { name label: name }"""
    )
    (items,) = selections.fields(QUERY, [operation.selection_set]).values()
    assert len(items) == 2  # both nodes of `items`
    sub = selections.fields(ITEM, [node.selection_set for node in items])
    assert list(sub) == ["name", "label", "rank"]
    assert [len(nodes) for nodes in sub.values()] == [2, 2, 2]


def test_a_fragment_applies_to_the_types_of_its_interface_or_union_only():
    selections, operation = _selections(
        """{ things {
          __typename
          ... on Item { rank }
          ... on Tag { name }
          ... on Named { label: name }
          ... on Thing { kind: __typename }
        } }"""
    )
    (things,) = selections.fields(QUERY, [operation.selection_set]).values()
    sets = [node.selection_set for node in things]
    assert list(selections.fields(ITEM, sets)) == ["__typename", "rank", "label", "kind"]
    assert list(selections.fields(TAG, sets)) == ["__typename", "name", "label", "kind"]


def test_a_fragment_spread_twice_is_collected_once():
    selections, operation = _selections(
        "{ items { ...Rank ...Rank name } } fragment Rank on Item { rank }"
    )
    (items,) = selections.fields(QUERY, [operation.selection_set]).values()
    sub = selections.fields(ITEM, [node.selection_set for node in items])
    assert _keys(sub) == {"rank": ["rank"], "name": ["name"]}


@pytest.mark.parametrize(
    "document",
    ["{ items { ... @defer { name } rank } }", "{ items @stream(initialCount: 1) { rank } }"],
)
def test_other_directives_are_left_to_graphql_core(document):
    selections, operation = _selections(document)
    with pytest.raises(Unsupported, match="the directive @"):
        (items,) = selections.fields(QUERY, [operation.selection_set]).values()
        selections.fields(ITEM, [node.selection_set for node in items])
