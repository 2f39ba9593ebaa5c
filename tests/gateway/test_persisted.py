"""Automatic persisted queries (Apollo APQ, version 1) and the allow-list mode."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.app import create_app
from gateway.persisted import document_hash, load_allowlist

QUERY = "query Themes { themes(first: 2) { nodes { slug } } }"
HASH = document_hash(QUERY)


def _apq(digest: str = HASH) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


@pytest.fixture(scope="module")
def apq_app(database):
    return create_app(
        database.replace(**{"rate_limit_anonymous": 1_000_000, "cache_enabled": True})
    )


@pytest.fixture
async def client_for(database):
    clients = []

    async def make(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_apq_round_trip(apq_app, client_for):
    c = await client_for(apq_app)
    unknown = await c.post("/graphql", json={"extensions": _apq()})
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"

    registered = await c.post("/graphql", json={"query": QUERY, "extensions": _apq()})
    assert registered.json()["data"]["themes"]["nodes"]

    by_hash = await c.post("/graphql", json={"extensions": _apq()})
    assert by_hash.json() == registered.json()

    params = {"extensions": json.dumps(_apq()), "operationName": "Themes"}
    by_get = await c.get("/graphql", params=params)
    assert by_get.status_code == 200
    assert by_get.json() == registered.json()
    assert "etag" in by_get.headers


async def test_apq_refuses_a_hash_that_is_not_the_documents(apq_app, client_for):
    c = await client_for(apq_app)
    wrong = await c.post("/graphql", json={"query": QUERY, "extensions": _apq("ab" * 32)})
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    version = await c.post(
        "/graphql",
        json={"query": QUERY, "extensions": {"persistedQuery": {"version": 2, "sha256Hash": HASH}}},
    )
    assert version.status_code == 400


async def test_apq_can_be_turned_off(database, client_for):
    app = create_app(database.replace(**{"persisted_queries": False}))
    c = await client_for(app)
    answer = await c.post("/graphql", json={"extensions": _apq()})
    assert answer.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
    with_query = await c.post("/graphql", json={"query": QUERY, "extensions": _apq()})
    assert with_query.json()["data"]["themes"]["nodes"]


@pytest.mark.parametrize("layout", ["map", "list", "manifest"])
async def test_allowlist_mode_runs_only_registered_documents(
    database, client_for, tmp_path, layout
):
    if layout == "map":
        content: object = {HASH: QUERY}
    elif layout == "list":
        content = [QUERY]
    else:
        content = {
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{"id": HASH, "name": "Themes", "type": "query", "body": QUERY}],
        }
    path = tmp_path / "queries.json"
    path.write_text(json.dumps(content))
    app = create_app(database.replace(**{"persisted_queries_allowlist": str(path)}))
    c = await client_for(app)

    by_hash = await c.post("/graphql", json={"extensions": _apq()})
    assert by_hash.json()["data"]["themes"]["nodes"]
    by_text = await c.post("/graphql", json={"query": QUERY})
    assert by_text.json() == by_hash.json()

    other = "{ themes(first: 1) { nodes { slug } } }"
    for body in ({"query": other}, {"query": other, "extensions": _apq(document_hash(other))}):
        refused = await c.post("/graphql", json=body)
        assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        assert "data" not in refused.json()
    unknown = await c.post("/graphql", json={"extensions": _apq("cd" * 32)})
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_an_allowlist_with_a_wrong_id_is_refused_at_start(tmp_path):
    path = tmp_path / "queries.json"
    path.write_text(json.dumps({"ab" * 32: QUERY}))
    with pytest.raises(ValueError, match="SHA-256"):
        load_allowlist(path)
