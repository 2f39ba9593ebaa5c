"""Search queries: `search(...)`, and for editors the index status and synonyms."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from schema import registry
from schema.events.loaders import event_by_id
from schema.events.types import Event
from schema.relay import After, First, PageInfo, page_request, to_global_id
from schema.resources.loaders import resource_by_id
from schema.resources.types import Resource
from schema.search.types import (
    FacetDistribution,
    FacetValue,
    SearchConnection,
    SearchFacet,
    SearchFilter,
    SearchHit,
    SearchIndexStatus,
    SearchSort,
)
from search import port
from search import service as search_service
from search.consumer import get_index_lag
from services.content import Audience
from services.events.models import EventFormat
from services.labels import label
from services.resources.models import ResourceKind

_TYPE_LABELS = {"resource": "Ressource", "event": "Événement"}
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


async def _nodes(ctx: Any, hits: list[port.SearchHit]) -> dict[tuple[str, int], Any]:
    """Hits' rows through the request's DataLoaders (visibility is checked again)."""
    found: dict[tuple[str, int], Any] = {}
    for doc_type, loader, convert in (
        ("resource", resource_by_id, Resource.from_model),
        ("event", event_by_id, Event.from_model),
    ):
        pks = [h.pk for h in hits if h.type == doc_type]
        if pks:
            rows = await loader(ctx).load_many(pks)
            found.update({(doc_type, pk): convert(r) for pk, r in zip(pks, rows, strict=True) if r})
    return found


async def _facet(facet: port.Facet, counts: list[port.FacetCount]) -> FacetDistribution:
    values: list[FacetValue] = []
    if facet in _LINKED:
        labels = await search_service.get_facet_labels(facet, [int(c.value) for c in counts])
        for count in counts:
            name = labels.get(int(count.value))
            if name is not None:  # an unpublished theme is no facet value
                values.append(
                    FacetValue(
                        value=to_global_id(_LINKED[facet], int(count.value)),
                        label=name,
                        count=count.count,
                    )
                )
    else:
        for count in counts:
            if facet in _ENUMS:
                text = label(_ENUMS[facet](count.value))
                value = count.value
            elif facet is port.Facet.TYPE:
                text = _TYPE_LABELS.get(count.value, count.value)
                value = count.value.upper()
            else:
                text = value = count.value
            values.append(FacetValue(value=value, label=text, count=count.count))
    return FacetDistribution(facet=SearchFacet(facet.value), values=values)


@registry.query
@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="Full-text search over published resources and events, in French: "
        "accents ignored, stemming, typos tolerated, prefix of the last word, synonyms. "
        "Returns the hits, the total, the requested facet counts and the processing time."
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
            if node is not None:  # unpublished since it was indexed: not shown
                hits.append(
                    SearchHit(
                        cursor=search_service.encode_cursor(position),
                        node=node,
                        title_highlighted=hit.title_html,
                        snippet=hit.snippet_html,
                    )
                )
        facet_lists = [await _facet(f, result.facets.get(f, [])) for f in dict.fromkeys(requested)]
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
