"""Test double of Meilisearch's HTTP boundary: the adapter, with the SDK's own HTTP
client, talks over loopback HTTP to a server (uvicorn, in the test's event loop) that
answers with Meilisearch's documented response shapes. These tests check what the
adapter sends (index settings, documents, filters, tenant-token rules, its key) and how
it parses the answers; they are no substitute for the contract suite against a real
server (``TEC_MEILI_URL``).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
import uvicorn

from search.meilisearch_engine import MeilisearchEngine, synonyms_from_meilisearch
from search.port import Facet, SearchFilter, SearchRequest, SearchUnavailable, Sort

NOW = "2026-01-01T00:00:00.000000Z"


class FakeMeilisearch:
    """Answers like Meilisearch v1 for the routes the adapter uses; records requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.authorizations: set[str | None] = set()
        self.indexes: set[str] = set()
        self.synonyms: dict[str, list[str]] = {}
        self.task_uid = 0
        self.search_answer: dict[str, Any] = {}

    def task(self, kind: str, index: str | None) -> httpx2.Response:
        self.task_uid += 1
        body = {
            "taskUid": self.task_uid,
            "indexUid": index,
            "status": "enqueued",
            "type": kind,
            "enqueuedAt": NOW,
        }
        return httpx2.Response(202, json=body)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, path, body))
        self.authorizations.add(request.headers.get("authorization"))
        parts = path.strip("/").split("/")
        if parts[0] == "tasks":
            return httpx2.Response(
                200,
                json={
                    "uid": int(parts[1]),
                    "indexUid": "tec",
                    "status": "succeeded",
                    "type": "documentAdditionOrUpdate",
                    "details": {},
                    "duration": "PT0.001S",
                    "enqueuedAt": NOW,
                    "startedAt": NOW,
                    "finishedAt": NOW,
                },
            )
        if parts[0] == "keys":
            return httpx2.Response(
                200,
                json={
                    "uid": "6062abda-a5aa-4414-ac91-ecd7944c0f8d",
                    "key": parts[1],
                    "name": "Default Search API Key",
                    "description": "Use it to search from the frontend",
                    "actions": ["search"],
                    "indexes": ["*"],
                    "expiresAt": None,
                    "createdAt": NOW,
                    "updatedAt": NOW,
                },
            )
        if parts[0] == "swap-indexes":
            return self.task("indexSwap", None)
        if path == "/indexes" and request.method == "POST":
            self.indexes.add(body["uid"])
            return self.task("indexCreation", body["uid"])
        uid = parts[1]
        rest = "/".join(parts[2:])
        if rest == "":
            if request.method == "DELETE":
                self.indexes.discard(uid)
                return self.task("indexDeletion", uid)
            if uid not in self.indexes:
                return httpx2.Response(
                    404,
                    json={
                        "message": f"Index `{uid}` not found.",
                        "code": "index_not_found",
                        "type": "invalid_request",
                        "link": "https://docs.meilisearch.com/errors#index_not_found",
                    },
                )
            return httpx2.Response(
                200,
                json={"uid": uid, "primaryKey": "id", "createdAt": NOW, "updatedAt": NOW},
            )
        if rest == "settings/synonyms":
            if request.method == "GET":
                return httpx2.Response(200, json=self.synonyms)
            self.synonyms = body
            return self.task("settingsUpdate", uid)
        if rest == "settings":
            self.synonyms = body.get("synonyms", self.synonyms)
            return self.task("settingsUpdate", uid)
        if rest == "documents":
            return self.task("documentAdditionOrUpdate", uid)
        if rest == "documents/delete-batch":
            return self.task("documentDeletion", uid)
        if rest == "stats":
            return httpx2.Response(
                200,
                json={"numberOfDocuments": 42, "isIndexing": False, "fieldDistribution": {}},
            )
        if rest == "search":
            return httpx2.Response(200, json=self.search_answer)
        return httpx2.Response(404, json={"message": "no route", "code": "x", "type": "x"})


class Served:
    """A :class:`FakeMeilisearch` answering HTTP on a free loopback port."""

    def __init__(self, fake: FakeMeilisearch) -> None:
        self.fake = fake
        # IPPROTO_TCP named: asyncio then sets TCP_NODELAY on the connections (without
        # it each answer waits ~40 ms for the client's delayed acknowledgement).
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(
            self.app,
            interface="asgi3",
            lifespan="off",
            http="h11",
            ws="none",
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        query = scope["query_string"].decode()
        request = httpx2.Request(
            scope["method"],
            f"{self.url}{scope['path']}" + (f"?{query}" if query else ""),
            headers=[(k.decode(), v.decode()) for k, v in scope["headers"]],
            content=body,
        )
        response = self.fake(request)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": response.content})

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.socket]))
        while not self.server.started:
            if self.task.done():
                self.task.result()  # startup failed: its error
            await asyncio.sleep(0)  # startup runs on this loop: a few turns

    async def stop(self) -> None:
        """Close the listening socket and every connection: the server is gone."""
        if self.task is not None:
            self.server.should_exit = True
            await self.task
            self.task = None
        self.socket.close()


@pytest.fixture(scope="module")
async def served() -> AsyncIterator[Served]:
    serving = Served(FakeMeilisearch())
    await serving.start()
    yield serving
    await serving.stop()


@pytest.fixture
def fake(served: Served) -> FakeMeilisearch:
    """A fresh Meilisearch behind the module's server."""
    served.fake = FakeMeilisearch()
    return served.fake


@pytest.fixture
async def engine(served: Served, fake: FakeMeilisearch) -> AsyncIterator[MeilisearchEngine]:
    built = MeilisearchEngine(served.url, api_key="master")
    await built.open()
    yield built
    await built.close()


def sent(fake: FakeMeilisearch, method: str, suffix: str) -> list[Any]:
    return [b for m, p, b in fake.requests if m == method and p.endswith(suffix)]


async def test_open_creates_the_index_and_pushes_its_settings(fake, engine):
    assert sent(fake, "POST", "/indexes") == [{"uid": "tec", "primaryKey": "id"}]
    (settings,) = sent(fake, "PATCH", "/indexes/tec/settings")
    assert settings["searchableAttributes"] == ["title", "names", "text"]
    assert {"themes", "kind", "territories", "organizations", "year", "status"} <= set(
        settings["filterableAttributes"]
    )
    assert settings["sortableAttributes"] == ["date"]
    assert settings["rankingRules"][:4] == ["words", "typo", "proximity", "attribute"]
    assert settings["rankingRules"][-1] == "date:desc"
    assert {"le", "la", "des", "du"} <= set(settings["stopWords"])
    assert settings["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    assert "intercommunalite" in settings["synonyms"]["epci"]
    assert "epci" in settings["synonyms"]["intercommunalite"]
    assert fake.authorizations == {"Bearer master"}


async def test_an_existing_index_keeps_the_editors_synonyms(fake, served):
    fake.indexes.add("tec")
    fake.synonyms = {"agora": ["concertation"], "concertation": ["agora"]}
    engine = MeilisearchEngine(served.url)
    await engine.open()
    assert fake.authorizations == {None}
    (settings,) = sent(fake, "PATCH", "/indexes/tec/settings")
    assert settings["synonyms"] == {"agora": ["concertation"], "concertation": ["agora"]}
    assert await engine.get_synonyms() == [["agora", "concertation"]]
    await engine.close()


async def test_writes_send_documents_and_wait_for_their_task(fake, engine):
    await engine.upsert([{"id": "resource-1", "title": "Démocratie"}])
    await engine.delete(["resource-2", "event-3"])
    assert sent(fake, "POST", "/indexes/tec/documents") == [
        [{"id": "resource-1", "title": "Démocratie"}]
    ]
    assert sent(fake, "POST", "/documents/delete-batch") == [["resource-2", "event-3"]]
    waited = [p for m, p, _ in fake.requests if p.startswith("/tasks/")]
    assert len(waited) >= 3
    assert await engine.count() == 42


async def test_search_sends_filters_facets_sort_and_parses_the_documented_answer(fake, engine):
    fake.search_answer = {
        "hits": [
            {
                "id": "resource-7",
                "type": "resource",
                "pk": 7,
                "title": "La démocratie <b>culturelle</b>",
                "_formatted": {
                    "title": "La <mark>démocratie</mark> <b>culturelle</b>",
                    "text": "…droits <mark>démocratiques</mark> & culture…",
                },
            },
            {"id": "event-2", "type": "event", "pk": 2, "title": "Atelier", "text": "x"},
        ],
        "query": "democratie",
        "processingTimeMs": 3,
        "limit": 20,
        "offset": 0,
        "estimatedTotalHits": 57,
        "facetDistribution": {"themes": {"12": 5, "3": 9}, "kind": {"GUIDE": 2}},
        "facetStats": {},
    }
    result = await engine.search(
        SearchRequest(
            query="democratie",
            filter=SearchFilter(themes=[3, 12], kinds=['GU"IDE'], years=[2022]),
            facets=[Facet.THEME, Facet.KIND, Facet.YEAR],
            sort=Sort.NEWEST,
            limit=20,
        )
    )
    (body,) = sent(fake, "POST", "/indexes/tec/search")
    assert body["q"] == "democratie"
    assert body["filter"] == 'themes IN [3, 12] AND kind IN ["GU\\"IDE"] AND year IN [2022]'
    assert body["facets"] == ["themes", "kind", "year"]
    assert body["sort"] == ["date:desc"]
    assert body["highlightPreTag"] == "<mark>" and body["matchingStrategy"] == "all"
    assert result.total == 57 and result.processing_ms == 3.0
    assert [(h.type, h.pk) for h in result.hits] == [("resource", 7), ("event", 2)]
    assert result.hits[0].title_html == "La <mark>démocratie</mark> &lt;b&gt;culturelle&lt;/b&gt;"
    assert result.hits[0].snippet_html == "…droits <mark>démocratiques</mark> &amp; culture…"
    assert [(f.value, f.count) for f in result.facets[Facet.THEME]] == [("3", 9), ("12", 5)]
    assert result.facets[Facet.YEAR] == []


async def test_relevance_with_a_query_leaves_sorting_to_the_ranking_rules(fake, engine):
    fake.search_answer = {"hits": [], "query": "x", "processingTimeMs": 0, "totalHits": 0}
    await engine.search(SearchRequest(query="x"))
    await engine.search(SearchRequest(query=""))
    first, second = sent(fake, "POST", "/indexes/tec/search")
    assert first.get("sort") is None
    assert second["sort"] == ["date:desc"]


async def test_an_unreachable_server_is_search_unavailable():
    serving = Served(FakeMeilisearch())
    await serving.start()
    engine = MeilisearchEngine(serving.url)
    await engine.open()
    await serving.stop()
    with pytest.raises(SearchUnavailable):
        await engine.search(SearchRequest(query="x"))
    with pytest.raises(SearchUnavailable):
        await engine.upsert([{"id": "resource-1"}])
    await engine.close()


async def test_rebuild_fills_a_staging_index_then_swaps(fake, engine):
    async def batches():
        yield [{"id": "resource-1"}]
        yield [{"id": "resource-2"}]

    assert await engine.rebuild(batches()) == 2
    assert sent(fake, "POST", "/swap-indexes") == [[{"indexes": ["tec", "tec_rebuild"]}]]
    assert sent(fake, "POST", "/indexes/tec_rebuild/documents") == [
        [{"id": "resource-1"}],
        [{"id": "resource-2"}],
    ]
    assert "tec_rebuild" not in fake.indexes


async def test_tenant_token_only_finds_published_documents(fake, engine):
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    token = await engine.tenant_token(
        search_key="search-key-secret", flt=SearchFilter(themes=[4]), expires_at=expires
    )
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["apiKeyUid"] == "6062abda-a5aa-4414-ac91-ecd7944c0f8d"
    assert claims["searchRules"] == {"tec": {"filter": 'status = "PUBLISHED" AND (themes IN [4])'}}
    assert claims["exp"] == int(expires.timestamp())
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "HS256"
    assert signature


def test_synonym_mapping_round_trip():
    mapping = {"ado": ["adolescent"], "adolescent": ["ado", "ados"], "x": ["y"]}
    assert synonyms_from_meilisearch(mapping) == [["ado", "adolescent", "ados"], ["x", "y"]]
