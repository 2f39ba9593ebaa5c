"""The search port: what the gateway asks of a search engine, whichever engine it is.

Both engines (the embedded tantivy index and the Meilisearch adapter) implement
``SearchEngine`` and pass the same contract tests (``tests/search/test_contract.py``).
Documents are plain dicts built by ``search.documents``; hits carry the document's type
and primary key, so the caller reloads the row itself and checks visibility again.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.errors import DomainError

MAX_QUERY_LENGTH = 500
MAX_LIMIT = 100

Document = dict[str, Any]
"""One indexable document: see ``search.documents.FIELDS`` for its keys."""


class SearchUnavailable(DomainError):
    """The engine did not answer (down, unreachable, closed): retry later."""

    code = "SEARCH_UNAVAILABLE"


class Facet(str, enum.Enum):
    """Facets a search may ask counts for; the value is the document field."""

    TYPE = "type"
    THEME = "themes"
    KIND = "kind"
    TERRITORY = "territories"
    ORGANIZATION = "organizations"
    YEAR = "year"
    AUDIENCE = "audience"
    EVENT_FORMAT = "format"


class Sort(str, enum.Enum):
    RELEVANCE = "RELEVANCE"
    NEWEST = "NEWEST"
    OLDEST = "OLDEST"


@dataclass(frozen=True)
class SearchFilter:
    """Every condition is optional; lists mean « any of », all conditions must hold."""

    types: Sequence[str] = ()
    themes: Sequence[int] = ()
    kinds: Sequence[str] = ()
    territories: Sequence[int] = ()
    organizations: Sequence[int] = ()
    years: Sequence[int] = ()
    audiences: Sequence[str] = ()
    formats: Sequence[str] = ()

    def conditions(self) -> list[tuple[str, list[Any]]]:
        """``(document field, accepted values)`` of each condition that is set."""
        pairs = [
            ("type", self.types),
            ("themes", self.themes),
            ("kind", self.kinds),
            ("territories", self.territories),
            ("organizations", self.organizations),
            ("year", self.years),
            ("audience", self.audiences),
            ("format", self.formats),
        ]
        return [(name, list(values)) for name, values in pairs if values]


@dataclass(frozen=True)
class SearchRequest:
    query: str = ""
    filter: SearchFilter = field(default_factory=SearchFilter)
    facets: Sequence[Facet] = ()
    sort: Sort = Sort.RELEVANCE
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SearchHit:
    type: str
    """``resource`` or ``event``."""
    pk: int
    title_html: str
    """The title, HTML-escaped, matched words inside ``<mark>``."""
    snippet_html: str
    """A short passage of the text around the first match, same markup."""


@dataclass(frozen=True)
class Suggestion:
    """A title for a search box as the visitor types."""

    type: str
    pk: int
    title: str


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int
    label: str | None = None
    """How to show the value, when the index holds it (themes, territories, organisations:
    see ``LABELLED``); None: the caller looks it up."""


LABELLED = (Facet.THEME, Facet.TERRITORY, Facet.ORGANIZATION)
"""Facets whose values are ids of rows with a name: documents carry ``<field>_labels``
(``"12:Démocratie"``), so a search returns each value's label without the database."""


def label_field(facet: Facet) -> str:
    """The document field holding ``"id:label"`` of each value of a ``LABELLED`` facet."""
    return f"{facet.value}_labels"


def encode_label(pk: int, label: str) -> str:
    return f"{pk}:{label}"


def decode_label(value: str) -> tuple[str, str | None]:
    """``(id, label)`` of an ``"id:label"`` value; an empty label is None."""
    pk, _, label = value.partition(":")
    return pk, label or None


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    facets: dict[Facet, list[FacetCount]]
    processing_ms: float


SynonymGroups = list[list[str]]
Progress = Callable[[int], None]
"""Called with the number of documents just written (for a progress bar)."""


class SearchEngine(Protocol):
    """One method per operation, like an HTTP transport; every method may raise
    ``SearchUnavailable`` and nothing else engine-specific."""

    name: str

    async def open(self) -> None:
        """Connect or open the index (creating it, with its settings, if missing)."""

    async def close(self) -> None: ...

    async def upsert(self, documents: Sequence[Document]) -> None:
        """Add or replace documents (by ``id``); idempotent."""

    async def delete(self, ids: Sequence[str]) -> None:
        """Remove documents by ``id``; ids that are absent are ignored."""

    async def search(self, request: SearchRequest) -> SearchResult: ...

    async def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        """The best titles, of every type, for what a visitor has typed so far: whole
        title first, then titles holding every word (the last one as a prefix), newest
        first."""

    async def count(self) -> int:
        """Number of documents in the live index."""

    async def ids_with(self, field: str, values: Sequence[int]) -> list[str]:
        """Ids of every document whose facet ``field`` (``themes``…) holds one of
        ``values``, however many (not limited like a search's paging)."""

    async def rebuild(
        self, batches: AsyncIterator[list[Document]], *, progress: Progress | None = None
    ) -> int:
        """Build a fresh index from ``batches`` beside the live one, then swap them
        atomically (search keeps answering meanwhile); returns the document count."""

    async def get_synonyms(self) -> SynonymGroups: ...

    async def set_synonyms(self, groups: SynonymGroups) -> None:
        """Replace the synonym groups (each group: words or phrases meaning the same)."""
