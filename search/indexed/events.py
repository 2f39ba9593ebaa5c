"""Events in the search index: summary and city as text, format as a facet, the year of
their start."""

from __future__ import annotations

from typing import Any

from search.documents import PARIS, LinkedFacet, Searchable, register_search
from search.port import Document
from services.events.content_type import EVENT
from services.events.models import EventOrganizer, EventTerritory, EventTheme


def _fill(row: Any, doc: Document) -> None:
    doc["text"] = " ".join(part for part in (row.summary, row.city or "") if part)
    doc["format"] = row.format.value
    doc["year"] = row.starts_at.astimezone(PARIS).year


register_search(
    Searchable(
        content=EVENT,
        facets={
            "themes": LinkedFacet(EventTheme, "event_id", "theme"),
            "territories": LinkedFacet(EventTerritory, "event_id", "territory"),
            "organizations": LinkedFacet(EventOrganizer, "event_id", "organization"),
        },
        fill=_fill,
    )
)
