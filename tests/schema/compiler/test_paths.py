"""Which path answers: one statement for what the compiler covers, the ordinary executor
for the rest, each counted in the metrics and a document it does not cover logged once."""

from __future__ import annotations

import gc
import json
import logging
import sqlite3

import httpx
import pytest

from bench import queries as bench
from gateway.app import create_app
from schema.compiler import run
from schema.compiler.plan import OperationPlan
from schema.compiler.run import ReadCompiler
from tests.sqlcount import count_queries

pytestmark = pytest.mark.heavy

PORTAL = """query Portal($from: DateTime!) {
  resources(first: 20) {
    totalCount
    edges { cursor node { id slug title kind kindLabel publishedAt
      organizations { name } themes { title } territories { name levelLabel } } }
    pageInfo { hasNextPage endCursor }
  }
  events(first: 10, filter: {from: $from}) {
    edges { node { id slug title startsAt endsAt city online organizers { slug } } }
  }
  theme(slug: "democratie-culturelle") { title }
}"""
VARIABLES = {"from": "2021-01-01T00:00:00+00:00"}
# The home page of the typed client example (examples/portal-ts/src/portal.ts).
PORTAL_HOME = """query PortalHome($resources: Int!, $events: Int!, $from: DateTime!) {
  currentTheme { title month }
  nextTheme { title }
  resources(first: $resources, order: NEWEST) {
    edges { node { title kindLabel publishedAt themes { title } } }
  }
  events(first: $events, order: STARTS_AT, filter: { from: $from }) {
    edges { node { title startsAt city online formatLabel } }
  }
}"""
UNCOVERED = (
    "query Credited { resources(first: 2) { nodes { slug contributorTerritory { slug } } } }"
)
PRIVATE = "{ resources(first: 20) { nodes { slug rejectionReason } } }"


@pytest.fixture(scope="module")
def compiling_app(database):
    return create_app(database.replace(read_compiler=True))


@pytest.fixture(scope="module")
def ordinary_app(database):
    return create_app(database.replace(read_compiler=False))


async def _post(app, query: str, variables=None, headers=None) -> dict:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return response.json()


async def _metrics(app) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return (await client.get("/metrics")).text


def _count(text: str, path: str, reason: str) -> float:
    prefix = f'tec_read_compiler_queries_total{{path="{path}",reason="{reason}"}} '
    found = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(found[0].removeprefix(prefix)) if found else 0.0


async def test_a_covered_operation_is_one_statement(compiling_app):
    await _post(compiling_app, PORTAL, VARIABLES)
    before = _count(await _metrics(compiling_app), "compiled", "")
    with count_queries() as statements:
        body = await _post(compiling_app, PORTAL, VARIABLES)
    assert "errors" not in body
    assert len(body["data"]["resources"]["edges"]) == 20
    # The content version the response cache reads, then the operation's one statement.
    assert len([s for s in statements if "json" in s.lower()]) == 1
    assert _count(await _metrics(compiling_app), "compiled", "") == before + 1


async def test_the_example_portals_home_is_one_statement(compiling_app, ordinary_app):
    variables = {"resources": 5, "events": 3, "from": "2021-01-01T00:00:00+00:00"}
    await _post(compiling_app, PORTAL_HOME, variables)
    before = _count(await _metrics(compiling_app), "compiled", "")
    with count_queries() as statements:
        body = await _post(compiling_app, PORTAL_HOME, variables)
    assert body == await _post(ordinary_app, PORTAL_HOME, variables)
    assert body["data"]["currentTheme"]["title"] and body["data"]["resources"]["edges"]
    # The next theme is told in Python (its month of announcement is a Paris month):
    # one statement for the candidates, then the operation's.
    assert len([s for s in statements if "json" in s.lower()]) == 1
    assert _count(await _metrics(compiling_app), "compiled", "") == before + 1


async def test_a_failure_of_the_compiler_itself_is_answered_by_the_ordinary_executor(
    compiling_app, ordinary_app, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING, logger="tec.read_compiler")
    await _post(compiling_app, PORTAL, VARIABLES)
    before = _count(await _metrics(compiling_app), "fallback", "error")

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the statement's assembly")

    monkeypatch.setattr(ReadCompiler, "_data", broken)
    body = await _post(compiling_app, PORTAL, VARIABLES)
    assert body == await _post(ordinary_app, PORTAL, VARIABLES)
    assert "errors" not in body
    assert _count(await _metrics(compiling_app), "fallback", "error") == before + 1
    [record] = [r for r in caplog.records if r.name == "tec.read_compiler"]
    assert record.levelno == logging.WARNING and "a bug" in str(record.exc_info[1])


async def test_what_it_does_not_cover_is_counted_and_logged_once(compiling_app, caplog):
    caplog.set_level(logging.INFO, logger="tec.read_compiler")
    text = await _metrics(compiling_app)
    unsupported = _count(text, "fallback", "unsupported")
    for _ in range(3):
        body = await _post(compiling_app, UNCOVERED)
        assert "errors" not in body
    logged = [r for r in caplog.records if r.name == "tec.read_compiler"]
    assert len(logged) == 1
    assert logged[0].levelno == logging.INFO
    message = logged[0].getMessage()
    assert "Credited" in message and "contributorTerritory" in message
    text = await _metrics(compiling_app)
    assert _count(text, "fallback", "unsupported") == unsupported + 3


async def test_a_private_field_is_compiled_for_the_viewers_who_read_it_everywhere(
    compiling_app, ordinary_app, principals
):
    editor = principals["EDITOR"]
    await _post(compiling_app, PRIVATE, headers=editor)
    text = await _metrics(compiling_app)
    compiled, private = _count(text, "compiled", ""), _count(text, "fallback", "private")
    with count_queries() as statements:
        body = await _post(compiling_app, PRIVATE, headers=editor)
    assert len([s for s in statements if "json" in s.lower()]) == 1
    assert body == await _post(ordinary_app, PRIVATE, headers=editor)
    # The others read it on their own contributions only: the ordinary executor answers.
    for who in ("ANONYMOUS", "PARTNER"):
        headers = principals.get(who)
        assert await _post(compiling_app, PRIVATE, headers=headers) == await _post(
            ordinary_app, PRIVATE, headers=headers
        )
    text = await _metrics(compiling_app)
    assert _count(text, "compiled", "") == compiled + 1
    assert _count(text, "fallback", "private") == private + 2


async def test_node_and_nodes_of_the_covered_types_are_one_statement(compiling_app, ordinary_app):
    found = await _post(
        compiling_app,
        "{ resources(first: 1) { nodes { id } } themes(first: 2) { nodes { id } } }",
    )
    resource = found["data"]["resources"]["nodes"][0]["id"]
    themes = [theme["id"] for theme in found["data"]["themes"]["nodes"]]
    document = """query Nodes($id: ID!, $ids: [ID!]!) {
      node(id: $id) { id ... on Resource { slug themes { title } } }
      nodes(ids: $ids) { __typename ... on Theme { slug } }
    }"""
    variables = {"id": resource, "ids": [*themes, "Tm90aGluZzox"]}  # Nothing:1, not served
    await _post(compiling_app, document, variables)
    before = _count(await _metrics(compiling_app), "compiled", "")
    with count_queries() as statements:
        body = await _post(compiling_app, document, variables)
    assert len([s for s in statements if "json" in s.lower()]) == 1
    assert body == await _post(ordinary_app, document, variables)
    assert body["data"]["nodes"][-1] is None
    assert _count(await _metrics(compiling_app), "compiled", "") == before + 1


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"ids": ["bm9wZQ"]}, "arguments"),  # "nope": no ID the API hands out
        ({"ids": ["UmVzb3VyY2U6MQ"] * 101}, "arguments"),  # Resource:1, too many times
        ({"ids": ["QWNjb3VudDox"]}, "unsupported"),  # Account:1, served but not covered
    ],
    ids=["undecodable", "too many", "not covered"],
)
async def test_node_ids_it_does_not_answer_go_to_the_ordinary_executor(
    compiling_app, ordinary_app, variables, reason
):
    document = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    before = _count(await _metrics(compiling_app), "fallback", reason)
    body = await _post(compiling_app, document, variables)
    assert body == await _post(ordinary_app, document, variables)
    assert _count(await _metrics(compiling_app), "fallback", reason) == before + 1


@pytest.mark.parametrize("who", ["ANONYMOUS", "EDITOR", "PARTNER"])
@pytest.mark.parametrize(
    ("document", "variables"),
    [(bench.PORTAL, bench.PORTAL_VARIABLES), (bench.RESOURCE_PAGE, {"slug": None})],
    ids=["portal", "resource page"],
)
async def test_the_benchmark_pages_are_one_statement_for_every_viewer(
    compiling_app, principals, who, document, variables
):
    if "slug" in variables:
        slug = await _post(compiling_app, "{ resources(first: 1) { nodes { slug } } }")
        variables = {"slug": slug["data"]["resources"]["nodes"][0]["slug"]}
    headers = principals.get(who)
    await _post(compiling_app, document, variables, headers)
    before = _count(await _metrics(compiling_app), "compiled", "")
    with count_queries() as statements:
        body = await _post(compiling_app, document, variables, headers)
    assert "errors" not in body
    assert len([s for s in statements if "json" in s.lower()]) == 1
    assert _count(await _metrics(compiling_app), "compiled", "") == before + 1


# When a field below a list fails, graphql-core drops the coroutines of sibling items it
# has not awaited, and the garbage collector reports them whenever it next runs, in
# whichever test runs then. These tests collect before they end, so that the report is
# theirs, and ignore it: it is graphql-core's, not the compiler's (the ordinary
# executor alone shows the same).
_DROPPED_COROUTINES = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@_DROPPED_COROUTINES
async def test_refused_arguments_go_to_the_ordinary_executor(compiling_app):
    text = await _metrics(compiling_app)
    arguments = _count(text, "fallback", "arguments")
    body = await _post(compiling_app, '{ resources(after: "nope") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await _post(
        compiling_app, "{ resources(first: 1) { nodes { related(first: 21) { id } } } }"
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    text = await _metrics(compiling_app)
    assert _count(text, "fallback", "arguments") == arguments + 2
    gc.collect()


@pytest.mark.parametrize(
    "document",
    [
        "{ resources(first: 2) { nodes { slug related(first: 21) { slug } } } }",
        "{ resources(first: 2) { nodes { slug related(first: -1) { slug } } } }",
        '{ theme(slug: SLUG) { resources(after: "nope") { totalCount } } }',
        "{ theme(slug: SLUG) { events(first: 101) { nodes { slug } } } }",
        "{ theme(slug: SLUG) { resources(first: 1, last: 1) { totalCount } } }",
    ],
)
@_DROPPED_COROUTINES
async def test_arguments_refused_below_the_root_answer_as_the_ordinary_executor(
    compiling_app, ordinary_app, document
):
    themes = await _post(compiling_app, "{ themes(first: 1) { nodes { slug } } }")
    document = document.replace("SLUG", json.dumps(themes["data"]["themes"]["nodes"][0]["slug"]))
    text = await _metrics(compiling_app)
    arguments = _count(text, "fallback", "arguments")
    body = await _post(compiling_app, document)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body == await _post(ordinary_app, document)
    assert _count(await _metrics(compiling_app), "fallback", "arguments") == arguments + 1
    gc.collect()


async def test_a_dropped_plans_statement_is_never_used_for_another_document(
    database, ordinary_app, monkeypatch
):
    """With room for one plan, each document drops the one before, and CPython may give
    a new plan the id of a dropped one. Here every plan has the same id, as if each
    reused the last one's: each document must still be answered by its own statement."""
    monkeypatch.setattr(
        "schema.compiler.ReadCompiler", lambda on_outcome: ReadCompiler(on_outcome, size=1)
    )
    monkeypatch.setattr(
        run, "id", lambda obj: 0 if isinstance(obj, OperationPlan) else id(obj), raising=False
    )
    app = create_app(database.replace(read_compiler=True))
    documents = [
        "{ resources(first: 3) { nodes { slug } } }",
        "{ resources(first: 3) { nodes { title a: slug kind } } }",
        "{ resources(first: 3) { nodes { territories { slug name } publishedAt } } }",
    ]
    for turn in range(6):
        document = documents[turn % len(documents)]
        assert await _post(app, document) == await _post(ordinary_app, document), document
    assert _count(await _metrics(app), "compiled", "") == 6


# Lists of children two deep: on SQLite before 3.46, whose parser stack holds 100
# entries, the statement is deeper than the parser reads.
NESTED = """{ resources(first: 2) { nodes { slug organizations {
  resources(first: 2) { nodes { slug themes {
    resources(first: 2) { nodes { title } } } } } } } } }"""


async def test_a_statement_too_complex_for_the_database_is_not_tried_again(
    database, compiling_app, ordinary_app, caplog
):
    if database.database.database_url.startswith("postgres"):
        pytest.skip("PostgreSQL reads this statement: the limit shown is SQLite's parser stack")
    if sqlite3.sqlite_version_info >= (3, 46):
        pytest.skip(f"SQLite {sqlite3.sqlite_version} grows its parser stack")
    before = _count(await _metrics(compiling_app), "fallback", "database")
    with caplog.at_level(logging.INFO, logger="tec.read_compiler"):
        first = await _post(compiling_app, NESTED)
        with count_queries() as statements:
            again = await _post(compiling_app, NESTED)
    assert first == again == await _post(ordinary_app, NESTED)
    assert "errors" not in first
    assert not [s for s in statements if "json_group_array" in s]  # not tried again
    logged = [r for r in caplog.records if "too complex" in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.INFO
    assert _count(await _metrics(compiling_app), "fallback", "database") == before + 2
