"""GraphQL gateway: composes the domains' queries into one schema."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.tools import merge_types

from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.audit.queries import AuditQueries
from schema.concepts.queries import ConceptQueries
from schema.events.queries import EventQueries
from schema.node import NodeQueries
from schema.organizations.queries import OrganizationQueries
from schema.projects.queries import SharedProjectQueries
from schema.publishing import PublishingMutations
from schema.resources.mutations import ResourceMutations
from schema.resources.queries import ContributionQueries, ResourceQueries
from schema.territories.queries import TerritoryQueries
from schema.themes.queries import ThemeQueries
from schema.votes.queries import VotingRoundQueries
from services.errors import DomainError

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
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AccountMutations,
        ResourceMutations,
        PublishingMutations,
    ),
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Writes. Each one checks the caller's rights, validates its input, runs in one "
    "transaction and is recorded in the audit log."
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


def build_schema(*, introspection: bool = True) -> Schema:
    """The schema, with parser and validation caches (built once per app, never per request)."""
    # The caches must outlive requests: each factory hands back the same instance.
    parser_cache, validation_cache = ParserCache(maxsize=512), ValidationCache(maxsize=512)
    extensions: list[Any] = [lambda: parser_cache, lambda: validation_cache]
    if not introspection:
        extensions.append(DisableIntrospection)
    return Schema(query=Query, mutation=Mutation, extensions=extensions)


__all__ = ["Mutation", "Query", "Schema", "build_schema"]
