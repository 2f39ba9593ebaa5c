"""Compiled execution (schema/execution.py) answers exactly what graphql-core answers.

Each document runs through the shared app (compiled plans) and through an app built with
``compiled_execution=False`` (graphql-core only); the whole JSON bodies must be equal,
errors and partial data included. The fast path must also really be taken."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from tests.sqlcount import count_queries

PORTAL = """query Portal($from: DateTime!) {
  resources(first: 20) {
    edges { node { id slug title kind publishedAt organizations { name } themes { title } } }
  }
  events(first: 10, filter: {from: $from}) {
    edges { node { id slug title startsAt endsAt city online } }
  }
}"""

DOCUMENTS: list[tuple[str, str, dict[str, Any]]] = [
    ("portal", PORTAL, {"from": "2021-01-01T00:00:00+00:00"}),
    (
        "fragments, aliases and __typename",
        """
        fragment Card on Resource { __typename id title kindLabel themes { ...ThemeName } }
        fragment ThemeName on Theme { slug title }
        query {
          latest: resources(first: 3) {
            edges { cursor node { ...Card } } pageInfo { hasNextPage endCursor }
          }
          oldest: resources(first: 2, order: OLDEST) {
            nodes { ... on Resource { slug publishedAt } }
          }
          __typename
        }""",
        {},
    ),
    (
        "@include and @skip on variables",
        """query($full: Boolean!, $lean: Boolean!) {
          themes(first: 5) { edges { node {
            title
            introduction @include(if: $full)
            resources(first: 2) @skip(if: $lean) { edges { node { slug } } }
          } } }
        }""",
        {"full": True, "lean": False},
    ),
    (
        "@include and @skip, the other way",
        """query($full: Boolean!, $lean: Boolean!) {
          themes(first: 5) { edges { node {
            title
            introduction @include(if: $full)
            resources(first: 2) @skip(if: $lean) { edges { node { slug } } }
          } } }
        }""",
        {"full": False, "lean": True},
    ),
    (
        "reverse connections and nested lists",
        """{ organizations(first: 4) { edges { node {
              name kind kindLabel roles
              resources(first: 2) { edges { node { title territories { name } } } }
              events(first: 2) { edges { node { title formatLabel organizers { slug } } } }
            } } } }""",
        {},
    ),
    (
        "pages from the end, counts, child lists backward",
        """query($last: Int) {
          resources(last: $last, order: TITLE) { totalCount
            edges { cursor node { slug } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
          themes(last: 3) { totalCount nodes {
            slug resources(last: 2) { totalCount pageInfo { hasPreviousPage } nodes { slug } }
            events(first: 1) { totalCount nodes { slug } } } }
        }""",
        {"last": 4},
    ),
    (
        "first and last together: the coded error as graphql-core gives it",
        """{ resources(first: 2, last: 2) { totalCount } themes(first: 1) { totalCount } }""",
        {},
    ),
    (
        "the node interface with inline fragments",
        """query($ids: [ID!]!) { nodes(ids: $ids) {
              __typename id
              ... on Resource { title related(first: 2) { slug } }
              ... on Theme { slug }
            } }""",
        {"ids": []},  # filled in by the test with real IDs
    ),
    (
        "an error deep down: null propagation as graphql-core does it",
        """{ themes(first: 2) { edges { node {
              slug resources(first: 101) { edges { node { slug } } }
            } } } }""",
        {},
    ),
    (
        "an unknown node: null and NOT_FOUND",
        """{ node(id: "UmVzb3VyY2U6OTk5OTk5") { id }
            resources(first: 1) { edges { node { slug } } } }""",
        {},
    ),
    (
        "a malformed ID",
        """{ node(id: "nope") { id } }""",
        {},
    ),
    (
        "lookups, current theme, voting rounds and projects",
        """{ currentTheme { title month } nextTheme { slug }
            resource(slug: "nope") { id }
            votingRounds(first: 2) { edges { node {
              title isOpen ranking { rank votes theme { slug } }
            } } }
            sharedProjects(first: 2) { edges { node {
              title statusLabel theme { slug } stages { __typename }
            } } } }""",
        {},
    ),
]


@pytest.fixture(scope="module")
def graphql_core_app(database):
    return create_app(database.replace(compiled_execution=False, read_compiler=False))


@pytest.fixture(scope="module")
def plans_app(database):
    """Compiled plans without the read compiler (which answers the portal in SQL)."""
    return create_app(database.replace(read_compiler=False))


async def _both(app: Any, reference: Any, query: str, variables: dict, headers=None):
    bodies = []
    for target in (app, reference):
        transport = httpx.ASGITransport(app=target)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
            )
            bodies.append((response.status_code, response.json()))
    return bodies


async def _node_ids(gql) -> list[str]:
    data = await gql.data(
        "{ resources(first: 2) { nodes { id } } themes(first: 1) { nodes { id } } }"
    )
    return [n["id"] for n in data["resources"]["nodes"] + data["themes"]["nodes"]]


@pytest.mark.parametrize(("name", "query", "variables"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
async def test_compiled_answers_like_graphql_core(
    app, graphql_core_app, gql, principals, name, query, variables
):
    if "ids" in variables:
        variables = {"ids": await _node_ids(gql)}
    for who in ("ANONYMOUS", "EDITOR"):
        compiled, reference = await _both(app, graphql_core_app, query, variables, principals[who])
        assert compiled == reference, f"{name} as {who}"
    assert "data" in compiled[1]


async def _post(app: Any, query: str, variables: dict | None = None) -> dict:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        return response.json()


async def _paths(app: Any) -> dict[tuple[str, str], float]:
    """``tec_compiled_plans_queries`` by (path, reason)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        text = (await client.get("/metrics")).text
    return {
        (sample.labels["path"], sample.labels["reason"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "tec_compiled_plans_queries"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def _added(before: dict, after: dict) -> dict[tuple[str, str], float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


async def test_the_portal_takes_the_compiled_path(plans_app, caplog):
    caplog.set_level(logging.DEBUG, logger="tec.execution")
    variables = {"from": "2021-01-01T00:00:00+00:00"}
    await _post(plans_app, PORTAL, variables)
    before = await _paths(plans_app)
    with count_queries() as statements:
        data = (await _post(plans_app, PORTAL, variables))["data"]
    assert data["resources"]["edges"]
    assert not [r for r in caplog.records if r.name == "tec.execution"]
    assert len(statements) == 4
    assert _added(before, await _paths(plans_app)) == {("plan", ""): 1}


async def test_errors_are_handed_to_graphql_core_and_counted(plans_app, caplog):
    caplog.set_level(logging.DEBUG, logger="tec.execution")
    before = await _paths(plans_app)
    body = await _post(plans_app, "{ resources(first: 1000) { edges { node { slug } } } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert [r for r in caplog.records if r.name == "tec.execution"]
    assert _added(before, await _paths(plans_app)) == {("graphql-core", "error"): 1}


async def test_what_the_plans_do_not_cover_is_counted_and_logged_once(plans_app, caplog):
    caplog.set_level(logging.INFO, logger="tec.execution")
    query = 'query Shape { __schema { queryType { name } } __type(name: "Resource") { name } }'
    before = await _paths(plans_app)
    for _ in range(3):
        data = (await _post(plans_app, query))["data"]
        assert data["__schema"]["queryType"]["name"] == "Query"
        assert data["__type"]["name"] == "Resource"
    logged = [r for r in caplog.records if r.name == "tec.execution"]
    assert [r.levelno for r in logged] == [logging.INFO]
    assert "Shape" in logged[0].getMessage() and "introspection" in logged[0].getMessage()
    assert _added(before, await _paths(plans_app)) == {("graphql-core", "unsupported"): 3}


async def test_mutations_keep_graphql_core(plans_app):
    before = await _paths(plans_app)
    mutation = 'mutation { deleteEvent(id: "RXZlbnQ6MA==", version: 1) { __typename } }'
    body = await _post(plans_app, mutation)
    assert body["data"]["deleteEvent"]["__typename"]  # a typed refusal, answered
    assert _added(before, await _paths(plans_app)) == {("graphql-core", "operation"): 1}


async def test_a_failing_resolver_lets_its_siblings_run_to_their_end():
    """A sibling may be in the middle of a statement when another resolver of its level
    fails: closing it there would hand its pooled connection back busy."""
    import asyncio

    import strawberry

    from schema.execution import CompiledExecutionContext

    finished: list[str] = []

    @strawberry.type
    class Query:
        @strawberry.field
        async def slow(self) -> int:
            await asyncio.sleep(0.02)  # stands for a statement on a pooled connection
            finished.append("slow")
            return 1

        @strawberry.field
        async def failing(self) -> int:
            await asyncio.sleep(0)
            raise ValueError("boom")

    schema = strawberry.Schema(query=Query, execution_context_class=CompiledExecutionContext)
    result = await schema.execute("{ slow failing }")
    assert result.errors and result.errors[0].message == "boom"
    # The compiled run let it finish before handing the operation to graphql-core.
    assert finished == ["slow"]
    await asyncio.sleep(0.05)  # whatever graphql-core left running ends here
