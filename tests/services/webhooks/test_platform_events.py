"""The platform's events besides publication: votes and rounds, shared projects' stages,
the theme of the month and the next theme."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from services import publishing
from services.editing import create_content, delete_content, update_content
from services.projects import editing as projects
from services.registry import content_type
from services.territories.models import Territory
from services.themes.models import Theme
from services.viewer import Role, Viewer
from services.votes import voting
from services.webhooks.events import global_id
from services.webhooks.models import WebhookDelivery, WebhookEvent
from services.webhooks.sender import WebhookSender
from services.webhooks.transport import StreamTransport
from tests.services.webhooks.conftest import EDITOR

pytestmark = pytest.mark.usefixtures("database")


async def _sent_to(endpoint) -> list[dict]:
    deliveries = await WebhookDelivery.filter(endpoint_id=endpoint.id).order_by("id")
    events = {e.id: e for e in await WebhookEvent.filter(id__in=[d.event_id for d in deliveries])}
    return [json.loads(events[d.event_id].body) for d in deliveries]


async def _published_theme(**values) -> Theme:
    theme = content_type("Theme")
    row = await create_content(EDITOR, theme, {"title": f"Thème {uuid.uuid4().hex[:8]}", **values})
    return await publishing.publish(EDITOR, "Theme", row.id, version=row.version)


async def test_votes_move_the_ranking_and_closing_names_the_winner(endpoints):
    endpoint, _ = await endpoints(events=["round.ranking_changed", "round.closed"])
    themes = [await _published_theme() for _ in range(2)]
    now = dt.datetime.now(dt.UTC)
    voting_round = await voting.open_voting_round(
        EDITOR,
        draft=voting.RoundDraft(
            title=f"Tour {uuid.uuid4().hex[:6]}",
            opens_at=now - dt.timedelta(hours=1),
            closes_at=now + dt.timedelta(days=7),
            candidate_theme_ids=[t.id for t in themes],
            votes_per_territory=2,
        ),
    )
    tag = uuid.uuid4().hex[:6]
    territory = await Territory.create(
        slug=f"commune-{tag}", name=f"Commune {tag}", level="COMMUNE"
    )
    member = Viewer(role=Role.LOCAL_AUTHORITY, territory_id=territory.id)
    await voting.cast_vote(member, voting_round.id, theme_id=themes[0].id)
    await voting.cast_vote(member, voting_round.id, theme_id=themes[1].id)
    await voting.withdraw_vote(member, voting_round.id, theme_id=themes[1].id)
    await voting.close_voting_round(EDITOR, voting_round.id)
    sent = await _sent_to(endpoint)
    assert [s["type"] for s in sent] == ["round.ranking_changed"] * 3 + ["round.closed"]
    round_id = global_id("VotingRound", voting_round.id)
    assert {s["data"]["round"]["id"] for s in sent} == {round_id}
    assert sent[-1]["data"]["winner"]["id"] == global_id("Theme", themes[0].id)
    assert "territory" not in json.dumps(sent), "who voted is private"


async def test_a_shared_project_changing_stage(endpoints):
    endpoint, _ = await endpoints(events=["project.stage_changed"])
    theme = await _published_theme()
    project = await projects.create_shared_project(
        EDITOR,
        changes=projects.ProjectChanges(title=f"Projet {uuid.uuid4().hex[:6]}", theme_id=theme.id),
    )
    assert await _sent_to(endpoint) == [], "a draft project is not public"
    await projects.open_shared_project(EDITOR, project.id)
    tag = uuid.uuid4().hex[:6]
    territory = await Territory.create(
        slug=f"commune-{tag}", name=f"Commune {tag}", level="COMMUNE"
    )
    member = Viewer(role=Role.LOCAL_AUTHORITY, territory_id=territory.id)
    await projects.apply_to_project(member, project.id, role="OBSERVER")
    await projects.withdraw_from_project(member, project.id)
    # A membership's status is not the project's stage: one event only.
    [sent] = await _sent_to(endpoint)
    assert sent["type"] == "project.stage_changed"
    assert (sent["data"]["from"], sent["data"]["to"]) == ("DRAFT", "OPEN")
    assert sent["data"]["project"]["id"] == global_id("SharedProject", project.id)


async def test_announcing_another_next_theme(endpoints):
    endpoint, _ = await endpoints(events=["theme.next_changed"])
    before = await Theme.filter(is_next=True).first()
    theme = await _published_theme()
    row = await update_content(
        EDITOR, content_type("Theme"), theme.id, version=theme.version, given={"is_next": True}
    )
    sent = await _sent_to(endpoint)
    assert [s["type"] for s in sent] == ["theme.next_changed"]
    assert sent[0]["data"]["theme"]["id"] == global_id("Theme", theme.id)
    # Announcing it again changes nothing: no event.
    await update_content(
        EDITOR, content_type("Theme"), row.id, version=row.version, given={"title": "Autre titre"}
    )
    assert len(await _sent_to(endpoint)) == 1
    if before is not None:
        await before.refresh_from_db()
        await update_content(
            EDITOR,
            content_type("Theme"),
            before.id,
            version=before.version,
            given={"is_next": True},
        )
        assert (await _sent_to(endpoint))[-1]["data"]["theme"]["id"] == global_id(
            "Theme", before.id
        )


async def test_a_new_month_brings_its_theme_without_any_write(endpoints):
    endpoint, _ = await endpoints(events=["theme.current_changed"])
    theme = await _published_theme(month=dt.date(2036, 1, 1))
    assert await _sent_to(endpoint) == [], "not the theme of this month yet"
    at = dt.datetime(2036, 1, 15, 9, tzinfo=dt.UTC)
    sender = WebhookSender(StreamTransport(allow_private=True), clock=lambda: at)
    await sender.record_state()
    [sent] = await _sent_to(endpoint)
    assert sent["type"] == "theme.current_changed"
    assert sent["data"]["theme"]["id"] == global_id("Theme", theme.id)
    await publishing.unpublish(EDITOR, "Theme", theme.id, version=theme.version)
    fresh = await Theme.get(id=theme.id)
    await delete_content(EDITOR, content_type("Theme"), theme.id, version=fresh.version)
