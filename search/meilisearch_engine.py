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
- an inclusive word is sent as its first form (« élu·e·s » → « élu »): every form at
  once would require them all (``matchingStrategy: all``); the other forms are within
  the typo budget of longer words, not of short ones (« élus » misses « élu·e·s »).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
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
    normalize_synonyms,
    with_inclusive_forms,
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

SEARCHABLE = ["title", "names", "text"]
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


def plain_query(text: str) -> str:
    """The query as plain words for Meilisearch: no phrase, no exclusion, inclusive words
    as their forms, at most ``MAX_QUERY_WORDS`` words."""
    text = with_inclusive_forms(text, first_only=True).replace('"', " ")
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


def _marked(formatted: str) -> str:
    """Meilisearch's highlighted text, escaped except for its ``<mark>`` tags."""
    escaped = html.escape(formatted, quote=False)
    return escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")


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

    async def _ensure_index(self, uid: str, synonyms: SynonymGroups | None) -> None:
        """Create ``uid`` with the gateway's settings if it is missing; push the settings
        to an existing index only when ``synonyms`` are given (``tec reindex``)."""
        client = self._require()
        try:
            try:
                index = await client.get_index(uid)
                if synonyms is None:
                    return
            except MeilisearchApiError as error:
                if error.status_code != 404:
                    raise
                index = await client.create_index(
                    uid, primary_key="id", timeout_in_ms=self.task_timeout_ms
                )
            groups = synonyms or normalize_synonyms(DEFAULT_SYNONYMS)
            task_info = await index.update_settings(index_settings(groups))
            await self._wait(task_info.task_uid)
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error

    async def push_settings(self) -> None:
        """Push the gateway's index settings (keeping the synonyms): ``tec reindex``."""
        await self._ensure_index(self.index_uid, await self.get_synonyms())

    async def upsert(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        try:
            index = self._require().index(self.index_uid)
            task = await index.add_documents(list(documents), primary_key="id")
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

    async def search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        sort: list[str] | None = None
        if request.sort is Sort.OLDEST:
            sort = ["date:asc"]
        elif request.sort is Sort.NEWEST or not request.query.strip():
            sort = ["date:desc"]
        try:
            answer = (
                await self._require()
                .index(self.index_uid)
                .search(
                    plain_query(request.query),
                    offset=request.offset,
                    limit=request.limit,
                    filter=filter_expression(request),
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
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error
        hits = []
        for hit in answer.hits:
            formatted = hit.get("_formatted") or hit
            hits.append(
                SearchHit(
                    type=str(hit["type"]),
                    pk=int(hit["pk"]),
                    title_html=_marked(str(formatted.get("title") or "")),
                    snippet_html=_marked(str(formatted.get("text") or "")),
                )
            )
        facets: dict[Facet, list[FacetCount]] = {}
        distribution = answer.facet_distribution or {}
        for facet in request.facets:
            counts = distribution.get(facet.value) or {}
            ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            labels = dict(decode_label(str(v)) for v in distribution.get(label_field(facet)) or {})
            facets[facet] = [
                FacetCount(value=str(k), count=int(v), label=labels.get(str(k))) for k, v in ordered
            ]
        total = answer.total_hits if answer.total_hits is not None else answer.estimated_total_hits
        return SearchResult(
            hits=hits,
            total=int(total or 0),
            facets=facets,
            processing_ms=float(answer.processing_time_ms)
            if answer.processing_time_ms is not None
            else (time.perf_counter() - started) * 1000,
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
                task = await index.add_documents(list(batch), primary_key="id")
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
                    attributes_to_search_on=["title"],
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
