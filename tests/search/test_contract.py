"""The search port's contract: every engine passes these same tests.

The embedded engine always runs them. The Meilisearch half runs against a real server
when ``TEC_MEILI_URL`` is set (``TEC_MEILI_API_KEY`` for its key) and is skipped
otherwise, saying so.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from search.port import Facet, SearchFilter, SearchRequest, Sort

DAY = 86_400
BASE = 1_650_000_000  # April 2022


def doc(pk: int, title: str, text: str = "", *, days: int = 0, **fields: Any) -> dict:
    return {
        "id": f"resource-{pk}",
        "type": fields.pop("type", "resource"),
        "pk": pk,
        "status": "PUBLISHED",
        "title": title,
        "text": text,
        "names": fields.pop("names", ""),
        "themes": fields.pop("themes", []),
        "territories": fields.pop("territories", []),
        "organizations": fields.pop("organizations", []),
        "kind": fields.pop("kind", "GUIDE"),
        "audience": fields.pop("audience", "ALL"),
        "format": fields.pop("format", None),
        "year": fields.pop("year", 2022),
        "date": BASE + days * DAY,
    }


CORPUS = [
    doc(1, "La démocratie culturelle", "Les droits culturels des habitants.", days=1, themes=[1]),
    doc(2, "Un guide pratique", "Comment faire vivre la démocratie locale.", days=5, themes=[2]),
    doc(3, "Démocratie sanitaire", "Santé et citoyens.", days=3, themes=[1, 2], kind="DOSSIER"),
    doc(
        4,
        "Budget participatif de Grenoble",
        "Une démarche participative.",
        days=2,
        themes=[2],
        territories=[7],
        year=2021,
    ),
    doc(
        5,
        "Conseil des ados",
        "La participation des adolescents à la vie locale.",
        days=4,
        kind="NEWS",
        audience="CITIZENS",
    ),
    doc(6, "Fusion des communes", "Une intercommunalité qui consulte ses habitants.", days=6),
    doc(
        7,
        "Concertation préalable",
        "Garant désigné par la Commission nationale du débat public.",
        days=7,
        kind="REPORT",
    ),
    doc(
        8,
        "Atelier d'écriture",
        "Raconter son quartier.",
        days=8,
        type="event",
        kind=None,
        audience=None,
        format="TRAINING",
        organizations=[3],
    ),
]


async def _embedded(tmp_path: Path) -> Any:
    from search.tantivy_engine import TantivyEngine

    engine = TantivyEngine(tmp_path / "contract", writer_heap_mb=32)
    await engine.open()
    return engine


async def _meilisearch() -> Any:
    url = os.environ.get("TEC_MEILI_URL", "")
    if not url:
        pytest.skip("Meilisearch half of the contract skipped: TEC_MEILI_URL is not set")
    from search.meilisearch_engine import MeilisearchEngine

    engine = MeilisearchEngine(
        url,
        api_key=os.environ.get("TEC_MEILI_API_KEY", ""),
        index_uid=f"tec_contract_{uuid.uuid4().hex[:8]}",
    )
    await engine.open()
    return engine


@pytest.fixture(params=["embedded", "meilisearch"])
async def engine(request: Any, tmp_path: Path) -> AsyncIterator[Any]:
    built = await (_embedded(tmp_path) if request.param == "embedded" else _meilisearch())
    await built.upsert(CORPUS)
    yield built
    if request.param == "meilisearch":
        client = built._require()
        await client.delete_index_if_exists(built.index_uid)
    await built.close()


async def pks(engine: Any, query: str = "", **options: Any) -> list[int]:
    result = await engine.search(SearchRequest(query=query, **options))
    return [h.pk for h in result.hits]


async def test_accents_are_ignored(engine):
    assert set(await pks(engine, "democratie")) == {1, 2, 3}
    assert set(await pks(engine, "DÉMOCRATIE")) == {1, 2, 3}


async def test_stemming_finds_other_forms(engine):
    assert {4} <= set(await pks(engine, "participatif"))
    assert {4, 5} <= set(await pks(engine, "participative"))


async def test_typos_by_word_length(engine):
    assert set(await pks(engine, "democracie")) == {1, 2, 3}  # one typo, 10 letters
    assert {5} <= set(await pks(engine, "partisipasion"))  # two typos, 13 letters
    assert await pks(engine, "budjet") == [4]  # one typo, 6 letters
    assert await pks(engine, "conseul") == [5]
    assert await pks(engine, "fuzion") == [6]
    assert await pks(engine, "vite") == []  # 4 letters: no typo allowed (« vie »…)


async def test_prefix_of_the_last_word_as_you_type(engine):
    assert {4, 5} <= set(await pks(engine, "particip"))
    assert await pks(engine, "budget partic") == [4]


async def test_synonyms_both_ways(engine):
    assert await pks(engine, "EPCI") == [6]
    assert 5 in await pks(engine, "adolescent")
    assert 5 in await pks(engine, "ado")
    assert await pks(engine, "CNDP") == [7]


async def test_synonyms_are_editable(engine):
    assert await pks(engine, "agora") == []
    groups = await engine.get_synonyms()
    await engine.set_synonyms([*groups, ["agora", "concertation"]])
    await asyncio.sleep(0)
    assert await pks(engine, "agora") == [7]
    assert ["agora", "concertation"] in [sorted(g) for g in await engine.get_synonyms()]


async def test_stop_words_do_not_narrow_a_search(engine):
    assert set(await pks(engine, "la démocratie")) == set(await pks(engine, "democratie"))


async def test_title_matches_rank_first_then_newest(engine):
    found = await pks(engine, "démocratie")
    # 3 and 1 match in the title (3 is newer), 2 only in its text.
    assert found == [3, 1, 2]


async def test_filters_and_facets_on_the_filtered_result(engine):
    result = await engine.search(
        SearchRequest(
            query="democratie",
            filter=SearchFilter(themes=[2]),
            facets=[Facet.THEME, Facet.KIND, Facet.YEAR, Facet.TYPE],
        )
    )
    assert {h.pk for h in result.hits} == {2, 3}
    assert result.total == 2
    themes = {f.value: f.count for f in result.facets[Facet.THEME]}
    assert themes == {"1": 1, "2": 2}
    assert {f.value: f.count for f in result.facets[Facet.KIND]} == {"GUIDE": 1, "DOSSIER": 1}
    assert {f.value: f.count for f in result.facets[Facet.YEAR]} == {"2022": 2}
    assert {f.value: f.count for f in result.facets[Facet.TYPE]} == {"resource": 2}


async def test_every_filter_field(engine):
    assert await pks(engine, filter=SearchFilter(types=["event"])) == [8]
    assert await pks(engine, filter=SearchFilter(formats=["TRAINING"])) == [8]
    assert await pks(engine, filter=SearchFilter(organizations=[3])) == [8]
    assert await pks(engine, filter=SearchFilter(territories=[7])) == [4]
    assert await pks(engine, filter=SearchFilter(years=[2021])) == [4]
    assert await pks(engine, filter=SearchFilter(audiences=["CITIZENS"])) == [5]
    assert await pks(engine, filter=SearchFilter(kinds=["NEWS", "REPORT"])) == [7, 5]
    assert await pks(engine, filter=SearchFilter(themes=[999])) == []


async def test_sorts_and_pages(engine):
    newest = await pks(engine, limit=100)
    assert newest == [8, 7, 6, 2, 5, 3, 4, 1]
    assert await pks(engine, sort=Sort.OLDEST, limit=100) == newest[::-1]
    assert await pks(engine, "democratie", sort=Sort.NEWEST) == [2, 3, 1]
    first = await engine.search(SearchRequest(limit=3))
    second = await engine.search(SearchRequest(limit=3, offset=3))
    assert first.total == second.total == len(CORPUS)
    assert [h.pk for h in first.hits + second.hits] == newest[:6]


async def test_highlights_are_escaped_and_marked(engine):
    await engine.upsert([doc(9, "<script>Démocratie</script> & co", "x")])
    result = await engine.search(SearchRequest(query="democratie", filter=SearchFilter()))
    hit = next(h for h in result.hits if h.pk == 9)
    assert "<script>" not in hit.title_html
    assert "<mark>Démocratie</mark>" in hit.title_html
    assert "&amp;" in hit.title_html
    snippet = next(h for h in result.hits if h.pk == 2).snippet_html
    assert "<mark>démocratie</mark>" in snippet


@pytest.mark.parametrize(
    "query", ['"', "democratie:", "(", "*", 'title:"x', "a AND OR NOT", "\\", "  ", "[1 TO 2]"]
)
async def test_query_syntax_characters_are_plain_text(engine, query):
    result = await engine.search(SearchRequest(query=query))
    assert result.total >= 0


async def test_upsert_is_idempotent_and_delete_removes(engine):
    await engine.upsert(CORPUS[:3])
    await engine.upsert(CORPUS[:3])
    assert await engine.count() == len(CORPUS)
    await engine.delete(["resource-1", "resource-404"])
    assert await engine.count() == len(CORPUS) - 1
    assert 1 not in await pks(engine, "democratie")


async def test_rebuild_swaps_while_search_answers(engine):
    async def batches():
        for start in range(0, 4):
            # Search answers from the old index while the new one is being built.
            assert set(await pks(engine, "democratie")) == {1, 2, 3}
            yield [doc(100 + start, f"Nouvelle démocratie {start}", days=start)]

    written = []
    total = await engine.rebuild(batches(), progress=written.append)
    assert total == 4 and sum(written) == 4
    assert await engine.count() == 4
    assert set(await pks(engine, "democratie")) == {100, 101, 102, 103}


INCLUSIVE_CORPUS = [
    doc(201, "La participation citoyenne des adolescent.e.s", "Un conseil de jeunes.", days=1),
    doc(202, "Former les élu·e·s", "Une formation.", days=2),
    doc(203, "Les acteur·rice·s du territoire", "Qui fait quoi.", days=3),
    doc(204, "Parole de citoyen(ne)s", "Des témoignages.", days=4),
    doc(205, "Réunion des habitant·es", "Un compte rendu.", days=5),
    doc(206, "Les actrices culturelles", "Portraits.", days=6),
    doc(207, "Une élue témoigne", "Entretien.", days=7),
]


INCLUSIVE_CASES = [
    ("adolescent", {201}),
    ("adolescentes", {201}),
    ("adolescents", {201}),
    ("adolescent·e·s", {201}),
    ("adolescent.e.s", {201}),
    ("élus", {202}),
    ("élues", {202, 207}),
    ("elu·e·s", {202, 207}),
    ("actrice", {203, 206}),
    ("acteurs", {203}),
    ("acteur·rice·s", {203, 206}),
    ("citoyennes", {201, 204}),
    ("citoyen", {201, 204}),
    ("habitantes", {205}),
    ("habitant", {205}),
    ("habitant·e·s", {205}),
]
"""A query, then the documents of ``INCLUSIVE_CORPUS`` it finds."""


@pytest.mark.parametrize(("query", "expected"), INCLUSIVE_CASES)
async def test_inclusive_writing_finds_and_is_found_by_every_form(engine, query, expected):
    await engine.delete([d["id"] for d in CORPUS])
    await engine.upsert(INCLUSIVE_CORPUS)
    assert set(await pks(engine, f"{query} ")) == expected


async def test_a_whole_title_match_ranks_first_whatever_its_type_and_age(engine):
    await engine.upsert(
        [
            doc(301, "Les droits culturels", "Le thème.", days=-100, type="theme"),
            doc(302, "Droits culturels : un guide", "Un guide récent.", days=50),
        ]
    )
    found = await engine.search(SearchRequest(query="droits culturels"))
    assert [(h.type, h.pk) for h in found.hits] == [
        ("theme", 301),
        ("resource", 302),
        ("resource", 1),
    ]
    second = await engine.search(SearchRequest(query="droits culturels", offset=1, limit=1))
    assert [h.pk for h in second.hits] == [302]


async def test_ids_with_a_facet_value_are_all_listed(engine):
    many = [doc(1000 + i, f"Fiche {i}", themes=[77], days=i % 30) for i in range(1100)]
    await engine.upsert(many)
    ids = await engine.ids_with("themes", [77, 1])
    assert len(ids) == len(set(ids)) == 1100 + 2  # resource-1 and resource-3 are in theme 1
    assert {"resource-1000", "resource-2099", "resource-1", "resource-3"} <= set(ids)


async def test_newest_orders_a_query_by_date(engine):
    # 2 matches in its text only, yet is the newest: NEWEST puts it first.
    assert await pks(engine, "démocratie", sort=Sort.NEWEST) == [2, 3, 1]


async def test_quotes_and_leading_hyphens_are_plain_words(engine):
    plain = set(await pks(engine, "démocratie sanitaire"))
    assert set(await pks(engine, '"sanitaire démocratie"')) == plain
    assert set(await pks(engine, "-sanitaire démocratie")) == plain


async def test_only_the_first_ten_words_of_a_query_count(engine):
    ten = "budget participatif grenoble demarche participative " * 2
    assert await pks(engine, ten + "introuvable") == [4]
