"""The few places the gateway reaches past Strawberry's public API, fenced in one module.

Each function here states the assumption it makes; ``tests/schema/test_strawberry_compat.py``
checks each one, so a Strawberry upgrade that breaks it fails loudly instead of silently.
"""

from __future__ import annotations

from graphql import GraphQLSchema
from strawberry import Schema


def graphql_core_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built (``Schema._schema``, not public API)."""
    found = schema._schema
    if not isinstance(found, GraphQLSchema):  # pragma: no cover - checked by the tests
        raise TypeError("strawberry.Schema._schema is no longer a graphql-core GraphQLSchema")
    return found
