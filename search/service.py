"""Searching and administering the index, for the GraphQL layer and the CLI: input
checks, and engine failures turned into clear domain errors."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import logging
from collections.abc import Sequence

from search import documents
from search.port import (
    LABELLED,
    MAX_LIMIT,
    MAX_QUERY_LENGTH,
    Facet,
    SearchEngine,
    SearchFilter,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    Sort,
    Suggestion,
    SynonymGroups,
)
from services.errors import BadUserInput, DomainError
from services.policy import authorize
from services.viewer import Viewer

logger = logging.getLogger("tec.search")

MAX_OFFSET = 1000
"""Deepest result reachable by paging (Meilisearch's default ``maxTotalHits``)."""
MAX_FILTER_VALUES = 100
_CURSOR_PREFIX = "s1:"


@functools.lru_cache(maxsize=MAX_OFFSET + 100)
def encode_cursor(position: int) -> str:
    """Opaque cursor of the hit at ``position`` (0-based) of a search."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """Offset of the hit after ``cursor``; ``BAD_USER_INPUT`` if it is not a search cursor."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError(raw)
        position = int(raw.removeprefix(_CURSOR_PREFIX))
        if position < 0:
            raise ValueError(raw)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise BadUserInput(
            "Curseur invalide : reprenez avec un curseur renvoyé par cette recherche.",
            field="after",
        ) from None
    return position + 1


def _check(request: SearchRequest) -> None:
    if len(request.query) > MAX_QUERY_LENGTH:
        raise BadUserInput(
            f"Recherche trop longue : {MAX_QUERY_LENGTH} caractères au plus "
            f"(reçu : {len(request.query)}).",
            field="query",
        )
    if not 0 <= request.limit <= MAX_LIMIT:
        raise BadUserInput(f"« first » doit être compris entre 0 et {MAX_LIMIT}.", field="first")
    if request.offset + request.limit > MAX_OFFSET:
        raise BadUserInput(
            f"Les {MAX_OFFSET} premiers résultats seulement sont accessibles : affinez la "
            "recherche ou les filtres.",
            field="after",
        )
    for name, values in request.filter.conditions():
        if len(values) > MAX_FILTER_VALUES:
            raise BadUserInput(
                f"Trop de valeurs dans le filtre « {name} » ({MAX_FILTER_VALUES} au plus).",
                field=f"filter.{name}",
            )
    unknown = [f for f in request.facets if not isinstance(f, Facet)]
    if unknown:
        raise BadUserInput(f"Facette inconnue : {unknown[0]}.", field="facets")


async def search(
    engine: SearchEngine | None,
    *,
    query: str = "",
    flt: SearchFilter | None = None,
    facets: Sequence[Facet] = (),
    sort: Sort = Sort.RELEVANCE,
    limit: int = 20,
    offset: int = 0,
) -> SearchResult:
    """Visible documents of every searchable type matching ``query`` and ``flt``, with
    the facet counts asked for (computed on the filtered result)."""
    request = SearchRequest(
        query=query.replace("\x00", " "),
        filter=flt or SearchFilter(),
        facets=tuple(dict.fromkeys(facets)),
        sort=sort,
        limit=limit,
        offset=offset,
    )
    _check(request)
    if engine is None:
        raise SearchUnavailable("La recherche n'est pas disponible sur ce serveur.")
    try:
        return await engine.search(request)
    except DomainError:
        raise
    except Exception as error:
        # Whatever the engine says stays in the log; the caller gets a clear code.
        logger.exception("search engine failure")
        raise SearchUnavailable(
            "La recherche est momentanément indisponible, réessayez plus tard."
        ) from error


MAX_SUGGESTIONS = 20


async def suggest(engine: SearchEngine | None, *, prefix: str, limit: int = 8) -> list[Suggestion]:
    """Titles of every type for a search box, as the visitor types ``prefix``."""
    if len(prefix) > MAX_QUERY_LENGTH:
        raise BadUserInput(
            f"Saisie trop longue : {MAX_QUERY_LENGTH} caractères au plus.", field="prefix"
        )
    if not 0 <= limit <= MAX_SUGGESTIONS:
        raise BadUserInput(
            f"« first » doit être compris entre 0 et {MAX_SUGGESTIONS}.", field="first"
        )
    if engine is None:
        raise SearchUnavailable("La recherche n'est pas disponible sur ce serveur.")
    try:
        return await engine.suggest(prefix.replace("\x00", " "), limit)
    except DomainError:
        raise
    except Exception as error:
        logger.exception("search engine failure")
        raise SearchUnavailable(
            "La recherche est momentanément indisponible, réessayez plus tard."
        ) from error


def require_editor(viewer: Viewer) -> None:
    """Synonyms and the index's state are the editors' (``search.manage``)."""
    authorize(viewer, "search.manage")


async def get_synonyms(engine: SearchEngine | None, viewer: Viewer) -> SynonymGroups:
    """The synonym groups of the index (editors only)."""
    require_editor(viewer)
    if engine is None:
        raise SearchUnavailable("La recherche n'est pas disponible sur ce serveur.")
    return await engine.get_synonyms()


async def set_synonyms(
    engine: SearchEngine | None, viewer: Viewer, groups: SynonymGroups
) -> SynonymGroups:
    """Replace the synonym groups (editors only); returns them as stored."""
    require_editor(viewer)
    if engine is None:
        raise SearchUnavailable("La recherche n'est pas disponible sur ce serveur.")
    if len(groups) > 500 or any(len(g) > 20 for g in groups):
        raise BadUserInput("500 groupes de 20 entrées au plus.", field="groups")
    if any(len(entry) > 100 for g in groups for entry in g):
        raise BadUserInput("Une entrée fait 100 caractères au plus.", field="groups")
    await engine.set_synonyms(groups)
    return await engine.get_synonyms()


async def issue_tenant_token(
    engine: SearchEngine | None,
    viewer: Viewer,
    *,
    search_key: str,
    flt: SearchFilter | None,
    ttl: dt.timedelta,
) -> tuple[str, dt.datetime]:
    """A Meilisearch tenant token restricted to published documents (and those matching ``flt``)
    for partner sites and editors; returns the token and its expiry."""
    authorize(viewer, "search.tenant_token")
    token_of = getattr(engine, "tenant_token", None)
    if engine is None or token_of is None:
        raise BadUserInput(
            "Les jetons Meilisearch n'existent qu'avec TEC_SEARCH_ENGINE=meilisearch."
        )
    if not search_key:
        raise BadUserInput("TEC_MEILI_SEARCH_KEY n'est pas configurée sur ce serveur.")
    if not dt.timedelta(minutes=1) <= ttl <= dt.timedelta(days=30):
        raise BadUserInput("Durée de validité entre 60 s et 30 jours.", field="expiresIn")
    expires_at = dt.datetime.now(dt.UTC) + ttl
    token = await token_of(search_key=search_key, flt=flt, expires_at=expires_at)
    return token, expires_at


async def get_facet_labels(facet: Facet, ids: Sequence[int]) -> dict[int, str]:
    """Display names of theme, territory or organisation facet values (one statement), for
    values the index holds no label of; unpublished themes are left out."""
    if facet not in LABELLED:
        raise BadUserInput(f"La facette {facet.name} n'a pas de libellés en base.")
    return await documents.get_facet_labels(facet, ids)
