"""Schema directives: facts about fields that the gateway reads from the schema itself."""

from __future__ import annotations

import strawberry
from graphql import GraphQLObjectType
from strawberry.schema_directive import Location

from schema.strawberry_compat import graphql_core_schema


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="viewerDependent",
    description="The value of this field depends on who asks, beyond the published/draft "
    "visibility every field follows (private data): a response selecting it is never "
    "shared with another caller, and is sent with Cache-Control: private, no-store.",
)
class ViewerDependent:
    pass


VIEWER_DEPENDENT = ViewerDependent()
"""Put in a field's ``directives=[…]`` when its resolver decides on the viewer."""


def viewer_dependent_fields(schema: strawberry.Schema) -> frozenset[str]:
    """Names of the fields marked :class:`ViewerDependent` on any type of ``schema``."""
    names: set[str] = set()
    for type_name, graphql_type in graphql_core_schema(schema).type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name in graphql_type.fields:
            field = schema.get_field_for_type(field_name, type_name)
            if field is not None and any(isinstance(d, ViewerDependent) for d in field.directives):
                names.add(field_name)
    return frozenset(names)
