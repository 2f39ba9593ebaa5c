"""``node(id:)`` and ``nodes(ids:)``: any object by its global ID, null when the caller may
not read it; only an ID that cannot be decoded is an error."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass

import pytest

from schema import build_schema, registry
from schema.relay import to_global_id
from schema.strawberry_compat import graphql_core_schema
from services.concepts.models import Concept
from services.content import ContentStatus
from services.events.models import Event
from services.newsletters.models import NewsletterIssue, NewsletterTemplate
from services.organizations.models import Organization
from services.projects.models import Membership, MembershipRole, ProjectStatus, SharedProject
from services.resources.models import Resource, ResourceKind
from services.subscribers.models import Subscriber
from services.territories.models import Territory
from services.themes.models import Theme
from services.votes.models import VotingRound

# (list field, GraphQL type, fields to compare)
LISTS = [
    ("resources", "Resource", "slug title"),
    ("themes", "Theme", "slug title"),
    ("concepts", "Concept", "slug title"),
    ("events", "Event", "slug title startsAt"),
    ("organizations", "Organization", "slug name"),
    ("territories", "Territory", "slug name"),
    ("sharedProjects", "SharedProject", "slug title"),
    ("votingRounds", "VotingRound", "slug title"),
]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("field", "type_name", "fields"), LISTS)
async def test_node_returns_the_same_object_as_the_list(gql, field, type_name, fields):
    listed = await gql.data(f"{{ {field}(first: 100) {{ nodes {{ __typename id {fields} }} }} }}")
    nodes = listed[field]["nodes"]
    assert nodes
    for expected in nodes[:5]:
        query = f"""query($id: ID!) {{ node(id: $id) {{ __typename id
            ... on {type_name} {{ {fields} }} }} }}"""
        found = await gql.data(query, {"id": expected["id"]})
        assert found["node"] == expected


async def test_a_membership_is_a_node_too(gql):
    data = await gql.data(
        "{ sharedProjects(first: 1) { nodes { participants { id role territory { slug } } } } }"
    )
    membership = data["sharedProjects"]["nodes"][0]["participants"][0]
    found = await gql.data(
        "query($id: ID!) { node(id: $id) { id ... on Membership { role territory { slug } } } }",
        {"id": membership["id"]},
    )
    assert found["node"] == membership


async def test_nodes_keeps_the_order_and_mixes_types(gql):
    resources = await gql.data("{ resources(first: 3) { nodes { id } } }")
    themes = await gql.data("{ themes(first: 2) { nodes { id } } }")
    ids = [n["id"] for n in resources["resources"]["nodes"]] + [
        n["id"] for n in themes["themes"]["nodes"]
    ]
    ids = [ids[4], ids[0], ids[3], ids[2], ids[1]]
    data = await gql.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }", {"ids": ids}
    )
    assert [n["id"] for n in data["nodes"]] == ids
    assert [n["__typename"] for n in data["nodes"]] == [
        "Theme",
        "Resource",
        "Theme",
        "Resource",
        "Resource",
    ]


async def test_nodes_gives_null_for_unknown_ids(gql):
    resources = await gql.data("{ resources(first: 1) { nodes { id } } }")
    known = resources["resources"]["nodes"][0]["id"]
    unknown = to_global_id("Resource", 999999)
    data = await gql.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [unknown, known]}
    )
    assert data["nodes"] == [None, {"id": known}]


@pytest.mark.parametrize(
    "unknown",
    [_b64("Resource:999999"), _b64("Subscriber:999999"), _b64("Gizmo:1")],
    ids=["missing row", "missing private row", "type not served"],
)
async def test_an_id_of_nothing_is_null_without_an_error(gql, principals, unknown):
    for who in ("ANONYMOUS", "ADMIN"):
        body = await gql(
            "query($id: ID!) { node(id: $id) { id } }", {"id": unknown}, principals[who]
        )
        assert body == {"data": {"node": None}}, who


@pytest.mark.parametrize(
    "bad_id",
    [
        "xyz",
        _b64("Resource:abc"),
        _b64("Resource:0"),
        _b64("Resource"),
        "",
    ],
)
async def test_malformed_ids_are_bad_user_input(gql, bad_id):
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": bad_id})
    assert body["data"] == {"node": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "id"
    assert "Identifiant invalide" in error["message"]


async def test_more_than_100_ids_are_refused(gql):
    ids = [to_global_id("Resource", i) for i in range(1, 102)]
    body = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "ids"
    assert "100" in error["message"]


async def test_100_ids_are_accepted(gql):
    ids = [to_global_id("Resource", i) for i in range(1, 101)]
    data = await gql.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert len(data["nodes"]) == 100


# --- Every type implementing Node, read by whoever may and by whoever may not ------------


@dataclass(frozen=True)
class Sample:
    id: str
    readers: tuple[str, ...]
    # Callers who get null: the row exists, they may not read it. Empty for public types.
    outsiders: tuple[str, ...]


def _slug(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def _draft_content(model, **fields) -> Sample:
    row = await model.create(slug=_slug("noeud"), status=ContentStatus.DRAFT, **fields)
    return Sample(
        to_global_id(model.__name__, row.id),
        ("EDITOR", "ADMIN"),
        ("ANONYMOUS", "PARTNER_KEY_READ", "LOCAL_AUTHORITY", "PARTNER"),
    ), row


async def _resource(gql, principals):
    return await _draft_content(Resource, title="Brouillon", kind=ResourceKind.GUIDE)


async def _theme(gql, principals):
    return await _draft_content(Theme, title="Brouillon")


async def _concept(gql, principals):
    return await _draft_content(Concept, title="Brouillon")


async def _event(gql, principals):
    at = dt.datetime(2031, 1, 1, 10, tzinfo=dt.UTC)
    return await _draft_content(Event, title="Brouillon", starts_at=at, ends_at=at)


async def _voting_round(gql, principals):
    at = dt.datetime(2031, 1, 1, 10, tzinfo=dt.UTC)
    return await _draft_content(VotingRound, title="Brouillon", opens_at=at, closes_at=at)


async def _draft_project() -> SharedProject:
    theme = await Theme.filter(status=ContentStatus.PUBLISHED).first()
    return await SharedProject.create(
        slug=_slug("noeud"), title="Brouillon", theme=theme, status=ProjectStatus.DRAFT
    )


async def _shared_project(gql, principals):
    project = await _draft_project()
    editors = ("EDITOR", "ADMIN")
    outsiders = ("ANONYMOUS", "PARTNER_KEY_READ", "LOCAL_AUTHORITY", "PARTNER")
    return Sample(to_global_id("SharedProject", project.id), editors, outsiders), project


async def _membership(gql, principals):
    project = await _draft_project()
    territory = await Territory.filter(slug="niort").first()
    membership = await Membership.create(
        project=project, territory=territory, role=MembershipRole.PARTICIPANT
    )
    editors = ("EDITOR", "ADMIN")
    outsiders = ("ANONYMOUS", "PARTNER_KEY_READ", "PARTNER")
    return Sample(to_global_id("Membership", membership.id), editors, outsiders), project


async def _organization(gql, principals):
    row = await Organization.filter(slug="icpc").first()
    everyone = tuple(principals)
    return Sample(to_global_id("Organization", row.id), everyone, ()), None


async def _territory(gql, principals):
    row = await Territory.filter(slug="niort").first()
    everyone = tuple(principals)
    return Sample(to_global_id("Territory", row.id), everyone, ()), None


async def _account(gql, principals):
    me = await gql.data("{ me { id } }", headers=principals["LOCAL_AUTHORITY"])
    readers = ("LOCAL_AUTHORITY", "EDITOR", "ADMIN")
    outsiders = ("ANONYMOUS", "PARTNER_KEY_READ", "PARTNER_KEY_CONTRIBUTE", "PARTNER")
    return Sample(me["me"]["id"], readers, outsiders), None


async def _subscriber(gql, principals):
    row = await Subscriber.create(
        email=f"{_slug('noeud')}@example.org",
        consent_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        consent_wording_version="v1",
    )
    readers = ("EDITOR", "ADMIN")
    outsiders = ("ANONYMOUS", "PARTNER_KEY_READ", "LOCAL_AUTHORITY", "PARTNER")
    return Sample(to_global_id("Subscriber", row.id), readers, outsiders), row


async def _newsletter_issue(gql, principals):
    row = await NewsletterIssue.filter().first()
    readers = ("EDITOR", "ADMIN")
    outsiders = ("ANONYMOUS", "PARTNER_KEY_READ", "LOCAL_AUTHORITY", "PARTNER")
    return Sample(to_global_id("NewsletterIssue", row.id), readers, outsiders), None


async def _newsletter_template(gql, principals):
    row = await NewsletterTemplate.create(
        slug=_slug("noeud"), name="Gabarit", document="{ __typename }", mjml="<mjml></mjml>"
    )
    readers = ("EDITOR", "ADMIN")
    outsiders = ("ANONYMOUS", "PARTNER_KEY_READ", "LOCAL_AUTHORITY", "PARTNER")
    return Sample(to_global_id("NewsletterTemplate", row.id), readers, outsiders), row


# GraphQL type → makes a row of it (removed after the test) and says who may read it.
async def _endpoint_of_decider_ensemble():
    from services.webhooks.models import WebhookEndpoint

    organization = await Organization.get(slug="decider-ensemble")
    return await WebhookEndpoint.create(
        organization=organization,
        url=f"https://{_slug('noeud')}.example/hooks",
        events=["resource.published"],
        secret="whsec_bm9ldWQ=",
    )


# A partner's endpoint and its log: its organisation's partners and the editors read them.
_WEBHOOK_READERS = ("PARTNER", "EDITOR", "ADMIN")
_WEBHOOK_OUTSIDERS = ("ANONYMOUS", "PARTNER_KEY_READ", "LOCAL_AUTHORITY")


async def _webhook_endpoint(gql, principals):
    row = await _endpoint_of_decider_ensemble()
    return Sample(
        to_global_id("WebhookEndpoint", row.id), _WEBHOOK_READERS, _WEBHOOK_OUTSIDERS
    ), row


async def _webhook_delivery(gql, principals):
    from services.webhooks.models import WebhookDelivery, WebhookEvent

    endpoint = await _endpoint_of_decider_ensemble()
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    event = await WebhookEvent.create(
        uid=_slug("evenement"), type="resource.published", subject="r:1", body="{}", occurred_at=at
    )
    row = await WebhookDelivery.create(
        event=event, endpoint=endpoint, subject="r:1", next_attempt_at=at, due_at=at, created_at=at
    )
    return Sample(
        to_global_id("WebhookDelivery", row.id), _WEBHOOK_READERS, _WEBHOOK_OUTSIDERS
    ), endpoint


SAMPLES = {
    "Account": _account,
    "Concept": _concept,
    "Event": _event,
    "Membership": _membership,
    "NewsletterIssue": _newsletter_issue,
    "NewsletterTemplate": _newsletter_template,
    "Organization": _organization,
    "Resource": _resource,
    "SharedProject": _shared_project,
    "Subscriber": _subscriber,
    "Territory": _territory,
    "Theme": _theme,
    "VotingRound": _voting_round,
    "WebhookDelivery": _webhook_delivery,
    "WebhookEndpoint": _webhook_endpoint,
}


def test_every_node_type_has_its_case(settings):
    schema = build_schema(settings)
    core = graphql_core_schema(schema)
    implementing = {t.name for t in core.get_possible_types(core.get_type("Node"))}
    assert implementing == set(SAMPLES), "a type implements Node: add it to SAMPLES"
    assert implementing == set(registry.node_types()), "node(id:) must serve every Node type"


@pytest.mark.parametrize("type_name", sorted(SAMPLES))
async def test_node_answers_readers_and_is_null_for_the_others(gql, principals, type_name):
    sample, created = await SAMPLES[type_name](gql, principals)
    query = "query($id: ID!) { node(id: $id) { __typename id } }"
    many = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
    try:
        for who in sample.readers:
            body = await gql(query, {"id": sample.id}, principals[who])
            assert body == {"data": {"node": {"__typename": type_name, "id": sample.id}}}, who
            body = await gql(many, {"ids": [sample.id]}, principals[who])
            assert body == {"data": {"nodes": [{"__typename": type_name, "id": sample.id}]}}, who
        for who in sample.outsiders:
            body = await gql(query, {"id": sample.id}, principals[who])
            assert body == {"data": {"node": None}}, who
            body = await gql(many, {"ids": [sample.id]}, principals[who])
            assert body == {"data": {"nodes": [None]}}, who
        missing = to_global_id(type_name, 10**9)
        for who in sample.readers[:1]:
            body = await gql(query, {"id": missing}, principals[who])
            assert body == {"data": {"node": None}}, who
    finally:
        if created is not None:
            await created.delete()
