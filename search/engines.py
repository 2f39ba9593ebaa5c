"""Choosing and building the configured search engine (nothing opened at import)."""

from __future__ import annotations

from search.port import SearchEngine
from services.errors import BadUserInput
from services.settings import SearchSettings

ENGINES = ("embedded", "meilisearch")


def build_engine(settings: SearchSettings, *, engine: str | None = None) -> SearchEngine:
    """The engine named ``engine`` (default: ``TEC_SEARCH_ENGINE``), not yet opened."""
    name = engine or settings.search_engine
    if name == "embedded":
        from search.tantivy_engine import TantivyEngine

        return TantivyEngine(settings.search_path, writer_heap_mb=settings.search_writer_heap_mb)
    if name == "meilisearch":
        if not settings.meili_url:
            raise BadUserInput(
                "TEC_MEILI_URL est requis pour le moteur meilisearch.", field="TEC_MEILI_URL"
            )
        from search.meilisearch_engine import MeilisearchEngine

        return MeilisearchEngine(
            settings.meili_url,
            api_key=settings.meili_api_key,
            index_uid=settings.meili_index,
            timeout=settings.meili_timeout,
        )
    raise BadUserInput(f"Moteur de recherche inconnu : {name} (embedded ou meilisearch).")
