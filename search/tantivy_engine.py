"""The embedded search engine: a tantivy index in a directory, no server.

Layout of ``root``: one directory per index generation (``gen-…``, holding the tantivy
index and its ``vocabulary.txt``, see ``search/vocabulary.py``), a ``CURRENT`` file naming
the live one, and ``synonyms.json``. A rebuild writes a new generation beside the
live one and then replaces ``CURRENT`` atomically, so searches keep answering meanwhile;
every process notices the new ``CURRENT`` on its next call and switches.

tantivy lets one process at a time hold an index's writer (a lock file). The outbox
consumer is that writer; ``try_acquire_writer`` is how consumers in several processes
elect one. Readers in other processes see its commits (reload on commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import tantivy

from search.french import DEFAULT_SYNONYMS, inclusive_expansion, normalize_synonyms
from search.highlight import Matcher, highlight, snippet
from search.port import (
    LABELLED,
    Document,
    Facet,
    FacetCount,
    Progress,
    SearchFilter,
    SearchHit,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    Sort,
    Suggestion,
    SynonymGroups,
    decode_label,
    encode_label,
    label_field,
)
from search.tantivy_query import (
    FOLD_FIELDS,
    TEXT_FIELDS,
    TITLE_KEY,
    UNSIGNED_FIELDS,
    QueryBuilder,
    analyzer,
    title_key,
)
from search.vocabulary import TermCollector, VocabularyFile

logger = logging.getLogger("tec.search")

SCHEMA_VERSION = 3  # 2: inclusive words with their forms, the title key; 3: facet labels
# Ties on relevance go to the newest: score × log2(2 + recency), recency ∈ [0, 0.0069]
# keeps that factor under 1.005, below the gap between two relevance levels (and the
# page is re-sorted by level then date, which f32 scores cannot always tell apart).
_RECENCY_SPAN = 0.0069
_EPOCH_START = 946_684_800  # 2000-01-01
_EPOCH_END = 4_102_444_800  # 2100-01-01
_KEYWORDS = ("type", "kind", "audience", "format")
_FACET_SIZE = 100  # Meilisearch's default maxValuesPerFacet
_TOTAL = "total_hits"  # the aggregation that counts the matches


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in _KEYWORDS:
        builder.add_text_field(name, stored=name == "type", fast=True, tokenizer_name="raw")
    for name in UNSIGNED_FIELDS:
        builder.add_unsigned_field(name, stored=name == "pk", indexed=True, fast=True)
    builder.add_integer_field("date", stored=True, indexed=True, fast=True)
    builder.add_float_field("recency", fast=True)
    builder.add_text_field(TITLE_KEY, tokenizer_name="raw")
    for facet in LABELLED:  # "id:label" of each value, counted instead of the ids
        builder.add_text_field(label_field(facet), fast=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, stored=name != "names", tokenizer_name="fr_stem")
        builder.add_text_field(f"{name}_fold", tokenizer_name="fr_fold")
    return builder.build()


class TantivyEngine:
    """``SearchEngine`` on an embedded tantivy index (see the module docstring)."""

    name = "embedded"

    def __init__(self, root: Path | str, *, writer_heap_mb: int = 64) -> None:
        self.root = Path(root)
        self.writer_heap = writer_heap_mb * 1_000_000
        self.schema = _schema()
        self._queries = QueryBuilder(self.schema)
        self._collector = TermCollector(analyzer(stem=False).analyze)
        self._vocabulary_file: VocabularyFile | None = None
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._generation: str | None = None
        self._current_stamp: tuple[int, int] | None = None
        self._synonyms: SynonymGroups = []
        self._synonym_stamp: tuple[int, int] | None = None
        self._lock = threading.RLock()
        self._closed = True

    # --- life cycle ---------------------------------------------------------------------

    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            if not self._read_current():
                generation = self._new_generation_name()
                index = self._make_index(self.root / generation)
                del index
                VocabularyFile(self.root / generation).create([])
                self._write_current(generation)
            if not (self.root / "synonyms.json").exists():
                self._write_synonyms(normalize_synonyms(DEFAULT_SYNONYMS))
            self._closed = False
            self._follow_current(force=True)

    async def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop_writer()
            self._index = None
            self._generation = None

    def _make_index(self, path: Path) -> tantivy.Index:
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(self.schema, path=str(path), reuse=True)
        index.register_tokenizer("fr_stem", analyzer(stem=True))
        index.register_tokenizer("fr_fold", analyzer(stem=False))
        return index

    @staticmethod
    def _new_generation_name() -> str:
        return f"gen-{time.time_ns()}"

    def _read_current(self) -> str | None:
        try:
            data = json.loads((self.root / "CURRENT").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("schema") != SCHEMA_VERSION or not (self.root / data["generation"]).is_dir():
            return None
        return str(data["generation"])

    def _write_current(self, generation: str) -> None:
        payload = json.dumps({"generation": generation, "schema": SCHEMA_VERSION})
        _atomic_write(self.root / "CURRENT", payload)

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int] | None:
        try:
            info = path.stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_ino

    def _follow_current(self, *, force: bool = False) -> None:
        """Switch to the generation ``CURRENT`` names if another process swapped it."""
        if self._closed:
            raise SearchUnavailable("Le moteur de recherche est fermé.")
        stamp = self._stamp(self.root / "CURRENT")
        if force or stamp != self._current_stamp:
            generation = self._read_current()
            if generation is None:
                raise SearchUnavailable("Index de recherche introuvable : lancez `tec reindex`.")
            if generation != self._generation:
                self._drop_writer()
                self._index = self._make_index(self.root / generation)
                self._generation = generation
                self._vocabulary_file = VocabularyFile(self.root / generation)
            self._current_stamp = stamp
        assert self._vocabulary_file is not None
        self._vocabulary_file.refresh()
        synonyms_stamp = self._stamp(self.root / "synonyms.json")
        if force or synonyms_stamp != self._synonym_stamp:
            try:
                raw = json.loads((self.root / "synonyms.json").read_text("utf-8"))
                self._synonyms = normalize_synonyms(raw)
            except (OSError, ValueError):
                self._synonyms = []
            self._synonym_stamp = synonyms_stamp

    def _live(self) -> tantivy.Index:
        self._follow_current()
        assert self._index is not None
        return self._index

    @property
    def generation(self) -> str | None:
        return self._generation

    # --- the writer (one process at a time) ---------------------------------------------

    def _drop_writer(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.rollback()
            self._writer = None

    def _get_writer(self) -> tantivy.IndexWriter:
        index = self._live()
        if self._writer is None:
            try:
                self._writer = index.writer(self.writer_heap, 1)
            except ValueError as error:
                raise SearchUnavailable(
                    "Un autre processus écrit dans l'index de recherche."
                ) from error
            vocabulary = self._vocabulary_file
            if vocabulary is not None and vocabulary.refresh() is None:
                # A generation built before vocabulary files: list its terms once (the
                # writer lock is held, so no commit can slip between). Until then, and if
                # that fails, searches expand typos with tantivy's fuzzy queries.
                index.reload()
                searcher = index.searcher()
                listed = {t for f in FOLD_FIELDS for t, _ in searcher.terms_with_prefix(f, "")}
                try:
                    vocabulary.create(sorted(listed))
                except OSError as error:
                    logger.warning("search vocabulary not written: %s", error)
        return self._writer

    async def try_acquire_writer(self) -> bool:
        """Become the index's one writer if no other process is (see module docstring)."""

        def attempt() -> bool:
            with self._lock:
                try:
                    self._get_writer()
                except SearchUnavailable:
                    return False
                return True

        return await asyncio.to_thread(attempt)

    def _to_tantivy(self, doc: Document) -> tantivy.Document:
        fields: dict[str, Any] = {
            "id": doc["id"],
            "type": doc["type"],
            "pk": doc["pk"],
            "date": doc["date"],
            "recency": _recency(doc["date"]),
            "themes": doc["themes"],
            "territories": doc["territories"],
            "organizations": doc["organizations"],
            "year": doc["year"],
            TITLE_KEY: title_key(doc.get("title") or ""),
        }
        for name in ("kind", "audience", "format"):
            if doc.get(name):
                fields[name] = doc[name]
        for facet in LABELLED:
            # Every value, labelled or not (an empty label: the caller looks it up).
            known = {v.partition(":")[0]: v for v in doc.get(label_field(facet)) or ()}
            values = [known.get(str(pk)) or encode_label(pk, "") for pk in doc[facet.value]]
            if values:
                fields[label_field(facet)] = values
        for name in TEXT_FIELDS:
            text = doc.get(name) or ""
            # Inclusive words are indexed as written and, in a second value, as each of
            # their forms (« élu·e·s » → élu élue élus élues); the first value is shown.
            forms = inclusive_expansion(text)
            fields[name] = fields[f"{name}_fold"] = [text, forms] if forms else text
        return tantivy.Document.from_dict(fields, self.schema)

    def _terms_of(self, documents: Sequence[Document]) -> set[str]:
        texts = [d.get(name) or "" for d in documents for name in TEXT_FIELDS]
        return self._collector.terms([*texts, *(inclusive_expansion(t) for t in texts)])

    async def upsert(self, documents: Sequence[Document]) -> None:
        if documents:
            await asyncio.to_thread(self._write, documents, [d["id"] for d in documents])

    async def delete(self, ids: Sequence[str]) -> None:
        if ids:
            await asyncio.to_thread(self._write, [], list(ids))

    def _write(self, documents: Sequence[Document], deletions: list[str]) -> None:
        with self._lock:
            writer = self._get_writer()
            vocabulary = self._vocabulary_file
            try:
                if vocabulary is not None and vocabulary.vocabulary is not None and documents:
                    # Before the commit: a reader never sees a document without its words.
                    known = vocabulary.vocabulary
                    vocabulary.append(
                        sorted(t for t in self._terms_of(documents) if t not in known)
                    )
                    vocabulary.refresh()
                for doc_id in deletions:
                    writer.delete_documents_by_term("id", doc_id)
                for doc in documents:
                    writer.add_document(self._to_tantivy(doc))
                writer.commit()
            except (ValueError, OSError, RuntimeError) as error:
                self._drop_writer()
                raise SearchUnavailable(f"Écriture dans l'index impossible : {error}") from error
            assert self._index is not None
            self._index.reload()

    async def rebuild(
        self, batches: AsyncIterator[list[Document]], *, progress: Progress | None = None
    ) -> int:
        if self._closed:
            raise SearchUnavailable("Le moteur de recherche est fermé.")
        generation = self._new_generation_name()
        index = await asyncio.to_thread(self._make_index, self.root / generation)
        writer = index.writer(max(self.writer_heap, 128_000_000), 0)

        def add_all(target: tantivy.IndexWriter, batch: list[Document]) -> set[str]:
            for document in [self._to_tantivy(d) for d in batch]:
                target.add_document(document)
            return self._terms_of(batch)

        total = 0
        terms: set[str] = set()
        try:
            async for batch in batches:
                terms |= await asyncio.to_thread(add_all, writer, batch)
                total += len(batch)
                if progress:
                    progress(len(batch))
            await asyncio.to_thread(writer.commit)
            await asyncio.to_thread(writer.wait_merging_threads)
            await asyncio.to_thread(VocabularyFile(self.root / generation).create, sorted(terms))
        except BaseException:
            del writer, index
            shutil.rmtree(self.root / generation, ignore_errors=True)
            raise
        del writer, index
        with self._lock:
            previous = self._read_current()
            self._write_current(generation)
            self._follow_current()
            keep = {generation, previous}
            for path in self.root.glob("gen-*"):
                if path.name not in keep:
                    shutil.rmtree(path, ignore_errors=True)
        return total

    # --- reading ------------------------------------------------------------------------

    async def count(self) -> int:
        def run() -> int:
            with self._lock:
                index = self._live()
            return index.searcher().num_docs

        return await asyncio.to_thread(run)

    async def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        with self._lock:
            index = self._live()
            synonyms = self._synonyms
            vocabulary = self._vocabulary_file.vocabulary if self._vocabulary_file else None
        text = self._queries.text_query(prefix, synonyms, vocabulary)
        if text is None or limit <= 0:
            return []
        # Only titles: the documents whose title holds every word (``top``), the whole
        # title first; no count, no score, no highlighting — a search box asks per key.
        searcher = index.searcher()
        found = searcher.search(text.exact, count=False, order_by_field="date", limit=limit).hits
        if len(found) < limit:
            rest = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, text.top), (tantivy.Occur.MustNot, text.exact)]
            )
            found += searcher.search(
                rest, count=False, order_by_field="date", limit=limit - len(found)
            ).hits
        documents = [searcher.doc(address) for _date, address in found]
        return [
            Suggestion(
                type=d.get_first("type"), pk=int(d.get_first("pk")), title=d.get_first("title")
            )
            for d in documents
        ]

    async def ids_with(self, field: str, values: Sequence[int]) -> list[str]:
        def run() -> list[str]:
            with self._lock:
                index = self._live()
            searcher = index.searcher()
            request = SearchRequest(filter=SearchFilter(**{field: list(values)}))
            query = self._queries.with_filters(tantivy.Query.all_query(), request)
            found = searcher.search(query, limit=max(1, searcher.num_docs), count=False)
            return [searcher.doc(address).get_first("id") for _score, address in found.hits]

        return await asyncio.to_thread(run)

    async def get_synonyms(self) -> SynonymGroups:
        with self._lock:
            self._follow_current()
            return [list(g) for g in self._synonyms]

    async def set_synonyms(self, groups: SynonymGroups) -> None:
        with self._lock:
            self._write_synonyms(normalize_synonyms(groups))
            self._follow_current(force=True)

    def _write_synonyms(self, groups: SynonymGroups) -> None:
        _atomic_write(self.root / "synonyms.json", json.dumps(groups, ensure_ascii=False))

    async def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        with self._lock:
            index = self._live()
            synonyms = self._synonyms
            vocabulary = self._vocabulary_file.vocabulary if self._vocabulary_file else None
        searcher = index.searcher()
        text = self._queries.text_query(request.query, synonyms, vocabulary)
        matches = text.query if text else tantivy.Query.all_query()
        query = self._queries.with_filters(matches, request)
        # Two passes over the matches, side by side (tantivy releases the GIL): the page
        # of hits, and the total with the facet counts.
        counting = asyncio.to_thread(self._count_and_facets, searcher, query, request.facets)
        if request.limit > 0:
            best = exact = None
            if text and request.sort is Sort.RELEVANCE:
                best = self._queries.with_filters(text.top, request)
                exact = self._queries.with_filters(text.exact, request)
            page = asyncio.to_thread(
                self._page, searcher, query, best, exact, request, text.matcher if text else None
            )
            hits, (total, facets) = await asyncio.gather(page, counting)
        else:
            hits, (total, facets) = [], await counting
        elapsed = (time.perf_counter() - started) * 1000
        return SearchResult(hits=hits, total=total, facets=facets, processing_ms=elapsed)

    @staticmethod
    def _page(
        searcher: tantivy.Searcher,
        query: tantivy.Query,
        best: tantivy.Query | None,
        exact: tantivy.Query | None,
        request: SearchRequest,
        matcher: Matcher | None,
    ) -> list[SearchHit]:
        """The requested page: by date, or by relevance (``best`` given) then date.

        By relevance, documents whose whole title is the query (``exact``, of any type)
        come first, then those with the best possible score (``best``), newest first:
        when there are enough of them to fill the page, they are the page, and the
        scored pass over every match (where an exact title scores above any other
        document) is not needed."""
        window = {"limit": request.limit, "offset": request.offset}
        order = tantivy.Order.Asc if request.sort is Sort.OLDEST else tantivy.Order.Desc
        exact_hits: list[Any] = []
        if best is not None and exact is not None:
            found = searcher.search(
                exact, count=True, order_by_field="date", limit=request.limit + request.offset
            )
            exact_hits = found.hits[request.offset :]
            rest_offset = max(0, request.offset - int(found.count or 0))
            best = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, best), (tantivy.Occur.MustNot, exact)]
            )
            window = {"limit": request.limit - len(exact_hits), "offset": rest_offset}
        by_date = exact_hits + (
            searcher.search(
                best or query, count=False, order_by_field="date", order=order, **window
            ).hits
            if window["limit"] > 0
            else []
        )
        if best is None or len(by_date) == request.limit:
            documents = [searcher.doc(address) for _date, address in by_date]
        else:
            window = {"limit": request.limit, "offset": request.offset}
            scored = searcher.search(query, count=False, weight_by_field="recency", **window).hits
            # f32 scores cannot always tell two dates apart: sort on level, then date.
            found = sorted(
                ((score, searcher.doc(address)) for score, address in scored),
                key=lambda pair: (-round(pair[0]), -(pair[1].get_first("date") or 0)),
            )
            documents = [doc for _score, doc in found]
        return [
            SearchHit(
                type=doc.get_first("type"),
                pk=int(doc.get_first("pk")),
                title_html=highlight(doc.get_first("title") or "", matcher),
                snippet_html=snippet(doc.get_first("text") or "", matcher),
            )
            for doc in documents
        ]

    @staticmethod
    def _count_and_facets(
        searcher: tantivy.Searcher, query: tantivy.Query, facets: Sequence[Facet]
    ) -> tuple[int, dict[Facet, list[FacetCount]]]:
        # Labelled facets are counted on their "id:label" field: the labels come with
        # the counts.
        aggregations: dict[str, Any] = {
            f.value: {
                "terms": {
                    "field": label_field(f) if f in LABELLED else f.value,
                    "size": _FACET_SIZE,
                }
            }
            for f in facets
        }
        aggregations[_TOTAL] = {"value_count": {"field": "pk"}}  # every document has one
        answer = searcher.aggregate(query, aggregations)
        counts: dict[Facet, list[FacetCount]] = {}
        for facet in facets:
            buckets = answer.get(facet.value, {}).get("buckets", [])
            if facet in LABELLED:
                found = []
                for bucket in buckets:
                    value, label = decode_label(str(bucket["key"]))
                    found.append(FacetCount(value, int(bucket["doc_count"]), label))
                # Ties in the order of the ids' aggregation: by value, as numbers.
                found.sort(key=lambda c: (-c.count, int(c.value)))
                counts[facet] = found
            else:
                counts[facet] = [
                    FacetCount(value=str(b["key"]), count=int(b["doc_count"])) for b in buckets
                ]
        return int(answer[_TOTAL]["value"]), counts


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{time.time_ns()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _recency(timestamp: int) -> float:
    clamped = min(max(timestamp, _EPOCH_START), _EPOCH_END)
    return _RECENCY_SPAN * (clamped - _EPOCH_START) / (_EPOCH_END - _EPOCH_START)
