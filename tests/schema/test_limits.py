"""Query limits: refused before anything runs, each with its own code."""

from __future__ import annotations

import sys

import graphql
import pytest

from schema import build_schema
from schema.limits import (
    Limits,
    Measure,
    check_limits,
    measure,
    parse_document,
)
from services.settings import Settings


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


@pytest.mark.parametrize(
    "pages",
    [
        ("last: 100", "last: 100"),
        ("first: 100", "last: 100"),
        ("last: 100", "first: 100"),
        ("last: $size", "last: $size"),
    ],
)
async def test_last_costs_like_first(gql, pages):
    outer, inner = pages
    query = f"""query($size: Int) {{ themes({outer}) {{ nodes {{ resources({inner}) {{ nodes {{
        title organizations {{ name }} themes {{ title }} }} }} }} }} }}"""
    from tests.sqlcount import count_queries

    with count_queries() as statements:
        body = await gql(query, {"size": 1})
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY", body
    assert statements == []


def test_a_page_of_last_is_measured_as_a_page_of_first(graphql_schema, limits):
    def cost(text: str) -> int:
        document = graphql.parse(text)
        found = measure(graphql_schema, document, document.definitions[0], limits)
        assert found is not None
        return found.cost

    for size in ("7", "$n"):
        forward = cost(f"query($n: Int) {{ resources(first: {size}) {{ nodes {{ title }} }} }}")
        backward = cost(f"query($n: Int) {{ resources(last: {size}) {{ nodes {{ title }} }} }}")
        assert forward == backward
    both = cost("{ resources(first: 3, last: 9) { nodes { title } } }")
    assert both == cost("{ resources(last: 9) { nodes { title } } }")


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


# --- The analysis as a pure function: hostile documents, budget, parsing --------------

PORTAL = """
query Portal($places: Int) {
  latest: resources(first: 12) {
    edges { cursor node { ...ResourceCard } }
    pageInfo { hasNextPage endCursor }
  }
  current: currentTheme {
    ...ThemeCard
    introduction
    resources(first: 6) { nodes { ...ResourceCard } }
    events(first: 3) { nodes { ...EventCard } }
  }
  next: nextTheme { ...ThemeCard }
  upcoming: events(first: 10) { nodes { ...EventCard } }
  picked: nodes(ids: ["UmVzb3VyY2U6MQ==", "VGhlbWU6MQ=="]) {
    __typename
    ...ResourceCard
    ... on Theme { ...ThemeCard }
    ... on Event { ...EventCard }
  }
  themes(first: 12) { nodes { ...ThemeCard } }
  territories(first: $places) { nodes { ...Place } }
  partners: organizations(first: 10) { nodes { ...OrganizationCard } }
}
fragment ResourceCard on Resource {
  id slug title summary kind kindLabel publishedAt
  themes { ...ThemeCard }
  territories { ...Place }
  organizations { ...OrganizationCard }
}
fragment EventCard on Event {
  id slug title startsAt endsAt city online formatLabel
  organizers { ...OrganizationCard }
  territories { ...Place }
}
fragment ThemeCard on Theme { id slug title month isNext }
fragment Place on Territory { id name level levelLabel }
fragment OrganizationCard on Organization { id name acronym kindLabel }
"""


def _chain(operation: str, link: str, base: str = "id title", links: int = 30) -> str:
    """``operation`` spreading ``F{links}``, where each ``F{i}`` is ``link`` around
    ``PREV`` (the fragment before it) and ``F0`` selects ``base``."""
    fragments = [f"fragment F0 on Resource {{ {base} }}"]
    for i in range(1, links + 1):
        body = link.replace("PREV", f"F{i - 1}").replace("I", str(i))
        fragments.append(f"fragment F{i} on Resource {{ {body} }}")
    return operation.replace("TOP", f"F{links}") + "\n" + "\n".join(fragments)


_ONE = "query { resources(first: 1) { edges { node { ...TOP } } } }"
HOSTILE = {
    "spread twice": (_chain(_ONE, "...PREV ...PREV"), "QUERY_TOO_COSTLY"),
    "spread four times": (_chain(_ONE, "...PREV " * 4, links=16), "QUERY_TOO_COSTLY"),
    "inline fragments": (
        _chain(_ONE, "... on Resource { ...PREV } ... { ...PREV }"),
        "QUERY_TOO_COSTLY",
    ),
    "aliases": (_chain(_ONE, "aI: title ...PREV ...PREV"), "TOO_MANY_ALIASES"),
    "aliases at the bottom only": (_chain(_ONE, "...PREV ...PREV", "x: id"), "TOO_MANY_ALIASES"),
    "under nested lists": (
        _chain(
            "{ themes(first: 100) { nodes { resources(first: 100) { nodes { ...TOP } } } } }",
            "...PREV ...PREV",
        ),
        "QUERY_TOO_COSTLY",
    ),
    "lists inside the fragments": (
        _chain(_ONE, "...PREV themes { resources(first: 100) { nodes { id } } } ...PREV"),
        "QUERY_TOO_COSTLY",
    ),
    "nested lists around each spread": (
        _chain(_ONE, "themes { resources(first: 100) { nodes { ...PREV ...PREV } } }"),
        "QUERY_TOO_DEEP",
    ),
    "mixture": (
        _chain(
            "query Q($n: Int) { themes(first: $n) { nodes { resources { nodes { ...TOP } } } } }",
            "...PREV ... on Resource { themes { title } ...PREV } organizations { name }",
        ),
        "QUERY_TOO_COSTLY",
    ),
}


@pytest.fixture(scope="module")
def graphql_schema(settings: Settings) -> graphql.GraphQLSchema:
    return graphql.build_schema(build_schema(settings).as_str())


@pytest.fixture(scope="module")
def limits(settings: Settings) -> Limits:
    return Limits(
        max_depth=settings.graphql.max_query_depth,
        max_aliases=settings.graphql.max_aliases,
        max_tokens=settings.graphql.max_tokens,
        max_cost=settings.graphql.max_query_cost,
        default_page_size=settings.graphql.default_page_size,
    )


def _document(text: str, limits: Limits) -> graphql.DocumentNode:
    document = parse_document(text, max_tokens=limits.max_tokens)
    assert isinstance(document, graphql.DocumentNode), document
    return document


@pytest.mark.parametrize("name", HOSTILE)
def test_exponential_fragments_are_refused_at_once(graphql_schema, limits, name):
    text, code = HOSTILE[name]
    assert len(text) < 4000
    document = _document(text, limits)
    # Valid GraphQL: only the limits refuse it.
    assert graphql.validate(graphql_schema, document) == []
    # Work in proportion to the document as written (3.6 to 7 function calls per syntax
    # node, the portal's 7.0), not to what its fragments expand to (2 ** 30 fields).
    most = 20 * _nodes(document)
    error = _within_calls(most, lambda: check_limits(graphql_schema, document, None, limits))
    assert error is not None and error.extensions["code"] == code


class _TooManyCalls(Exception):
    pass


def _within_calls(most: int, run):
    """``run()``, failing as soon as it has called more than ``most`` functions (Python's
    and built-in ones, counted through the profiler hook: the same on every machine at
    any load)."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1
            if calls > most:
                raise _TooManyCalls(f"more than {most} calls")

    previous = sys.getprofile()
    sys.setprofile(count)
    try:
        return run()
    finally:
        sys.setprofile(previous)


def _nodes(node: graphql.language.Node) -> int:
    """The nodes of a syntax tree."""
    found = 1
    for key in node.keys:
        value = getattr(node, key)
        for child in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(child, graphql.language.Node):
                found += _nodes(child)
    return found


@pytest.mark.parametrize("name", HOSTILE)
async def test_exponential_fragments_are_refused_over_http(gql, name):
    text, code = HOSTILE[name]
    assert await _code(gql, text) == code


def test_counts_saturate_and_say_so(graphql_schema, limits):
    document = _document(HOSTILE["spread twice"][0], limits)
    error = check_limits(graphql_schema, document, None, limits)
    assert error is not None
    assert error.extensions == {"code": "QUERY_TOO_COSTLY", "cost": limits.ceiling}
    assert f"au moins {limits.ceiling}" in error.message
    assert error.locations == [graphql.SourceLocation(1, 1)]


def test_an_alias_counts_as_often_as_it_executes(graphql_schema, limits):
    text = """{ resources { nodes { ...A ...A ...A } } }
              fragment A on Resource { ...B ...B }
              fragment B on Resource { t: title }"""
    document = _document(text, limits)
    (operation,) = document.definitions[:1]
    assert measure(graphql_schema, document, operation, limits) == Measure(
        cost=1 + 20 * (1 + 6), depth=3, aliases=6
    )


def test_a_portal_page_is_measured_as_before(graphql_schema, limits):
    document = _document(PORTAL, limits)
    operation = document.definitions[0]
    # The numbers of the plain recursive walk for this document.
    assert measure(graphql_schema, document, operation, limits) == Measure(
        cost=2994, depth=5, aliases=6
    )
    assert check_limits(graphql_schema, document, "Portal", limits) is None


async def test_a_portal_page_runs(gql):
    data = await gql.data(PORTAL, {"places": 5})
    assert len(data["territories"]["nodes"]) <= 5


def test_a_huge_first_is_costly_not_a_crash(graphql_schema, limits):
    document = graphql.parse("{ resources(first: " + "9" * 5000 + ") { nodes { id } } }")
    error = check_limits(graphql_schema, document, None, limits)
    assert error is not None and error.extensions["code"] == "QUERY_TOO_COSTLY"


def test_the_analysis_has_a_budget_of_steps(graphql_schema):
    small = Limits(
        max_depth=12, max_aliases=30, max_tokens=50, max_cost=10**6, default_page_size=20
    )
    assert small.max_steps == 200

    def fields(count: int) -> graphql.DocumentNode:
        return graphql.parse("{ currentTheme { " + "title " * count + "} }")

    assert check_limits(graphql_schema, fields(198), None, small) is None
    error = check_limits(graphql_schema, fields(300), None, small)
    assert error is not None
    assert error.extensions == {"code": "QUERY_TOO_COMPLEX"}
    assert error.message.startswith("Requête trop complexe")


def test_a_document_within_the_token_limit_stays_within_the_budget(graphql_schema, limits):
    # Every step takes at least one token: the densest document is a flat list of fields.
    fields = "id " * (limits.max_tokens - 5)
    document = _document("{ currentTheme { " + fields + "} }", limits)
    assert check_limits(graphql_schema, document, None, limits) is None


def test_the_selected_operation_is_checked(graphql_schema, limits):
    costly = (
        "query Costly { themes(first: 100) { nodes { resources(first: 100) { nodes { id } } } } }"
    )
    document = _document("query Cheap { currentTheme { title } }\n" + costly, limits)
    assert check_limits(graphql_schema, document, "Cheap", limits) is None
    for name in ("Costly", None, "Unknown"):
        # No single operation selected: every one of them must be within the limits.
        error = check_limits(graphql_schema, document, name, limits)
        assert error is not None and error.extensions["code"] == "QUERY_TOO_COSTLY"


def test_cyclic_fragments_are_left_to_validation(graphql_schema, limits):
    document = _document(
        """{ resources { nodes { ...A } } }
           fragment A on Resource { title ...B }
           fragment B on Resource { slug ...A }""",
        limits,
    )
    assert check_limits(graphql_schema, document, None, limits) is None
    (cycle,) = graphql.validate(graphql_schema, document)
    assert "within itself" in cycle.message


def test_parsing_stops_at_the_token_limit():
    error = parse_document("{ " + "__typename " * 3100 + "}", max_tokens=3000)
    assert isinstance(error, graphql.GraphQLError)
    assert error.extensions == {"code": "GRAPHQL_PARSE_FAILED"}
    assert error.message == "Requête trop longue : plus de 3000 jetons (tokens)."
    # Comments count: a document padded with them is refused too.
    padded = parse_document("# padding\n" * 3100 + "{ __typename }", max_tokens=3000)
    assert isinstance(padded, graphql.GraphQLError)


def test_syntax_errors_are_parse_failures_with_their_place():
    error = parse_document("{ resources(first: 5 { nodes { slug } }", max_tokens=3000)
    assert isinstance(error, graphql.GraphQLError)
    assert error.extensions == {"code": "GRAPHQL_PARSE_FAILED"}
    assert error.message.startswith("Erreur de syntaxe : ")
    assert error.locations == [graphql.SourceLocation(1, 22)]
    deep = parse_document("{" + " a {" * 1000 + " b" + " }" * 1001, max_tokens=10_000)
    assert isinstance(deep, graphql.GraphQLError)
    assert deep.extensions == {"code": "GRAPHQL_PARSE_FAILED"}
