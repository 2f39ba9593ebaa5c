"""The Meilisearch adapter: the search port over meilisearch-python-sdk's async client.

One index holds every kind of document, told apart by its ``type`` attribute (filterable,
a facet): one request answers a federated search with one ranking, one total and facet
counts over every type, which Meilisearch's multi-search federation cannot give (no facet
distribution across queries in v1.11).

The index settings (searchable, filterable and sortable attributes, ranking rules,
French stop words and locale, synonyms, typo tolerance, faceting, pagination) are pushed
when the index is created and by ``tec reindex`` (``rebuild``), never by a replica that
merely starts: a start cannot overwrite an editor's concurrent synonym change. Writes
wait for their Meilisearch task until it succeeded, failed or was canceled, so a change
counts as applied only once Meilisearch applied it, and a refusal reaches the outbox's
``last_error`` with the server's code. A rebuild fills ``<index>_rebuild`` and swaps it
with the live index (atomic in Meilisearch), so searches keep answering.

What Meilisearch does with a query, and what this adapter sends instead (the embedded
engine reads queries the same way, ``search.french.query_units``):

- ``"…"`` makes a phrase and a leading ``-`` excludes a word: quotes and leading hyphens
  are sent as spaces, so a query is always plain words;
- only the first 10 words count (milli ``search/mod.rs``, ``words_limit: 10``): the
  adapter sends those (``search.french.MAX_QUERY_WORDS``) and the embedded engine counts
  the same 10;
- inclusive writing both ways. Documents carry the forms of their inclusive words in
  ``title_forms`` and ``text_forms`` (searchable), so « élus » finds « élu·e·s », as the
  embedded engine indexes them beside the text. An inclusive word of a query must find
  any of its forms, also written plainly (« acteur·rice·s » finds « actrices »), but a
  query word is one term and every term is required (``matchingStrategy: all``), and
  Meilisearch has no stemming. So it is sent as one *inclusive key*, ``qx`` + its
  masculine singular folded (« qxacteur »), and the same two attributes hold the keys of
  every word of the document, one per masculine singular the word may be a form of
  (``search.french.inclusive_bases``: « actrices » → « qxacteur », « qxactrice »…). No
  written word begins with ``qx``, and a typo never reaches a key from one: a typo
  derivation keeps the query word's first letter (milli ``search/new/query_term/
  compute_derivations.rs``, ``find_zero_one_typo_derivations``: ``StartsWith(get_first
  (word))``). The key matches like any word: whole, or as a prefix when it is the last
  word typed (``search/new/query_term/parse_query.rs``). Meilisearch highlights what the
  key matched in no attribute it returns, so the adapter marks the forms itself
  (``_mark_forms``);
- an exact title comes first by a search of its own: Meilisearch's ``exactness`` rule
  comes after ``words``, ``typo``, ``proximity`` and ``attribute`` (milli
  ``search/new/mod.rs``, ``get_ranking_rules_for_query_graph_search``) and only knows a
  title that *is* the query word for word at the same positions (``exact_attribute.rs``:
  « Le budget participatif » is not « budget participatif », its stop word took
  position 0). Documents carry ``title_key`` (the title's folded words without stop
  words, ``search.tantivy_query.title_key``, what the embedded engine compares); a
  relevance search asks first for ``title_key = <the query's key>``, newest first, then
  for the rest (``!=``: every other document, milli ``search/facet/filter.rs``,
  ``Condition::NotEqual``), and adds totals and facet counts of both.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import re
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx2
from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.errors import MeilisearchApiError, MeilisearchError
from meilisearch_python_sdk.models.client import Key
from meilisearch_python_sdk.models.settings import (
    Faceting,
    LocalizedAttributes,
    MeilisearchSettings,
    MinWordSizeForTypos,
    Pagination,
    TypoTolerance,
)

from search.french import (
    DEFAULT_SYNONYMS,
    MAX_QUERY_WORDS,
    STOP_WORDS,
    fold,
    inclusive_bases,
    inclusive_expansion,
    inclusive_words,
    normalize_synonyms,
    replace_inclusive_words,
    words,
)
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
    label_field,
)
from search.tantivy_query import title_key

# In this order: ``attribute`` ranks a match in an earlier attribute first (milli
# ``search/new/ranking_rule_graph/fid``); the forms of inclusive words rank with the
# attribute they come from.
SEARCHABLE = ["title", "title_forms", "names", "text", "text_forms"]
FILTERABLE = [
    "type",
    "status",
    "themes",
    "territories",
    "organizations",
    "kind",
    "audience",
    "format",
    "year",
    *(label_field(f) for f in LABELLED),
    "title_key",
]
SORTABLE = ["date"]
# ``sort`` first: with ``sort: NEWEST`` a query is ordered by date, relevance breaking
# ties; without a ``sort`` parameter the rule does nothing and relevance decides.
RANKING_RULES = ["sort", "words", "typo", "proximity", "attribute", "exactness", "date:desc"]
PUBLISHED_FILTER = 'status = "PUBLISHED"'
MAX_TOTAL_HITS = 1000
"""``pagination.maxTotalHits``, set rather than inherited: the deepest result a search
reaches, the same as ``search.service.MAX_OFFSET``. Re-indexing linked documents fetches
by filter (``documents/fetch``), which this cap does not limit."""
MAX_VALUES_PER_FACET = 100
SEPARATORS = ["·", "•", "⋅", "‧", "∙"]
"""Inclusive writing's dots always separate words (« adolescent·e·s »)."""
LOCALES = ["fra"]
_ERRORS = (MeilisearchError, httpx2.HTTPError, ValueError)
_TASK_DONE = ("succeeded", "failed", "canceled")
_STOP = frozenset(STOP_WORDS)


def stop_words(synonyms: SynonymGroups) -> list[str]:
    """French stop words, except those inside a synonym: Meilisearch drops stop words
    from synonyms but documents keep their positions, so « communauté de communes »
    would never match (milli ``update/settings.rs``, ``update_synonyms``)."""
    inside = {w for group in normalize_synonyms(synonyms) for e in group for w in e.split()}
    return [w for w in dict.fromkeys(STOP_WORDS) if w not in inside]


def index_settings(synonyms: SynonymGroups) -> MeilisearchSettings:
    """What the gateway expects of its Meilisearch index."""
    return MeilisearchSettings(
        searchable_attributes=SEARCHABLE,
        filterable_attributes=FILTERABLE,
        sortable_attributes=SORTABLE,
        ranking_rules=RANKING_RULES,
        stop_words=stop_words(synonyms),
        synonyms=synonyms_to_meilisearch(synonyms),
        separator_tokens=SEPARATORS,
        typo_tolerance=TypoTolerance(
            enabled=True,
            min_word_size_for_typos=MinWordSizeForTypos(one_typo=5, two_typos=9),
        ),
        faceting=Faceting(
            max_values_per_facet=MAX_VALUES_PER_FACET, sort_facet_values_by={"*": "count"}
        ),
        pagination=Pagination(max_total_hits=MAX_TOTAL_HITS),
        localized_attributes=[LocalizedAttributes(locales=LOCALES, attribute_patterns=["*"])],
    )


INCLUSIVE_KEY = "qx"
"""What an inclusive key starts with (module docstring): no French word does."""


def inclusive_key(base: str) -> str:
    """The key of the inclusive words whose masculine singular is ``base``."""
    return INCLUSIVE_KEY + fold(base)


def inclusive_keys(text: str) -> list[str]:
    """The keys of every word of ``text``: one per inclusive word it may be a form of."""
    keys: dict[str, None] = {}
    for word in dict.fromkeys(words(text)):
        if word.isalpha() and word not in _STOP:
            keys.update(dict.fromkeys(INCLUSIVE_KEY + b for b in inclusive_bases(word)))
    return list(keys)


def _forms_and_keys(text: str) -> str:
    return " ".join(filter(None, [inclusive_expansion(text), *inclusive_keys(text)]))


def to_meilisearch(document: Document) -> Document:
    """The document as the index holds it: with its ``title_key`` (exact title matches),
    the forms of its inclusive words and the inclusive keys of its words (``title_forms``,
    ``text_forms``)."""
    title = document.get("title") or ""
    rest = " ".join(filter(None, [document.get("names"), document.get("text")]))
    return {
        **document,
        "title_key": title_key(title),
        "title_forms": _forms_and_keys(title),
        "text_forms": _forms_and_keys(rest),
    }


_SETS = {
    "filterable_attributes",
    "sortable_attributes",
    "stop_words",
    "separator_tokens",
    "non_separator_tokens",
}
"""Settings the server keeps as sets and returns sorted (meilisearch-types
``settings.rs``, ``Settings``: ``BTreeSet<String>``): their order means nothing."""


def _same(name: str, wanted: Any, current: Any) -> bool:
    if name == "synonyms":  # the server keeps each entry's synonyms as a set too
        return {k: sorted(v) for k, v in (wanted or {}).items()} == {
            k: sorted(v) for k, v in (current or {}).items()
        }
    if name in _SETS:
        return sorted(wanted or []) == sorted(current or [])
    if isinstance(wanted, dict) and isinstance(current, dict):
        # What the gateway sets; other keys are the server's defaults (``typoTolerance``
        # also answers ``disableOnWords``…).
        return all(v is None or _same(k, v, current.get(k)) for k, v in wanted.items())
    if isinstance(wanted, list) and isinstance(current, list) and len(wanted) == len(current):
        return all(_same("", w, c) for w, c in zip(wanted, current, strict=True))
    return bool(wanted == current)


def settings_differences(wanted: MeilisearchSettings, current: MeilisearchSettings) -> list[str]:
    """Names of the settings of ``wanted`` that ``current`` (as the server answers
    ``GET /indexes/{uid}/settings``) does not already have."""
    present = current.model_dump()
    return [
        name
        for name, value in wanted.model_dump(exclude_none=True).items()
        if not _same(name, value, present.get(name))
    ]


def plain_query(text: str) -> str:
    """The query as plain words for Meilisearch: no phrase, no exclusion, inclusive words
    as their keys, at most ``MAX_QUERY_WORDS`` words."""
    text = replace_inclusive_words(text, lambda forms: inclusive_key(forms[0])).replace('"', " ")
    found = [w.lstrip("-") for w in text.split()]
    return " ".join([w for w in found if w][:MAX_QUERY_WORDS])


def synonyms_to_meilisearch(groups: SynonymGroups) -> dict[str, list[str]]:
    """Meilisearch's mapping (each entry → the others), from groups of equivalents."""
    mapping: dict[str, list[str]] = {}
    for group in normalize_synonyms(groups):
        for entry in group:
            mapping.setdefault(entry, [])
            mapping[entry] += [other for other in group if other != entry]
    return mapping


def synonyms_from_meilisearch(mapping: dict[str, list[str]] | None) -> SynonymGroups:
    """Groups of equivalents from Meilisearch's mapping (connected entries merge)."""
    groups: list[set[str]] = []
    for entry, others in (mapping or {}).items():
        members = {entry, *others}
        touching = [g for g in groups if g & members]
        for g in touching:
            members |= g
            groups.remove(g)
        groups.append(members)
    return [sorted(g) for g in groups]


def filter_expression(request: SearchRequest) -> str | None:
    """Meilisearch filter of a request; values are JSON-quoted, so no injection."""
    clauses = []
    for name, values in request.filter.conditions():
        quoted = ", ".join(json.dumps(v) for v in values)
        clauses.append(f"{name} IN [{quoted}]")
    return " AND ".join(clauses) or None


def _facet_fields(facets: Sequence[Facet]) -> list[str]:
    """The attributes to count: each facet's, and for a labelled one its ``"id:label"``
    attribute too (the counts come from the ids, which every document has, even one
    written before labels; the labels from the other)."""
    fields: list[str] = []
    for facet in facets:
        fields.append(facet.value)
        if facet in LABELLED:
            fields.append(label_field(facet))
    return fields


def _total(answer: Any) -> int:
    total = answer.total_hits if answer.total_hits is not None else answer.estimated_total_hits
    return int(total or 0)


def _marked(formatted: str, bases: frozenset[str] = frozenset()) -> str:
    """Meilisearch's highlighted text, escaped except for its ``<mark>`` tags, and the
    forms of the query's inclusive words (masculine singulars ``bases``) marked too."""
    escaped = html.escape(formatted, quote=False)
    marked = escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
    return _mark_forms(marked, bases) if bases else marked


_MARKED_OR_WORD = re.compile(r"<mark>.*?</mark>|&\w+;|[^\W\d_]+", re.DOTALL)


def _mark_forms(text: str, bases: frozenset[str]) -> str:
    """``text`` with the words outside ``<mark>`` that are forms of an inclusive word of
    masculine singular in ``bases`` (folded) marked: what the query's keys matched."""

    def mark(match: re.Match[str]) -> str:
        word = match.group()
        if word[0] in "<&" or not bases.intersection(inclusive_bases(fold(word))):
            return word
        return f"<mark>{word}</mark>"

    return _MARKED_OR_WORD.sub(mark, text)


def _query_bases(query: str) -> frozenset[str]:
    """The masculine singulars (folded) of the query's inclusive words."""
    return frozenset(fold(forms[0]) for _word, forms in inclusive_words(query))


class MeilisearchEngine:
    """``SearchEngine`` on a Meilisearch server (see the module docstring)."""

    name = "meilisearch"

    def __init__(
        self,
        url: str,
        *,
        api_key: str = "",
        index_uid: str = "tec",
        timeout: float = 10.0,
        task_timeout_ms: int = 60_000,
    ) -> None:
        self.url = url
        self.api_key = api_key
        self.index_uid = index_uid
        self.timeout = timeout
        self.task_timeout_ms = task_timeout_ms
        self._client: AsyncClient | None = None

    async def open(self) -> None:
        self._client = AsyncClient(self.url, self.api_key or None, timeout=int(self.timeout))
        await self._ensure_index(self.index_uid, None)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _require(self) -> AsyncClient:
        if self._client is None:
            raise SearchUnavailable("Meilisearch : le client est fermé.")
        return self._client

    async def _wait(self, task_uid: int) -> None:
        """Until the task succeeded; a failed or canceled task raises at once with the
        server's error code (task statuses: meilisearch-types ``tasks.rs``, ``Status``)."""
        client = self._require()
        deadline = time.monotonic() + self.task_timeout_ms / 1000
        pause = 0.005
        while True:
            task = await client.get_task(task_uid)
            if task.status == "succeeded":
                return
            if task.status == "failed":
                error = task.error or {}
                raise SearchUnavailable(
                    f"Meilisearch : tâche {task_uid} en échec "
                    f"({error.get('code', 'unknown')}: {error.get('message', '')})"
                )
            if task.status == "canceled":
                raise SearchUnavailable(
                    f"Meilisearch : tâche {task_uid} annulée (task_canceled, par la tâche "
                    f"{task.canceled_by})"
                )
            if time.monotonic() >= deadline:
                raise SearchUnavailable(
                    f"Meilisearch : tâche {task_uid} toujours « {task.status} » après "
                    f"{self.task_timeout_ms} ms"
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.25)

    async def _ensure_index(self, uid: str, synonyms: SynonymGroups | None) -> list[str]:
        """Create ``uid`` with the gateway's settings if it is missing; on an existing
        index, push them only when ``synonyms`` are given (``tec reindex``, migrations),
        and only those that differ. Returns the names of the settings changed."""
        client = self._require()
        try:
            try:
                index = await client.get_index(uid)
            except MeilisearchApiError as error:
                if error.status_code != 404:
                    raise
                index = await client.create_index(
                    uid, primary_key="id", timeout_in_ms=self.task_timeout_ms
                )
                wanted = index_settings(synonyms or normalize_synonyms(DEFAULT_SYNONYMS))
                changed = sorted(wanted.model_dump(exclude_none=True))
            else:
                if synonyms is None:
                    return []
                wanted = index_settings(synonyms)
                changed = settings_differences(wanted, await index.get_settings())
                if not changed:
                    return []
                wanted = MeilisearchSettings(**{name: getattr(wanted, name) for name in changed})
            task_info = await index.update_settings(wanted)
            await self._wait(task_info.task_uid)
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error
        return changed

    async def push_settings(self) -> list[str]:
        """Bring the live index's settings to the gateway's, keeping the editors' synonyms
        (``tec migrate``, ``tec reindex``): idempotent, nothing is sent when they already
        are; returns the names of the settings changed."""
        return await self._ensure_index(self.index_uid, await self.get_synonyms())

    async def upsert(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        try:
            index = self._require().index(self.index_uid)
            task = await index.add_documents(
                [to_meilisearch(d) for d in documents], primary_key="id"
            )
            await self._wait(task.task_uid)
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch : écriture impossible ({error}).") from error

    async def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            task = await self._require().index(self.index_uid).delete_documents(list(ids))
            await self._wait(task.task_uid)
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch : suppression impossible ({error}).") from error

    async def count(self) -> int:
        try:
            stats = await self._require().index(self.index_uid).get_stats()
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error
        return int(stats.number_of_documents)

    async def _search(
        self,
        request: SearchRequest,
        *,
        condition: str | None,
        offset: int,
        limit: int,
        sort: list[str] | None,
    ) -> Any:
        flt = filter_expression(request)
        if condition is not None:
            flt = f"{flt} AND {condition}" if flt else condition
        return (
            await self._require()
            .index(self.index_uid)
            .search(
                plain_query(request.query),
                offset=offset,
                limit=limit,
                filter=flt,
                facets=_facet_fields(request.facets) or None,
                sort=sort,
                attributes_to_retrieve=["id", "type", "pk", "title", "text"],
                attributes_to_highlight=["title", "text"],
                attributes_to_crop=["text"],
                crop_length=30,
                crop_marker="…",
                highlight_pre_tag="<mark>",
                highlight_post_tag="</mark>",
                matching_strategy="all",
                locales=LOCALES,
            )
        )

    async def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        sort: list[str] | None = None
        if request.sort is Sort.OLDEST:
            sort = ["date:asc"]
        elif request.sort is Sort.NEWEST or not request.query.strip():
            sort = ["date:desc"]
        key = title_key(request.query) if sort is None else ""
        window = {"offset": request.offset, "limit": request.limit}
        try:
            if not key:
                answers = [await self._search(request, condition=None, sort=sort, **window)]
            else:
                # Exact titles first (module docstring), then the rest. On a first page
                # both are asked at once: the rest's page starts at 0 whatever the count
                # of exact titles.
                same = f"title_key = {json.dumps(key)}"
                other = f"title_key != {json.dumps(key)}"
                exact_task = self._search(request, condition=same, sort=["date:desc"], **window)
                if request.offset == 0:
                    exact, rest = await asyncio.gather(
                        exact_task, self._search(request, condition=other, sort=None, **window)
                    )
                else:
                    exact = await exact_task
                    rest = await self._search(
                        request,
                        condition=other,
                        sort=None,
                        offset=max(0, request.offset - _total(exact)),
                        limit=request.limit - len(exact.hits),
                    )
                answers = [exact, rest]
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error
        hits: list[SearchHit] = []
        bases = _query_bases(request.query)
        for answer in answers:
            for hit in answer.hits[: request.limit - len(hits)]:
                formatted = hit.get("_formatted") or hit
                hits.append(
                    SearchHit(
                        type=str(hit["type"]),
                        pk=int(hit["pk"]),
                        title_html=_marked(str(formatted.get("title") or ""), bases),
                        snippet_html=_marked(str(formatted.get("text") or ""), bases),
                    )
                )
        facets: dict[Facet, list[FacetCount]] = {}
        for facet in request.facets:
            counts: dict[str, int] = {}
            labels: dict[str, str | None] = {}
            for answer in answers:
                distribution = answer.facet_distribution or {}
                for value, count in (distribution.get(facet.value) or {}).items():
                    counts[str(value)] = counts.get(str(value), 0) + int(count)
                labels.update(
                    decode_label(str(v)) for v in distribution.get(label_field(facet)) or {}
                )
            ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            facets[facet] = [
                FacetCount(value=k, count=v, label=labels.get(k))
                for k, v in ordered[:MAX_VALUES_PER_FACET]
            ]
        processing = sum(float(a.processing_time_ms or 0) for a in answers)
        return SearchResult(
            hits=hits,
            total=min(sum(_total(a) for a in answers), MAX_TOTAL_HITS),
            facets=facets,
            processing_ms=processing or (time.perf_counter() - started) * 1000,
        )

    async def rebuild(
        self, batches: AsyncIterator[list[Document]], *, progress: Progress | None = None
    ) -> int:
        client = self._require()
        staging = f"{self.index_uid}_rebuild"
        total = 0
        try:
            synonyms = await self.get_synonyms() or normalize_synonyms(DEFAULT_SYNONYMS)
            await client.delete_index_if_exists(staging)
            await self._ensure_index(staging, synonyms)
            index = client.index(staging)
            async for batch in batches:
                task = await index.add_documents(
                    [to_meilisearch(d) for d in batch], primary_key="id"
                )
                await self._wait(task.task_uid)
                total += len(batch)
                if progress:
                    progress(len(batch))
            swap = await client.swap_indexes([(self.index_uid, staging)])
            await self._wait(swap.task_uid)
            await client.delete_index_if_exists(staging)
        except _ERRORS as error:
            raise SearchUnavailable(
                f"Meilisearch : reconstruction impossible ({error})."
            ) from error
        return total

    async def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        if not prefix.strip() or limit <= 0:
            return []
        try:
            answer = (
                await self._require()
                .index(self.index_uid)
                .search(
                    plain_query(prefix),
                    limit=limit,
                    # The title's inclusive keys and forms too: « acteur·rice·s » typed.
                    attributes_to_search_on=["title", "title_forms"],
                    attributes_to_retrieve=["type", "pk", "title"],
                    matching_strategy="all",
                    locales=LOCALES,
                )
            )
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error
        return [
            Suggestion(type=str(h["type"]), pk=int(h["pk"]), title=str(h["title"]))
            for h in answer.hits
        ]

    async def ids_with(self, field: str, values: Sequence[int]) -> list[str]:
        """Ids of every document whose ``field`` holds one of ``values``, fetched by filter
        (``POST /indexes/{uid}/documents/fetch``: not capped by ``maxTotalHits``)."""
        expression = filter_expression(SearchRequest(filter=SearchFilter(**{field: values})))
        found: list[str] = []
        offset = 0
        try:
            index = self._require().index(self.index_uid)
            while True:
                page = await index.get_documents(
                    filter=expression, fields=["id"], offset=offset, limit=1000
                )
                found += [str(d["id"]) for d in page.results]
                offset += len(page.results)
                if not page.results or offset >= page.total:
                    return found
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error

    async def get_synonyms(self) -> SynonymGroups:
        try:
            mapping = await self._require().index(self.index_uid).get_synonyms()
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error
        return synonyms_from_meilisearch(mapping)

    async def set_synonyms(self, groups: SynonymGroups) -> None:
        try:
            index = self._require().index(self.index_uid)
            # Synonyms and stop words together: words of a synonym are no stop words.
            task = await index.update_settings(
                MeilisearchSettings(
                    synonyms=synonyms_to_meilisearch(groups), stop_words=stop_words(groups)
                )
            )
            await self._wait(task.task_uid)
        except _ERRORS as error:
            raise SearchUnavailable(
                f"Meilisearch : synonymes non enregistrés ({error})."
            ) from error

    async def tenant_token(
        self, *, search_key: str, flt: SearchFilter | None, expires_at: dt.datetime
    ) -> str:
        """A tenant token (JWT signed with the search API key ``search_key``) that only
        finds published documents of this index, and only those matching ``flt``."""
        extra_filter = filter_expression(SearchRequest(filter=flt)) if flt else None
        client = self._require()
        try:
            key: Key = await client.get_key(search_key)
        except _ERRORS as error:
            raise SearchUnavailable(
                f"Meilisearch : clé de recherche inconnue ({error})."
            ) from error
        rule = PUBLISHED_FILTER if not extra_filter else f"{PUBLISHED_FILTER} AND ({extra_filter})"
        rules: dict[str, Any] = {self.index_uid: {"filter": rule}}
        return client.generate_tenant_token(rules, api_key=key, expires_at=expires_at)
