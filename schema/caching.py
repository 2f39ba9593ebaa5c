"""Which root fields the public response cache may keep, declared on the fields themselves.

A root query field built with :func:`public_read` answers from published content alone
(its answer is the same for every anonymous caller until content changes); the gateway's
cache reads the mark from the schema (:func:`cacheable_root_fields`). Search is not one:
its index follows the database through the outbox, after a write's commit.
"""

from __future__ import annotations

from typing import Any

import strawberry

from schema.strawberry_compat import graphql_core_schema

_MARK = "public_read"


def public_read(**options: Any) -> Any:
    """``strawberry.field(...)`` for a root field answered from published content alone."""
    metadata = {**options.pop("metadata", {}), _MARK: True}
    return strawberry.field(metadata=metadata, **options)


def cacheable_root_fields(schema: strawberry.Schema) -> frozenset[str]:
    """Names of the root query fields marked :func:`public_read`, and introspection's."""
    query = graphql_core_schema(schema).query_type
    assert query is not None
    names = {"__typename", "__schema", "__type"}
    for name in query.fields:
        field = schema.get_field_for_type(name, query.name)
        if field is not None and field.metadata.get(_MARK):
            names.add(name)
    return frozenset(names)
