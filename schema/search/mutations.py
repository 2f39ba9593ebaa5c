"""Search mutations: editing synonyms, issuing Meilisearch tenant tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from schema import registry
from schema.payloads import object_payload, payload_mutation
from schema.search.types import SearchFilter, SearchTenantToken
from search import service as search_service

SearchSynonymsPayload = object_payload(
    "SearchSynonymsPayload",
    "groups",
    list[list[str]],
    "The synonym groups as stored (accents and case folded).",
)
SearchTenantTokenPayload = object_payload(
    "SearchTenantTokenPayload", "tenant_token", SearchTenantToken, "The tenant token issued."
)


@registry.mutation
@strawberry.type
class SearchMutations:
    @payload_mutation(
        SearchSynonymsPayload,
        description="Replace the search's synonym groups (editors only); returns them as "
        "stored (accents and case folded). Takes effect at once, without reindexing.",
    )
    async def update_search_synonyms(
        self,
        info: strawberry.Info,
        groups: Annotated[
            list[list[str]],
            strawberry.argument(description="Groups of equivalent words or phrases."),
        ],
    ) -> list[list[str]]:
        ctx = info.context
        return await search_service.set_synonyms(ctx.search, ctx.viewer, groups)

    @payload_mutation(
        SearchTenantTokenPayload,
        description="Issue a Meilisearch tenant token (partner API keys and editors) that "
        "only finds published documents, optionally only those matching `filter`, so a "
        "portal can query Meilisearch directly (InstantSearch) without an admin key.",
    )
    async def issue_search_tenant_token(
        self,
        info: strawberry.Info,
        filter: Annotated[
            SearchFilter | None,
            strawberry.argument(description="Further restriction of what the token finds."),
        ] = None,
        expires_in: Annotated[
            int, strawberry.argument(description="Validity in seconds (60 to 2,592,000).")
        ] = 86_400,
    ) -> SearchTenantToken:
        ctx = info.context
        settings = ctx.settings
        token, expires_at = await search_service.issue_tenant_token(
            ctx.search,
            ctx.viewer,
            search_key=settings.search.meili_search_key,
            flt=filter.to_port() if filter else None,
            ttl=dt.timedelta(seconds=expires_in),
        )
        return SearchTenantToken(
            token=token,
            url=settings.search.meili_public_url or settings.search.meili_url,
            index_uid=settings.search.meili_index,
            expires_at=expires_at,
        )
