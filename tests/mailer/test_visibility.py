"""What goes to subscribers is what an anonymous reader could see on the issue's date:
a draft and a scheduled item (published at a future date) are put in every section —
where the template's query would find them, and placed there by an editor — and neither
appears, whoever composes (an editor, through GraphQL or when sending)."""

from __future__ import annotations

import datetime as dt

import pytest

from mailer.compose import compose_issue
from schema import build_schema
from schema.newsletters.executor import build_executor
from schema.relay import to_global_id
from services.concepts.models import Concept
from services.content import ContentStatus
from services.events.models import Event
from services.newsletters import service
from services.newsletters.models import NewsletterIssue, SectionKind
from services.projects.models import SharedProject
from services.resources.models import Resource, ResourceTheme
from services.themes.models import Theme
from services.viewer import Role, Viewer
from services.votes.models import VotingRound
from tests.unique import unique_tag

EDITOR = Viewer(role=Role.EDITOR)
TAG = unique_tag(8)
NOW = dt.datetime.now(dt.UTC)
LATER = NOW + dt.timedelta(days=30)
# Draft: never published; scheduled: published, from a date to come.
STATES = {"brouillon": (ContentStatus.DRAFT, None), "programme": (ContentStatus.PUBLISHED, LATER)}


def _title(kind: str, state: str) -> str:
    return f"Invisible {kind} {state} {TAG}"


@pytest.fixture(scope="module")
async def hidden(database):
    """Draft and scheduled content of every kind a section shows, and an issue of this
    month whose query finds them and whose editor placed them everywhere."""
    made: list = []
    current, _ = await service.themes_of(NOW.date())
    for state, (status, published_at) in STATES.items():
        values = {"status": status, "published_at": published_at}
        theme = await Theme.create(
            slug=f"invisible-theme-{state}-{TAG}",
            title=_title("thématique", state),
            announced_in=NOW.date().replace(day=1),
            is_next=True,
            **values,
        )
        resource = await Resource.create(
            slug=f"invisible-ressource-{state}-{TAG}",
            title=_title("ressource", state),
            kind="EXPERIENCE",
            **values,
        )
        await ResourceTheme.create(resource=resource, theme=current)
        news = await Resource.create(
            slug=f"invisible-actualite-{state}-{TAG}",
            title=_title("actualité", state),
            kind="NEWS",
            **values,
        )
        concept = await Concept.create(
            slug=f"invisible-concept-{state}-{TAG}", title=_title("concept", state), **values
        )
        event = await Event.create(
            slug=f"invisible-evenement-{state}-{TAG}",
            title=_title("événement", state),
            starts_at=NOW + dt.timedelta(days=3),
            ends_at=NOW + dt.timedelta(days=3, hours=2),
            format="MEETING",
            **values,
        )
        voting_round = await VotingRound.create(
            slug=f"invisible-vote-{state}-{TAG}",
            title=_title("vote", state),
            opens_at=NOW - dt.timedelta(days=1),
            closes_at=NOW + dt.timedelta(days=40),
            **values,
        )
        made += [theme, resource, news, concept, event, voting_round]
    # Shared projects have no publication date: only a draft can be hidden.
    project = await SharedProject.create(
        slug=f"invisible-projet-{TAG}",
        title=_title("projet", "brouillon"),
        theme=current,
        status="DRAFT",
    )
    made.append(project)
    issue = await service.create_issue(EDITOR, title=f"Visibilité {TAG}", month=NOW.date())
    placements = {
        SectionKind.THEME_OF_THE_MONTH: "Theme",
        SectionKind.NEXT_THEME: "Theme",
        SectionKind.INTRODUCTORY_RESOURCE: "Resource",
        SectionKind.INSPIRING_PROJECTS: "Resource",
        SectionKind.PARTNER_NEWS: "Resource",
        SectionKind.CONCEPT: "Concept",
        SectionKind.VOTE: "VotingRound",
        SectionKind.AGENDA: "Event",
        SectionKind.SHARED_PROJECTS: "SharedProject",
    }
    for section, type_name in placements.items():
        model = {
            "Theme": Theme,
            "Resource": Resource,
            "Concept": Concept,
            "VotingRound": VotingRound,
            "Event": Event,
            "SharedProject": SharedProject,
        }[type_name]
        for row in made:
            if isinstance(row, model):
                await service.add_item(
                    EDITOR,
                    issue.id,
                    section=section,
                    node_id=to_global_id(type_name, row.id),
                    pinned=True,
                )
    # A public item placed by the editor: it must appear (the test sees what it should).
    public = await Resource.get(slug="decider-ensemble-recrute")
    await service.add_item(
        EDITOR,
        issue.id,
        section=SectionKind.PARTNER_NEWS,
        node_id=to_global_id("Resource", public.id),
        pinned=True,
    )
    yield await NewsletterIssue.get(id=issue.id), made
    await NewsletterIssue.filter(id=issue.id).delete()
    for row in reversed(made):
        await row.delete()


def _found(content: str) -> set[str]:
    return {
        _title(kind, state)
        for kind in (
            "thématique",
            "ressource",
            "actualité",
            "concept",
            "événement",
            "vote",
            "projet",
        )
        for state in STATES
        if _title(kind, state) in content
    }


async def test_drafts_and_scheduled_items_never_reach_subscribers(hidden, settings):
    issue, made = hidden
    execute = build_executor(build_schema(settings), settings)
    composed = await compose_issue(execute, issue, settings=settings, viewer=EDITOR)
    assert _found(composed.html + composed.text) == set()
    shown = {i.get("id") for items in composed.sections.values() for i in items}
    hidden_ids = {
        to_global_id(type(row).__name__, row.id) for row in made if not isinstance(row, Theme)
    } | {to_global_id("Theme", row.id) for row in made if isinstance(row, Theme)}
    assert not shown & hidden_ids
    assert "Décider Ensemble recrute" in composed.html  # what the public sees is there


async def test_an_editor_composing_through_graphql_sees_what_subscribers_get(
    hidden, gql, principals
):
    issue, _ = hidden
    composed = await gql.data(
        """mutation($id: ID!) { composeNewsletter(id: $id) {
            composed { html text sections { titles } } } }""",
        {"id": to_global_id("NewsletterIssue", issue.id)},
        headers=principals["EDITOR"],
    )
    found = composed["composeNewsletter"]["composed"]
    titles = " ".join(t for s in found["sections"] for t in s["titles"])
    assert _found(found["html"] + found["text"] + titles) == set()
    # The editor reads these items through the API all the same: only the newsletter hides them.
    seen = await gql.data(
        "query($s: String!) { resource(slug: $s) { title } }",
        {"s": f"invisible-ressource-brouillon-{TAG}"},
        headers=principals["EDITOR"],
    )
    assert seen["resource"]["title"] == _title("ressource", "brouillon")
