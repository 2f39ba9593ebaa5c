"""GraphQL gateway: composes the domains' queries into one schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.audit.queries import AuditQueries
from schema.concepts.mutations import ConceptMutations
from schema.concepts.queries import ConceptQueries
from schema.events.mutations import EventMutations
from schema.events.queries import EventQueries
from schema.execution import CompiledExecutionContext
from schema.newsletters.mutations import NewsletterMutations
from schema.newsletters.queries import NewsletterQueries
from schema.node import NodeQueries
from schema.organizations.mutations import OrganizationMutations
from schema.organizations.queries import OrganizationQueries
from schema.projects.mutations import SharedProjectMutations
from schema.projects.queries import SharedProjectQueries
from schema.publishing import PublishingMutations
from schema.resources.mutations import ResourceMutations
from schema.resources.queries import ContributionQueries, ResourceQueries
from schema.scalars import SCALAR_MAP
from schema.search.mutations import SearchMutations
from schema.search.queries import SearchQueries
from schema.subscribers.mutations import SubscriberMutations
from schema.subscribers.queries import SubscriberQueries
from schema.territories.mutations import TerritoryMutations
from schema.territories.queries import TerritoryQueries
from schema.themes.mutations import ThemeMutations
from schema.themes.queries import ThemeQueries
from schema.votes.mutations import VotingMutations
from schema.votes.queries import VotingRoundQueries
from schema.votes.subscriptions import VotingSubscriptions
from services.errors import DomainError
from services.settings import Settings

Query = merge_types(
    "Query",
    (
        NodeQueries,
        ResourceQueries,
        ThemeQueries,
        ConceptQueries,
        EventQueries,
        OrganizationQueries,
        TerritoryQueries,
        SharedProjectQueries,
        VotingRoundQueries,
        ContributionQueries,
        AccountQueries,
        AuditQueries,
        SearchQueries,
        NewsletterQueries,
        SubscriberQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AccountMutations,
        ResourceMutations,
        ThemeMutations,
        ConceptMutations,
        EventMutations,
        OrganizationMutations,
        TerritoryMutations,
        PublishingMutations,
        SearchMutations,
        VotingMutations,
        SharedProjectMutations,
        NewsletterMutations,
        SubscriberMutations,
    ),
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Writes. Each one checks the caller's rights, validates its input, runs in one "
    "transaction and is recorded in the audit log."
)
Subscription = merge_types("Subscription", (VotingSubscriptions,))
Subscription.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Live updates over WebSocket (graphql-transport-ws protocol) on /graphql."
)
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Entry points of the Territoires en Commun API. Lists are Relay connections."
)


class Schema(strawberry.Schema):
    """The gateway's schema: expected failures are not logged as server errors."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = [
            e
            for e in errors
            if e.original_error is not None
            and not isinstance(e.original_error, DomainError | GraphQLError)
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(
    settings: Settings | None = None, *, extra_extensions: Sequence[Any] = ()
) -> Schema:
    """The schema for ``settings``: parser and validation caches, optional introspection.
    Built once per app, never per request."""
    settings = settings or Settings()
    # The caches must outlive requests: each factory hands back the same instance.
    parser_cache, validation_cache = ParserCache(maxsize=512), ValidationCache(maxsize=512)
    # Depth, aliases, tokens and cost are checked by the gateway's guards before a
    # document reaches the schema (gateway/guards.py), whatever the transport.
    extensions: list[Any] = [
        lambda: parser_cache,
        lambda: validation_cache,
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    if settings.otel_enabled:
        from strawberry.extensions.tracing import OpenTelemetryExtension

        extensions.append(OpenTelemetryExtension)
    extensions.extend(extra_extensions)
    config = StrawberryConfig(
        disable_field_suggestions=not settings.field_suggestions,
        scalar_map=SCALAR_MAP,
    )
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=config,
        execution_context_class=CompiledExecutionContext if settings.compiled_execution else None,
    )


__all__ = ["Mutation", "Query", "Schema", "build_schema"]
