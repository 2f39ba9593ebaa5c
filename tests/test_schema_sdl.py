"""The committed schema.graphql is the schema, and every part of it is documented."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from schema import build_schema


def test_committed_sdl_is_up_to_date(repo_root):
    committed = (repo_root / "schema.graphql").read_text(encoding="utf-8")
    assert committed == str(build_schema()) + "\n", (
        "schema.graphql is out of date: run `make schema` and commit the result."
    )


def _undocumented() -> list[str]:
    graphql_schema = build_schema()._schema
    missing = []
    for name, gtype in graphql_schema.type_map.items():
        if name.startswith("__"):
            continue
        if not gtype.description:
            missing.append(f"type {name}")
        if isinstance(gtype, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in gtype.fields.items():
                if not field.description:
                    missing.append(f"field {name}.{field_name}")
                for arg_name, arg in field.args.items():
                    if not arg.description:
                        missing.append(f"argument {name}.{field_name}({arg_name})")
        elif isinstance(gtype, GraphQLInputObjectType):
            for field_name, field in gtype.fields.items():
                if not field.description:
                    missing.append(f"input field {name}.{field_name}")
        elif isinstance(gtype, GraphQLEnumType):
            for value_name, value in gtype.values.items():
                if not value.description:
                    missing.append(f"enum value {name}.{value_name}")
    return missing


def test_every_type_field_argument_and_enum_value_is_documented():
    assert _undocumented() == []


def test_the_walk_does_see_the_schema():
    graphql_schema = build_schema()._schema
    assert "Resource" in graphql_schema.type_map
    assert "first" in graphql_schema.type_map["Query"].fields["events"].args
