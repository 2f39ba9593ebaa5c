"""The embedded engine's own expansion of typos and prefixes (``search/vocabulary.py``) and
its paging by relevance bucket: both must answer exactly what tantivy's fuzzy queries and
the scored query over every match answer."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest
import tantivy

from search.port import SearchFilter, SearchRequest
from search.tantivy_engine import TantivyEngine
from search.vocabulary import FILE_NAME, TermCollector, Vocabulary, VocabularyFile
from tests.search.test_contract import doc


def _fuzzy_reference(terms: list[str]) -> tuple[tantivy.Searcher, tantivy.Schema]:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("term", stored=True, tokenizer_name="raw")
    schema = builder.build()
    index = tantivy.Index(schema)
    writer = index.writer(15_000_000, 1)
    for term in terms:
        writer.add_document(tantivy.Document(term=term))
    writer.commit()
    index.reload()
    return index.searcher(), schema


def test_typos_are_the_terms_tantivy_fuzzy_queries_find():
    rng = random.Random(7)
    # A small alphabet makes many near neighbours: substitutions, insertions, deletions,
    # transpositions, at both ends and in the middle.
    terms = sorted({"".join(rng.choices("abcde", k=rng.randint(3, 12))) for _ in range(3000)})
    vocabulary = Vocabulary(terms)
    searcher, schema = _fuzzy_reference(terms)
    for _ in range(150):
        word = rng.choice(terms) if rng.random() < 0.5 else "".join(rng.choices("abcde", k=9))
        for budget in (1, 2):
            if len(word) < 3:
                continue
            query = tantivy.Query.fuzzy_term_query(schema, "term", word, distance=budget)
            found = searcher.search(query, limit=len(terms)).hits
            expected = {searcher.doc(address).get_first("term") for _score, address in found}
            assert set(vocabulary.within_typos(word, budget)) == expected, (word, budget)


def test_prefixes_and_additions():
    vocabulary = Vocabulary(["participation", "partage", "budget"])
    assert vocabulary.with_prefix("part") == ["partage", "participation"]
    assert vocabulary.add(["participatif", "budget", "participatif"]) == ["participatif"]
    assert vocabulary.with_prefix("partici") == ["participatif", "participation"]
    assert vocabulary.within_typos("budjet", 1) == ("budget",)
    assert vocabulary.add(["budgets"]) == ["budgets"]
    assert vocabulary.within_typos("budjet", 1) == ("budget",)  # cache emptied on add
    assert vocabulary.within_typos("budget", 1) == ("budget", "budgets")
    assert "budgets" in vocabulary and len(vocabulary) == 5


def test_the_file_is_followed_line_by_line(tmp_path: Path):
    reader, writer = VocabularyFile(tmp_path), VocabularyFile(tmp_path)
    assert reader.refresh() is None
    writer.create(["democratie"])
    assert list(reader.refresh().with_prefix("")) == ["democratie"]
    writer.append(["culture", "budget"])
    with (tmp_path / FILE_NAME).open("a", encoding="utf-8") as file:
        file.write("partial")  # a line still being written
    assert reader.refresh().with_prefix("") == ["budget", "culture", "democratie"]
    with (tmp_path / FILE_NAME).open("a", encoding="utf-8") as file:
        file.write("ly\n")
    assert "partially" in reader.refresh()
    writer.create(["autre"])  # replaced: read again from the start
    assert reader.refresh().with_prefix("") == ["autre"]


def test_collected_terms_are_the_fold_analyzers():
    from search.tantivy_query import analyzer

    collector = TermCollector(analyzer(stem=False).analyze)
    texts = ["L'Écologie, c'est « cœur » d'ÉPCI_2 !", "démocratie\tparticipative\nécologie"]
    expected = {t for text in texts for t in analyzer(stem=False).analyze(text)}
    assert collector.terms(texts) == expected
    assert {"ecologie", "coeur", "epci", "democratie"} <= expected


async def test_a_generation_without_vocabulary_still_finds_typos_and_gets_one(tmp_path: Path):
    engine = TantivyEngine(tmp_path / "legacy", writer_heap_mb=32)
    await engine.open()
    await engine.upsert([doc(1, "Budget participatif", "Une démarche participative.")])
    generation = tmp_path / "legacy" / engine.generation
    (generation / FILE_NAME).unlink()  # as built before vocabulary files existed
    await engine.close()
    reader = TantivyEngine(tmp_path / "legacy", writer_heap_mb=32)
    await reader.open()
    assert [h.pk for h in (await reader.search(SearchRequest(query="budjet"))).hits] == [1]
    assert [h.pk for h in (await reader.search(SearchRequest(query="partic"))).hits] == [1]
    assert not (generation / FILE_NAME).exists()
    await reader.upsert([doc(2, "Conseil de quartier", "Démocratie locale.")])  # the writer
    assert "participatif" in reader._vocabulary_file.vocabulary
    assert "quartier" in VocabularyFile(generation).refresh()
    assert [h.pk for h in (await reader.search(SearchRequest(query="quartiers"))).hits] == [2]
    await reader.close()


WORDS = ["democratie", "participative", "budget", "culture", "conseil", "quartier", "ados"]


@pytest.fixture
async def corpus_engine(tmp_path: Path) -> Any:
    rng = random.Random(3)
    documents = [
        doc(
            pk,
            " ".join(rng.choices(WORDS, k=rng.randint(1, 3))),
            " ".join(rng.choices(WORDS, k=rng.randint(0, 6))),
            days=30 * rng.randint(0, 300),  # f32 scores tell months apart, not always days
            themes=[rng.randint(1, 3)],
        )
        for pk in range(1, 301)
    ]
    engine = TantivyEngine(tmp_path / "corpus", writer_heap_mb=32)
    await engine.open()
    await engine.upsert(documents)
    yield engine
    await engine.close()
    shutil.rmtree(tmp_path / "corpus", ignore_errors=True)


@pytest.mark.parametrize(
    "query", ["democratie", "budget culture", "democratie participative", "conseil quart", "ado"]
)
async def test_pages_from_the_best_bucket_equal_the_full_ranking(corpus_engine, query):
    async def page(limit: int, offset: int = 0, **options: Any) -> list[int]:
        request = SearchRequest(query=query, limit=limit, offset=offset, **options)
        return [h.pk for h in (await corpus_engine.search(request)).hits]

    everything = await page(300)  # more than the best bucket: the scored pass
    assert len(everything) > 20
    paged = [pk for offset in range(0, len(everything), 5) for pk in await page(5, offset)]
    assert paged == everything
    filtered = SearchFilter(themes=[2])
    assert await page(5, filter=filtered) == (await page(300, filter=filtered))[:5]
