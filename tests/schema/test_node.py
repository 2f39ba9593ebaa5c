"""``node(id:)`` and ``nodes(ids:)``: any object by its global ID."""

from __future__ import annotations

import base64

import pytest

from schema.relay import to_global_id

# (list field, GraphQL type, fields to compare)
LISTS = [
    ("resources", "Resource", "slug title"),
    ("themes", "Theme", "slug title"),
    ("concepts", "Concept", "slug title"),
    ("events", "Event", "slug title startsAt"),
    ("organizations", "Organization", "slug name"),
    ("territories", "Territory", "slug name"),
    ("sharedProjects", "SharedProject", "slug title"),
    ("votingRounds", "VotingRound", "slug title"),
]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("field", "type_name", "fields"), LISTS)
async def test_node_returns_the_same_object_as_the_list(gql, field, type_name, fields):
    listed = await gql.data(f"{{ {field}(first: 100) {{ nodes {{ __typename id {fields} }} }} }}")
    nodes = listed[field]["nodes"]
    assert nodes
    for expected in nodes[:5]:
        query = f"""query($id: ID!) {{ node(id: $id) {{ __typename id
            ... on {type_name} {{ {fields} }} }} }}"""
        found = await gql.data(query, {"id": expected["id"]})
        assert found["node"] == expected


async def test_a_membership_is_a_node_too(gql):
    data = await gql.data(
        "{ sharedProjects(first: 1) { nodes { participants { id role territory { slug } } } } }"
    )
    membership = data["sharedProjects"]["nodes"][0]["participants"][0]
    found = await gql.data(
        "query($id: ID!) { node(id: $id) { id ... on Membership { role territory { slug } } } }",
        {"id": membership["id"]},
    )
    assert found["node"] == membership


async def test_nodes_keeps_the_order_and_mixes_types(gql):
    resources = await gql.data("{ resources(first: 3) { nodes { id } } }")
    themes = await gql.data("{ themes(first: 2) { nodes { id } } }")
    ids = [n["id"] for n in resources["resources"]["nodes"]] + [
        n["id"] for n in themes["themes"]["nodes"]
    ]
    ids = [ids[4], ids[0], ids[3], ids[2], ids[1]]
    data = await gql.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }", {"ids": ids}
    )
    assert [n["id"] for n in data["nodes"]] == ids
    assert [n["__typename"] for n in data["nodes"]] == [
        "Theme",
        "Resource",
        "Theme",
        "Resource",
        "Resource",
    ]


async def test_nodes_gives_null_for_unknown_ids(gql):
    resources = await gql.data("{ resources(first: 1) { nodes { id } } }")
    known = resources["resources"]["nodes"][0]["id"]
    unknown = to_global_id("Resource", 999999)
    data = await gql.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [unknown, known]}
    )
    assert data["nodes"] == [None, {"id": known}]


async def test_unknown_well_formed_id_is_not_found(gql):
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": _b64("Resource:999999")})
    assert body["data"] == {"node": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["path"] == ["node"]


@pytest.mark.parametrize(
    "bad_id",
    [
        "xyz",
        _b64("Foo:1"),
        _b64("Resource:abc"),
        _b64("Resource:0"),
        _b64("Resource"),
        "",
    ],
)
async def test_malformed_ids_are_bad_user_input(gql, bad_id):
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": bad_id})
    assert body["data"] == {"node": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "id"
    assert "Identifiant invalide" in error["message"]


async def test_more_than_100_ids_are_refused(gql):
    ids = [to_global_id("Resource", i) for i in range(1, 102)]
    body = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "ids"
    assert "100" in error["message"]


async def test_100_ids_are_accepted(gql):
    ids = [to_global_id("Resource", i) for i in range(1, 101)]
    data = await gql.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert len(data["nodes"]) == 100
