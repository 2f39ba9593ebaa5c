"""Resources in the search index: summary and body as text, kind and audience as facets."""

from __future__ import annotations

from typing import Any

from search.documents import LinkedFacet, Searchable, plain_text, register_search
from search.port import Document
from services.resources.content_type import RESOURCE
from services.resources.models import ResourceOrganization, ResourceTerritory, ResourceTheme


def _fill(row: Any, doc: Document) -> None:
    doc["text"] = " ".join(part for part in (row.summary, plain_text(row.body)) if part)
    doc["kind"] = row.kind.value
    doc["audience"] = row.audience.value


register_search(
    Searchable(
        content=RESOURCE,
        facets={
            "themes": LinkedFacet(ResourceTheme, "resource_id", "theme"),
            "territories": LinkedFacet(ResourceTerritory, "resource_id", "territory"),
            "organizations": LinkedFacet(ResourceOrganization, "resource_id", "organization"),
        },
        fill=_fill,
    )
)
