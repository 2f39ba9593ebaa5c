"""The IDE's ready operations are valid documents of the current schema, open as the
page's default tabs, and the one that needs no ID runs as written for an editor."""

from __future__ import annotations

import html
import json
import re

import pytest
from graphql import OperationDefinitionNode, parse, validate

from gateway.ide import DEFAULT_QUERY, READY_OPERATIONS, render_ide_html
from schema import build_schema


@pytest.fixture(scope="module")
def graphql_schema():
    return build_schema()._schema


def _name(operation) -> str:
    return parse(operation.query).definitions[0].name.value


@pytest.mark.parametrize("operation", READY_OPERATIONS, ids=_name)
def test_each_ready_operation_is_valid_against_the_schema(graphql_schema, operation):
    document = parse(operation.query)
    assert validate(graphql_schema, document) == []
    declared = {
        v.variable.name.value
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        for v in d.variable_definitions or ()
    }
    assert set(operation.variables) <= declared, "example variables nobody declares"


def test_the_ready_operations_are_the_default_tabs_of_the_page():
    page = render_ide_html()
    [raw] = re.findall(r'data-default-tabs="([^"]*)"', page)
    tabs = json.loads(html.unescape(raw))
    assert tabs[0] == {"query": DEFAULT_QUERY}
    assert [t["query"] for t in tabs[1:]] == [op.query for op in READY_OPERATIONS]
    assert [json.loads(t["variables"]) for t in tabs[1:]] == [
        op.variables for op in READY_OPERATIONS
    ]
    assert [_name(op) for op in READY_OPERATIONS] == [
        "CreateResource",
        "Publish",
        "ModerationQueue",
        "DraftNewsletter",
        "OpenVotingRound",
    ]


def test_the_page_has_a_sign_in_panel_and_no_inline_script():
    page = render_ide_html()
    assert 'id="tec-sign-in"' in page and 'type="password"' in page
    assert 'src="/static/graphiql/session.js"' in page
    assert page.index("session.js") < page.index("boot.js")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"


async def test_create_resource_runs_as_written_for_an_editor(gql, principals):
    [create] = [op for op in READY_OPERATIONS if "CreateResource" in op.query]
    created = await gql.data(create.query, create.variables, headers=principals["EDITOR"])
    assert created["createResource"]["resource"]["status"] == "DRAFT"
    assert created["createResource"]["resource"]["title"] == create.variables["input"]["title"]
