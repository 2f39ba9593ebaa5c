"""Typed mutation results: every mutation answers a payload with its user errors, every
refusal a form can fix is data (one error per bad field), and every code a domain error
may carry is in the schema's ``ErrorCode`` enum."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import uuid

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
)

import mailer
import schema
import search
import services
from schema.payloads import TOP_LEVEL, domain_error_classes, field_path, user_error_codes
from schema.strawberry_compat import graphql_core_schema
from tests.conftest import USER_ERRORS, user_errors


@pytest.fixture(scope="module")
def core_schema():
    return graphql_core_schema(schema.build_schema())


def test_every_mutation_returns_a_payload_with_user_errors(core_schema):
    mutation = core_schema.mutation_type
    assert mutation is not None
    for name, field in mutation.fields.items():
        payload = field.type
        assert isinstance(payload, GraphQLNonNull), name
        payload = payload.of_type
        assert isinstance(payload, GraphQLObjectType), f"{name} returns {payload}"
        errors = payload.fields.get("errors")
        assert errors is not None, f"{name}: {payload.name} has no errors"
        assert str(errors.type) == "[UserError!]!", f"{name}: {errors.type}"
        others = [n for n in payload.fields if n != "errors"]
        assert others, f"{name}: {payload.name} carries nothing but errors"
        for other in others:
            # Refused, the object is null: it cannot be non-null.
            assert not isinstance(payload.fields[other].type, GraphQLNonNull), (name, other)


def test_user_error_has_a_path_a_code_and_a_message(core_schema):
    user_error = core_schema.get_type("UserError")
    assert {n: str(f.type) for n, f in user_error.fields.items()} == {
        "field": "[String!]",
        "code": "ErrorCode!",
        "message": "String!",
    }


def _all_domain_errors() -> list[type]:
    """Every DomainError subclass in the code base: every module of the packages that may
    declare one is imported first."""
    for package in (services, search, mailer, schema):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" in module.name or ".demo" in module.name:
                continue
            importlib.import_module(module.name)
    return domain_error_classes()


def test_every_code_a_domain_error_carries_is_in_the_enum(core_schema):
    enum = core_schema.get_type("ErrorCode")
    assert isinstance(enum, GraphQLEnumType)
    listed = set(enum.values)
    assert listed == set(user_error_codes())
    for cls in _all_domain_errors():
        if issubclass(cls, TOP_LEVEL) or cls.code == "SEARCH_UNAVAILABLE":
            assert cls.code not in listed, cls
        else:
            assert cls.code in listed, f"{cls.__module__}.{cls.__name__}: {cls.code}"


def test_top_level_refusals_are_not_user_errors(core_schema):
    listed = set(core_schema.get_type("ErrorCode").values)
    for code in ("UNAUTHENTICATED", "FORBIDDEN", "RATE_LIMITED", "SERVICE_UNAVAILABLE"):
        assert code not in listed


def test_field_paths_name_arguments_and_input_fields_in_camel_case():
    from schema.themes.mutations import ThemeCreateInput

    given = ThemeCreateInput(title="x")
    arguments = {"id": "1", "version": 1, "input": given}
    assert field_path("version", arguments) == ["version"]
    assert field_path("title", arguments) == ["input", "title"]
    assert field_path(None, arguments) is None
    assert field_path("starts_on", {}) == ["startsOn"]
    from schema.events.mutations import EventUpdateInput

    assert field_path("ends_at", {"input": EventUpdateInput()}) == ["input", "endsAt"]
    # Arguments of any kind: scalars, enums, lists.
    from schema.projects.types import MembershipRoleEnum

    mixed = {"project": "", "role": next(iter(MembershipRoleEnum)), "items": ["a"]}
    assert field_path("project", mixed) == ["project"]
    assert field_path("membership", mixed) == ["membership"]
    # A place inside a list argument: its index, then the field of the entry.
    assert field_path("sections.2.call_to_action", {"id": "", "sections": []}) == [
        "sections",
        "2",
        "callToAction",
    ]


CREATE_THEME = f"""mutation($input: ThemeCreateInput!) {{
  createTheme(input: $input) {{ theme {{ id title }} {USER_ERRORS} }} }}"""
UPDATE_THEME = f"""mutation($id: ID!, $version: Int!, $input: ThemeUpdateInput!) {{
  updateTheme(id: $id, version: $version, input: $input) {{ theme {{ id }} {USER_ERRORS} }}
}}"""


async def test_every_bad_field_is_one_user_error_and_data_stays(gql, principals, caplog):
    caplog.set_level(logging.INFO, logger="tec.graphql")
    secret = f"never-logged-{uuid.uuid4().hex}"
    body = await gql(
        CREATE_THEME,
        {"input": {"title": "   ", "slug": "Pas Un Slug !", "introduction": secret * 2000}},
        headers=principals["EDITOR"],
    )
    found = user_errors(body, "createTheme")
    assert {tuple(e["field"]) for e in found} >= {("input", "title"), ("input", "slug")}
    assert all(e["code"] == "BAD_USER_INPUT" and e["message"] for e in found)
    logged = [r.getMessage() for r in caplog.records if r.name == "tec.graphql"]
    assert any("refused BAD_USER_INPUT at createTheme (field: input.title)" in m for m in logged)
    assert not any(secret in m for m in logged)


async def test_a_stale_version_is_a_conflict_as_data(gql, principals):
    editor = principals["EDITOR"]
    created = await gql.data(
        CREATE_THEME, {"input": {"title": f"Essai {uuid.uuid4().hex[:8]}"}}, headers=editor
    )
    theme = created["createTheme"]["theme"]
    body = await gql(UPDATE_THEME, {"id": theme["id"], "version": 99, "input": {}}, headers=editor)
    [error] = user_errors(body, "updateTheme")
    assert error["code"] == "CONFLICT"
    assert error["field"] == ["version"]


async def test_forbidden_stays_a_top_level_error(gql, principals):
    body = await gql(CREATE_THEME, {"input": {"title": "Non"}}, headers=principals["PARTNER"])
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")


async def test_anonymous_stays_a_top_level_error(gql):
    body = await gql(CREATE_THEME, {"input": {"title": "Non"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_payload_types_are_lists_of_non_null_user_errors(core_schema):
    errors_type = core_schema.get_type("DeletePayload").fields["errors"].type
    assert isinstance(errors_type, GraphQLNonNull)
    assert isinstance(errors_type.of_type, GraphQLList)
