"""The embedded search engine: a tantivy index in a directory, no server.

Layout of ``root``: one directory per index generation (``gen-…``), a ``CURRENT`` file
naming the live one, and ``synonyms.json``. A rebuild writes a new generation beside the
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

from search.french import DEFAULT_SYNONYMS, STOP_WORDS, normalize_synonyms, query_words, typo_budget
from search.highlight import Matcher, highlight, snippet
from search.port import (
    Document,
    Facet,
    FacetCount,
    Progress,
    SearchHit,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    Sort,
    SynonymGroups,
)

logger = logging.getLogger("tec.search")

SCHEMA_VERSION = 1
_TITLE_EXACT, _OTHER_EXACT, _TITLE_TYPO, _OTHER_TYPO = 4.0, 3.0, 2.0, 1.0
# Ties on relevance go to the newest: score × log2(2 + recency), recency ∈ [0, 0.0069]
# keeps that factor under 1.005, below the gap between two relevance levels (and the
# page is re-sorted by level then date, which f32 scores cannot always tell apart).
_RECENCY_SPAN = 0.0069
_EPOCH_START = 946_684_800  # 2000-01-01
_EPOCH_END = 4_102_444_800  # 2100-01-01
_UNSIGNED = ("pk", "themes", "territories", "organizations", "year")
_KEYWORDS = ("type", "kind", "audience", "format")
_FACET_SIZE = 100  # Meilisearch's default maxValuesPerFacet
_PREFIX_MIN = 2


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(60))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if stem:
        builder = builder.filter(tantivy.Filter.custom_stopword(list(STOP_WORDS))).filter(
            tantivy.Filter.stemmer("french")
        )
    return builder.build()


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in _KEYWORDS:
        builder.add_text_field(name, stored=name == "type", fast=True, tokenizer_name="raw")
    for name in _UNSIGNED:
        builder.add_unsigned_field(name, stored=name == "pk", indexed=True, fast=True)
    builder.add_integer_field("date", stored=True, indexed=True, fast=True)
    builder.add_float_field("recency", fast=True)
    for name in ("title", "text", "names"):
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
        self._stem_analyzer = _analyzer(stem=True)
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
        index.register_tokenizer("fr_stem", _analyzer(stem=True))
        index.register_tokenizer("fr_fold", _analyzer(stem=False))
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
            self._current_stamp = stamp
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
        }
        for name in ("kind", "audience", "format"):
            if doc.get(name):
                fields[name] = doc[name]
        for name in ("title", "text", "names"):
            fields[name] = fields[f"{name}_fold"] = doc.get(name) or ""
        return tantivy.Document.from_dict(fields, self.schema)

    async def upsert(self, documents: Sequence[Document]) -> None:
        if documents:
            await asyncio.to_thread(self._write, documents, [d["id"] for d in documents])

    async def delete(self, ids: Sequence[str]) -> None:
        if ids:
            await asyncio.to_thread(self._write, [], list(ids))

    def _write(self, documents: Sequence[Document], deletions: list[str]) -> None:
        with self._lock:
            writer = self._get_writer()
            try:
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

        def add_all(target: tantivy.IndexWriter, documents: list[tantivy.Document]) -> None:
            for document in documents:
                target.add_document(document)

        total = 0
        try:
            async for batch in batches:
                await asyncio.to_thread(add_all, writer, [self._to_tantivy(d) for d in batch])
                total += len(batch)
                if progress:
                    progress(len(batch))
            await asyncio.to_thread(writer.commit)
            await asyncio.to_thread(writer.wait_merging_threads)
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
        searcher = index.searcher()
        text_query, matcher = self._text_query(request.query, synonyms)
        query = self._with_filters(text_query or tantivy.Query.all_query(), request)
        # The hits and the facet counts are two passes over the matches; tantivy releases
        # the GIL, so they run side by side.
        top = asyncio.to_thread(
            self._top_hits, searcher, query, request, text_query is None, matcher
        )
        if request.facets:
            (hits, total), facets = await asyncio.gather(
                top, asyncio.to_thread(self._facets, searcher, query, request.facets)
            )
        else:
            (hits, total), facets = await top, {}
        elapsed = (time.perf_counter() - started) * 1000
        return SearchResult(hits=hits, total=total, facets=facets, processing_ms=elapsed)

    @staticmethod
    def _top_hits(
        searcher: tantivy.Searcher,
        query: tantivy.Query,
        request: SearchRequest,
        placeholder: bool,
        matcher: Matcher | None,
    ) -> tuple[list[SearchHit], int]:
        limit = max(0, request.limit)
        options: dict[str, Any] = {"limit": max(limit, 1), "offset": request.offset}
        if request.sort is Sort.OLDEST:
            options.update(order_by_field="date", order=tantivy.Order.Asc)
        elif request.sort is Sort.NEWEST or placeholder:
            options.update(order_by_field="date", order=tantivy.Order.Desc)
        else:
            options["weight_by_field"] = "recency"
        result = searcher.search(query, count=True, **options)
        found = [(score, searcher.doc(address)) for score, address in result.hits[:limit]]
        if "weight_by_field" in options:
            found.sort(key=lambda pair: (-round(pair[0]), -(pair[1].get_first("date") or 0)))
        hits = [
            SearchHit(
                type=doc.get_first("type"),
                pk=int(doc.get_first("pk")),
                title_html=highlight(doc.get_first("title") or "", matcher),
                snippet_html=snippet(doc.get_first("text") or "", matcher),
            )
            for _score, doc in found
        ]
        return hits, result.count

    @staticmethod
    def _facets(
        searcher: tantivy.Searcher, query: tantivy.Query, facets: Sequence[Facet]
    ) -> dict[Facet, list[FacetCount]]:
        aggregations = {f.value: {"terms": {"field": f.value, "size": _FACET_SIZE}} for f in facets}
        answer = searcher.aggregate(query, aggregations)
        return {
            facet: [
                FacetCount(value=str(b["key"]), count=int(b["doc_count"]))
                for b in answer.get(facet.value, {}).get("buckets", [])
            ]
            for facet in facets
        }

    # --- query building -----------------------------------------------------------------

    def _stems(self, word: str) -> list[str]:
        return self._stem_analyzer.analyze(word)

    def _stem_one(self, word: str) -> str:
        stems = self._stems(word)
        return stems[0] if stems else word

    def _word_query(self, word: str, *, prefix: bool) -> tantivy.Query:
        """Best of: same stem in the title / elsewhere, typo or prefix in the title /
        elsewhere (scored by level, so ranking is typo count then attribute)."""
        s = self.schema
        q = tantivy.Query
        options = []
        stems = self._stems(word)
        for stem in stems[:1]:
            options.append(q.const_score_query(q.term_query(s, "title", stem), _TITLE_EXACT))
            for name in ("text", "names"):
                options.append(q.const_score_query(q.term_query(s, name, stem), _OTHER_EXACT))
        if not stems:  # a stop word typed alone: match it as written
            for name in ("title", "text", "names"):
                level = _TITLE_EXACT if name == "title" else _OTHER_EXACT
                exact = q.term_query(s, f"{name}_fold", word)
                options.append(q.const_score_query(exact, level))
        if prefix and len(word) >= _PREFIX_MIN:
            for name in ("title", "text", "names"):
                level = _TITLE_EXACT if name == "title" else _OTHER_EXACT
                fuzzy = q.fuzzy_term_query(s, f"{name}_fold", word, distance=0, prefix=True)
                options.append(q.const_score_query(fuzzy, level))
        budget = typo_budget(word)
        if budget:
            for name in ("title", "text", "names"):
                level = _TITLE_TYPO if name == "title" else _OTHER_TYPO
                fuzzy = q.fuzzy_term_query(s, f"{name}_fold", word, distance=budget)
                options.append(q.const_score_query(fuzzy, level))
        return q.disjunction_max_query(options)

    def _phrase_query(self, phrase: str) -> tantivy.Query:
        """Exact (stemmed) phrase in the title or elsewhere: a synonym's alternative."""
        q = tantivy.Query
        stems = self._stems(phrase)
        options = []
        for name in ("title", "text", "names"):
            level = _TITLE_EXACT if name == "title" else _OTHER_EXACT
            if len(stems) == 1:
                inner = q.term_query(self.schema, name, stems[0])
            elif stems:
                inner = q.phrase_query(self.schema, name, stems, slop=2)
            else:
                continue
            options.append(q.const_score_query(inner, level))
        return q.disjunction_max_query(options) if options else q.empty_query()

    def _text_query(
        self, text: str, synonyms: SynonymGroups
    ) -> tuple[tantivy.Query | None, Matcher | None]:
        found = query_words(text)
        if not found:
            return None, None
        as_you_type = not text[-1:].isspace()
        entries = {tuple(e.split()): group for group in synonyms for e in group}
        longest = max((len(k) for k in entries), default=0)
        units: list[tantivy.Query] = []
        alternatives: set[str] = set()
        i = 0
        while i < len(found):
            span, group = 1, None
            for size in range(min(longest, len(found) - i), 0, -1):
                if tuple(found[i : i + size]) in entries:
                    span, group = size, entries[tuple(found[i : i + size])]
                    break
            last = i + span == len(found)
            parts = [
                self._word_query(w, prefix=as_you_type and last and j == span - 1)
                for j, w in enumerate(found[i : i + span])
            ]
            own = (
                parts[0]
                if span == 1
                else tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])
            )
            if group:
                phrase = " ".join(found[i : i + span])
                others = [self._phrase_query(e) for e in group if e != phrase]
                alternatives.update(w for e in group for w in e.split() if w not in STOP_WORDS)
                own = tantivy.Query.disjunction_max_query([own, *others])
            units.append(own)
            i += span
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, u) for u in units])
        matcher = Matcher(
            words=tuple(found),
            stems=frozenset(self._stem_one(w) for w in found),
            prefix=found[-1] if as_you_type and len(found[-1]) >= _PREFIX_MIN else None,
            exact=frozenset(alternatives),
            stem=self._stem_one,
        )
        return query, matcher

    def _with_filters(self, query: tantivy.Query, request: SearchRequest) -> tantivy.Query:
        conditions = request.filter.conditions()
        if not conditions:
            return query
        clauses = [(tantivy.Occur.Must, query)]
        for name, values in conditions:
            accepted = [int(v) for v in values] if name in _UNSIGNED else [str(v) for v in values]
            term_set = tantivy.Query.term_set_query(self.schema, name, accepted)
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(term_set, 0.0)))
        return tantivy.Query.boolean_query(clauses)


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{time.time_ns()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _recency(timestamp: int) -> float:
    clamped = min(max(timestamp, _EPOCH_START), _EPOCH_END)
    return _RECENCY_SPAN * (clamped - _EPOCH_START) / (_EPOCH_END - _EPOCH_START)
