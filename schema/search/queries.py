"""Search queries: `search(...)`, and for editors the index status and synonyms."""

from __future__ import annotations

import asyncio
import functools
from typing import Annotated, Any

import strawberry

from schema import registry
from schema.caching import public_read
from schema.relay import After, First, PageInfo, page_request, to_global_id
from schema.search.types import (
    FacetDistribution,
    FacetValue,
    SearchConnection,
    SearchFacet,
    SearchFilter,
    SearchHit,
    SearchIndexStatus,
    SearchSort,
    SearchSuggestion,
    SearchType,
)
from search import port
from search import service as search_service
from search.consumer import get_index_lag
from services.content import Audience
from services.events.models import EventFormat
from services.labels import label
from services.resources.models import ResourceKind

_ENUMS: dict[port.Facet, type] = {
    port.Facet.KIND: ResourceKind,
    port.Facet.AUDIENCE: Audience,
    port.Facet.EVENT_FORMAT: EventFormat,
}
_LINKED = {
    port.Facet.THEME: "Theme",
    port.Facet.TERRITORY: "Territory",
    port.Facet.ORGANIZATION: "Organization",
}


_SEARCH_TYPES = {t.value: t for t in SearchType}
# A page of facets names up to a hundred values per facet, the same ones search after
# search: their global IDs are computed once.
_facet_value_id = functools.lru_cache(maxsize=8192)(to_global_id)


_by_entity: list[Any] = [(), {}]  # (the registry's node types, {document type: node type})


def _node_types() -> dict[str, registry.NodeType]:
    """``{document type: node type}``: how each kind of hit is loaded and converted (read
    on every search: kept while the registry holds the same node types)."""
    nodes = tuple(registry.node_types().values())
    kept, found = _by_entity
    if len(kept) != len(nodes) or any(a is not b for a, b in zip(kept, nodes, strict=True)):
        found = {n.content.entity: n for n in nodes if n.content is not None}
        _by_entity[:] = [nodes, found]
    return found  # type: ignore[no-any-return]


def _type_label(doc_type: str) -> str:
    node = _node_types().get(doc_type)
    return node.content.label if node is not None else doc_type


async def _nodes(ctx: Any, hits: list[port.SearchHit]) -> dict[tuple[str, int], Any]:
    """Hits' rows through the request's DataLoaders (visibility is checked again), one
    batch per kind of hit."""
    found: dict[tuple[str, int], Any] = {}
    node_types = _node_types()
    for doc_type in dict.fromkeys(h.type for h in hits):
        node = node_types.get(doc_type)
        if node is None:
            continue
        pks = [h.pk for h in hits if h.type == doc_type]
        rows = await node.loader(ctx).load_many(pks)
        found.update(
            {(doc_type, pk): node.convert_for(ctx, r) for pk, r in zip(pks, rows, strict=True) if r}
        )
    return found


async def _facet(facet: port.Facet, counts: list[port.FacetCount]) -> FacetDistribution:
    values: list[FacetValue] = []
    if facet in _LINKED:
        # The index gives each value's label; one statement for values it has none of
        # (an index written before labels, an unpublished theme: left out).
        unlabelled = [int(c.value) for c in counts if c.label is None]
        looked_up = await search_service.get_facet_labels(facet, unlabelled) if unlabelled else {}
        type_name = _LINKED[facet]
        for count in counts:
            pk = int(count.value)
            name = count.label if count.label is not None else looked_up.get(pk)
            if name is not None:
                values.append(
                    FacetValue(value=_facet_value_id(type_name, pk), label=name, count=count.count)
                )
    else:
        for count in counts:
            if facet in _ENUMS:
                text = label(_ENUMS[facet](count.value))
                value = count.value
            elif facet is port.Facet.TYPE:
                text = _type_label(count.value)
                known = _SEARCH_TYPES.get(count.value)
                value = known.name if known is not None else count.value.upper()
            else:
                text = value = count.value
            values.append(FacetValue(value=value, label=text, count=count.count))
    return FacetDistribution(facet=SearchFacet(facet.value), values=values)


@registry.query
@strawberry.type
class SearchQueries:
    @public_read(
        reads_index=True,
        description="Full-text search over what visitors see — resources, events, themes, "
        "concepts, shared projects and organisations — in French: "
        "accents ignored, stemming, typos tolerated, prefix of the last word, synonyms. "
        "Returns the hits, the total, the requested facet counts and the processing time.",
    )
    async def search(
        self,
        info: strawberry.Info,
        query: Annotated[
            str, strawberry.argument(description="What to look for (empty: everything).")
        ] = "",
        filter: Annotated[
            SearchFilter | None, strawberry.argument(description="Conditions on the results.")
        ] = None,
        facets: Annotated[
            list[SearchFacet] | None,
            strawberry.argument(description="Facets to count values of."),
        ] = None,
        sort: Annotated[
            SearchSort, strawberry.argument(description="Order of the results.")
        ] = SearchSort.RELEVANCE,
        first: First = None,
        after: After = None,
    ) -> SearchConnection:
        ctx = info.context
        page = page_request(info, first, after)
        offset = search_service.decode_cursor(after)
        requested = [port.Facet(f.value) for f in facets or ()]
        result = await search_service.search(
            ctx.search,
            query=query,
            flt=filter.to_port() if filter else None,
            facets=requested,
            sort=port.Sort(sort.value),
            limit=page.first,
            offset=offset,
        )
        nodes = await _nodes(ctx, result.hits)
        hits = []
        for position, hit in enumerate(result.hits, start=offset):
            node = nodes.get((hit.type, hit.pk))
            kind = _SEARCH_TYPES.get(hit.type)
            # Not shown: unpublished since it was indexed, or a type the API does not serve.
            if node is not None and kind is not None:
                hits.append(
                    SearchHit(
                        cursor=search_service.encode_cursor(position),
                        node=node,
                        type=kind,
                        title_highlighted=hit.title_html,
                        snippet=hit.snippet_html,
                    )
                )
        # Facet labels are independent reads: side by side (PostgreSQL answers them on
        # several connections at once).
        facet_lists = list(
            await asyncio.gather(
                *(_facet(f, result.facets.get(f, [])) for f in dict.fromkeys(requested))
            )
        )
        last = offset + len(result.hits) - 1
        return SearchConnection(
            hits=hits,
            total=result.total,
            facets=facet_lists,
            processing_time_ms=round(result.processing_ms, 3),
            page_info=PageInfo(
                has_next_page=offset + len(result.hits) < result.total,
                has_previous_page=offset > 0,
                start_cursor=search_service.encode_cursor(offset) if result.hits else None,
                end_cursor=search_service.encode_cursor(last) if result.hits else None,
            ),
        )

    @public_read(
        reads_index=True,
        description="Titles of every kind of content for a search box, as the visitor "
        "types: the whole title first, then titles holding every word typed (the last one "
        "as a prefix), newest first. Same French rules as `search`.",
    )
    async def search_suggestions(
        self,
        info: strawberry.Info,
        prefix: Annotated[str, strawberry.argument(description="What has been typed so far.")],
        first: Annotated[int, strawberry.argument(description="How many titles (at most 20).")] = 8,
    ) -> list[SearchSuggestion]:
        found = await search_service.suggest(info.context.search, prefix=prefix, limit=first)
        node_types = _node_types()
        return [
            SearchSuggestion(
                id=to_global_id(node_types[s.type].name, s.pk),
                type=_SEARCH_TYPES[s.type],
                title=s.title,
            )
            for s in found
            if s.type in node_types and s.type in _SEARCH_TYPES
        ]

    @strawberry.field(description="How far the search index is behind the database (editors only).")
    async def search_index_status(self, info: strawberry.Info) -> SearchIndexStatus:
        ctx = info.context
        search_service.require_editor(ctx.viewer)
        lag = await get_index_lag()
        documents = None
        if ctx.search is not None:
            try:
                documents = await ctx.search.count()
            except port.SearchUnavailable:
                documents = None
        return SearchIndexStatus(
            engine=ctx.search.name if ctx.search is not None else ctx.settings.search.search_engine,
            documents=documents,
            pending_changes=lag.pending,
            failing_changes=lag.failing,
            oldest_pending_at=lag.oldest_pending_at,
            lag_seconds=round(lag.lag_seconds, 3),
            last_error=lag.last_error,
        )

    @strawberry.field(
        description="Synonym groups of the search (editors only): each group lists words "
        "or phrases that find each other, e.g. EPCI and intercommunalité."
    )
    async def search_synonyms(self, info: strawberry.Info) -> list[list[str]]:
        return await search_service.get_synonyms(info.context.search, info.context.viewer)
