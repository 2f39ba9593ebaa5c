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


async def push_index_settings(settings: SearchSettings) -> list[str] | None:
    """Bring the configured index's settings to the gateway's (``tec migrate``; ``tec
    reindex`` builds its new index with them): the names of the settings changed, none
    when they already were; None for the embedded engine, whose settings are its code
    (a schema change makes a new index generation). Editors' synonyms are kept."""
    if settings.search_engine != "meilisearch":
        return None
    engine = build_engine(settings)
    await engine.open()  # a missing index is created with the settings
    try:
        return await engine.push_settings()  # type: ignore[attr-defined]
    finally:
        await engine.close()
