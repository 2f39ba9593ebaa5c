"""`search(...)` through GraphQL as partner sites use it, and the editors' search tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from search.consumer import reindex
from search.documents import load_documents
from search.tantivy_engine import TantivyEngine
from services.audit.service import record
from services.content import ContentStatus
from services.resources.models import Resource
from tests.conftest import USER_ERRORS, GraphQLClient, user_error
from tests.search.conftest import create_resource, delete, drain_all, now
from tests.sqlcount import count_queries

pytestmark = pytest.mark.heavy

SEARCH = """
query Search($query: String!, $filter: SearchFilter, $facets: [SearchFacet!],
             $sort: SearchSort, $first: Int, $after: String) {
  search(query: $query, filter: $filter, facets: $facets, sort: $sort, first: $first,
         after: $after) {
    total totalCount processingTimeMs
    hits { cursor titleHighlighted snippet type
      node { __typename ... on Resource { id slug title kindLabel themes { title } }
                         ... on Event { id slug startsAt }
                         ... on Theme { id title }
                         ... on Concept { id title }
                         ... on SharedProject { id title }
                         ... on Organization { id name } } }
    facets { facet values { value label count } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture
async def gql(app: Any) -> AsyncIterator[GraphQLClient]:
    """The suite's GraphQL client from an address of its own: the anonymous rate limit
    counts per address, and these tests should not spend the other tests' allowance."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.53", 5353))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield GraphQLClient(client)


@pytest.fixture
async def search_engine(app: Any, tmp_path: Path) -> AsyncIterator[TantivyEngine]:
    engine = TantivyEngine(tmp_path / "index", writer_heap_mb=32)
    await engine.open()
    await reindex(engine, replay_grace=0)
    await drain_all(engine)
    app.state.runtime.search = engine
    yield engine
    app.state.runtime.search = None
    await engine.close()


async def test_search_finds_published_resources_with_highlights_and_facets(gql, search_engine):
    data = await gql.data(
        SEARCH, {"query": "democratie culturele", "facets": ["THEME", "KIND", "TYPE", "YEAR"]}
    )
    result = data["search"]
    assert result["total"] >= 1 and result["processingTimeMs"] >= 0
    assert result["totalCount"] == result["total"]
    # The theme whose whole title is the query comes first, then resources about it.
    first, second = result["hits"][:2]
    assert (first["type"], first["node"]["__typename"]) == ("THEME", "Theme")
    assert first["node"]["title"] == "La démocratie culturelle"
    assert second["node"]["__typename"] == "Resource"
    assert "<mark>" in second["titleHighlighted"]
    assert "démocratie culturelle" in second["node"]["title"].lower()
    themes = next(f for f in result["facets"] if f["facet"] == "THEME")["values"]
    assert themes and themes == sorted(themes, key=lambda v: -v["count"])
    assert "La démocratie culturelle" in [v["label"] for v in themes]
    kinds = next(f for f in result["facets"] if f["facet"] == "KIND")["values"]
    assert {"value": "EXPERIENCE", "label": "Retour d'expérience"} in [
        {"value": v["value"], "label": v["label"]} for v in kinds
    ]
    types = next(f for f in result["facets"] if f["facet"] == "TYPE")["values"]
    assert {"RESOURCE", "THEME"} <= {v["value"] for v in types}
    assert {"Ressource", "Thématique"} <= {v["label"] for v in types}


async def test_a_facet_value_filters_to_its_count(gql, search_engine):
    data = await gql.data(SEARCH, {"query": "", "facets": ["THEME"], "first": 0})
    theme = data["search"]["facets"][0]["values"][0]
    filtered = await gql.data(
        SEARCH, {"query": "", "filter": {"themes": [theme["value"]]}, "first": 100}
    )
    assert filtered["search"]["total"] == theme["count"]
    assert all(
        theme["label"] in [t["title"] for t in h["node"]["themes"]]
        for h in filtered["search"]["hits"]
        if h["node"]["__typename"] == "Resource"
    )


async def test_events_are_found_too(gql, search_engine):
    data = await gql.data(SEARCH, {"query": "", "filter": {"types": ["EVENT"]}, "first": 5})
    hits = data["search"]["hits"]
    assert hits and all(h["node"]["__typename"] == "Event" for h in hits)


async def test_pages_follow_each_other(gql, search_engine):
    everything = await gql.data(SEARCH, {"query": "", "first": 30})
    expected = [h["node"]["id"] for h in everything["search"]["hits"]]
    seen, after = [], None
    while len(seen) < len(expected):
        page = (await gql.data(SEARCH, {"query": "", "first": 7, "after": after}))["search"]
        seen += [h["node"]["id"] for h in page["hits"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        after = page["pageInfo"]["endCursor"]
    assert seen[: len(expected)] == expected


async def test_unpublished_since_indexing_is_not_shown(gql, search_engine):
    resource = await Resource.filter(status=ContentStatus.PUBLISHED).order_by("id").first()
    documents, _ = await load_documents("resource", [resource.id], now=now())
    await Resource.filter(id=resource.id).update(status=ContentStatus.DRAFT)
    try:
        # The index still has it (no outbox row was written): GraphQL checks again.
        await search_engine.upsert(documents)
        data = await gql.data(SEARCH, {"query": resource.title, "first": 100})
        assert resource.slug not in [h["node"]["slug"] for h in data["search"]["hits"]]
    finally:
        await Resource.filter(id=resource.id).update(status=ContentStatus.PUBLISHED)


async def test_statements_do_not_grow_with_the_number_of_hits(gql, search_engine):
    # Oldest first: both pages hold resources and events, whatever the other tests added.
    wanted = {
        "query": "",
        "sort": "OLDEST",
        "facets": ["THEME", "TERRITORY"],
        "filter": {"types": ["RESOURCE", "EVENT"]},
    }
    with count_queries() as few:
        await gql.data(SEARCH, {**wanted, "first": 15})
    with count_queries() as many:
        await gql.data(SEARCH, {**wanted, "first": 60})
    # resources, events, themes of the resources; the facet labels come from the index
    assert len(few) == len(many) == 3, many


async def test_facet_labels_missing_from_the_index_are_looked_up(gql, search_engine):
    # Documents written before the index held labels: the names come from the database,
    # one statement per facet, and an unpublished theme is still no facet value.
    resource = await Resource.filter(status=ContentStatus.PUBLISHED).order_by("id").first()
    documents, _ = await load_documents("resource", [resource.id], now=now())
    labelled = await gql.data(
        SEARCH, {"query": resource.title, "facets": ["THEME", "TERRITORY"], "first": 1}
    )
    for document in documents:
        document.pop("themes_labels")
        document.pop("territories_labels")
    await search_engine.upsert(documents)
    with count_queries() as statements:
        looked_up = await gql.data(
            SEARCH, {"query": resource.title, "facets": ["THEME", "TERRITORY"], "first": 1}
        )
    assert looked_up["search"]["facets"] == labelled["search"]["facets"]
    assert any("theme" in s and "title" in s for s in statements), statements
    await search_engine.upsert((await load_documents("resource", [resource.id], now=now()))[0])


@pytest.mark.parametrize(
    "query", ['"', "democratie:", "(culture", "*", "title:x AND", "\\", "é" * 400]
)
async def test_query_syntax_is_never_an_error(gql, search_engine, query):
    data = await gql.data(SEARCH, {"query": query})
    assert data["search"]["total"] >= 0


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"query": "x" * 501}, "BAD_USER_INPUT", "query"),
        ({"query": "x", "after": "bm90LWEtY3Vyc29y"}, "BAD_USER_INPUT", "after"),
        ({"query": "x", "first": 101}, "BAD_USER_INPUT", "first"),
        ({"query": "x", "filter": {"themes": ["not-an-id"]}}, "BAD_USER_INPUT", "id"),
        ({"query": "x", "filter": {"themes": ["VGVycml0b3J5OjE="]}}, "BAD_USER_INPUT", None),
        ({"query": "x", "facets": ["COLOUR"]}, "BAD_USER_INPUT", None),
    ],
)
async def test_bad_input_is_a_clear_error(gql, search_engine, variables, code, field):
    body = await gql(SEARCH, variables)
    error = body["errors"][0]
    assert error["extensions"]["code"] == code, error
    if field:
        assert error["extensions"].get("field") == field


async def test_unknown_filter_values_find_nothing(gql, search_engine):
    data = await gql.data(
        SEARCH, {"query": "", "filter": {"themes": ["VGhlbWU6OTk5OTk="], "years": [1850]}}
    )
    assert data["search"]["total"] == 0 and data["search"]["hits"] == []


async def test_without_an_engine_search_is_unavailable(gql):
    body = await gql(SEARCH, {"query": "x"})
    assert body["errors"][0]["extensions"]["code"] == "SEARCH_UNAVAILABLE"


STATUS = "{ searchIndexStatus { engine documents pendingChanges failingChanges lagSeconds } }"


async def test_index_lag_is_for_editors(gql, search_engine, principals):
    refused = await gql(STATUS)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = await gql(STATUS, headers=principals["PARTNER"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    data = await gql.data(STATUS, headers=principals["EDITOR"])
    status = data["searchIndexStatus"]
    assert status["engine"] == "embedded" and status["documents"] > 0
    assert status["pendingChanges"] == 0 and status["lagSeconds"] == 0


SYNONYMS = """mutation($groups: [[String!]!]!) {
  updateSearchSynonyms(groups: $groups) { groups errors { code } } }"""


async def test_editors_edit_synonyms(gql, search_engine, principals):
    refused = await gql(SYNONYMS, {"groups": [["a", "b"]]})
    assert refused["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
    current = (await gql.data("{ searchSynonyms }", headers=principals["EDITOR"]))["searchSynonyms"]
    assert ["epci", "intercommunalite", "communaute de communes"] in current
    groups = [*current, ["Kiwi", "démocratie culturelle"]]
    stored = await gql.data(SYNONYMS, {"groups": groups}, headers=principals["EDITOR"])
    assert ["kiwi", "democratie culturelle"] in stored["updateSearchSynonyms"]["groups"]
    data = await gql.data(SEARCH, {"query": "kiwi"})
    assert data["search"]["total"] >= 1


async def test_tenant_tokens_need_meilisearch(gql, search_engine, principals):
    issue = f"mutation {{ issueSearchTenantToken {{ tenantToken {{ token }} {USER_ERRORS} }} }}"
    body = await gql(issue, headers=principals["EDITOR"])
    assert user_error(body, "issueSearchTenantToken")[0] == "BAD_USER_INPUT"
    refused = await gql(issue)
    assert refused["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("query", "kind", "typename", "title"),
    [
        ("adolescents", "THEME", "Theme", "La participation citoyenne des adolescent.e.s"),
        ("échelle Arnstein", "CONCEPT", "Concept", "L'échelle de participation d'Arnstein"),
        (
            "Co-construire la politique culturelle avec ses habitants",
            "THEME",
            "Theme",
            "Co-construire la politique culturelle avec ses habitants",
        ),
        ("politique culturelle Niort", "SHARED_PROJECT", "SharedProject", None),
        ("ICPC", "ORGANIZATION", "Organization", None),
        ("élues locales", "ORGANIZATION", "Organization", None),
    ],
)
async def test_every_kind_of_content_is_found_with_its_type(
    gql, search_engine, query, kind, typename, title
):
    data = await gql.data(SEARCH, {"query": query, "first": 20})
    hits = data["search"]["hits"]
    found = [h for h in hits if h["type"] == kind]
    assert found, [h["titleHighlighted"] for h in hits]
    assert found[0]["node"]["__typename"] == typename
    if title is not None:
        assert found[0]["node"]["title"] == title
    if kind == "SHARED_PROJECT":
        only = await gql.data(SEARCH, {"query": query, "filter": {"types": [kind]}})
        assert {h["type"] for h in only["search"]["hits"]} == {kind}


SUGGEST = """query Suggest($prefix: String!, $first: Int) {
  searchSuggestions(prefix: $prefix, first: $first) { id type title }
}"""


async def test_suggestions_propose_titles_of_every_type_as_one_types(gql, search_engine):
    data = await gql.data(SUGGEST, {"prefix": "la démocratie cult"})
    titles = [(s["type"], s["title"]) for s in data["searchSuggestions"]]
    assert titles[0] == ("THEME", "La démocratie culturelle")
    organisations = await gql.data(SUGGEST, {"prefix": "Institut de la concert"})
    assert organisations["searchSuggestions"][0]["type"] == "ORGANIZATION"
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { __typename } }",
        {"id": organisations["searchSuggestions"][0]["id"]},
    )
    assert node["node"]["__typename"] == "Organization"
    few = await gql.data(SUGGEST, {"prefix": "particip", "first": 3})
    assert len(few["searchSuggestions"]) == 3


async def test_anonymous_search_is_cached_until_the_index_applies_a_change(database, tmp_path):
    app = create_app(database.replace(**{"rate_limit_anonymous": 1_000_000, "cache_enabled": True}))
    engine = TantivyEngine(tmp_path / "cached-index", writer_heap_mb=32)
    await engine.open()
    await reindex(engine, replay_grace=0)
    await drain_all(engine)
    app.state.runtime.search = engine
    query = '{ search(query: "ornithorynque") { total } }'
    transport = httpx.ASGITransport(app=app, client=("127.0.0.54", 5454))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def ask() -> tuple[str, int]:
            response = await client.post("/graphql", json={"query": query})
            return response.headers["x-tec-cache"], response.json()["data"]["search"]["total"]

        assert await ask() == ("miss", 0)
        assert await ask() == ("hit", 0)
        created = await create_resource("s-ornithorynque", title="L'ornithorynque")
        await record(None, "resource.create", created)  # as every write does
        assert (await ask())[0] == "miss"  # a change is pending: not the same version
        await drain_all(engine)
        assert await ask() == ("miss", 1)  # the index applied it: the answer follows
        assert await ask() == ("hit", 1)
        await delete(created, "resource")
        await drain_all(engine)
    app.state.runtime.search = None
    await engine.close()
