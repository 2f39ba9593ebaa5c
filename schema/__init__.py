"""GraphQL gateway: composes the domains' queries into one schema."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema import registry
from schema.compiler import read_compiling
from schema.execution import compiled_executing
from schema.scalars import SCALAR_MAP
from schema.strawberry_compat import ExecutionContext, describe_type
from schema.validation_cache import DocumentValidationCache
from services.errors import DomainError
from services.settings import Settings

_DESCRIPTIONS = {
    "Query": "Entry points of the Territoires en Commun API. Lists are Relay connections.",
    "Mutation": "Writes. Each one checks the caller's rights, validates its input, runs in one "
    "transaction and is recorded in the audit log.",
    "Subscription": "Live updates over WebSocket (graphql-transport-ws protocol) on /graphql.",
}


def root_types() -> tuple[Any, Any, Any]:
    """``Query``, ``Mutation`` and ``Subscription``, merged from the classes every domain
    marks with :func:`schema.registry.query` (``mutation``, ``subscription``)."""
    merged = []
    for kind, name in (
        ("query", "Query"),
        ("mutation", "Mutation"),
        ("subscription", "Subscription"),
    ):
        root = merge_types(name, tuple(registry.roots(kind)))
        describe_type(root, _DESCRIPTIONS[name])
        merged.append(root)
    return merged[0], merged[1], merged[2]


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
    settings: Settings | None = None,
    *,
    extra_extensions: Sequence[Any] = (),
    read_compiler_outcome: Callable[[str, str], None] | None = None,
    compiled_plans_outcome: Callable[[str, str], None] | None = None,
) -> Schema:
    """The schema for ``settings``: parser and validation caches, optional introspection,
    the read compiler and the compiled plans when enabled (each query's outcome told to
    ``read_compiler_outcome`` and, for those the read compiler leaves,
    ``compiled_plans_outcome``). Built once per app, never per request."""
    settings = settings or Settings()
    # The caches must outlive requests: each factory hands back the same instance.
    parser_cache, validation_cache = ParserCache(maxsize=512), DocumentValidationCache(maxsize=512)
    # Depth, aliases, tokens and cost are checked by the gateway's guards before a
    # document reaches the schema (gateway/guards.py), whatever the transport.
    extensions: list[Any] = [
        lambda: parser_cache,
        lambda: validation_cache,
    ]
    if not settings.graphql.introspection:
        extensions.append(DisableIntrospection)
    if settings.observability.otel_enabled:
        from strawberry.extensions.tracing import OpenTelemetryExtension

        extensions.append(OpenTelemetryExtension)
    extensions.extend(extra_extensions)
    config = StrawberryConfig(
        disable_field_suggestions=not settings.graphql.field_suggestions,
        scalar_map=SCALAR_MAP,
    )
    execution_context: Any = (
        compiled_executing(compiled_plans_outcome)
        if settings.graphql.compiled_execution
        else ExecutionContext
    )
    if settings.graphql.read_compiler:
        execution_context = read_compiling(execution_context, read_compiler_outcome)
    query, mutation, subscription = root_types()
    return Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        # Every node type, also those no field names (node(id:) returns them).
        types=[node.type for node in registry.node_types().values()],
        extensions=extensions,
        config=config,
        execution_context_class=execution_context,
    )


__all__ = ["Schema", "build_schema", "root_types"]
