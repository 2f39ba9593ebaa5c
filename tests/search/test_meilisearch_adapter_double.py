"""The Meilisearch adapter against a double of Meilisearch v1.11 served over loopback
HTTP (``tests/search/meilisearch_double.py``, each behaviour citing the server's source):
the settings it pushes and when, task life cycle (failed and canceled tasks reach the
caller at once, with the server's code), the 1,000-hit cap and ``estimatedTotalHits``,
fetching by filter, ranking-rule order, query syntax, tenant tokens. No substitute for
the contract suite against a real server (``TEC_MEILI_URL``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from search.consumer import apply_changes
from search.meilisearch_engine import (
    MeilisearchEngine,
    plain_query,
    stop_words,
    synonyms_from_meilisearch,
)
from search.port import Facet, SearchFilter, SearchRequest, SearchUnavailable, Sort
from search.tantivy_query import title_key
from tests.search.meilisearch_double import FakeMeilisearch, Index, Served
from tests.search.test_contract import INCLUSIVE_CASES, INCLUSIVE_CORPUS, doc


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


async def test_a_new_index_is_created_with_the_gateways_settings(fake, engine):
    assert sent(fake, "POST", "/indexes") == [{"uid": "tec", "primaryKey": "id"}]
    (settings,) = sent(fake, "PATCH", "/indexes/tec/settings")
    assert fake.validate_settings(settings) is None  # the server accepts them
    assert settings["searchableAttributes"] == [
        "title",
        "title_forms",
        "names",
        "text",
        "text_forms",
    ]
    assert {"type", "themes", "kind", "territories", "organizations", "year", "status"} <= set(
        settings["filterableAttributes"]
    )
    assert settings["sortableAttributes"] == ["date"]
    assert settings["rankingRules"][:2] == ["sort", "words"]
    assert settings["rankingRules"][-1] == "date:desc"
    assert {"le", "les", "au", "aux"} <= set(settings["stopWords"])
    # Words of the default multi-word synonyms (« communauté de communes ») are kept.
    assert not {"de", "du", "la", "des"} & set(settings["stopWords"])
    assert settings["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    assert "intercommunalite" in settings["synonyms"]["epci"]
    assert "agence nationale de la cohesion des territoires" in settings["synonyms"]["anct"]
    assert settings["faceting"] == {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "count"}}
    assert settings["pagination"] == {"maxTotalHits": 1000}
    assert settings["localizedAttributes"] == [{"locales": ["fra"], "attributePatterns": ["*"]}]
    assert "·" in settings["separatorTokens"]
    assert fake.authorizations == {"Bearer master"}


def test_words_of_multi_word_synonyms_are_no_stop_words():
    words = stop_words([["epci", "communaute de communes"], ["cndp", "commission du debat"]])
    assert "de" not in words and "du" not in words
    assert "la" in words and "les" in words


async def test_a_replica_starting_on_an_existing_index_pushes_no_settings(fake, served):
    fake.indexes["tec"] = Index("tec")
    fake.indexes["tec"].settings["synonyms"] = {
        "agora": ["concertation"],
        "concertation": ["agora"],
    }
    engine = MeilisearchEngine(served.url)
    await engine.open()
    assert sent(fake, "PATCH", "/indexes/tec/settings") == []
    assert await engine.get_synonyms() == [["agora", "concertation"]]
    # `tec migrate` and `tec reindex` push them, keeping the editors' synonyms.
    changed = await engine.push_settings()
    (settings,) = sent(fake, "PATCH", "/indexes/tec/settings")
    assert "synonyms" not in settings and "rankingRules" in settings
    assert set(changed) == {to_python(name) for name in settings}
    assert fake.indexes["tec"].settings["synonyms"] == {
        "agora": ["concertation"],
        "concertation": ["agora"],
    }
    await engine.close()


def to_python(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


async def test_settings_pushed_twice_are_sent_once(fake, engine):
    # Settings as code, applied idempotently: the server's answer (sets sorted, defaults
    # filled in) is compared with the gateway's settings, and only what differs is sent.
    assert len(sent(fake, "PATCH", "/indexes/tec/settings")) == 1  # the index's creation
    assert await engine.push_settings() == []
    assert len(sent(fake, "PATCH", "/indexes/tec/settings")) == 1
    # Someone changed the ranking rules by hand: only they are put back.
    fake.indexes["tec"].settings["rankingRules"] = ["words", "typo", "sort"]
    assert await engine.push_settings() == ["ranking_rules"]
    assert list(sent(fake, "PATCH", "/indexes/tec/settings")[-1]) == ["rankingRules"]
    assert fake.indexes["tec"].settings["rankingRules"][:2] == ["sort", "words"]


async def test_writes_wait_until_their_task_succeeded(fake, engine):
    await engine.upsert([doc(1, "Démocratie"), doc(2, "Budget")])
    await engine.delete(["resource-2", "event-3"])
    assert [t["status"] for t in fake.tasks.values()][-2:] == ["succeeded", "succeeded"]
    assert await engine.count() == 1


async def test_a_failed_task_is_reported_at_once_with_the_servers_code(fake, engine):
    fake.fail_next = {
        "code": "invalid_document_id",
        "message": "Document identifier `é` is invalid.",
    }
    started = time.monotonic()
    with pytest.raises(SearchUnavailable) as raised:
        await engine.upsert([doc(1, "Démocratie")])
    assert "invalid_document_id" in raised.value.message
    assert time.monotonic() - started < 5


async def test_a_canceled_task_is_reported_at_once(fake, engine):
    original = fake.enqueue

    def enqueue_then_cancel(*args: Any) -> Any:
        response = original(*args)
        fake.cancel(fake.task_uid)
        return response

    fake.enqueue = enqueue_then_cancel  # type: ignore[method-assign]
    started = time.monotonic()
    with pytest.raises(SearchUnavailable) as raised:
        await engine.delete(["resource-1"])
    assert "annulée" in raised.value.message and "task_canceled" in raised.value.message
    assert time.monotonic() - started < 5


async def test_the_consumer_records_the_servers_code_as_last_error(fake, engine):
    fake.fail_next = {"code": "index_not_found", "message": "Index `tec` not found."}
    with pytest.raises(SearchUnavailable, match="index_not_found"):
        await engine.delete(["resource-1"])


async def test_search_is_capped_at_max_total_hits_but_fetching_by_filter_is_not(fake, engine):
    await engine.upsert([doc(i, f"Fiche {i}", themes=[9], days=i) for i in range(1, 1201)])
    first = await engine.search(SearchRequest(filter=SearchFilter(themes=[9]), limit=100))
    assert first.total == 1000  # estimatedTotalHits stops at maxTotalHits
    deep = await engine.search(SearchRequest(filter=SearchFilter(themes=[9]), offset=990, limit=50))
    assert len(deep.hits) == 10
    ids = await engine.ids_with("themes", [9])
    assert len(set(ids)) == 1200
    (fetch, *_) = sent(fake, "POST", "/indexes/tec/documents/fetch")
    assert fetch["filter"] == "themes IN [9]"


async def test_a_deleted_theme_reindexes_every_linked_document_past_the_cap(fake, engine, database):
    gone = range(900_001, 901_101)  # rows the database no longer has
    await engine.upsert([doc(i, f"Fiche {i}", themes=[424242]) for i in gone])
    await apply_changes(engine, [("theme", 424242)], now=dt.datetime.now(dt.UTC))
    # Every document showing the (deleted) theme was re-read: none is in the database.
    assert await engine.count() == 0


async def test_newest_with_a_query_is_ordered_by_date(fake, engine):
    await engine.upsert(
        [
            doc(1, "Démocratie locale", days=1),
            doc(2, "Un guide", "démocratie", days=9),
            doc(3, "Démocratie sanitaire", days=5),
        ]
    )
    newest = await engine.search(SearchRequest(query="démocratie", sort=Sort.NEWEST))
    assert [h.pk for h in newest.hits] == [2, 3, 1]
    relevance = await engine.search(SearchRequest(query="démocratie"))
    assert [h.pk for h in relevance.hits][-1] == 2  # title matches first


async def test_facets_are_the_most_frequent_values(fake, engine):
    await engine.upsert(
        [doc(i, f"Fiche {i}", themes=[1 if i % 2 else 100 + i]) for i in range(1, 400)]
    )
    result = await engine.search(SearchRequest(facets=[Facet.THEME], limit=0))
    values = [f.value for f in result.facets[Facet.THEME]]
    assert values[0] == "1" and len(values) == 100


def test_query_syntax_is_sent_as_plain_words():
    assert plain_query('"démocratie culturelle" -budget') == "démocratie culturelle budget"
    assert len(plain_query(" ".join(f"mot{i}" for i in range(15))).split()) == 10
    assert plain_query("les élu·e·s") == "les qxelu"


async def test_the_search_request_pins_french(fake, engine):
    await engine.search(SearchRequest(query="x"))
    bodies = sent(fake, "POST", "/indexes/tec/search")
    assert bodies and all(body["locales"] == ["fra"] for body in bodies)


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
        yield [doc(1, "Un")]
        yield [doc(2, "Deux")]

    assert await engine.rebuild(batches()) == 2
    assert sent(fake, "POST", "/swap-indexes") == [[{"indexes": ["tec", "tec_rebuild"]}]]
    assert len(sent(fake, "PATCH", "/indexes/tec_rebuild/settings")) == 1
    assert await engine.count() == 2
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


async def test_an_exact_title_comes_first_whatever_the_ranking_rules_say(fake, engine):
    # « Le budget participatif » is the query's title (stop words aside), but Meilisearch's
    # exactness rule would not see it (its stop word took position 0) and ranks it after
    # words, typo, proximity and attribute; the double ranks by its words rule and keeps
    # ties in the order documents came, so the longer, newer titles come first there.
    await engine.upsert(
        [
            doc(1, "Budget participatif des collégiens", days=9, themes=[1]),
            doc(2, "Budget participatif et jeunesse", days=8, themes=[1]),
            doc(3, "Le budget participatif", days=1, themes=[2]),
            doc(4, "Un guide", "budget participatif", days=7, themes=[1]),
        ]
    )
    request = SearchRequest(query="budget participatif", facets=[Facet.THEME], limit=2)
    first = await engine.search(request)
    assert [h.pk for h in first.hits] == [3, 1]
    assert first.total == 4
    themes = {c.value: c.count for c in first.facets[Facet.THEME]}
    assert themes == {"1": 3, "2": 1}  # counted over the exact title and the rest
    second = await engine.search(replace(request, offset=2))
    assert [h.pk for h in second.hits] == [2, 4]
    # Sorted by date, no exact-title search: the order asked for.
    newest = await engine.search(replace(request, sort=Sort.NEWEST, limit=4))
    assert [h.pk for h in newest.hits] == [1, 2, 4, 3]


async def test_a_masculine_or_plural_form_finds_an_inclusive_word(fake, engine):
    # The dots are separators: « élu·e·s » is indexed as « élu », « e », « s », which
    # « élus » does not match (4 letters: no typo allowed). The forms of inclusive words
    # are searchable beside the text.
    await engine.upsert(
        [
            doc(1, "Les élu·e·s du conseil"),
            doc(2, "Guide", "Former les adhérent.e.s et les habitant·es"),
            doc(3, "Les élus locaux"),
        ]
    )
    for query, expected in [
        ("élus", {1, 3}),
        ("élues", {1}),
        ("habitants", {2}),
        ("adhérentes", {2}),
        ("élu·e·s", {1, 3}),
    ]:
        found = await engine.search(SearchRequest(query=query))
        assert {h.pk for h in found.hits} == expected, query
    (added, *_) = sent(fake, "POST", "/indexes/tec/documents")
    # The forms of its inclusive words, then the inclusive key of each word (stop words
    # left out).
    assert added[0]["title_forms"] == "élu élue élus élues qxelu qxconseil"
    # The key the embedded engine compares a query's with (an exact title match).
    assert added[0]["title_key"] == title_key("Les élu·e·s du conseil") == "elu e conseil"


async def test_an_inclusive_query_word_finds_every_form_written_plainly(fake, engine):
    # Sent as its inclusive key, which every form of the word carries, in the title's
    # attribute of forms or the text's, whatever the word's place in the query.
    await engine.upsert(
        [
            doc(1, "Former les élu·e·s"),
            doc(2, "Une élue témoigne"),
            doc(3, "Les actrices culturelles"),
            doc(4, "Les acteur·rice·s du territoire"),
            doc(5, "Portrait", "Des élus et des acteurs du territoire"),
            doc(6, "Les électeurs"),
        ]
    )
    assert plain_query("les élu·e·s du territoire") == "les qxelu du territoire"
    for query, expected in [
        ("élu·e·s ", {1, 2, 5}),
        ("élu·e·s du territoire", {5}),
        ("acteur·rice·s ", {3, 4, 5}),
        ("acteur·rice·s du territoire ", {4, 5}),
        ("actrices", {3, 4}),
    ]:
        found = await engine.search(SearchRequest(query=query))
        assert {h.pk for h in found.hits} == expected, query
    # Meilisearch highlights no form the key found: the adapter marks them.
    found = await engine.search(SearchRequest(query="acteur·rice·s "))
    titles = {h.pk: h.title_html for h in found.hits}
    assert titles[3] == "Les <mark>actrices</mark> culturelles"
    assert titles[4] == "Les <mark>acteur</mark>·rice·s du territoire"


# A plain word finding another plain word a letter away is Meilisearch's typo tolerance,
# which the double does not model (the contract suite checks these on a real server).
BY_TYPO = {"élues": "« élue » (207)", "citoyennes": "« citoyenne » (201)"}


@pytest.mark.parametrize(
    ("query", "expected"), [(q, e) for q, e in INCLUSIVE_CASES if q not in BY_TYPO]
)
async def test_the_contracts_inclusive_writing_cases(fake, engine, query, expected):
    await engine.upsert(INCLUSIVE_CORPUS)
    found = await engine.search(SearchRequest(query=f"{query} "))
    assert {h.pk for h in found.hits} == expected
