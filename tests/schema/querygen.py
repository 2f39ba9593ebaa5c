"""Query documents generated from the schema: every field a type offers, to a depth."""

from __future__ import annotations

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Undefined


def _callable(field: GraphQLField) -> bool:
    """A field every argument of which may be left out."""
    return all(
        not is_non_null_type(arg.type) or arg.default_value is not Undefined
        for arg in field.args.values()
    )


def _arguments(field: GraphQLField, page: int) -> str:
    return f"(first: {page})" if "first" in field.args else ""


def selection(
    schema: GraphQLSchema, type_: object, depth: int, page: int = 2, *, prefix: str = ""
) -> str:
    """Every field of ``type_`` that needs no argument, objects followed ``depth`` deep.

    ``prefix`` aliases each field (``Resource_kind: kind``): the members of an abstract
    type may give one field name different types, which one selection set cannot merge."""
    if isinstance(type_, GraphQLUnionType | GraphQLInterfaceType):
        if depth <= 0:
            return "__typename"
        return "__typename " + " ".join(
            f"... on {possible.name} "
            f"{{ {selection(schema, possible, depth - 1, page, prefix=possible.name + '_')} }}"
            for possible in schema.get_possible_types(type_)
        )
    assert isinstance(type_, GraphQLObjectType)
    parts: list[str] = ["__typename"]
    for name, field in type_.fields.items():
        if not _callable(field):
            continue
        named = get_named_type(field.type)
        key = f"{prefix}{name}: {name}" if prefix else name
        if is_leaf_type(named):
            parts.append(key)
        elif depth > 0:
            inner = selection(schema, named, depth - 1, page)
            parts.append(f"{key}{_arguments(field, page)} {{ {inner} }}")
    return " ".join(parts)


def root_documents(schema: GraphQLSchema, depth: int, page: int = 2) -> dict[str, str]:
    """One query per root field callable without arguments: ``{field: document}``."""
    query = schema.query_type
    assert query is not None
    documents = {}
    for name, field in query.fields.items():
        if name.startswith("__") or not _callable(field):
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            documents[name] = f"{{ {name} }}"
        else:
            inner = selection(schema, named, depth, page)
            documents[name] = f"{{ {name}{_arguments(field, page)} {{ {inner} }} }}"
    return documents
