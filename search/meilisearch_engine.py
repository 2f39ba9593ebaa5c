"""The Meilisearch adapter: the search port over meilisearch-python-sdk's async client.

The index settings (searchable, filterable and sortable attributes, ranking rules,
French stop words, synonyms, typo tolerance) are pushed on ``open`` and on every rebuild,
so a new or restored Meilisearch converges to what the gateway expects. Writes wait for
their Meilisearch task, so a change counts as applied only once Meilisearch applied it.
A rebuild fills ``<index>_rebuild`` and swaps it with the live index (atomic in
Meilisearch), so searches keep answering.
"""

from __future__ import annotations

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
    MeilisearchSettings,
    MinWordSizeForTypos,
    TypoTolerance,
)

from search.french import DEFAULT_SYNONYMS, STOP_WORDS, normalize_synonyms
from search.port import (
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
    SynonymGroups,
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
]
SORTABLE = ["date"]
RANKING_RULES = ["words", "typo", "proximity", "attribute", "sort", "exactness", "date:desc"]
PUBLISHED_FILTER = 'status = "PUBLISHED"'
_ERRORS = (MeilisearchError, httpx2.HTTPError, ValueError)


def index_settings(synonyms: SynonymGroups) -> MeilisearchSettings:
    """What the gateway expects of its Meilisearch index."""
    return MeilisearchSettings(
        searchable_attributes=SEARCHABLE,
        filterable_attributes=FILTERABLE,
        sortable_attributes=SORTABLE,
        ranking_rules=RANKING_RULES,
        stop_words=list(STOP_WORDS),
        synonyms=synonyms_to_meilisearch(synonyms),
        typo_tolerance=TypoTolerance(
            enabled=True,
            min_word_size_for_typos=MinWordSizeForTypos(one_typo=5, two_typos=9),
        ),
    )


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
        await self._require().wait_for_task(
            task_uid, timeout_in_ms=self.task_timeout_ms, raise_for_status=True
        )

    async def _ensure_index(self, uid: str, synonyms: SynonymGroups | None) -> None:
        client = self._require()
        try:
            try:
                index = await client.get_index(uid)
                current = await index.get_synonyms()
            except MeilisearchApiError as error:
                if error.status_code != 404:
                    raise
                index = await client.create_index(
                    uid, primary_key="id", timeout_in_ms=self.task_timeout_ms
                )
                current = None
            groups = synonyms if synonyms is not None else synonyms_from_meilisearch(current)
            if not groups:
                groups = normalize_synonyms(DEFAULT_SYNONYMS)
            task_info = await index.update_settings(index_settings(groups))
            await self._wait(task_info.task_uid)
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error

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
                    request.query,
                    offset=request.offset,
                    limit=request.limit,
                    filter=filter_expression(request),
                    facets=[f.value for f in request.facets] or None,
                    sort=sort,
                    attributes_to_retrieve=["id", "type", "pk", "title", "text"],
                    attributes_to_highlight=["title", "text"],
                    attributes_to_crop=["text"],
                    crop_length=30,
                    crop_marker="…",
                    highlight_pre_tag="<mark>",
                    highlight_post_tag="</mark>",
                    matching_strategy="all",
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
            facets[facet] = [FacetCount(value=str(k), count=int(v)) for k, v in ordered]
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
            synonyms = await self.get_synonyms()
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

    async def get_synonyms(self) -> SynonymGroups:
        try:
            mapping = await self._require().index(self.index_uid).get_synonyms()
        except _ERRORS as error:
            raise SearchUnavailable(f"Meilisearch ne répond pas : {error}") from error
        return synonyms_from_meilisearch(mapping)

    async def set_synonyms(self, groups: SynonymGroups) -> None:
        try:
            index = self._require().index(self.index_uid)
            task = await index.update_synonyms(synonyms_to_meilisearch(groups))
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
