"""Query limits: refused before anything runs, each with its own code."""

from __future__ import annotations

import pytest


async def _code(gql, query: str) -> str:
    body = await gql(query)
    assert body.get("data") is None, body
    return body["errors"][0]["extensions"]["code"]


async def test_a_portal_query_fits_the_budget(gql):
    await gql.data(
        """{ resources(first: 100) { edges { node { title themes { title }
             territories { name } organizations { name } } } }
             events(first: 10) { nodes { title organizers { name } } } }"""
    )


async def test_too_costly_query_is_refused_before_running(gql):
    query = """{ themes(first: 100) { nodes { resources(first: 100) { nodes {
        title organizations { name } themes { title } } } } } }"""
    from tests.sqlcount import count_queries

    with count_queries() as statements:
        assert await _code(gql, query) == "QUERY_TOO_COSTLY"
    assert statements == []


async def test_too_deep_query_is_refused(gql):
    inner = "title"
    for _ in range(5):
        inner = f"resources(first: 1) {{ nodes {{ themes {{ {inner} }} }} }}"
    assert await _code(gql, "{ themes(first: 1) { nodes { " + inner + " } } }") == (
        "QUERY_TOO_DEEP"
    )


async def test_too_many_aliases(gql):
    aliases = " ".join(f"a{i}: currentTheme {{ title }}" for i in range(31))
    assert await _code(gql, "{ " + aliases + " }") == "TOO_MANY_ALIASES"


async def test_too_many_tokens(gql):
    fields = " ".join("__typename" for _ in range(3100))
    body = await gql("{ " + fields + " }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "tokens" in body["errors"][0]["message"]


@pytest.mark.parametrize("size", [10, 11])
async def test_batch_size_is_limited(client, size):
    batch = [{"query": "{ currentTheme { title } }"}] * size
    response = await client.post("/graphql", json=batch)
    if size <= 10:
        assert response.status_code == 200 and len(response.json()) == size
    else:
        assert response.status_code == 400
