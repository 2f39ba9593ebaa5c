"""Concepts of the month in the search index: summary and body as text, the organisations
that wrote them as a facet."""

from __future__ import annotations

from typing import Any

from search.documents import LinkedFacet, Searchable, plain_text, register_search
from search.port import Document
from services.concepts.content_type import CONCEPT
from services.concepts.models import ConceptOrganization


def _fill(row: Any, doc: Document) -> None:
    doc["text"] = " ".join(part for part in (row.summary, plain_text(row.body)) if part)


register_search(
    Searchable(
        content=CONCEPT,
        facets={"organizations": LinkedFacet(ConceptOrganization, "concept_id", "organization")},
        fill=_fill,
    )
)
