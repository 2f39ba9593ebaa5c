"""Webhooks through GraphQL: who registers, sees and changes which endpoints; the secret
shown once; delivery logs; bad URLs refused with a code and nothing changed."""

from __future__ import annotations

import uuid

import pytest

from services.audit.models import AuditEntry
from services.organizations.models import Organization
from services.webhooks.models import WebhookEndpoint

CREATE = """mutation($input: WebhookEndpointCreateInput!) {
    createWebhookEndpoint(input: $input) {
        secret endpoint { id url events enabled organization { slug } }
        errors { code field message } } }"""
LIST = "{ webhookEndpoints(first: 100) { nodes { id url } } }"


@pytest.fixture(autouse=True)
async def _remove_endpoints(database):
    yield
    await WebhookEndpoint.filter(url__contains="gql-test").delete()


def _url() -> str:
    return f"https://gql-test-{uuid.uuid4().hex[:8]}.example/hooks"


async def _create(gql, headers, **values):
    given = {"url": _url(), "events": ["resource.published", "theme.next_changed"], **values}
    return await gql(CREATE, {"input": given}, headers=headers)


async def test_a_partner_registers_its_organisations_endpoint_and_gets_the_secret_once(
    gql, principals
):
    body = await _create(gql, principals["PARTNER"])
    made = body["data"]["createWebhookEndpoint"]
    assert made["secret"].startswith("whsec_")
    assert made["endpoint"]["organization"] == {"slug": "decider-ensemble"}
    assert made["endpoint"]["enabled"] is True
    # The secret is nowhere else: not in the type, not in the audit log.
    listed = await gql.data(LIST, headers=principals["PARTNER"])
    assert made["endpoint"]["id"] in [n["id"] for n in listed["webhookEndpoints"]["nodes"]]
    entries = await AuditEntry.filter(action__startswith="webhook.").order_by("-id").limit(1)
    assert entries[0].action == "webhook.create"
    assert made["secret"] not in str(entries[0].changes)


async def test_partners_see_and_change_only_their_organisations_endpoints(gql, principals):
    admins = (await _create(gql, principals["ADMIN"]))["data"]["createWebhookEndpoint"]
    icpc = await Organization.get(slug="icpc")
    from schema.relay import to_global_id

    other = await _create(
        gql, principals["ADMIN"], organization=to_global_id("Organization", icpc.id)
    )
    other_id = other["data"]["createWebhookEndpoint"]["endpoint"]["id"]
    own = (await _create(gql, principals["PARTNER"]))["data"]["createWebhookEndpoint"]
    partner_sees = {
        n["id"]
        for n in (await gql.data(LIST, headers=principals["PARTNER"]))["webhookEndpoints"]["nodes"]
    }
    assert own["endpoint"]["id"] in partner_sees
    assert not {admins["endpoint"]["id"], other_id} & partner_sees
    editor_sees = {
        n["id"]
        for n in (await gql.data(LIST, headers=principals["EDITOR"]))["webhookEndpoints"]["nodes"]
    }
    assert {admins["endpoint"]["id"], other_id, own["endpoint"]["id"]} <= editor_sees
    # Someone else's endpoint is as unknown to a partner as a missing one.
    for mutation in (
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedId errors { code } } }",
        "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret errors { code } } }",
        "mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {enabled: false}) "
        "{ endpoint { id } errors { code } } }",
    ):
        body = await gql(mutation, {"id": other_id}, headers=principals["PARTNER"])
        [payload] = body["data"].values()
        assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"], mutation
    body = await gql(
        "query($id: ID!) { webhookDeliveries(endpoint: $id) { nodes { status } } }",
        {"id": other_id},
        headers=principals["PARTNER"],
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    # A partner cannot register an endpoint for another organisation.
    body = await _create(
        gql, principals["PARTNER"], organization=to_global_id("Organization", icpc.id)
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    # Editors read, but do not manage.
    body = await gql(
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedId } }",
        {"id": other_id},
        headers=principals["EDITOR"],
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://partner.example/hooks",
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[::ffff:192.168.0.1]/hooks",
        "https://user:pass@partner.example/hooks",
        "not a url",
    ],
)
async def test_urls_that_could_reach_inside_are_refused_and_nothing_is_registered(
    gql, principals, url
):
    before = await WebhookEndpoint.all().count()
    body = await gql(
        CREATE,
        {"input": {"url": url, "events": ["resource.published"]}},
        headers=principals["ADMIN"],
    )
    assert [e["code"] for e in body["data"]["createWebhookEndpoint"]["errors"]] == [
        "BAD_USER_INPUT"
    ], body
    assert await WebhookEndpoint.all().count() == before


async def test_every_bad_field_is_reported_at_once(gql, principals):
    body = await gql(
        CREATE,
        {"input": {"url": "gopher://x", "events": ["resource.exploded"]}},
        headers=principals["ADMIN"],
    )
    errors = body["data"]["createWebhookEndpoint"]["errors"]
    assert [e["field"][-1] for e in errors] == ["url", "events"]
    assert "http" in errors[0]["message"] and "resource.exploded" in errors[1]["message"]


async def test_rotation_gives_a_new_secret_and_keeps_the_old_one_signing_for_a_day(gql, principals):
    made = (await _create(gql, principals["PARTNER"]))["data"]["createWebhookEndpoint"]
    rotated = await gql.data(
        """mutation($id: ID!) { rotateWebhookSecret(id: $id) {
            secret endpoint { previousSecretExpiresAt } } }""",
        {"id": made["endpoint"]["id"]},
        headers=principals["PARTNER"],
    )
    assert rotated["rotateWebhookSecret"]["secret"] not in (made["secret"], None)
    assert rotated["rotateWebhookSecret"]["endpoint"]["previousSecretExpiresAt"] is not None
    import datetime as dt

    from services.webhooks.queue import secrets_in_use

    row = await WebhookEndpoint.get(url=made["endpoint"]["url"])
    assert secrets_in_use(row, now=dt.datetime.now(dt.UTC)) == (
        rotated["rotateWebhookSecret"]["secret"],
        made["secret"],
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    assert secrets_in_use(row, now=later) == (rotated["rotateWebhookSecret"]["secret"],)


async def test_the_delivery_log_is_read_by_editors_and_the_owner(gql, principals):
    made = (await _create(gql, principals["PARTNER"], events=["resource.published"]))["data"][
        "createWebhookEndpoint"
    ]
    created = await gql.data(
        'mutation { createResource(input: {title: "Guide des webhooks"}) '
        "{ resource { id version } } }",
        headers=principals["EDITOR"],
    )
    await gql.data(
        "mutation($id: ID!, $v: Int!) { publish(id: $id, version: $v) { node { id } } }",
        {
            "id": created["createResource"]["resource"]["id"],
            "v": created["createResource"]["resource"]["version"],
        },
        headers=principals["EDITOR"],
    )
    query = """query($id: ID!) { webhookDeliveries(endpoint: $id) { nodes {
        status attempts eventType webhookId payload responseCode lastError nextAttemptAt } } }"""
    for who in ("PARTNER", "EDITOR", "ADMIN"):
        log = await gql.data(query, {"id": made["endpoint"]["id"]}, headers=principals[who])
        [delivery] = log["webhookDeliveries"]["nodes"]
        assert delivery["status"] == "PENDING"
        assert delivery["eventType"] == "resource.published"
        assert delivery["webhookId"].startswith("msg_")
        assert '"Guide des webhooks"' in delivery["payload"]
    for who in ("LOCAL_AUTHORITY", "PARTNER_KEY_READ", "ANONYMOUS"):
        body = await gql(query, {"id": made["endpoint"]["id"]}, headers=principals[who])
        assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")


async def test_an_owner_disables_and_enables_its_endpoint(gql, principals):
    made = (await _create(gql, principals["PARTNER"]))["data"]["createWebhookEndpoint"]
    update = """mutation($id: ID!, $on: Boolean!) { updateWebhookEndpoint(id: $id,
        input: {enabled: $on, events: ["concept.published"]}) {
            endpoint { enabled events disabledReason } errors { code } } }"""
    off = await gql.data(
        update, {"id": made["endpoint"]["id"], "on": False}, headers=principals["PARTNER"]
    )
    assert off["updateWebhookEndpoint"]["endpoint"]["enabled"] is False
    assert off["updateWebhookEndpoint"]["endpoint"]["events"] == ["concept.published"]
    on = await gql.data(
        update, {"id": made["endpoint"]["id"], "on": True}, headers=principals["PARTNER"]
    )
    assert on["updateWebhookEndpoint"]["endpoint"] == {
        "enabled": True,
        "events": ["concept.published"],
        "disabledReason": None,
    }


async def test_event_types_are_listed(gql, principals):
    data = await gql.data(
        "{ webhookEventTypes { name description } }", headers=principals["PARTNER"]
    )
    names = [e["name"] for e in data["webhookEventTypes"]]
    assert "resource.published" in names and "project.stage_changed" in names


async def test_reading_logs_and_endpoints_costs_the_same_for_1_or_many_rows(gql, principals):
    from tests.sqlcount import count_queries

    made = (await _create(gql, principals["PARTNER"], events=["concept.published"]))["data"][
        "createWebhookEndpoint"
    ]
    log = """query($id: ID!) { webhookDeliveries(endpoint: $id, first: 50) { nodes {
        status eventType webhookId payload } } }"""
    endpoints = "{ webhookEndpoints(first: 50) { nodes { url organization { slug } } } }"
    counts = []
    for n in (1, 4):
        while True:
            data = await gql.data(log, {"id": made["endpoint"]["id"]}, headers=principals["EDITOR"])
            if len(data["webhookDeliveries"]["nodes"]) >= n:
                break
            created = await gql.data(
                'mutation { createConcept(input: {title: "Concept compté"}) '
                "{ concept { id version } } }",
                headers=principals["EDITOR"],
            )
            await gql.data(
                "mutation($id: ID!, $v: Int!) { publish(id: $id, version: $v) { node { id } } }",
                {
                    "id": created["createConcept"]["concept"]["id"],
                    "v": created["createConcept"]["concept"]["version"],
                },
                headers=principals["EDITOR"],
            )
            await _create(gql, principals["PARTNER"])
        with count_queries() as statements:
            await gql.data(log, {"id": made["endpoint"]["id"]}, headers=principals["EDITOR"])
            await gql.data(endpoints, headers=principals["PARTNER"])
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
