"""Organisations in the search index: name and acronym as the title (« Agence nationale de
la cohésion des territoires (ANCT) »), the description as text, the organisation in its
own facet. Organisations are public as soon as they exist."""

from __future__ import annotations

from typing import Any

from search.documents import ALWAYS, Searchable, plain_text, register_search
from search.port import Document
from services.organizations.content_type import ORGANIZATION


def _title(row: Any) -> str:
    if row.acronym and row.acronym.lower() not in row.name.lower():
        return f"{row.name} ({row.acronym})"
    return str(row.name)


def _fill(row: Any, doc: Document) -> None:
    doc["text"] = plain_text(row.description)
    doc["organizations"] = [row.id]


register_search(
    Searchable(content=ORGANIZATION, facets={}, fill=_fill, visibility=ALWAYS, title=_title)
)
