"""Which writes become which events, recorded in the write's own transaction."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from schema.relay import to_global_id
from services import publishing
from services.editing import create_content, delete_content, update_content, write_transaction
from services.registry import content_type, publishable
from services.webhooks.events import event_types, global_id
from services.webhooks.models import WebhookDelivery, WebhookEvent
from tests.services.webhooks.conftest import EDITOR

pytestmark = pytest.mark.usefixtures("database")


async def _sent_to(endpoint) -> list[dict]:
    deliveries = await WebhookDelivery.filter(endpoint_id=endpoint.id).order_by("id")
    events = {e.id: e for e in await WebhookEvent.filter(id__in=[d.event_id for d in deliveries])}
    return [json.loads(events[d.event_id].body) for d in deliveries]


def test_every_publishable_type_brings_its_three_publication_events():
    names = set(event_types())
    for content in publishable().values():
        for verb in ("published", "updated", "unpublished"):
            assert f"{content.entity}.{verb}" in names
    assert {
        "resource.published",
        "event.updated",
        "theme.unpublished",
        "concept.published",
    } <= names
    assert {
        "theme.current_changed",
        "theme.next_changed",
        "round.ranking_changed",
        "round.closed",
        "project.stage_changed",
    } <= names


def test_global_ids_are_the_apis():
    assert global_id("Resource", 42) == to_global_id("Resource", 42)


async def test_a_resource_published_updated_and_unpublished(endpoints):
    endpoint, _ = await endpoints(
        events=["resource.published", "resource.updated", "resource.unpublished"]
    )
    resource_type = content_type("Resource")
    title = f"Guide {uuid.uuid4().hex[:8]}"
    row = await create_content(EDITOR, resource_type, {"title": title})
    row = await update_content(
        EDITOR, resource_type, row.id, version=1, given={"summary": "brouillon"}
    )
    assert await _sent_to(endpoint) == [], "drafts are nobody's business"
    row = await publishing.publish(EDITOR, "Resource", row.id, version=row.version)
    row = await update_content(
        EDITOR, resource_type, row.id, version=row.version, given={"summary": "Résumé"}
    )
    row = await publishing.unpublish(EDITOR, "Resource", row.id, version=row.version)
    sent = await _sent_to(endpoint)
    assert [s["type"] for s in sent] == [
        "resource.published",
        "resource.updated",
        "resource.unpublished",
    ]
    data = sent[1]["data"]
    assert data["id"] == to_global_id("Resource", row.id)
    assert data["title"] == title
    assert data["changedFields"] == ["summary"]
    assert "summary" not in data, "thin payloads: the receiver asks the API for the rest"
    await delete_content(EDITOR, resource_type, row.id, version=row.version)


async def test_only_the_events_an_endpoint_follows(endpoints):
    follows_themes, _ = await endpoints(events=["theme.published"])
    follows_nothing_published, _ = await endpoints(events=["round.closed"])
    row = await create_content(
        EDITOR, content_type("Concept"), {"title": f"Échelle {uuid.uuid4().hex[:6]}"}
    )
    await publishing.publish(EDITOR, "Concept", row.id, version=row.version)
    assert await _sent_to(follows_themes) == []
    assert await _sent_to(follows_nothing_published) == []


async def test_a_write_that_rolls_back_leaves_no_event(endpoints):
    endpoint, _ = await endpoints(events=["concept.published"])
    row = await create_content(
        EDITOR, content_type("Concept"), {"title": f"Récit {uuid.uuid4().hex[:6]}"}
    )
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await publishing.publish(EDITOR, "Concept", row.id, version=row.version)
            raise RuntimeError("the request fails after the publication")
    assert await _sent_to(endpoint) == []


async def test_a_scheduled_publication_is_announced_when_it_takes_effect(endpoints):
    endpoint, _ = await endpoints(events=["event.published"])
    at = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    row = await create_content(
        EDITOR,
        content_type("Event"),
        {
            "title": f"Webinaire {uuid.uuid4().hex[:6]}",
            "starts_at": at + dt.timedelta(days=10),
            "ends_at": at + dt.timedelta(days=10, hours=1),
        },
    )
    await publishing.publish(EDITOR, "Event", row.id, version=row.version, at=at)
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
    assert abs((delivery.next_attempt_at - at).total_seconds()) < 1


async def test_withdrawing_a_scheduled_publication_before_its_time_announces_nothing(endpoints):
    endpoint, _ = await endpoints(events=["concept.published", "concept.unpublished"])
    at = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    row = await create_content(
        EDITOR, content_type("Concept"), {"title": f"Embargo {uuid.uuid4().hex[:6]}"}
    )
    row = await publishing.publish(EDITOR, "Concept", row.id, version=row.version, at=at)
    assert [s["type"] for s in await _sent_to(endpoint)] == ["concept.published"]
    await publishing.unpublish(EDITOR, "Concept", row.id, version=row.version)
    assert await _sent_to(endpoint) == [], "it never was public: nothing to announce"
