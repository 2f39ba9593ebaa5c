"""Bad input gets a GraphQL error a person can act on: a code, a message, never a 500
nor a stack trace; unpublished content does not exist for anonymous visitors."""

from __future__ import annotations

import pytest

import services.concepts.service
from schema.relay import to_global_id
from services.content import ContentStatus
from services.resources.models import Resource, ResourceKind
from tests.unique import unique_tag

RESOURCES = """
query($first: Int, $after: String, $order: ResourceOrder, $filter: ResourceFilter) {
  resources(first: $first, after: $after, order: $order, filter: $filter) { nodes { slug } }
}
"""


async def _post(client, query, variables=None):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    body = response.json()
    assert body.get("errors"), body
    for error in body["errors"]:
        assert error["message"]
        assert error["extensions"]["code"], error
    return body


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"first": 5, "after": "garbage"}, "after"),
        ({"first": 5, "after": "a2I6WzFd"}, "after"),  # « k1:[1] », not this order's keys
    ],
)
async def test_page_arguments_are_checked(client, variables, field):
    body = await _post(client, RESOURCES, variables)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert body["data"] is None


async def test_page_size_of_zero_and_a_hundred_are_accepted(gql):
    assert (await gql.data(RESOURCES, {"first": 0}))["resources"]["nodes"] == []
    assert len((await gql.data(RESOURCES, {"first": 100}))["resources"]["nodes"]) >= 30


@pytest.mark.parametrize(
    ("made_with", "used_with"),
    [
        ("TITLE", "NEWEST"),
        ("NEWEST", "TITLE"),
        ("NEWEST", "OLDEST"),
        ("OLDEST", "RECENTLY_UPDATED"),
    ],
)
async def test_a_cursor_of_another_order_is_refused(gql, made_with, used_with):
    query = """query($order: ResourceOrder, $after: String) {
        resources(first: 2, order: $order, after: $after) { pageInfo { endCursor } } }"""
    first_page = await gql.data(query, {"order": made_with})
    cursor = first_page["resources"]["pageInfo"]["endCursor"]
    body = await gql(query, {"order": used_with, "after": cursor})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    assert "Curseur invalide" in error["message"]


async def test_unknown_enum_literal_is_a_validation_error(client):
    body = await _post(client, "{ resources(order: SIDEWAYS) { nodes { slug } } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "SIDEWAYS" in body["errors"][0]["message"]


async def test_unknown_enum_in_variables_is_bad_user_input(client):
    body = await _post(client, RESOURCES, {"order": "SIDEWAYS"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "SIDEWAYS" in body["errors"][0]["message"]
    body = await _post(client, RESOURCES, {"filter": {"kinds": ["PAMPHLET"]}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_invalid_datetime_in_variables_is_bad_user_input(client):
    query = "query($f: EventFilter) { events(filter: $f) { nodes { slug } } }"
    for value in ("hier soir", "2022-13-45T00:00:00+02:00", 12):
        body = await _post(client, query, {"f": {"from": value}})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", value


async def test_invalid_datetime_literal_is_an_error_with_a_code(client):
    body = await _post(client, '{ events(filter: {from: "demain"}) { nodes { slug } } }')
    assert body["errors"][0]["extensions"]["code"] in (
        "BAD_USER_INPUT",
        "GRAPHQL_VALIDATION_FAILED",
    )


async def test_wrong_variable_type_is_bad_user_input(client):
    body = await _post(client, RESOURCES, {"first": "ten"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_syntax_error_is_parse_failed(client):
    body = await _post(client, "{ resources(first: 5 { nodes { slug } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_unknown_field_is_validation_failed(client):
    body = await _post(client, "{ resources { nodes { slug colour } } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "colour" in body["errors"][0]["message"]


async def test_missing_required_argument_is_validation_failed(client):
    body = await _post(client, "{ resource { slug } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def _broken(*args, **kwargs):
    raise RuntimeError("secret detail")


async def test_a_bug_gives_a_generic_internal_error(client, monkeypatch):
    # The query set both paths read (the read compiler's and the resolver's).
    monkeypatch.setattr(services.concepts.service, "concepts_queryset", _broken)
    response = await client.post("/graphql", json={"query": "{ concepts { nodes { slug } } }"})
    assert response.status_code < 500
    assert "secret detail" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "interne" in error["message"]


async def test_a_bug_in_one_field_leaves_the_others(client, monkeypatch, caplog):
    # What the concepts' query sets read, in the services: both paths fail alike.
    monkeypatch.setattr(services.concepts.service, "visible", _broken)
    query = '{ concept(slug: "le-recit") { slug } theme(slug: "le-passage-a-l-action") { slug } }'
    response = await client.post("/graphql", json={"query": query})
    assert "secret detail" not in response.text
    body = response.json()
    assert body["data"] == {"concept": None, "theme": {"slug": "le-passage-a-l-action"}}
    [error] = body["errors"]
    assert error["path"] == ["concept"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    # The operators, not the client, get the detail.
    assert "secret detail" in caplog.text


async def test_a_draft_resource_is_invisible_anonymously(gql):
    slug = f"brouillon-{unique_tag(12)}"
    draft = await Resource.create(
        slug=slug,
        title="Aaaa ressource en préparation",
        kind=ResourceKind.GUIDE,
        status=ContentStatus.DRAFT,
    )
    try:
        for order in ("NEWEST", "TITLE", "RECENTLY_UPDATED", "OLDEST"):
            data = await gql.data(RESOURCES, {"first": 100, "order": order})
            assert slug not in [n["slug"] for n in data["resources"]["nodes"]], order
        data = await gql.data(RESOURCES, {"first": 100, "filter": {"statuses": ["DRAFT"]}})
        assert slug not in [n["slug"] for n in data["resources"]["nodes"]]
        data = await gql.data("query($s: String!) { resource(slug: $s) { id } }", {"s": slug})
        assert data["resource"] is None
        body = await gql(
            "query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Resource", draft.id)}
        )
        assert body == {"data": {"node": None}}  # as if it did not exist: no error
    finally:
        await draft.delete()
