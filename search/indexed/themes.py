"""Themes in the search index: the introduction as text, the theme in its own facet."""

from __future__ import annotations

from typing import Any

from search.documents import Searchable, plain_text, register_search
from search.port import Document
from services.themes.content_type import THEME


def _fill(row: Any, doc: Document) -> None:
    doc["text"] = plain_text(row.introduction)
    doc["themes"] = [row.id]  # filtering on a theme finds the theme itself too


register_search(Searchable(content=THEME, facets={}, fill=_fill))
