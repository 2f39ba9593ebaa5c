"""Every mutation whose input has several checked fields reports all its bad fields at
once: one user error per field, with the field's path in the schema and its code, the
payload's object null, and nothing written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type
from tortoise.models import Model

import schema
from schema.relay import to_global_id
from schema.strawberry_compat import graphql_core_schema
from services.accounts.models import Account
from services.audit.models import AuditEntry
from services.newsletters.models import IssueItem, NewsletterIssue, NewsletterTemplate
from services.projects.models import Membership, ProjectNews, SharedProject
from services.subscribers.models import Subscriber, SubscriptionRequest
from services.themes.models import Theme
from services.votes.models import VotingRound
from services.webhooks.models import WebhookEndpoint
from tests.conftest import USER_ERRORS, user_errors
from tests.mailer import support
from tests.unique import unique_tag

news_app = support.news_app
news_client = support.news_client
news_gql = support.news_gql
news_settings = support.news_settings
outbox = support.outbox

NOWHERE = 10**9
"""A primary key no row has."""
TOO_LONG = "x" * 100_001
"""Longer than any text field allows."""
HEADER_INJECTION = "Sujet\r\nBcc: x@evil.example"

# Every table these mutations write to: a refused mutation leaves each as it was.
WATCHED: tuple[type[Model], ...] = (
    NewsletterIssue,
    IssueItem,
    NewsletterTemplate,
    Subscriber,
    SubscriptionRequest,
    SharedProject,
    Membership,
    ProjectNews,
    VotingRound,
    WebhookEndpoint,
    Account,
)


async def _state() -> dict[str, Any]:
    found: dict[str, Any] = {
        "audit": await AuditEntry.all().count(),
        "last audit": await AuditEntry.all().order_by("-id").values_list("id", flat=True),
    }
    found["last audit"] = found["last audit"][:1]
    for model in WATCHED:
        found[model.__name__] = await model.all().order_by("id").values()
    return found


def _missing(type_name: str) -> str:
    return to_global_id(type_name, NOWHERE)


Prepare = Callable[[Any, dict[str, dict[str, str]]], Awaitable[dict[str, Any]]]


async def _nothing(gql: Any, principals: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {}


async def _issue(gql: Any, principals: dict[str, dict[str, str]]) -> dict[str, Any]:
    created = await gql.data(
        """mutation($input: NewsletterIssueCreateInput!) { createNewsletterIssue(input: $input)
            { issue { id version } } }""",
        {"input": {"title": f"Numéro {unique_tag(6)}", "month": "2021-06-01"}},
        headers=principals["EDITOR"],
    )
    issue = created["createNewsletterIssue"]["issue"]
    return {"id": issue["id"], "version": issue["version"]}


async def _project(gql: Any, principals: dict[str, dict[str, str]]) -> dict[str, Any]:
    theme = await Theme.all().order_by("id").first()
    assert theme is not None
    created = await gql.data(
        """mutation($input: SharedProjectCreateInput!) { createSharedProject(input: $input)
            { sharedProject { id } } }""",
        {"input": {"title": f"Projet {unique_tag(6)}", "theme": to_global_id("Theme", theme.id)}},
        headers=principals["EDITOR"],
    )
    return {"id": created["createSharedProject"]["sharedProject"]["id"]}


async def _membership(gql: Any, principals: dict[str, dict[str, str]]) -> dict[str, Any]:
    membership = await Membership.all().order_by("id").first()
    assert membership is not None, "the demo data has memberships"
    return {"id": to_global_id("Membership", membership.id)}


async def _one_theme(gql: Any, principals: dict[str, dict[str, str]]) -> dict[str, Any]:
    theme = await Theme.all().order_by("id").first()
    assert theme is not None
    return {"theme": to_global_id("Theme", theme.id)}


@dataclass
class Case:
    """A mutation sent with several bad fields, as ``principal``; ``variables`` are
    completed with what ``prepare`` made (an issue's ``id``…)."""

    mutation: str
    signature: str
    arguments: str
    variables: dict[str, Any]
    expected: list[tuple[tuple[str, ...], str]]
    principal: str = "EDITOR"
    prepare: Prepare = _nothing
    adjust: Callable[[dict[str, Any], dict[str, Any]], None] = field(
        default=lambda variables, made: None
    )

    def document(self) -> str:
        return (
            f"mutation{self.signature} {{ {self.mutation}{self.arguments} "
            f"{{ {_payload_objects(self.mutation)} {USER_ERRORS} }} }}"
        )


_SCHEMA = graphql_core_schema(schema.build_schema())


def _payload_objects(mutation: str) -> str:
    """A selection of every field of the mutation's payload but its errors, so that the
    answer shows each of them null."""
    payload = get_named_type(_SCHEMA.mutation_type.fields[mutation].type)
    selected = []
    for name, found in payload.fields.items():
        if name == "errors":
            continue
        kind = get_named_type(found.type)
        selected.append(f"{name} {{ __typename }}" if isinstance(kind, GraphQLObjectType) else name)
    return " ".join(selected)


def _candidates(variables: dict[str, Any], made: dict[str, Any]) -> None:
    variables["input"]["candidates"] = [made.pop("theme")]


CASES = [
    Case(
        "createNewsletterIssue",
        "($input: NewsletterIssueCreateInput!)",
        "(input: $input)",
        {
            "input": {
                "title": "   ",
                "subject": HEADER_INJECTION,
                "introduction": TOO_LONG,
                "variables": [1, 2],
                "themes": [_missing("Theme")],
                "template": _missing("NewsletterTemplate"),
            }
        },
        [
            (("input", "title"), "BAD_USER_INPUT"),
            (("input", "subject"), "BAD_USER_INPUT"),
            (("input", "introduction"), "BAD_USER_INPUT"),
            (("input", "variables"), "BAD_USER_INPUT"),
            (("input", "themes"), "BAD_USER_INPUT"),
            (("input", "template"), "BAD_USER_INPUT"),
        ],
    ),
    Case(
        "createNewsletterIssue",
        "($input: NewsletterIssueCreateInput!)",
        "(input: $input)",
        # Without a subject, the title is the subject: it must suit a mail header.
        {"input": {"title": HEADER_INJECTION, "themes": [_missing("Theme")]}},
        [(("input", "title"), "BAD_USER_INPUT"), (("input", "themes"), "BAD_USER_INPUT")],
    ),
    Case(
        "updateNewsletterIssue",
        "($id: ID!, $version: Int!, $input: NewsletterIssueUpdateInput!)",
        "(id: $id, version: $version, input: $input)",
        {"input": {"title": "", "subject": HEADER_INJECTION, "themes": [_missing("Theme")]}},
        [
            (("input", "title"), "BAD_USER_INPUT"),
            (("input", "subject"), "BAD_USER_INPUT"),
            (("input", "themes"), "BAD_USER_INPUT"),
        ],
        prepare=_issue,
    ),
    Case(
        "addNewsletterItem",
        "($id: ID!, $item: ID!, $cta: String)",
        "(id: $id, section: FOOTER, item: $item, callToAction: $cta)",
        {"item": "   ", "cta": "x" * 201},
        [
            (("section",), "BAD_USER_INPUT"),
            (("item",), "BAD_USER_INPUT"),
            (("callToAction",), "BAD_USER_INPUT"),
        ],
        prepare=_issue,
        adjust=lambda variables, made: made.pop("version"),
    ),
    Case(
        "reorderNewsletterItems",
        "($id: ID!)",
        '(id: $id, section: FOOTER, items: ["a", "a"])',
        {},
        [(("section",), "BAD_USER_INPUT"), (("items",), "BAD_USER_INPUT")],
        prepare=_issue,
        adjust=lambda variables, made: made.pop("version"),
    ),
    Case(
        "setNewsletterSections",
        "($id: ID!, $version: Int!, $sections: [NewsletterSectionInput!]!)",
        "(id: $id, version: $version, sections: $sections)",
        {
            "sections": [
                {"kind": "INTRODUCTION", "title": "x" * 301},
                {"kind": "INTRODUCTION", "callToAction": "x" * 201},
            ]
        },
        [
            (("sections",), "BAD_USER_INPUT"),  # a kind given twice
            (("sections",), "BAD_USER_INPUT"),  # no footer
            (("sections", "0", "title"), "BAD_USER_INPUT"),
            (("sections", "1", "callToAction"), "BAD_USER_INPUT"),
        ],
        prepare=_issue,
    ),
    Case(
        "createNewsletterTemplate",
        "($input: NewsletterTemplateInput!)",
        "(input: $input)",
        {
            "input": {
                "name": " ",
                "document": "{ themes { nodes { nope } } }",
                "mjml": "{% if %}",
                "text": "{{",
                "sections": [{"kind": "NOPE"}],
            }
        },
        [
            (("input", "document"), "COMPOSITION_FAILED"),
            (("input", "mjml"), "BAD_USER_INPUT"),
            (("input", "text"), "BAD_USER_INPUT"),
            (("input", "name"), "BAD_USER_INPUT"),
            (("input", "sections"), "BAD_USER_INPUT"),
        ],
    ),
    Case(
        "subscribe",
        "($input: SubscribeInput!)",
        "(input: $input)",
        {
            "input": {
                "email": "pas-une-adresse",
                "name": "Camille\r\nBcc: x@evil.example",
                "source": "x" * 201,
                "themes": [_missing("Theme")],
            }
        },
        [
            (("input", "email"), "BAD_USER_INPUT"),
            (("input", "name"), "BAD_USER_INPUT"),
            (("input", "source"), "BAD_USER_INPUT"),
            (("input", "themes"), "BAD_USER_INPUT"),
        ],
        principal="ANONYMOUS",
    ),
    Case(
        "updateSubscriptionPreferences",
        "($input: PreferencesInput!)",
        '(token: "n-importe-quoi", input: $input)',
        {"input": {"name": "Camille\nBcc: x@evil.example", "themes": [_missing("Theme")]}},
        [
            (("token",), "BAD_USER_INPUT"),
            (("input", "themes"), "BAD_USER_INPUT"),
            (("input", "name"), "BAD_USER_INPUT"),
        ],
        principal="ANONYMOUS",
    ),
    Case(
        "createSharedProject",
        "($input: SharedProjectCreateInput!)",
        "(input: $input)",
        {
            "input": {
                "title": " ",
                "summary": "x" * 2_001,
                "theme": _missing("Theme"),
                "startsOn": "2030-01-01",
                "endsOn": "2030-02-01",
                "providers": [_missing("Organization")],
                "resources": [_missing("Resource")],
            }
        },
        [
            (("input", "title"), "BAD_USER_INPUT"),
            (("input", "summary"), "BAD_USER_INPUT"),
            (("input", "theme"), "BAD_USER_INPUT"),
            (("input", "endsOn"), "BAD_USER_INPUT"),
            (("input", "providers"), "BAD_USER_INPUT"),
            (("input", "resources"), "BAD_USER_INPUT"),
        ],
    ),
    Case(
        "updateSharedProject",
        "($id: ID!, $input: SharedProjectUpdateInput!)",
        "(id: $id, input: $input)",
        {
            "input": {
                "title": "",
                "summary": "x" * 2_001,
                "startsOn": "2030-01-01",
                "endsOn": "2031-06-01",
                "resources": [_missing("Resource")],
            }
        },
        [
            (("input", "title"), "BAD_USER_INPUT"),
            (("input", "summary"), "BAD_USER_INPUT"),
            (("input", "endsOn"), "BAD_USER_INPUT"),
            (("input", "resources"), "BAD_USER_INPUT"),
        ],
        prepare=_project,
    ),
    Case(
        "updateMembership",
        "($id: ID!, $plan: String, $notes: String)",
        "(id: $id, actionPlan: $plan, diagnosticNotes: $notes)",
        {"plan": TOO_LONG, "notes": TOO_LONG},
        [(("actionPlan",), "BAD_USER_INPUT"), (("diagnosticNotes",), "BAD_USER_INPUT")],
        prepare=_membership,
    ),
    Case(
        "publishProjectNews",
        "($id: ID!, $body: String!)",
        '(project: $id, title: "  ", body: $body)',
        {"body": TOO_LONG},
        [(("title",), "BAD_USER_INPUT"), (("body",), "BAD_USER_INPUT")],
        prepare=_project,
    ),
    Case(
        "setPassword",
        "",
        '(token: "n-importe-quoi", password: "court")',
        {},
        [(("password",), "BAD_USER_INPUT"), (("token",), "BAD_USER_INPUT")],
        principal="ANONYMOUS",
    ),
    Case(
        "openVotingRound",
        "($input: VotingRoundInput!)",
        "(input: $input)",
        {
            "input": {
                "title": " ",
                "opensAt": "now",
                "closesAt": "2021-06-30T18:00:00+02:00",
                "votesPerTerritory": 50,
            }
        },
        [
            (("input", "title"), "BAD_USER_INPUT"),
            (("input", "closesAt"), "CLOSES_IN_PAST"),
            (("input", "votesPerTerritory"), "BAD_USER_INPUT"),
            (("input", "candidates"), "BAD_USER_INPUT"),
        ],
        prepare=_one_theme,
        adjust=_candidates,
    ),
    Case(
        "createWebhookEndpoint",
        "($input: WebhookEndpointCreateInput!)",
        "(input: $input)",
        {"input": {"url": "ftp://example.org/hook", "events": [], "description": TOO_LONG}},
        [
            (("input", "url"), "BAD_USER_INPUT"),
            (("input", "events"), "BAD_USER_INPUT"),
            (("input", "description"), "BAD_USER_INPUT"),
        ],
        principal="PARTNER",
    ),
    Case(
        "createWebhookEndpoint",
        "($input: WebhookEndpointCreateInput!)",
        "(input: $input)",
        {
            "input": {
                "url": "http://127.0.0.1/hook",
                "events": ["nope"],
                "organization": _missing("Organization"),
            }
        },
        [
            (("input", "url"), "BAD_USER_INPUT"),
            (("input", "events"), "BAD_USER_INPUT"),
            (("input", "organization"), "NOT_FOUND"),
        ],
        principal="ADMIN",
    ),
]


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.mutation}-{i}" for i, c in enumerate(CASES, start=1)]
)
async def test_every_bad_field_is_reported_at_once_and_nothing_is_written(
    case: Case, news_gql, principals
):
    made = await case.prepare(news_gql, principals)
    variables = {**case.variables, "input": dict(case.variables.get("input", {}))}
    if "input" not in case.variables:
        del variables["input"]
    case.adjust(variables, made)
    variables.update(made)
    before = await _state()
    body = await news_gql(case.document(), variables, headers=principals[case.principal])
    found = user_errors(body, case.mutation)
    assert [(tuple(e["field"]), e["code"]) for e in found] == case.expected, found
    assert all(e["message"] for e in found)
    assert await _state() == before


def test_each_mutation_of_the_table_is_one_with_several_checked_fields():
    # A mutation refused on one field only would not show that the others are checked.
    assert all(len(c.expected) >= 2 for c in CASES)
    assert {c.mutation for c in CASES} >= {
        "createNewsletterIssue",
        "updateNewsletterIssue",
        "createNewsletterTemplate",
        "setNewsletterSections",
        "subscribe",
        "updateSubscriptionPreferences",
        "createSharedProject",
        "updateSharedProject",
        "updateMembership",
        "publishProjectNews",
        "setPassword",
    }
